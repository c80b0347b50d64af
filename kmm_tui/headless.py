"""``kmm run``: one match, no TUI — the original command-line tool's flags, on the same engine.

Prints one line per decision change, order action and fill, with the time and the reason; every
``--report-every`` seconds a position and P&L line, and a session summary when it stops (``--json``:
the same as one JSON object per line). Ctrl-C, SIGTERM and SIGHUP (a dropped SSH session) all end in
the engine's verified cancel of every order we own; the exit status is 128 + the signal (130 for
Ctrl-C) after a clean stop, 3 when orders may be left resting, 0 when the match ended by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import uuid
from decimal import Decimal, InvalidOperation
from typing import TextIO

from kmm_tui import eventloop
from kmm_tui.bootstrap import open_engine
from kmm_tui.config import EnvName, Settings, UserError
from kmm_tui.domain.prices import (
    WireFormatError,
    parse_count,
    price_from_cents,
)
from kmm_tui.domain.theo import OddsError, overround, parse_decimal_odds
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, Shape, TheoInput
from kmm_tui.engine.state import MatchView
from kmm_tui.gc_tuning import freeze_after_startup
from kmm_tui.run_report import Printer, SessionTally

EXIT_OK, EXIT_LEFT_ORDERS = 0, 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class UsageError(UserError):
    """A flag value that cannot be used; the message names the flag and what to type instead."""


def build_spec(args: argparse.Namespace, settings: Settings) -> MatchSpec:
    """Validate the flags into a MatchSpec. Raises UsageError naming the flag."""
    if not args.ticker_a or not args.ticker_b:
        raise UsageError(
            "no markets: give --ticker-a/--ticker-b, --tickers HOME,TIE,AWAY or --ticker T (kmm run --help)"
        )
    theo = _theo(args, settings)
    d = settings.defaults

    def count(flag: str, value: object, default: Decimal) -> int:
        try:
            result = parse_count(str(value)) if value is not None else parse_count(default)
        except WireFormatError as error:
            raise UsageError(f"{flag}: {error}") from None
        if result <= 0:
            raise UsageError(f"{flag} must be positive")
        return result

    try:
        edge = price_from_cents(str(args.edge)) if args.edge is not None else d.edge
    except WireFormatError as error:
        raise UsageError(f"--edge (cents): {error}") from None
    settings_ = MatchSettings(
        edge=edge,
        contracts=count("--contracts", args.contracts, d.contracts),  # type: ignore[arg-type]
        inventory_max=count("--inventory-max", args.inventory_max, d.inventory_max),  # type: ignore[arg-type]
        start_margin_ms=d.start_margin_ms,
        retest_interval_ms=d.retest_interval_ms,
        backoff_ticks=d.backoff_ticks,
        fee_aware=d.fee_aware,
        post_only=d.post_only,
    )
    match_id = f"run-{uuid.uuid4().hex[:8]}"
    tie = getattr(args, "ticker_tie", None)
    return MatchSpec(
        match_id, args.ticker_a.upper(), args.ticker_b.upper(), theo, settings_,
        ticker_tie=tie.upper() if tie else None,
    )


def _theo(args: argparse.Namespace, settings: Settings) -> TheoInput:
    if getattr(args, "odds_feed", False):
        environment = getattr(args, "environment", None)
        odds = settings.odds
        on_sim = environment is not None and environment.name is EnvName.SIM
        if not (on_sim or odds.the_odds_api_key or odds.oddspapi_key or odds.sportsgameodds_key):
            raise UsageError(
                "--odds-feed needs an odds source — set [odds] the_odds_api_key, oddspapi_key or "
                "sportsgameodds_key (or KMM_ODDS_API_KEY …), or give --theo-a/--theo-b"
            )
        return TheoInput(from_feed=True, method=settings.odds.devig)
    theo_tie = getattr(args, "theo_tie", None)
    odds_draw = getattr(args, "odds_draw", None)
    if args.theo_a is not None or args.theo_b is not None:
        if args.odds_a is not None or args.odds_b is not None:
            raise UsageError("give either --odds or --theo, not both")
        try:
            theo_a, theo_b, theo_t = (
                price_from_cents(str(value)) if value is not None else None
                for value in (args.theo_a, args.theo_b, theo_tie)
            )
        except WireFormatError as error:
            raise UsageError(f"--theo (cents): {error}") from None
        if theo_a is None:
            raise UsageError("--theo-a is required with --theo-b")
        return TheoInput(theo_a=theo_a, theo_b=theo_b, theo_tie=theo_t)
    if args.odds_a is None or args.odds_b is None:
        raise UsageError("give decimal odds (--odds 1.62,2.42) or theo in cents (--theo 60)")
    try:
        odds_a, odds_b = parse_decimal_odds(str(args.odds_a)), parse_decimal_odds(str(args.odds_b))
        draw = parse_decimal_odds(str(odds_draw)) if odds_draw is not None else None
    except (OddsError, InvalidOperation) as error:
        raise UsageError(f"--odds: {error}") from None
    theo = TheoInput(
        odds_a=odds_a, odds_b=odds_b, odds_draw=draw, method=settings.odds.devig,
        margin_confirmed=args.accept_margin,
    )
    margin = overround([o for o in (odds_a, draw, odds_b) if o is not None])
    if margin > theo.max_margin and not theo.margin_confirmed:
        raise UsageError(
            f"the odds carry a {margin * 100:.1f} % bookmaker margin, above the "
            f"{theo.max_margin * 100:.0f} % cap — check them for a typo, or add --accept-margin"
        )
    return theo


def api_defaults(settings: Settings) -> MatchSettings:
    """``[defaults]`` as engine settings: what the control API fills in for fields a request omits."""
    d = settings.defaults
    return MatchSettings(
        edge=d.edge,
        contracts=d.contracts_count,
        inventory_max=d.inventory_max_count,
        start_margin_ms=d.start_margin_ms,
        retest_interval_ms=d.retest_interval_ms,
        backoff_ticks=d.backoff_ticks,
        fee_aware=d.fee_aware,
        post_only=d.post_only,
    )


def _view(engine: Engine, match_id: str) -> MatchView | None:
    return next((m for m in engine.snapshot().matches if m.spec.match_id == match_id), None)


async def run_match(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    spec = build_spec(args, settings)
    api_port: int | None = getattr(args, "api", None)
    report_every_s: int = getattr(args, "report_every", 0) or 0
    stop = asyncio.Event()
    received: list[signal.Signals] = []
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        async with contextlib.AsyncExitStack() as stack:
            engine = await stack.enter_async_context(open_engine(settings, args, dry_run=args.dry_run))
            printer = Printer(engine, out, as_json=bool(getattr(args, "json", False)))
            engine.listen(printer)
            api_stack = await stack.enter_async_context(contextlib.AsyncExitStack())
            if api_port is not None:
                from kmm_tui.control_api import serve_control_api

                api = await api_stack.enter_async_context(
                    serve_control_api(
                        engine,
                        api_port,
                        args.state_dir,
                        defaults=api_defaults(settings),
                        devig=settings.odds.devig,
                    )
                )
                printer.say(
                    f"control API on {api.url} (WebSocket {api.ws_url}); token in {api.token_path} "
                    "(send it as Authorization: Bearer <token>)",
                    url=api.url,
                )
            printer.say(
                f"kmm run on {engine.environment}: {markets_text(spec)}"
                f"{' (dry run: no orders are sent)' if args.dry_run else ''}; Ctrl-C to stop"
            )
            try:
                spec = await start_or_resume(engine, spec)
            except EngineError as error:
                if error.field in ("ticker_a", "ticker_b", "ticker_tie"):
                    hint = await open_pairs_hint(engine)
                    environment = getattr(args, "environment", None)
                    if hint and environment is not None and environment.rest_url is None:
                        hint += (
                            "\n(the embedded simulator makes new tickers every run: start `kmm sim` "
                            "and pass --sim-url to keep them)"
                        )
                    raise EngineError(error.user_message + hint, error.field) from None
                raise
            tally = SessionTally(spec.match_id, engine.now_ms())
            engine.listen(tally)
            freeze_after_startup()  # full GC passes stop walking start-up's objects (gc_tuning.py)
            next_report = loop.time() + report_every_s
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                view = _view(engine, spec.match_id)
                if report_every_s and view is not None and loop.time() >= next_report:
                    printer.position(view)
                    next_report = loop.time() + report_every_s
                # with the API up, the process outlives its first match (more can be added): Ctrl-C ends it
                finished = view is not None and view.status in (MatchStatus.STOPPED, MatchStatus.HALTED)
                if finished and api_port is None:
                    break
            await api_stack.aclose()  # no API command may start anything while the orders are pulled
            left = await engine.close("stopped from the command line")
            printer.summary(tally, _view(engine, spec.match_id))
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    if left:
        print(
            f"kmm run: WARNING: {left} order(s) may still rest on the exchange — check it now",
            file=sys.stderr,
        )
        return EXIT_LEFT_ORDERS
    printer.say("stopped: no orders left resting")
    return 128 + received[0].value if received else EXIT_OK


def markets_text(spec: MatchSpec) -> str:
    """The markets of a match as the run's first line names them."""
    if spec.shape is Shape.YES_NO:
        return f"{spec.ticker_a} (YES and NO)"
    if spec.shape is Shape.THREE_WAY:
        return f"{spec.ticker_a} / draw {spec.ticker_tie} / {spec.ticker_b}"
    return f"{spec.ticker_a} vs {spec.ticker_b}"


async def open_pairs_hint(engine: Engine, limit: int = 8) -> str:
    """For a ticker typo: the open two-team and soccer events on this exchange (best effort, never
    raises)."""
    try:
        markets = await engine.rest.list_markets(status="open", limit=200)
    except Exception:  # only a hint: the original error is what matters
        return ""
    by_event: dict[str, list[str]] = {}
    for market in markets:
        by_event.setdefault(market.event_ticker, []).append(market.ticker)
    lines = []
    for tickers in by_event.values():
        teams = sorted(t for t in tickers if not t.endswith("-TIE"))
        ties = [t for t in tickers if t.endswith("-TIE")]
        if len(teams) == 2 and not ties:
            lines.append(f"  --ticker-a {teams[0]} --ticker-b {teams[1]}")
        elif len(teams) == 2 and len(ties) == 1:
            lines.append(f"  --tickers {teams[0]},{ties[0]},{teams[1]}")
    lines = lines[:limit]
    return (
        "\nopen matches on this exchange (`kmm scan` lists them with prices):\n" + "\n".join(lines)
        if lines
        else ""
    )


async def start_or_resume(engine: Engine, spec: MatchSpec) -> MatchSpec:
    """Start ``spec``; if the journal brought back a match on the same markets (an earlier run),
    continue that one with the new theo and settings (its inventory and history stay)."""
    markets = (set(spec.tickers), spec.shape)
    earlier = next(
        (m.spec for m in engine.snapshot().matches if (set(m.spec.tickers), m.spec.shape) == markets), None
    )
    if earlier is None:
        await engine.execute(cmd.AddMatch(spec, start=True))
        return spec
    await engine.execute(cmd.UpdateMatch(earlier.match_id, theo=spec.theo, settings=spec.settings))
    await engine.execute(cmd.StartMatch(earlier.match_id))
    return earlier


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point for ``kmm run`` (dispatched from kmm_tui.cli, which prints a UserError as one line)."""
    try:
        return eventloop.run(run_match(args, settings))
    except EngineError as error:
        raise UserError(error.user_message) from None


__all__ = ["build_spec", "main", "run_match"]
