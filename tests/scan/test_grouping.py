"""Pure scanner rules on fixed inputs: start times, match grouping, filters and ordering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from kmm_tui.domain.prices import Price, price_from_cents
from kmm_tui.kalshi.models import Event, Market, Milestone
from kmm_tui.scan.catalogue import Catalogue, SeriesEntry
from kmm_tui.scan.grouping import ScanEvent, apply_filters, build_events, sort_ms, start_for
from kmm_tui.scan.model import GAME_DAY_WINDOW_MS, Mode, ScanFilter, StartSource

CAT = Catalogue.packaged()
HOUR = 3_600_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1000


NOW = ms("2026-11-28T15:00:00")  # 10:00 US Eastern


def entry(ticker: str) -> SeriesEntry:
    found = CAT.entry_for(ticker)
    assert found is not None
    return found


def market(ticker: str, team: str, bid: str | None = "0.4000", ask: str | None = "0.4500") -> Market:
    data: dict[str, Any] = {
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "status": "active",
        "yes_sub_title": team,
        "yes_bid_dollars": bid or "0.0000",
        "yes_bid_size_fp": "10.00",
        "yes_ask_dollars": ask or "1.0000",
        "yes_ask_size_fp": "20.00",
        "volume_fp": "5.00",
    }
    return Market.from_wire(data)


def event(ticker: str, title: str, start: int | None = None) -> Event:
    milestones = []
    if start is not None:
        milestones.append(
            Milestone.from_wire(
                {
                    "id": f"m-{ticker}",
                    "start_date": datetime.fromtimestamp(start / 1000, UTC).isoformat(),
                    "primary_event_tickers": [ticker],
                }
            )
        )
    return Event.from_wire({"event_ticker": ticker, "title": title}, milestones=milestones)


def test_start_prefers_the_milestone_then_the_ticker_time_then_the_date() -> None:
    assert start_for("KXCS2GAME-26NOV281330VITFAZ", NOW).source is StartSource.MILESTONE
    guess = start_for("KXCS2GAME-26NOV281330VITFAZ", None)
    assert guess.source is StartSource.TICKER_TIME and guess.is_guess
    assert guess.ms == ms("2026-11-28T18:30:00")  # 13:30 Eastern (EST, UTC-5)
    day = start_for("KXNBAGAME-26NOV28BOSNYK", None)
    assert (day.ms, day.source, day.eastern_date) == (None, StartSource.TICKER_DATE, date(2026, 11, 28))
    assert sort_ms(day) == ms("2026-11-29T05:00:00") - 1  # end of the Eastern day: after timed games
    assert start_for("KXWEIRD-XYZ", None).source is StartSource.UNKNOWN


def test_two_team_event_is_a_match_with_teams_in_ticker_order() -> None:
    ticker = "KXCS2GAME-26NOV281330VITFAZ"
    markets = [market(f"{ticker}-FAZ", "FaZe Clan"), market(f"{ticker}-VIT", "Vitality")]
    [scanned] = build_events(entry("KXCS2GAME"), markets, {ticker: event(ticker, "Vitality vs FaZe")})
    match = scanned.match
    assert match is not None and match.tie is None and match.outcomes == 2
    assert match.tickers == (f"{ticker}-VIT", f"{ticker}-FAZ")
    assert (match.a.team, match.b.team, match.title, match.sport) == (
        "Vitality",
        "FaZe Clan",
        "Vitality vs FaZe",
        "CS2",
    )
    assert match.start.source is StartSource.TICKER_TIME  # no milestone given


def test_soccer_exposes_the_two_teams_as_a_and_b_and_the_tie_separately() -> None:
    ticker = "KXEPLGAME-26NOV28ARSCHE"
    markets = [
        market(f"{ticker}-TIE", "Tie"),
        market(f"{ticker}-CHE", "Chelsea"),
        market(f"{ticker}-ARS", "Arsenal"),
    ]
    [scanned] = build_events(
        entry("KXEPLGAME"), markets, {ticker: event(ticker, "Arsenal vs Chelsea", NOW + HOUR)}
    )
    match = scanned.match
    assert match is not None and match.outcomes == 3
    assert match.tickers == (f"{ticker}-ARS", f"{ticker}-CHE")
    assert match.tie is not None and match.tie.ticker == f"{ticker}-TIE" and match.tie.is_tie
    assert [r.ticker[-3:] for r in scanned.rows] == ["ARS", "CHE", "TIE"]
    assert match.start.ms == NOW + HOUR and not match.start.is_guess


def test_spread_series_and_odd_shaped_events_are_rows_but_not_matches() -> None:
    spread = "KXNBASPREAD-26NOV28BOSNYK"
    [spread_event] = build_events(
        entry("KXNBASPREAD"),
        [market(f"{spread}-BOS5", "Boston by 5.5"), market(f"{spread}-NYK5", "New York by 5.5")],
        {},
    )
    assert spread_event.match is None and len(spread_event.rows) == 2
    three = "KXNBAGAME-26NOV28BOSNYK"
    [odd] = build_events(entry("KXNBAGAME"), [market(f"{three}-{c}", c) for c in ("BOS", "NYK", "X")], {})
    assert odd.match is None and len(odd.rows) == 3


def test_missing_bid_or_ask_counts_as_the_widest_spread() -> None:
    [scanned] = build_events(
        entry("KXNBAGAME"),
        [
            market("KXNBAGAME-26NOV28BOSNYK-BOS", "Boston", bid=None, ask="0.3000"),
            market("KXNBAGAME-26NOV28BOSNYK-NYK", "New York", bid=None, ask=None),
        ],
        {},
    )
    a, b = scanned.rows
    assert (a.bid, a.bid_size, a.ask, a.spread) == (None, None, 3000, 3000)
    assert (b.ask, b.ask_size, b.spread) == (None, None, 10_000)


def _events(*specs: tuple[str, int | None, str, str]) -> list[ScanEvent]:
    """(event ticker, milestone start, bid A, ask A) per event; team B is quoted 40/45."""
    out: list[ScanEvent] = []
    for ticker, start, bid, ask in specs:
        series = ticker.split("-")[0]
        markets = [market(f"{ticker}-AAA", "A", bid, ask), market(f"{ticker}-BBB", "B")]
        events = {ticker: event(ticker, ticker, start)}
        out.extend(build_events(entry(series), markets, events))
    return out


EVENTS = _events(
    ("KXNBAGAME-26NOV28AAABBB", NOW + 2 * HOUR, "0.4000", "0.4300"),  # spreads 3c / 5c
    ("KXNHLGAME-26NOV28AAABBB", NOW + 2 * HOUR, "0.3000", "0.4000"),  # 10c: same start, wider first
    ("KXCS2GAME-26NOV280900AAABBB", NOW - HOUR, "0.4000", "0.4100"),  # started an hour ago
    ("KXLOLGAME-26NOV300900AAABBB", NOW + 48 * HOUR, "0.4000", "0.4100"),  # in two days
    ("KXATPMATCH-26NOV28AAABBB", None, "0.4000", "0.4100"),  # date only: today
    ("KXWTAMATCH-XAAABBB", None, "0.4000", "0.4100"),  # unknown start
    ("KXDOTA2GAME-26NOV281000AAABBB", NOW + HOUR, "0.4000", "0.4200"),  # soonest
)


def test_game_day_keeps_unstarted_events_of_the_next_24_hours_ordered_by_start_then_spread() -> None:
    rows, matches = apply_filters(EVENTS, ScanFilter(), NOW)
    assert [m.series for m in matches] == ["KXDOTA2GAME", "KXNHLGAME", "KXNBAGAME", "KXATPMATCH"]
    assert [r.event_ticker for r in rows[::2]] == [m.event_ticker for m in matches]
    assert all(r.start.ms is None or NOW <= r.start.ms <= NOW + GAME_DAY_WINDOW_MS for r in rows)


def test_all_mode_keeps_everything_with_unknown_starts_last() -> None:
    rows, matches = apply_filters(EVENTS, ScanFilter(Mode.ALL), NOW)
    assert len(rows) == 14 and len(matches) == 7
    assert [m.series for m in matches] == [
        "KXCS2GAME",
        "KXDOTA2GAME",
        "KXNHLGAME",
        "KXNBAGAME",
        "KXATPMATCH",
        "KXLOLGAME",
        "KXWTAMATCH",
    ]


def test_within_narrows_to_starts_between_now_and_the_horizon() -> None:
    _, matches = apply_filters(EVENTS, ScanFilter(Mode.ALL, within_ms=90 * 60_000), NOW)
    assert [m.series for m in matches] == ["KXDOTA2GAME", "KXATPMATCH"]  # date-only today overlaps


def test_min_spread_is_per_market_and_keeps_a_match_when_either_team_qualifies() -> None:
    wide: Price = price_from_cents(5)
    rows, matches = apply_filters(EVENTS, ScanFilter(Mode.ALL, min_spread=wide), NOW)
    assert all(r.spread >= wide for r in rows)
    assert len(matches) == 7  # every team B is 5c wide
    assert sum(1 for r in rows if r.ticker.endswith("-AAA")) == 1  # only the NHL A market (10c)
    rows, matches = apply_filters(EVENTS, ScanFilter(Mode.ALL, min_spread=price_from_cents(6)), NOW)
    assert [r.ticker for r in rows] == ["KXNHLGAME-26NOV28AAABBB-AAA"]
    assert [m.event_ticker for m in matches] == ["KXNHLGAME-26NOV28AAABBB"]
    assert matches[0].b.spread == 500  # the match still carries both teams for a setup
