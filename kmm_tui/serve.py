"""``kmm serve``: the terminal app in a web browser, via textual-serve.

textual-serve starts one ``kmm`` process per browser session, so each session is the real app with its
own engine. This module builds that command line — carrying every option that chooses the exchange and
the files (``--config``, ``--env``, ``--live``, ``--state-dir``, ``--log-level``, ``--sim-url``,
``--demo``, ``--adopt-orders``) — and runs the web server until Ctrl-C.

Why not one engine shared by every tab: a session is a separate process that owns its screen and its
engine, and the engine owns its orders (at start it cancels every resting ``kmm-`` order of the
account). Two tabs on one account therefore pull each other's quotes; use one tab per account. In
``sim`` without ``--sim-url`` every tab gets its own embedded simulator (with ``--demo``, quoting at
once), so tabs cannot interfere; with ``--sim-url`` they all trade on that one simulator.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from kmm_tui.config import UserError

PYTHON_ENTRY = "from kmm_tui.cli import main; raise SystemExit(main())"
EXIT_INTERRUPTED = 130


def session_command(args: argparse.Namespace, python: str = sys.executable) -> str:
    """The shell command each browser session runs: ``kmm`` with the same exchange and file options."""
    argv = [python, "-c", PYTHON_ENTRY]
    for flag, name in (
        ("--config", "config"),
        ("--env", "env"),
        ("--state-dir", "state_dir"),
        ("--log-level", "log_level"),
        ("--sim-url", "sim_url"),
    ):
        value = getattr(args, name, None)
        if value:
            argv += [flag, str(value)]
    for flag, name in (("--live", "live"), ("--demo", "demo"), ("--adopt-orders", "adopt_orders")):
        if getattr(args, name, False):
            argv.append(flag)  # with --live each session still asks for LIVE in the browser
    return shlex.join(argv)


def main(args: argparse.Namespace, settings: Any) -> int:
    """Serve until interrupted (so the exit status is 130, like any command stopped with Ctrl-C).

    Binds to ``args.host`` (127.0.0.1 unless the user chose otherwise)."""
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
    server = Server(session_command(args), host=host, port=port, title="kmm")
    try:
        server.serve()
    except OSError as error:
        raise UserError(
            f"cannot listen on {host}:{port} ({error.strerror or error}) — choose another --port "
            "or stop the other process"
        ) from None
    return EXIT_INTERRUPTED


__all__ = ["main", "session_command"]
