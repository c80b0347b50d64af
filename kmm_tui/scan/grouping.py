"""Pure scanner logic: markets → rows, rows → matches, start times, filters and ordering.

No I/O and no clock: ``now_ms`` is a parameter, so every rule here is tested on fixed inputs. The
network side (``scanner.py``) only fetches ``Market``/``Event`` objects and hands them over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kmm_tui.kalshi.models import Event, Market
from kmm_tui.odds.matching import EASTERN, KalshiOutcome, eastern_date, parse_ticker_schedule
from kmm_tui.scan.catalogue import SeriesEntry, SeriesKind
from kmm_tui.scan.model import (
    GAME_DAY_WINDOW_MS,
    UNKNOWN_START,
    Mode,
    ScanFilter,
    ScanMatch,
    ScanRow,
    StartSource,
    StartTime,
)

MATCH_KINDS = frozenset({SeriesKind.GAME, SeriesKind.LEGACY})


# --- start times ------------------------------------------------------------------------------------


def start_for(event_ticker: str, milestone_ms: int | None) -> StartTime:
    """The milestone's start when Kalshi gave one; else what the ticker says (a labelled guess)."""
    if milestone_ms is not None:
        return StartTime(milestone_ms, StartSource.MILESTONE, eastern_date(milestone_ms))
    schedule = parse_ticker_schedule(event_ticker)
    if schedule is None:
        return UNKNOWN_START
    ms = schedule.start_ms()
    if ms is None:
        return StartTime(None, StartSource.TICKER_DATE, schedule.eastern_date)
    return StartTime(ms, StartSource.TICKER_TIME, schedule.eastern_date)


def _eastern_midnight_ms(day: date) -> int:
    local = datetime.combine(day, time(0, 0), tzinfo=EASTERN)
    return int(local.timestamp()) * 1000


def sort_ms(start: StartTime) -> int | None:
    """A comparable instant: the start, or for a date-only start the end of that US-Eastern day (the
    game is some time that day, so it sorts after the day's timed events); None when unknown."""
    if start.ms is not None:
        return start.ms
    if start.eastern_date is not None:
        return _eastern_midnight_ms(start.eastern_date + timedelta(days=1)) - 1
    return None


def starts_between(start: StartTime, low_ms: int, high_ms: int) -> bool:
    """Whether the start lies in ``[low_ms, high_ms]``; a date-only start counts when its US-Eastern
    date overlaps the window; an unknown start never does."""
    if start.ms is not None:
        return low_ms <= start.ms <= high_ms
    if start.eastern_date is not None:
        return eastern_date(low_ms) <= start.eastern_date <= eastern_date(high_ms)
    return False


# --- rows and matches -------------------------------------------------------------------------------


def _is_tie(market: Market) -> bool:
    return KalshiOutcome(market.ticker, market.yes_sub_title).is_tie


def row_for(market: Market, entry: SeriesEntry, event: Event | None, start: StartTime) -> ScanRow:
    return ScanRow(
        sport=entry.label,
        sport_key=entry.sport,
        series=entry.ticker,
        event_ticker=market.event_ticker,
        event_title=(event.title if event is not None and event.title else market.title),
        ticker=market.ticker,
        team=market.yes_sub_title or market.ticker.rsplit("-", 1)[-1],
        bid=market.yes_bid,
        bid_size=market.yes_bid_size if market.yes_bid is not None else None,
        ask=market.yes_ask,
        ask_size=market.yes_ask_size if market.yes_ask is not None else None,
        volume=market.volume,
        open_interest=market.open_interest,
        start=start,
        is_tie=_is_tie(market),
        grid=market.grid,
    )


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """All scanned markets of one event, in display order, and the match they form (if they do)."""

    event_ticker: str
    rows: tuple[ScanRow, ...]
    match: ScanMatch | None


def _team_order(event_ticker: str, row: ScanRow) -> tuple[int, str]:
    """Order the team markets as their codes appear in the event ticker (``…VITFAZ`` → VIT, FAZ)."""
    suffix = row.ticker[len(event_ticker) + 1 :] if row.ticker.startswith(event_ticker + "-") else ""
    code = event_ticker.partition("-")[2]
    position = code.find(suffix) if suffix else -1
    return (position if position >= 0 else len(code) + 1, row.ticker)


def build_events(
    entry: SeriesEntry, markets: Iterable[Market], events: Mapping[str, Event]
) -> list[ScanEvent]:
    """Group one series' markets by event; an event of a match series with exactly two team markets
    (and at most one TIE) becomes a :class:`ScanMatch`."""
    by_event: dict[str, list[Market]] = {}
    for market in markets:
        by_event.setdefault(market.event_ticker, []).append(market)
    out: list[ScanEvent] = []
    for event_ticker, group in by_event.items():
        event = events.get(event_ticker)
        start = start_for(event_ticker, event.start_ms if event is not None else None)
        rows = [row_for(m, entry, event, start) for m in group]
        teams = sorted((r for r in rows if not r.is_tie), key=lambda r: _team_order(event_ticker, r))
        ties = sorted((r for r in rows if r.is_tie), key=lambda r: r.ticker)
        match = None
        if entry.kind in MATCH_KINDS and len(teams) == 2 and len(ties) <= 1:
            title = (
                event.title if event is not None and event.title else f"{teams[0].team} vs {teams[1].team}"
            )
            match = ScanMatch(
                entry.label,
                entry.sport,
                entry.ticker,
                event_ticker,
                title,
                start,
                teams[0],
                teams[1],
                ties[0] if ties else None,
            )
        out.append(ScanEvent(event_ticker, (*teams, *ties), match))
    return out


# --- filters and ordering ----------------------------------------------------------------------------


def start_passes(start: StartTime, filters: ScanFilter, now_ms: int) -> bool:
    """Game-day mode keeps events not yet started and starting within 24 h; ``within_ms`` narrows
    (in either mode) to events starting between now and now + within."""
    if filters.mode is Mode.GAME_DAY and not starts_between(start, now_ms, now_ms + GAME_DAY_WINDOW_MS):
        return False
    return filters.within_ms is None or starts_between(start, now_ms, now_ms + filters.within_ms)


def _order_key(event: ScanEvent) -> tuple[int, int, int, str]:
    key = sort_ms(event.rows[0].start)
    widest = max(r.spread for r in event.rows)
    return (0 if key is not None else 1, key or 0, -widest, event.event_ticker)


def apply_filters(
    events: Sequence[ScanEvent], filters: ScanFilter, now_ms: int
) -> tuple[tuple[ScanRow, ...], tuple[ScanMatch, ...]]:
    """Filter, then order by start (unknown last), widest spread first, then event ticker.

    ``min_spread`` is per market: only markets at least that wide are rows, and a match is kept when
    either team's market is (the match still carries both teams, which a setup needs)."""
    kept: list[ScanEvent] = []
    for event in events:
        if not event.rows or not start_passes(event.rows[0].start, filters, now_ms):
            continue
        rows = tuple(r for r in event.rows if filters.min_spread is None or r.spread >= filters.min_spread)
        if not rows:
            continue
        match = event.match
        if match is not None and filters.min_spread is not None and match.widest_spread < filters.min_spread:
            match = None
        kept.append(ScanEvent(event.event_ticker, rows, match))
    kept.sort(key=_order_key)
    rows_out = tuple(row for event in kept for row in event.rows)
    matches = tuple(event.match for event in kept if event.match is not None)
    return rows_out, matches
