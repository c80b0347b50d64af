"""Theo from the odds feed: priced from sources while quoting, pulled when the prices go stale."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price, TickGrid, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.domain.theo import BookOdds, DevigMethod
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError, PairingNeeded
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine.theo_feed import FeedFailure, FeedSettings, FeedTheo, TheoFeed, match_ref
from kmm_tui.kalshi.models import Market
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.odds.errors import MatchUnconfirmed
from kmm_tui.odds.lines import LineError
from kmm_tui.odds.matching import BookEvent, Matcher
from kmm_tui.odds.models import MatchRef, QuotaInfo, SourceResult
from kmm_tui.odds.simulated import SimulatedOdds
from kmm_tui.odds.theoddsapi import TheOddsApi, TheOddsApiSettings
from kmm_tui.sim import SimServer
from tests.odds.fakes import FakeClock, FakeProvider

from .conftest import QUIET, Trading, connect, eventually


class Book:
    """An odds source whose prices the test sets (Pinnacle-like decimal odds with a time)."""

    name = "testbook"

    def __init__(self) -> None:
        self.odds = (Decimal("1.62"), Decimal("2.42"))
        self.age_ms = 0
        self.calls = 0

    async def fetch(self, match: MatchRef) -> SourceResult:
        self.calls += 1
        now = time.time_ns() // 1_000_000
        quote = BookOdds("pinnacle", self.odds, now - self.age_ms)
        return SourceResult(
            "testbook", (quote,), match.start_ms, ("pinnacle",), QuotaInfo(), Decimal(1), fetched_ms=now
        )


async def test_feed_priced_match_quotes_from_sportsbook_theo_and_pulls_when_stale() -> None:
    book = Book()
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [book], FeedSettings(max_age_ms=1_500, refresh_ms=100), clock=lambda: time.time_ns() // 1_000_000
        )
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            t.compete(a, 40)
            spec = MatchSpec(
                "m1",
                a,
                b,
                TheoInput(from_feed=True, method=DevigMethod.POWER),
                # the line-move guard would pull on the 10c move below; this test is about staleness
                MatchSettings(edge=Price(200), contracts=contracts(5), line_move_theo=None),
            )
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.view().theo_a == 6035, what="power de-vig of 1.62/2.42 = 60.35c")
            await eventually(lambda: t.our_price(a) == 4100, what="quoting against the feed's theo")
            assert t.view().theo_source.startswith("feed: pinnacle (power)")
            assert engine.snapshot().odds_quota == (("testbook", None),)  # credits unknown for this book

            book.odds = (Decimal("1.40"), Decimal("3.10"))  # the line moves
            await eventually(
                lambda: t.view().theo_a is not None and t.view().theo_a > 6900, what="theo follows"
            )

            book.age_ms = 10_000  # the book stops updating: its prices age out of the window
            await eventually(lambda: t.resting() == [], within=8, what="quotes pulled on stale theo")
            assert t.view().quote_a.reason is Reason.THEO_STALE
            assert "theo is" in t.view().quote_a.detail

            book.age_ms = 0
            await eventually(lambda: len(t.resting()) == 2, within=8, what="quoting again on fresh prices")
        finally:
            await engine.close()
        assert t.resting() == []


async def test_fetch_odds_for_a_proposed_match_without_a_source_explains_what_to_configure() -> None:
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            with pytest.raises(EngineError, match=r"\[odds\]"):
                await engine.feed_theo(a, b, DevigMethod.POWER)
            engine._feed = TheoFeed([Book()], clock=lambda: time.time_ns() // 1_000_000)
            theo = await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            assert (theo.theo_a, theo.theo_b) == (5990, 4009)  # floored: never over 100c together
        finally:
            await engine.close()


class UnsureBook:
    """A source that finds a plausible event but cannot be sure it is this match (as the real ones do)."""

    name = "testbook"

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    async def fetch(self, match: MatchRef) -> SourceResult:
        now = time.time_ns() // 1_000_000
        event = BookEvent("testbook", "ev-1", "Vitality B", "FaZe Clan", match.start_ms or now)
        decision = self.matcher.decide(match.kalshi_event(), [event], match.sport)
        if not decision.matched:
            raise MatchUnconfirmed(self.name, decision.reason, decision)
        odds = (Decimal("1.62"), Decimal("2.42"))
        return SourceResult(
            "testbook",
            (BookOdds("pinnacle", odds, now),),
            None,
            ("pinnacle",),
            QuotaInfo(),
            Decimal(1),
            fetched_ms=now,
        )


async def test_an_unsure_pairing_is_offered_to_the_user_and_remembered_once_confirmed(tmp_path: Path) -> None:
    confirmed = tmp_path / "confirmed_matches.json"
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [UnsureBook(Matcher.load(confirmed))], clock=lambda: time.time_ns() // 1_000_000
        )
        a, b = Trading(sim, engine, feed).tickers("KXCS2GAME")
        try:
            with pytest.raises(PairingNeeded) as needed:
                await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            [choice] = needed.value.choices
            assert "Vitality B vs FaZe Clan" in choice.describe(0)
            engine.confirm_pairing(choice, 0)
            theo = await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            assert theo.theo_a == 5990
        finally:
            await engine.close()
    again = TheoFeed([UnsureBook(Matcher.load(confirmed))], clock=lambda: time.time_ns() // 1_000_000)
    ref = MatchRef(
        choice.decision.kalshi.event_ticker,
        "Vitality vs. FaZe Clan",
        "Vitality",
        a,
        "FaZe Clan",
        b,
        choice.decision.kalshi.start_ms,
    )
    assert not isinstance(await again.theo(ref, DevigMethod.MULTIPLICATIVE), FeedFailure), "remembered"


async def test_a_line_move_in_the_feed_pulls_at_once_then_requotes_on_the_new_theo() -> None:
    book = Book()
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [book], FeedSettings(max_age_ms=60_000, refresh_ms=100), clock=lambda: time.time_ns() // 1_000_000
        )
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            t.compete(a, 40)
            settings = MatchSettings(edge=Price(200), contracts=contracts(5), line_move_hold_ms=1_000)
            spec = MatchSpec("m1", a, b, TheoInput(from_feed=True, method=DevigMethod.POWER), settings)
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.our_price(a) == 4100, what="quoting against the feed's theo")

            book.odds = (Decimal("1.40"), Decimal("3.10"))  # 60.35c -> 69.94c: past the 3c threshold
            await eventually(lambda: t.resting() == [], within=1.0, what="pulled on the line move")
            quote = t.view().quote_a
            assert quote is not None and quote.reason is Reason.LINE_MOVE
            assert "theo A moved 60.35c → 69.94c" in quote.detail
            await eventually(lambda: t.our_price(a) == 4100, within=4, what="requoting on the new theo")
            assert t.view().theo_a is not None and t.view().theo_a > 6900
        finally:
            await engine.close()
        assert t.resting() == []


def market_state(market: Market) -> MarketState:
    """What the engine's reference look-up keeps of a market (its strike included)."""
    return MarketState(
        market.ticker, market.event_ticker, market.yes_sub_title, market.grid, market.status,
        strike=market.floor_strike,
    )


async def test_a_three_way_match_is_priced_home_draw_away_from_the_simulated_books() -> None:
    async with SimServer(agents=False) as sim:
        [epl] = [m for m in sim.matches if m.spec.series == "KXEPLGAME"]
        async with KalshiRest(sim.base_url) as rest:
            event = await rest.get_event(epl.event_ticker)
            listed = await rest.list_markets(event_ticker=epl.event_ticker)
        markets = {m.ticker: market_state(m) for m in listed}
        home, away = (t for t in epl.tickers if not t.endswith("-TIE"))
        tie = next(t for t in epl.tickers if t.endswith("-TIE"))
        spec = MatchSpec("epl", home, away, TheoInput(from_feed=True), ticker_tie=tie)
        ref = match_ref(spec, epl.event_ticker, event.title, markets, epl.start_ms)
        assert ref.market_draw == tie  # the books' Draw has a Kalshi market to go to
        source = SimulatedOdds(sim.base_url, Matcher.load())
        feed = TheoFeed([source], clock=lambda: time.time_ns() // 1_000_000)
        theo = await feed.theo(ref, DevigMethod.MULTIPLICATIVE)
        await source.aclose()
        assert isinstance(theo, FeedTheo), theo
        fair = dict(zip(epl.tickers, epl.fair, strict=True))
        for side in spec.outcomes:  # de-vigged together, each within 1c of the simulator's fair value
            assert abs(theo.theo(side) - fair[spec.ticker(side)]) <= 100, side
        assert 9_997 <= theo.theo_a + theo.theo_t + theo.theo_b <= 10_000  # type: ignore[operator]


NBA_TOTAL = "KXNBATOTAL-26NOV28BOSNYK-T220.5"


def total_spec() -> MatchSpec:
    return MatchSpec("total", NBA_TOTAL, NBA_TOTAL, TheoInput(from_feed=True))


def total_markets(strike: str) -> dict[str, MarketState]:
    market = MarketState(
        NBA_TOTAL, "KXNBATOTAL-26NOV28BOSNYK", f"Over {strike} points scored", TickGrid.linear_cent(),
        "active", strike=Decimal(strike),
    )
    return {NBA_TOTAL: market}


def odds_api_on_fixtures(clock: FakeClock) -> TheOddsApi:
    fake = (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture="theoddsapi/odds_basketball_nba_h2h.json")
        .add("/v4/sports/basketball_nba/odds", fixture="theoddsapi/odds_basketball_nba_totals.json")
    )
    settings = TheOddsApiSettings(api_key="k", host="http://odds.test", bookmakers=("pinnacle", "draftkings"))
    return TheOddsApi(settings, Matcher.load(), transport=fake.transport(), clock=clock, sleep=clock.sleep)


async def test_a_total_is_priced_yes_over_and_no_under_from_the_books_at_the_kalshi_strike() -> None:
    clock = FakeClock()
    api = odds_api_on_fixtures(clock)
    feed = TheoFeed([api], FeedSettings(max_age_ms=300_000), clock=clock)
    ref = match_ref(total_spec(), "KXNBATOTAL-26NOV28BOSNYK", "Boston at New York: Total Points",
                    total_markets("220.5"), None)
    theo = await feed.theo(ref, DevigMethod.MULTIPLICATIVE)
    await api.aclose()
    assert isinstance(theo, FeedTheo), theo
    # Pinnacle 1.95/1.87 (weight 3) and FanDuel 1.93/1.89 at 220.5; DraftKings' 221.5 is another bet.
    assert (theo.theo(Side.A), theo.theo(Side.B), theo.theo_t) == (4908, 5091, None)
    assert theo.summary == "pinnacle, fanduel (multiplicative) at the total 220.5 line"


async def test_a_total_no_book_hangs_is_not_priced_and_the_reason_names_both_numbers() -> None:
    clock = FakeClock()
    api = odds_api_on_fixtures(clock)
    feed = TheoFeed([api], FeedSettings(max_age_ms=300_000), clock=clock)
    ref = match_ref(total_spec(), "KXNBATOTAL-26NOV28BOSNYK", "Boston at New York: Total Points",
                    total_markets("222.5"), None)
    failure = await feed.theo(ref, DevigMethod.POWER)
    await api.aclose()
    assert isinstance(failure, FeedFailure)
    assert "sportsbook total 221.5 ≠ Kalshi strike 222.5 (draftkings)" in failure.reason
    assert "sportsbook total 220.5 ≠ Kalshi strike 222.5 (pinnacle, fanduel)" in failure.reason


def test_a_single_market_the_books_do_not_price_is_refused_with_the_reason() -> None:
    market = MarketState("KXCS2GAME-26NOV281330VITFAZ-VIT", "KXCS2GAME-26NOV281330VITFAZ", "Vitality",
                         TickGrid.linear_cent(), "active")
    spec = MatchSpec("one", market.ticker, market.ticker, TheoInput(from_feed=True))
    with pytest.raises(LineError, match="totals or spreads series"):
        match_ref(spec, market.event_ticker, "Vitality vs. FaZe Clan", {market.ticker: market}, None)


def test_the_reference_of_a_three_way_match_carries_its_tie_and_a_two_team_match_none() -> None:
    event = "KXEPLGAME-26NOV29BHAWOL"
    labels = {"BHA": "Brighton", "TIE": "Tie", "WOL": "Wolves"}
    markets = {
        f"{event}-{code}": MarketState(f"{event}-{code}", event, label, TickGrid.linear_cent(), "active")
        for code, label in labels.items()
    }
    feed = TheoInput(from_feed=True)
    three = MatchSpec("epl", f"{event}-BHA", f"{event}-WOL", feed, ticker_tie=f"{event}-TIE")
    ref = match_ref(three, event, "Brighton vs. Wolves", markets, None)
    tie = ref.kalshi_event().tie
    assert ref.three_way and tie is not None and tie.ticker == f"{event}-TIE"
    assert (ref.team_a, ref.team_b, ref.line) == ("Brighton", "Wolves", None)
    two = MatchSpec("cs", f"{event}-BHA", f"{event}-WOL", feed)
    assert match_ref(two, event, "Brighton vs. Wolves", markets, None).market_draw is None


async def test_a_feed_priced_soccer_match_takes_home_draw_and_away_theo_from_the_books() -> None:
    async with SimServer(agents=False) as sim:
        engine, feed = await connect(sim)
        source = SimulatedOdds(sim.base_url, Matcher.load())
        engine._feed = TheoFeed([source], clock=lambda: time.time_ns() // 1_000_000)
        t = Trading(sim, engine, feed)
        [epl] = [m for m in sim.matches if m.spec.series == "KXEPLGAME"]
        home, away = (x for x in epl.tickers if not x.endswith("-TIE"))
        tie = next(x for x in epl.tickers if x.endswith("-TIE"))
        fair = dict(zip(epl.tickers, epl.fair, strict=True))
        spec = MatchSpec(
            "m1", home, away, TheoInput(from_feed=True), MatchSettings(contracts=contracts(5)), ticker_tie=tie
        )
        try:
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.view().theo_t is not None, within=10, what="a theo for the draw")
            view = t.view()
            for side, theo in ((Side.A, view.theo_a), (Side.T, view.theo_t), (Side.B, view.theo_b)):
                assert theo is not None and abs(theo - fair[spec.ticker(side)]) <= 100, side
            assert view.theo_source.startswith("feed: simulated")
        finally:
            await engine.close()
            await source.aclose()


async def sim_line_refs(sim: SimServer, series: str) -> list[tuple[MatchRef, int]]:
    """Each market of the simulator's ``series`` event as the feed asks about it, with its fair value."""
    [event_state] = [m for m in sim.matches if m.spec.series == series]
    async with KalshiRest(sim.base_url) as rest:
        event = await rest.get_event(event_state.event_ticker)
        listed = await rest.list_markets(event_ticker=event_state.event_ticker)
    markets = {m.ticker: market_state(m) for m in listed}
    refs = []
    for ticker, fair in zip(event_state.tickers, event_state.fair, strict=True):
        spec = MatchSpec(ticker, ticker, ticker, TheoInput(from_feed=True))
        refs.append((match_ref(spec, event.event_ticker, event.title, markets, event_state.start_ms), fair))
    return refs


@pytest.mark.parametrize("series", ["KXNBATOTAL", "KXNBASPREAD"])
async def test_simulated_lines_price_the_main_strike_and_refuse_the_others_naming_both(series: str) -> None:
    async with SimServer(agents=False) as sim:
        source = SimulatedOdds(sim.base_url, Matcher.load())
        feed = TheoFeed([source], clock=lambda: time.time_ns() // 1_000_000)
        refs = await sim_line_refs(sim, series)
        main = min(refs, key=lambda pair: abs(2 * pair[1] - 10_000))  # the book hangs the line nearest 50c
        for ref, fair in refs:
            theo = await feed.theo(ref, DevigMethod.MULTIPLICATIVE)
            if ref is main[0]:
                assert isinstance(theo, FeedTheo), theo
                assert abs(theo.theo(Side.A) - fair) <= 100  # YES = over / covers, within 1c of fair
                assert 9_998 <= theo.theo(Side.A) + theo.theo(Side.B) <= 10_000
            else:  # the book's number and Kalshi's, both named
                assert isinstance(theo, FeedFailure), ref
                assert ref.line is not None and main[0].line is not None
                book, kalshi = theo.reason.split("≠ Kalshi strike", 1)
                assert str(main[0].line.strike) in book and str(ref.line.strike) in kalshi
        await source.aclose()


async def test_a_feed_priced_total_takes_over_and_under_theo_from_the_books_main_line() -> None:
    async with SimServer(agents=False) as sim:
        engine, feed = await connect(sim)
        source = SimulatedOdds(sim.base_url, Matcher.load())
        engine._feed = TheoFeed([source], clock=lambda: time.time_ns() // 1_000_000)
        t = Trading(sim, engine, feed)
        [total] = [m for m in sim.matches if m.spec.series == "KXNBATOTAL"]
        ticker, fair = min(zip(total.tickers, total.fair, strict=True), key=lambda p: abs(2 * p[1] - 10_000))
        settings = MatchSettings(contracts=contracts(5))
        spec = MatchSpec("m1", ticker, ticker, TheoInput(from_feed=True), settings)
        try:
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.view().theo_a is not None, within=10, what="a theo for the over")
            view = t.view()
            assert abs(view.theo_a - fair) <= 100 and view.theo_t is None  # A = YES = over
            assert 9_998 <= view.theo_a + view.theo_b <= 10_000  # B = NO = under
            assert "at the total" in view.theo_source
        finally:
            await engine.close()
            await source.aclose()
