"""``kmm odds …`` handlers (dispatched lazily by ``kmm_tui.cli``).

The odds layer may not import ``kmm_tui.config`` (layering), so ``settings`` is read through the
small :class:`SettingsLike` protocol: ``settings.odds`` (keys, regions, bookmakers) and optionally
``settings.scanner.series``. Open Kalshi events come from an injectable ``kalshi_events`` loader
(``main`` builds one on the Kalshi client from ``args.environment.rest_url`` — public endpoints, no
key — when the caller passes none); when Kalshi cannot be reached the table still shows the odds-side
coverage and quota. Without any key the command still succeeds: it lists each source with the setting
or environment variable that turns it on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

import httpx

from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.odds.coverage import SourceStatus, coverage_report, format_table
from kmm_tui.odds.errors import SourceConfigError
from kmm_tui.odds.matching import AliasFileError, KalshiEvent, KalshiOutcome, Matcher
from kmm_tui.odds.oddspapi import OddsPapi, OddsPapiSettings
from kmm_tui.odds.simulated import NAME as SIMULATED
from kmm_tui.odds.simulated import NOTE as SIMULATED_NOTE
from kmm_tui.odds.simulated import SimulatedOdds
from kmm_tui.odds.sports import LINE_SERIES, SPORTS
from kmm_tui.odds.sportsgameodds import SportsGameOdds, SportsGameOddsSettings
from kmm_tui.odds.theoddsapi import TheOddsApi, TheOddsApiSettings

EXIT_OK = 0
EXIT_USER_ERROR = 2
CONFIRMED_FILE = "confirmed_matches.json"

KalshiEventsLoader = Callable[[Sequence[str]], Awaitable[Mapping[str, Sequence[KalshiEvent]]]]


class OddsSettingsLike(Protocol):
    the_odds_api_key: str | None
    oddspapi_key: str | None
    regions: tuple[str, ...]
    bookmakers: tuple[str, ...]


class SettingsLike(Protocol):
    odds: OddsSettingsLike


def confirmed_path(args: argparse.Namespace) -> Path | None:
    state = getattr(args, "state_dir", None)
    return Path(state) / CONFIRMED_FILE if state else None


async def kalshi_events_for(rest: KalshiRest, series: str) -> list[KalshiEvent]:
    """Open events of one series as the matcher sees them: each open market's ticker and
    ``yes_sub_title``, and the milestone start when Kalshi has one (else the ticker's date is used)."""
    events = await rest.list_events(
        series_ticker=series, status="open", with_nested_markets=True, with_milestones=True
    )
    return [
        KalshiEvent(
            event.event_ticker,
            event.title,
            tuple(KalshiOutcome(m.ticker, m.yes_sub_title) for m in event.markets if m.is_active),
            event.start_ms,
        )
        for event in events
    ]


def kalshi_events_loader(rest_url: str) -> KalshiEventsLoader:
    """A loader reading every series' open events from ``rest_url`` concurrently (the client's rate
    limiter paces the requests)."""

    async def load(series: Sequence[str]) -> Mapping[str, Sequence[KalshiEvent]]:
        async with KalshiRest(rest_url) as rest:
            found = await asyncio.gather(*(kalshi_events_for(rest, name.upper()) for name in series))
        return {name.upper(): events for name, events in zip(series, found, strict=True)}

    return load


def _default_loader(args: argparse.Namespace) -> KalshiEventsLoader | None:
    rest_url = getattr(getattr(args, "environment", None), "rest_url", None)
    return kalshi_events_loader(rest_url) if rest_url else None


def _series(settings: Any) -> list[str]:
    """The scanner's series, else every series the odds layer maps (winners, then totals/spreads)."""
    configured = getattr(getattr(settings, "scanner", None), "series", ()) or ()
    return list(configured) or [*SPORTS, *LINE_SERIES]


# Each source: the setting under [odds] and the environment variable that enable it.
SOURCE_KEYS: tuple[tuple[str, str, str], ...] = (
    ("theoddsapi", "the_odds_api_key", "KMM_ODDS_API_KEY"),
    ("oddspapi", "oddspapi_key", "KMM_ODDSPAPI_KEY"),
    ("sportsgameodds", "sportsgameodds_key", "KMM_SPORTSGAMEODDS_KEY"),
)
PREFIX = "kmm odds coverage:"


def _sim_rest_url(args: argparse.Namespace) -> str | None:
    """The simulator's REST URL when the environment is ``sim`` (its fake odds source is used)."""
    environment = getattr(args, "environment", None)
    name = getattr(getattr(environment, "name", None), "value", None)
    url = getattr(environment, "rest_url", None)
    return url if name == "sim" and url else None


def source_statuses(odds: OddsSettingsLike) -> tuple[SourceStatus, ...]:
    """Every source, with how to enable the ones that have no key."""
    statuses = []
    for name, setting, variable in SOURCE_KEYS:
        configured = bool(getattr(odds, setting, None))
        note = "key set" if configured else f"no key: set [odds] {setting} in settings.toml or {variable}"
        statuses.append(SourceStatus(name, configured, note))
    return tuple(statuses)


async def _coverage(
    args: argparse.Namespace,
    settings: SettingsLike,
    out: TextIO,
    kalshi_events: KalshiEventsLoader | None,
    transport: httpx.AsyncBaseTransport | None,
) -> int:
    odds = settings.odds
    try:
        matcher = Matcher.load(confirmed_path(args))
    except AliasFileError as exc:
        print(f"{PREFIX} {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    theoddsapi: TheOddsApi | None = None
    oddspapi = sportsgameodds = None
    statuses = source_statuses(odds)
    sim_rest_url = _sim_rest_url(args)
    if sim_rest_url is not None:  # real books cannot price simulated matches: the fake source does
        theoddsapi = SimulatedOdds(sim_rest_url, matcher, transport=transport)
        statuses = (SourceStatus(SIMULATED, True, SIMULATED_NOTE), *statuses)
    elif odds.the_odds_api_key:
        theoddsapi = TheOddsApi(
            TheOddsApiSettings(api_key=odds.the_odds_api_key, regions=tuple(odds.regions) or ("us",),
                               bookmakers=tuple(odds.bookmakers)),
            matcher, transport=transport,
        )
    if odds.oddspapi_key:
        oddspapi = OddsPapi(OddsPapiSettings(api_key=odds.oddspapi_key), matcher, transport=transport)
    sgo_key = getattr(odds, "sportsgameodds_key", None)
    if sgo_key:
        sportsgameodds = SportsGameOdds(SportsGameOddsSettings(sgo_key), matcher, transport=transport)
    series = _series(settings)
    try:
        events = None
        if kalshi_events is not None:
            try:
                events = await kalshi_events(series)
            except KalshiError as exc:
                print(f"{PREFIX} warning: Kalshi events unavailable: {exc.user_message}", file=sys.stderr)
        report = await coverage_report(
            series, events, theoddsapi, oddspapi, sportsgameodds, statuses
        )
    except SourceConfigError as exc:
        print(f"{PREFIX} {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        for client in (theoddsapi, oddspapi, sportsgameodds):
            if client is not None:
                await client.aclose()
    if getattr(args, "json", False):
        json.dump(report.to_json(), out, indent=2)
        out.write("\n")
    else:
        out.write(format_table(report) + "\n")
    return EXIT_OK


def main(
    args: argparse.Namespace,
    settings: SettingsLike,
    *,
    out: TextIO | None = None,
    kalshi_events: KalshiEventsLoader | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """``kmm odds <subcommand>``; returns the exit status (2 = something the user must fix)."""
    command = getattr(args, "odds_command", None)
    if command == "coverage":
        loader = kalshi_events if kalshi_events is not None else _default_loader(args)
        return asyncio.run(_coverage(args, settings, out or sys.stdout, loader, transport))
    print(f"kmm odds: unknown subcommand {command!r} — try `kmm odds coverage`", file=sys.stderr)
    return EXIT_USER_ERROR
