"""Pure scanner rules on fixed inputs: start times, match grouping, filters and ordering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from kmm_tui.domain.prices import Price, contracts, price_from_cents
from kmm_tui.engine.model import Shape as EngineShape
from kmm_tui.kalshi.models import Event, Market, Milestone
from kmm_tui.scan.catalogue import Catalogue, SeriesEntry
from kmm_tui.scan.grouping import ScanEvent, apply_filters, build_events, sort_ms, start_for
from kmm_tui.scan.model import GAME_DAY_WINDOW_MS, Mode, ScanFilter, Shape, StartSource

CAT = Catalogue.packaged()
HOUR = 3_600_000


def c(cents: int | str) -> Price:
    return price_from_cents(cents)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1000


NOW = ms("2026-11-28T15:00:00")  # 10:00 US Eastern


def entry(ticker: str) -> SeriesEntry:
    found = CAT.entry_for(ticker)
    assert found is not None
    return found


def market(
    ticker: str,
    team: str,
    bid: str | None = "0.4000",
    ask: str | None = "0.4500",
    *,
    bid_size: str = "10.00",
    ask_size: str = "20.00",
) -> Market:
    data: dict[str, Any] = {
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "status": "active",
        "yes_sub_title": team,
        "yes_bid_dollars": bid or "0.0000",
        "yes_bid_size_fp": bid_size,
        "yes_ask_dollars": ask or "1.0000",
        "yes_ask_size_fp": ask_size,
        "volume_fp": "5.00",
    }
    return Market.from_wire(data)


def event(ticker: str, title: str, start: int | None = None, *, exclusive: bool = True) -> Event:
    """An event as ``GET /events`` returns it: match winners are mutually exclusive, totals are not."""
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
    wire = {"event_ticker": ticker, "title": title, "mutually_exclusive": exclusive}
    return Event.from_wire(wire, milestones=milestones)


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
    [match] = scanned.matches
    assert scanned.unsupported is None
    assert match.shape is Shape.TEAMS and match.tie is None and len(match.outcomes) == 2
    assert match.tickers == (f"{ticker}-VIT", f"{ticker}-FAZ")
    assert match.form_tickers == {"ticker_a": f"{ticker}-VIT", "ticker_b": f"{ticker}-FAZ"}
    assert (match.a.team, match.b.team, match.name, match.sport) == (
        "Vitality",
        "FaZe Clan",
        "Vitality vs FaZe",
        "CS2",
    )
    assert match.start.source is StartSource.TICKER_TIME  # no milestone given
    # both 40c / 45c: bids add to 80c, asks to 90c (10c under 100c: no overround, a negative one)
    assert (match.bid_sum, match.overround, match.depth) == (c(80), -c(10), contracts(10))


def test_soccer_is_one_three_way_match_home_tie_away() -> None:
    ticker = "KXEPLGAME-26NOV28ARSCHE"
    markets = [
        market(f"{ticker}-TIE", "Tie", "0.2500", "0.2900", bid_size="30.00", ask_size="7.00"),
        market(f"{ticker}-CHE", "Chelsea", "0.2400", "0.2700"),
        market(f"{ticker}-ARS", "Arsenal", "0.4600", "0.4800"),
    ]
    [scanned] = build_events(
        entry("KXEPLGAME"), markets, {ticker: event(ticker, "Arsenal vs Chelsea", NOW + HOUR)}
    )
    [match] = scanned.matches
    assert match.shape is Shape.THREE_WAY
    assert [(o.side, o.label, o.ticker[-3:]) for o in match.outcomes] == [
        ("A", "Arsenal", "ARS"),  # home: first in the ticker and the title
        ("T", "Tie", "TIE"),
        ("B", "Chelsea", "CHE"),
    ]
    assert match.form_tickers == {
        "ticker_a": f"{ticker}-ARS",
        "ticker_b": f"{ticker}-CHE",
        "ticker_tie": f"{ticker}-TIE",
    }
    assert [r.ticker[-3:] for r in scanned.rows] == ["ARS", "CHE", "TIE"]
    assert match.start.ms == NOW + HOUR and not match.start.is_guess
    assert match.bid_sum == c(95) == 9500  # 46 + 25 + 24
    assert match.overround == c(4) == 400  # 48 + 29 + 27 - 100
    assert match.widest_spread == c(4) and match.depth == contracts(7)


def test_totals_event_is_one_yes_no_match_per_strike_with_the_no_book_flipped() -> None:
    ticker = "KXNBATOTAL-26NOV28BOSNYK"
    markets = [
        market(f"{ticker}-220", "Over 220.5 points", "0.5500", "0.5800"),
        market(f"{ticker}-225", "Over 225.5 points", None, "0.3050", ask_size="4.00"),
    ]
    events = {ticker: event(ticker, "Boston at New York: Total Points", exclusive=False)}
    [scanned] = build_events(entry("KXNBATOTAL"), markets, events)
    assert scanned.unsupported is None
    first, second = scanned.matches
    assert (first.shape, second.shape) == (Shape.YES_NO, Shape.YES_NO)
    assert first.name == "Over 220.5 points · Boston at New York: Total Points"
    assert first.form_tickers == {"ticker_a": f"{ticker}-220", "ticker_b": f"{ticker}-220"}
    assert first.tickers == (f"{ticker}-220",) and first.key == f"{ticker}-220"
    yes, no = first.outcomes
    assert (yes.side, yes.label, yes.is_no) == ("A", "YES", False)
    assert (yes.bid, yes.bid_size, yes.ask, yes.ask_size) == (c(55), contracts(10), c(58), contracts(20))
    # a NO bid at q is an ask at 100c - q on the YES book: NO bid 42c (size of the YES ask), NO ask 45c
    assert (no.side, no.label, no.is_no) == ("B", "NO", True)
    assert (no.bid, no.bid_size, no.ask, no.ask_size) == (c(42), contracts(20), c(45), contracts(10))
    assert first.bid_sum == c(97) and first.overround == c(3) == yes.spread  # one market: its spread
    _, empty_no = second.outcomes  # no YES bid: nobody offers NO, the NO bid is 100c - 30.5c
    assert (empty_no.bid, empty_no.ask) == (c("69.5"), None)
    assert second.bid_sum == c("69.5") and second.overround is None and second.depth is None


def test_other_shapes_are_listed_as_not_supported_with_the_reason() -> None:
    champ = "KXLOLCHAMP-26"
    [winner] = build_events(
        entry("KXLOLCHAMP"),
        [market(f"{champ}-{t}", t) for t in ("T1", "GEN", "BLG", "HLE")],
        {champ: event(champ, "LoL Worlds winner")},
    )
    assert winner.matches == () and winner.unsupported is not None
    assert "4 mutually exclusive outcomes" in winner.unsupported.reason
    assert len(winner.unsupported.rows) == 4 and winner.unsupported.title == "LoL Worlds winner"
    game = "KXEPLGAME-26NOV28ARSCHE"
    cases = {
        "only one market": [market(f"{game}-ARS", "Arsenal")],
        "only one team market": [market(f"{game}-ARS", "Arsenal"), market(f"{game}-TIE", "Tie")],
        "2 tie/draw markets": [
            market(f"{game}-ARS", "Arsenal"),
            market(f"{game}-CHE", "Chelsea"),
            market(f"{game}-TIE", "Tie"),
            market(f"{game}-DRAW", "Draw"),
        ],
    }
    for fragment, markets in cases.items():
        [odd] = build_events(entry("KXEPLGAME"), markets, {game: event(game, "Arsenal vs Chelsea")})
        assert odd.matches == () and odd.unsupported is not None and fragment in odd.unsupported.reason
    two = [market(f"{game}-ARS", "Arsenal"), market(f"{game}-CHE", "Chelsea")]
    [unknown] = build_events(entry("KXEPLGAME"), two, {})
    assert unknown.matches == () and unknown.unsupported is not None
    assert "did not list this event" in unknown.unsupported.reason


def test_scan_shapes_are_the_engines_shapes() -> None:
    assert {s.value for s in Shape} == {s.value for s in EngineShape}


def test_missing_bid_or_ask_counts_as_the_widest_spread() -> None:
    ticker = "KXNBAGAME-26NOV28BOSNYK"
    [scanned] = build_events(
        entry("KXNBAGAME"),
        [
            market(f"{ticker}-BOS", "Boston", bid=None, ask="0.3000"),
            market(f"{ticker}-NYK", "New York", bid=None, ask=None),
        ],
        {ticker: event(ticker, "Boston at New York")},
    )
    a, b = scanned.rows
    assert (a.bid, a.bid_size, a.ask, a.spread) == (None, None, 3000, 3000)
    assert (b.ask, b.ask_size, b.spread) == (None, None, 10_000)
    [match] = scanned.matches
    assert (match.bid_sum, match.overround, match.widest_spread) == (0, None, 10_000)


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
    rows, matches, _ = apply_filters(EVENTS, ScanFilter(), NOW)
    assert [m.series for m in matches] == ["KXDOTA2GAME", "KXNHLGAME", "KXNBAGAME", "KXATPMATCH"]
    assert [r.event_ticker for r in rows[::2]] == [m.event_ticker for m in matches]
    assert all(r.start.ms is None or NOW <= r.start.ms <= NOW + GAME_DAY_WINDOW_MS for r in rows)


def test_all_mode_keeps_everything_with_unknown_starts_last() -> None:
    rows, matches, _ = apply_filters(EVENTS, ScanFilter(Mode.ALL), NOW)
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
    _, matches, _ = apply_filters(EVENTS, ScanFilter(Mode.ALL, within_ms=90 * 60_000), NOW)
    assert [m.series for m in matches] == ["KXDOTA2GAME", "KXATPMATCH"]  # date-only today overlaps


def test_min_spread_applies_to_the_widest_outcome_and_keeps_every_market_of_a_kept_match() -> None:
    wide: Price = price_from_cents(5)
    rows, matches, _ = apply_filters(EVENTS, ScanFilter(Mode.ALL, min_spread=wide), NOW)
    assert len(matches) == 7  # every team B is 5c wide
    assert len(rows) == 14  # with both markets each, though most A markets are narrower than 5c
    rows, matches, _ = apply_filters(EVENTS, ScanFilter(Mode.ALL, min_spread=price_from_cents(6)), NOW)
    assert [m.event_ticker for m in matches] == ["KXNHLGAME-26NOV28AAABBB"]  # its A market is 10c wide
    assert [r.ticker[-3:] for r in rows] == ["AAA", "BBB"]
    assert matches[0].b.spread == 500 and matches[0].widest_spread == 1000


def test_min_spread_keeps_a_three_way_match_when_only_the_tie_is_wide() -> None:
    ticker = "KXEPLGAME-26NOV28ARSCHE"
    markets = [
        market(f"{ticker}-ARS", "Arsenal", "0.4600", "0.4800"),
        market(f"{ticker}-CHE", "Chelsea", "0.2400", "0.2600"),
        market(f"{ticker}-TIE", "Tie", "0.2000", "0.3000"),
    ]
    events = build_events(entry("KXEPLGAME"), markets, {ticker: event(ticker, "Arsenal vs Chelsea", NOW)})
    rows, [match], _ = apply_filters(events, ScanFilter(Mode.ALL, min_spread=price_from_cents(10)), NOW)
    assert match.shape is Shape.THREE_WAY and len(rows) == 3
    narrower = ScanFilter(Mode.ALL, min_spread=price_from_cents("10.5"))
    assert apply_filters(events, narrower, NOW) == ((), (), ())


def test_unsupported_events_pass_the_same_filters() -> None:
    champ = "KXLOLCHAMP-26"
    events = build_events(
        entry("KXLOLCHAMP"),
        [market(f"{champ}-{t}", t) for t in ("T1", "GEN", "BLG")],
        {champ: event(champ, "LoL Worlds winner", NOW + HOUR)},
    )
    rows, matches, [refused] = apply_filters(events, ScanFilter(Mode.ALL), NOW)
    assert matches == () and len(rows) == 3 and refused.event_ticker == champ
    assert apply_filters(events, ScanFilter(Mode.ALL, min_spread=price_from_cents(6)), NOW) == ((), (), ())
    assert apply_filters(events, ScanFilter(Mode.ALL, within_ms=HOUR // 2), NOW)[2] == ()


def test_a_soccer_event_with_its_tie_market_closed_is_no_two_team_match() -> None:
    ticker = "KXEPLGAME-26NOV28ARSCHE"
    nested = [
        {"ticker": f"{ticker}-{code}", "event_ticker": ticker, "status": status}
        for code, status in (("ARS", "active"), ("CHE", "active"), ("TIE", "closed"))
    ]
    wire = {"event_ticker": ticker, "title": "Arsenal vs Chelsea", "mutually_exclusive": True}
    wire["markets"] = nested
    open_markets = [market(f"{ticker}-ARS", "Arsenal"), market(f"{ticker}-CHE", "Chelsea")]
    [scanned] = build_events(entry("KXEPLGAME"), open_markets, {ticker: Event.from_wire(wire)})
    assert scanned.matches == () and scanned.unsupported is not None
    assert scanned.unsupported.reason.startswith("only 2 of the event's 3 markets are open")
