"""The engine ``kmm`` (the terminal app) runs, opened in its own process (``kmm_tui/engine_host.py``).

The app's process resolves the command line (environment, live confirmation, settings) and hands the
engine's process what it needs to open the same engine: the parsed arguments. The engine's process
reads settings.toml again (the file the app just read and validated), opens the engine as
``bootstrap.open_engine`` always has, and provides the Scanner's market scan next to it (the scan
reads through the engine's REST client).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from kmm_tui.engine.engine import Engine
from kmm_tui.engine_wire import crossable

OPENER = "kmm_tui.app_engine:open_for_app"
SCAN = "scan"


def app_argument(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments that can cross to the engine's process (hooks such as ``read_line`` stay here)."""
    return crossable(vars(args))


@contextlib.asynccontextmanager
async def open_for_app(argument: dict[str, Any]) -> AsyncIterator[Engine]:
    from kmm_tui.bootstrap import open_engine
    from kmm_tui.config import load_settings
    from kmm_tui.engine_host import provide
    from kmm_tui.logsetup import register_secret
    from kmm_tui.tui.scan_source import scan_source

    args = argparse.Namespace(**argument)
    settings = load_settings(args.config)
    odds = settings.odds
    for secret in (odds.the_odds_api_key, odds.oddspapi_key, odds.sportsgameodds_key):
        register_secret(secret)
    async with open_engine(settings, args) as engine:
        provide(SCAN, scan_source(engine.rest, settings.scanner.series, engine.now_ms))
        yield engine
