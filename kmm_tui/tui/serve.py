"""``kmm serve``: the same terminal app in a web browser, via textual-serve.

textual-serve starts one ``kmm`` process per browser session, so each session is the real app with
its own engine; this module only builds that command line (carrying the global flags the user gave)
and runs the web server until Ctrl-C.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

PYTHON_ENTRY = "from kmm_tui.cli import main; raise SystemExit(main())"


def tui_command(args: argparse.Namespace, python: str = sys.executable) -> str:
    """The shell command each browser session runs: ``kmm`` with the same config/env/state flags."""
    argv = [python, "-c", PYTHON_ENTRY]
    if getattr(args, "config", None):
        argv += ["--config", str(args.config)]
    if getattr(args, "env", None):
        argv += ["--env", str(args.env)]
    if getattr(args, "live", False):
        argv.append("--live")  # the session still asks the user to type LIVE in the browser
    if getattr(args, "state_dir", None):
        argv += ["--state-dir", str(args.state_dir)]
    if getattr(args, "log_level", None):
        argv += ["--log-level", str(args.log_level)]
    return shlex.join(argv)


def main(args: argparse.Namespace, settings: Any) -> int:
    """Serve until interrupted. Binds to ``args.host`` (127.0.0.1 unless the user chose otherwise)."""
    from textual_serve.server import Server

    host = getattr(args, "host", "127.0.0.1")
    port = int(getattr(args, "port", 8000))
    print(
        f"kmm serve: warning: http://{host}:{port} has no authentication: anyone who can reach it can "
        "trade on your account. Keep it on 127.0.0.1 and reach it through an SSH tunnel "
        f"(ssh -L {port}:127.0.0.1:{port} this-host).",
        file=sys.stderr,
        flush=True,
    )
    server = Server(tui_command(args), host=host, port=port, title="kmm")
    server.serve()
    return 0
