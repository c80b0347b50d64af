"""Pure scanner logic: markets → rows, events → matches of a shape (or refusals), start times, filters
and ordering.

No I/O and no clock: ``now_ms`` is a parameter, so every rule here is tested on fixed inputs. The
network side (``scanner.py``) only fetches ``Market``/``Event`` objects and hands them over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kmm_tui.domain.prices import Price
from kmm_tui.kalshi.models import Event, Market
from kmm_tui.odds.matching import EASTERN, KalshiOutcome, eastern_date, parse_ticker_schedule
from kmm_tui.scan.catalogue import SeriesEntry
from kmm_tui.scan.model import (
    GAME_DAY_WINDOW_MS,
    UNKNOWN_START,
    Mode,
    Outcome,
    ScanFilter,
    ScanMatch,
    ScanRow,
    Shape,
    StartSource,
    StartTime,
    Unsupported,
)

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
    """All scanned markets of one event, in display order, and the matches they form: one for a
    two-team or three-way event, one per market for an event that is not mutually exclusive, none
    (and ``unsupported`` with the reason) for any other shape."""

    event_ticker: str
    rows: tuple[ScanRow, ...]
    matches: tuple[ScanMatch, ...]
    unsupported: Unsupported | None = None


def _team_order(event_ticker: str, row: ScanRow) -> tuple[int, str]:
    """Order the team markets as their codes appear in the event ticker (``…VITFAZ`` → VIT, FAZ): for
    soccer the first is the home team, as in Kalshi's titles ("Arsenal vs Chelsea": Arsenal at home)."""
    suffix = row.ticker[len(event_ticker) + 1 :] if row.ticker.startswith(event_ticker + "-") else ""
    code = event_ticker.partition("-")[2]
    position = code.find(suffix) if suffix else -1
    return (position if position >= 0 else len(code) + 1, row.ticker)


def refusal(event: Event | None, teams: Sequence[ScanRow], ties: Sequence[ScanRow]) -> str | None:
    """Why a mutually exclusive event is no match kmm can quote, or None when it is two teams
    (plus at most one TIE). The shape follows the exchange's ``mutually_exclusive`` flag and the
    event's markets (every one the exchange nests in the event, open or not: a closed TIE market still
    makes a soccer event three-way, so its two team markets are no two-team match), never the series
    name."""
    if event is None:
        return "the exchange did not list this event, so whether its markets exclude each other is unknown"
    listed = len(event.markets)
    if listed > len(teams) + len(ties):
        return (
            f"only {len(teams) + len(ties)} of the event's {listed} markets are open: "
            "a match needs the market of every outcome"
        )
    if len(teams) == 2 and len(ties) <= 1:
        return None
    if len(ties) > 1:
        return f"{len(ties)} tie/draw markets in one event"
    count = len(teams) + len(ties)
    if count == 1:
        return "only one market of this mutually exclusive event is open: its other outcomes are missing"
    if ties:
        return "a TIE market but only one team market is open: a three-way match needs home, TIE and away"
    return (
        f"{count} mutually exclusive outcomes: kmm quotes two teams, or home/tie/away, "
        "or one YES/NO market of an event whose markets do not exclude each other"
    )


def _yes_no(row: ScanRow) -> tuple[Outcome, Outcome]:
    """A YES/NO match's outcomes; the market's proposition is in the match's name, not repeated here."""
    return Outcome("A", "YES", row), Outcome("B", "NO", row, is_no=True)


def _event(entry: SeriesEntry, event_ticker: str, event: Event | None, rows: Sequence[ScanRow]) -> ScanEvent:
    """One event's matches (or its refusal), from the exchange's flag and the event's open markets."""
    start = rows[0].start
    teams = sorted((r for r in rows if not r.is_tie), key=lambda r: _team_order(event_ticker, r))
    ties = sorted((r for r in rows if r.is_tie), key=lambda r: r.ticker)
    ordered = (*teams, *ties)
    title = rows[0].event_title
    head = (entry.label, entry.sport, entry.ticker, event_ticker)
    if event is not None and not event.mutually_exclusive:
        singles = sorted(rows, key=lambda r: r.ticker)
        matches = tuple(ScanMatch(*head, title, start, Shape.YES_NO, _yes_no(r)) for r in singles)
        return ScanEvent(event_ticker, tuple(singles), matches)
    reason = refusal(event, teams, ties)
    if reason is not None:
        return ScanEvent(event_ticker, ordered, (), Unsupported(*head, title, start, ordered, reason))
    if event is None or not event.title:
        title = f"{teams[0].team} vs {teams[1].team}"
    a, b = Outcome("A", teams[0].team, teams[0]), Outcome("B", teams[1].team, teams[1])
    if ties:
        shape, outcomes = Shape.THREE_WAY, (a, Outcome("T", ties[0].team, ties[0]), b)
    else:
        shape, outcomes = Shape.TEAMS, (a, b)
    return ScanEvent(event_ticker, ordered, (ScanMatch(*head, title, start, shape, outcomes),))


def build_events(
    entry: SeriesEntry, markets: Iterable[Market], events: Mapping[str, Event]
) -> list[ScanEvent]:
    """Group one series' markets by event and give each event its matches.

    A mutually exclusive event with two team markets is a two-team match (A, B in ticker order), with a
    TIE market too a three-way match (home = A, TIE = T, away = B); an event that is not mutually
    exclusive (totals, spreads: one market per strike) gives one YES/NO match per market; anything
    else is :class:`Unsupported` with the reason."""
    by_event: dict[str, list[Market]] = {}
    for market in markets:
        by_event.setdefault(market.event_ticker, []).append(market)
    out: list[ScanEvent] = []
    for event_ticker, group in by_event.items():
        event = events.get(event_ticker)
        start = start_for(event_ticker, event.start_ms if event is not None else None)
        out.append(_event(entry, event_ticker, event, [row_for(m, entry, event, start) for m in group]))
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


def _wide_enough(spread: Price, filters: ScanFilter) -> bool:
    return filters.min_spread is None or spread >= filters.min_spread


def _filtered(event: ScanEvent, filters: ScanFilter) -> ScanEvent | None:
    """``min_spread`` applies to a match's widest outcome: a kept match keeps all its markets (a setup
    needs every one); an unsupported event is kept when its widest market passes."""
    matches = tuple(m for m in event.matches if _wide_enough(m.widest_spread, filters))
    unsupported = event.unsupported
    if unsupported is not None and not _wide_enough(unsupported.widest_spread, filters):
        unsupported = None
    if not matches and unsupported is None:
        return None
    kept = {t for m in matches for t in m.tickers}
    if unsupported is not None:
        kept.update(r.ticker for r in unsupported.rows)
    rows = tuple(r for r in event.rows if r.ticker in kept)
    return ScanEvent(event.event_ticker, rows, matches, unsupported)


def apply_filters(
    events: Sequence[ScanEvent], filters: ScanFilter, now_ms: int
) -> tuple[tuple[ScanRow, ...], tuple[ScanMatch, ...], tuple[Unsupported, ...]]:
    """Filter, then order by start (unknown last), widest spread first, then event ticker: the rows of
    the kept matches and unsupported events, the matches, and the unsupported events."""
    kept: list[ScanEvent] = []
    for event in events:
        if not event.rows or not start_passes(event.rows[0].start, filters, now_ms):
            continue
        filtered = _filtered(event, filters)
        if filtered is not None:
            kept.append(filtered)
    kept.sort(key=_order_key)
    rows_out = tuple(row for event in kept for row in event.rows)
    matches = tuple(match for event in kept for match in event.matches)
    unsupported = tuple(event.unsupported for event in kept if event.unsupported is not None)
    return rows_out, matches, unsupported
