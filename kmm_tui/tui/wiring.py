"""Start-up for ``kmm`` (the TUI): settings → engine → app, and back down safely.

The engine is opened before the app so a start-up problem (bad key, unreachable exchange) is one line
on stderr from the CLI rather than a half-drawn screen. The engine runs in its own process
(``kmm_tui/engine_process.py``) so that drawing the app never delays a quote; the app is its client
and closing it closes the engine there, every order pulled and verified. Saved matches from
settings.toml are added (not started) once the app is up, so a saved match that no longer validates
shows as a warning in the app instead of blocking start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from kmm_tui.app_engine import OPENER, SCAN, app_argument
from kmm_tui.config import Settings, UserError
from kmm_tui.engine.commands import AddMatch
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine_process import ProcessEngine, engine_in_process
from kmm_tui.gc_tuning import freeze_after_startup
from kmm_tui.logsetup import registered_secrets, yield_rotation
from kmm_tui.paths import ensure_private_dir, log_file, settings_path
from kmm_tui.replay.format import sessions_dir
from kmm_tui.scan.model import ScanResult
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.keymap import KeymapError, resolve_keys
from kmm_tui.tui.port import EnginePort
from kmm_tui.tui.scan_source import ScanSource, scan_source
from kmm_tui.tui.store import SettingsStore, match_settings, saved_to_spec

log = logging.getLogger(__name__)

APP_NICENESS = 5  # the app runs at a lower priority than its engine: on busy cores the engine goes first


async def add_saved_matches(engine: EnginePort, settings: Settings) -> list[str]:
    """Add every saved match the engine does not already have; returns one warning per failure."""
    known = {m.spec.match_id for m in engine.snapshot().matches}
    problems: list[str] = []
    for saved in settings.matches:
        spec = saved_to_spec(saved)
        if spec.match_id in known:
            continue
        try:
            await engine.execute(AddMatch(spec))
        except EngineError as error:
            problems.append(f"saved match {saved.name!r} was not added: {error.user_message}")
    return problems


def scanner_for(engine: object, settings: Settings) -> ScanSource | None:
    """The Scanner mode's source: the market scanner over the engine's REST client (public calls).

    Without a client (a stand-in engine in tests) the Scanner says the scanner is unavailable rather
    than showing nothing. An engine in its own process scans there (its client lives there).
    """
    if isinstance(engine, ProcessEngine):

        async def scan() -> ScanResult:
            result: ScanResult = await engine.extra(SCAN)
            return result

        return scan
    rest = getattr(engine, "rest", None)
    if rest is None:
        return None
    clock = getattr(engine, "now_ms", None)
    if not callable(clock):
        return None
    return scan_source(rest, settings.scanner.series, clock)


def build_app(
    engine: EnginePort,
    args: argparse.Namespace,
    settings: Settings,
    on_ready: Callable[[], None] | None = None,
) -> KmmApp:
    """The app for these settings: remapped keys, ``[defaults]`` for new matches, settings.toml store."""

    async def load_saved(app: KmmApp) -> None:
        for problem in await add_saved_matches(engine, settings):
            log.warning("%s", problem)
            app.notify(problem, severity="warning", timeout=10)
        app.render_now()

    try:
        keys = resolve_keys(settings.keys)
    except KeymapError as error:
        raise UserError(str(error)) from None
    path = settings.source or settings_path(getattr(args, "config", None))[0]
    environment = getattr(args, "environment", None)
    # The embedded simulator invents new tickers every run: matches made there are not worth saving and
    # must not clutter the settings used for demo/prod, nor come back as "unknown ticker" next time.
    embedded = environment is not None and environment.name == "sim" and environment.rest_url is None
    return KmmApp(
        engine,
        keys=keys,
        defaults=match_settings(settings.defaults),
        store=None if embedded else SettingsStore(path, settings.defaults),
        scanner=scanner_for(engine, settings),
        startup=None if embedded else load_saved,
        devig=settings.odds.devig,
        sessions_dir=sessions_dir(args.state_dir) if getattr(args, "state_dir", None) else None,
        on_ready=on_ready,
    )


async def run_app(args: argparse.Namespace, settings: Settings) -> int:
    """Open the engine for the resolved environment, run the app until it exits, close the engine."""
    try:
        resolve_keys(settings.keys)
    except KeymapError as error:
        raise UserError(str(error)) from None
    loop = asyncio.get_running_loop()
    hangups = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)  # SIGINT: `kill -INT`; ctrl+c is a key here
    app: KmmApp | None = None
    main = asyncio.current_task()

    def engine_lost() -> None:
        if app is not None:
            app.exit(1, message="the engine's process ended: check the log; restart kmm to reconcile")

    def hang_up() -> None:
        # the terminal is gone: leave the app; closing the engine pulls every order, verified. The
        # handlers stay until the engine has closed, so a second signal cannot cut that short.
        if app is not None:
            app.exit(1, message="terminated: orders pulled on exit")
        elif main is not None:  # still starting: give up, the engine closes as soon as it is open
            main.cancel()

    for sig in hangups:
        loop.add_signal_handler(sig, hang_up)
    try:
        restore_rotation = yield_rotation()  # the engine's process rotates the shared log file
        try:
            async with engine_in_process(
                OPENER,
                app_argument(args),
                log_to=(args.state_dir, logging.getLogger().getEffectiveLevel()),
                secrets=registered_secrets(),
                stderr=engine_stderr(args.state_dir),
                app_niceness=APP_NICENESS,
            ) as engine:
                engine.on_lost = lambda: loop.call_soon_threadsafe(engine_lost)
                app = build_app(engine, args, settings, on_ready=freeze_after_startup)
                await app.run_async()
        finally:
            restore_rotation()
        return app.return_code or 0
    finally:
        for sig in hangups:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def engine_stderr(state_dir: Path) -> Path:
    """Where the engine's process writes what it could not log (an interpreter crash): never the
    terminal, which the app owns."""
    path = log_file(state_dir).with_name("engine-stderr.log")
    ensure_private_dir(path.parent)
    return path
