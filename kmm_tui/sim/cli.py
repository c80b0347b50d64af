"""``kmm sim``: serve the simulator on 127.0.0.1 until Ctrl-C.

Handler contract of ``kmm_tui.cli``: ``main(args, settings) -> int``. The sim layer may not import
``kmm_tui.config``, so ``settings`` is accepted untyped and unused. The demo key is written under
``<state dir>/sim`` and reused on the next start, so a configured ``kmm`` keeps working.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kmm_tui.sim.playback import resolve, run_playback
from kmm_tui.sim.scenario import ScenarioError
from kmm_tui.sim.server import run_sim

EXIT_USER_ERROR = 2


def main(args: argparse.Namespace, settings: Any = None) -> int:
    state = getattr(args, "state_dir", None)
    key_dir = Path(state) / "sim" if state is not None else None
    try:
        if getattr(args, "replay", None):
            session = resolve(Path(state) if state is not None else None, args.replay)
            run_playback(session, port=getattr(args, "port", 8765),
                         time_scale=getattr(args, "time_scale", 1.0), state_dir=key_dir)
            return 0
        run_sim(
            getattr(args, "scenario", None),
            port=getattr(args, "port", 8765),
            seed=getattr(args, "seed", 0),
            time_scale=getattr(args, "time_scale", 1.0),
            state_dir=key_dir,
        )
    except ScenarioError as exc:
        print(f"kmm sim: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        print(
            f"kmm sim: cannot listen on 127.0.0.1:{getattr(args, 'port', 8765)} ({exc}); "
            "choose another --port or stop the other process",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    return 0
