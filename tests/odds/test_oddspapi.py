"""OddsPapi v4 client against a loopback server serving the fixture bodies and headers."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from kmm_tui.odds.errors import (
    MatchUnconfirmed,
    NoOdds,
    NotFound,
    QuotaExhausted,
    RateLimited,
    RequestRejected,
    SourceConfigError,
)
from kmm_tui.odds.http import HttpSettings
from kmm_tui.odds.lines import LineKind, LineRef
from kmm_tui.odds.matching import Matcher
from kmm_tui.odds.models import MatchRef
from kmm_tui.odds.oddspapi import (
    OddsPapi,
    OddsPapiSettings,
    WinnerMarket,
    clone_families,
    kalshi_mapping,
    line_markets,
    line_quotes,
    parse_participants,
    quota_from_account,
    select_winner_market,
    winner_quotes,
)
from tests.odds.fakes import FakeClock, FakeProvider, iso_ms, load_decimal
from tests.support import load_fixture

KEY = "papi-secret-key-xyz"
# /account's real shape is unverified (odds-api.md §2); this synthetic body uses the key names we read.
ACCOUNT = {"requestsRemaining": 200, "requestsUsed": 50, "requestLimit": 250}
CS2 = MatchRef(
    event_ticker="KXCS2GAME-26NOV281330VITFAZ",
    title="Vitality vs. FaZe Clan",
    team_a="Vitality",
    market_a="KXCS2GAME-26NOV281330VITFAZ-VIT",
    team_b="FaZe Clan",
    market_b="KXCS2GAME-26NOV281330VITFAZ-FAZ",
)
TENNIS = MatchRef(
    event_ticker="KXATPMATCH-26NOV28SINALC",
    title="Sinner vs Alcaraz",
    team_a="Carlos Alcaraz",
    market_a="KXATPMATCH-26NOV28SINALC-ALC",
    team_b="Jannik Sinner",
    market_b="KXATPMATCH-26NOV28SINALC-SIN",
)


def papi_fake(odds_fixture: str = "oddspapi/odds_fixture_cs2.json") -> FakeProvider:
    return (
        FakeProvider()
        .add("/v4/account", body=ACCOUNT)
        .add("/v4/markets", fixture="oddspapi/markets_esports_tennis_soccer.json")
        .add("/v4/fixtures", fixture="oddspapi/fixtures_sport17.json")
        .add("/v4/participants", fixture="oddspapi/participants_sport17.json")
        .add("/v4/bookmakers", fixture="oddspapi/bookmakers.json")
        .add("/v4/odds", fixture=odds_fixture)
    )


def client(fake: FakeProvider, clock: FakeClock, **overrides: object) -> OddsPapi:
    settings = OddsPapiSettings(
        api_key=KEY,
        base_url="http://papi.test/v4",
        http=HttpSettings(max_attempts=3),
        **overrides,  # type: ignore[arg-type]
    )
    return OddsPapi(
        settings,
        Matcher.load(),
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(2),
    )


async def test_fetch_cs2_uses_winner_market_active_books_and_one_pinnacle() -> None:
    fake, clock = papi_fake(), FakeClock()
    api = client(fake, clock)
    result = await api.fetch(CS2)
    await api.aclose()
    by_book = {q.book: q for q in result.quotes}
    assert set(by_book) == {"pinnacle", "bet365", "ggbet"}  # no ps3838 clone, no suspended 1xbet, no kalshi
    assert by_book["pinnacle"].odds == (Decimal("1.62"), Decimal("2.42"))  # market 171, not map-1 1747
    assert by_book["pinnacle"].updated_ms == iso_ms("2026-11-28T16:04:50.512Z")  # changedAt
    excluded = dict(result.excluded)
    assert "clone of pinnacle" in excluded["ps3838"]
    assert "suspended" in excluded["1xbet"]
    assert "exchange" in excluded["kalshi"]
    assert result.commence_ms == iso_ms("2026-11-28T18:30:00Z")
    assert result.book_event_id == "id1700990180001001"
    assert result.family("ps3838") == "pinnacle"
    assert result.quota.remaining is not None and result.quota.remaining < 200  # counted down per call
    fixtures_call = fake.calls_to("/v4/fixtures")[0]
    assert fixtures_call.params["sportId"] == "17"
    assert all(c.params.get("apiKey") == KEY for c in fake.calls)


async def test_swapped_match_reorders_prices() -> None:
    swapped = MatchRef(CS2.event_ticker, CS2.title, "FaZe Clan", CS2.market_b, "Vitality", CS2.market_a)
    api = client(papi_fake(), FakeClock())
    result = await api.fetch(swapped)
    await api.aclose()
    assert {q.book: q.odds for q in result.quotes}["pinnacle"] == (Decimal("2.42"), Decimal("1.62"))


async def test_kalshi_entry_disagreeing_with_names_refuses() -> None:
    # Labels say A = Vitality but the A ticker is FaZe's market: OddsPapi's kalshi entry contradicts it.
    wrong = MatchRef(CS2.event_ticker, CS2.title, "Vitality", CS2.market_b, "FaZe Clan", CS2.market_a)
    api = client(papi_fake(), FakeClock())
    with pytest.raises(MatchUnconfirmed, match="Kalshi mapping disagrees"):
        await api.fetch(wrong)
    await api.aclose()


async def test_reference_data_is_cached_and_calls_keep_the_endpoint_gap() -> None:
    fake, clock = papi_fake(), FakeClock()
    api = client(fake, clock, odds_ttl_ms=0)
    await api.fetch(CS2)
    await api.fetch(CS2)
    await api.aclose()
    assert len(fake.calls_to("/v4/markets")) == 1
    assert len(fake.calls_to("/v4/bookmakers")) == 1
    assert len(fake.calls_to("/v4/fixtures")) == 1
    assert len(fake.calls_to("/v4/account")) == 1
    assert len(fake.calls_to("/v4/odds")) == 2
    assert clock.sleeps == [pytest.approx(1.1)]  # second /odds waited out the 1.1 s cooldown


async def test_tennis_surname_first_names_and_fallback_outcome_ids() -> None:
    tennis = load_fixture("odds/oddspapi/odds_fixture_tennis.json")
    fixture = {k: v for k, v in tennis.items() if k != "bookmakerOdds"}
    fake = (
        FakeProvider()
        .add("/v4/account", body=ACCOUNT)
        .add("/v4/markets", fixture="oddspapi/markets_esports_tennis_soccer.json")
        .add("/v4/fixtures", body=[fixture])
        .add("/v4/bookmakers", fixture="oddspapi/bookmakers.json")
        .add("/v4/odds", fixture="oddspapi/odds_fixture_tennis.json")
    )
    api = client(fake, FakeClock())
    result = await api.fetch(TENNIS)
    await api.aclose()
    by_book = {q.book: q.odds for q in result.quotes}
    assert by_book["pinnacle"] == (Decimal("2.7"), Decimal("1.5"))  # A = Alcaraz = participant2
    assert by_book["bet365"] == (Decimal("2.75"), Decimal("1.44"))
    assert fake.calls_to("/v4/participants") == []  # names came with the fixtures


def test_winner_market_selection_prefers_full_match_moneyline() -> None:
    markets = load_fixture("odds/oddspapi/markets_esports_tennis_soccer.json")
    assert select_winner_market(markets, 17) == WinnerMarket(171, (171, 172), "markets")
    assert select_winner_market(markets, 10) == WinnerMarket(101, (101, 102, 103), "markets")
    assert select_winner_market(markets, 18).market_id == 185
    assert select_winner_market([], 16) == WinnerMarket(161, (161, 162), "fallback")
    with pytest.raises(NotFound, match="use manual theo"):
        select_winner_market(markets, 25)  # table tennis: not in /markets, not in the fallback table
    twin = [dict(m, marketId=m["marketId"] + 9000) for m in markets if m["sportId"] == 12]
    with pytest.raises(NotFound, match="refusing to guess"):
        select_winner_market([*twin, *(dict(m, marketId=m["marketId"] + 8000) for m in twin)], 12)


def test_quotes_need_active_book_market_and_price() -> None:
    odds = load_decimal("odds/oddspapi/odds_fixture_dota2.json")
    winner = WinnerMarket(161, (161, 162), "markets")
    odds["bookmakerOdds"]["ggbet"]["markets"]["161"]["outcomes"]["162"]["players"]["0"]["active"] = False
    quotes, excluded = winner_quotes(odds, winner, (0, 1), {})
    assert [q.book for q in quotes] == ["pinnacle"]
    assert "inactive" in dict(excluded)["ggbet"]
    odds["bookmakerOdds"]["pinnacle"]["markets"]["161"]["marketActive"] = False
    quotes, excluded = winner_quotes(odds, winner, (0, 1), {})
    assert quotes == ()
    odds = load_decimal("odds/oddspapi/odds_fixture_dota2.json")
    odds["bookmakerOdds"]["pinnacle"]["markets"]["161"]["outcomes"]["161"]["players"]["0"]["price"] = 1
    quotes, excluded = winner_quotes(odds, winner, (0, 1), {})
    assert [q.book for q in quotes] == ["ggbet"]
    assert "greater than 1" in dict(excluded)["pinnacle"]


def test_kalshi_entry_maps_tickers_to_outcomes() -> None:
    odds = load_fixture("odds/oddspapi/odds_fixture_cs2.json")
    assert kalshi_mapping(odds, WinnerMarket(171, (171, 172), "markets")) == {
        "KXCS2GAME-26NOV281330VITFAZ-VIT": 0,
        "KXCS2GAME-26NOV281330VITFAZ-FAZ": 1,
    }


def test_reference_parsers_accept_both_shapes() -> None:
    assert (
        parse_participants(load_fixture("odds/oddspapi/participants_sport17.json"))["900101"]
        == "Team Vitality"
    )
    assert parse_participants([{"participantId": 7, "participantName": "G2"}]) == {"7": "G2"}
    assert clone_families(load_fixture("odds/oddspapi/bookmakers.json"))["ps3838"] == "pinnacle"
    q = quota_from_account({"data": {"requestLimit": "250", "requestsUsed": "40"}}, 5)
    assert (q.remaining, q.used) == (210, 40)


async def test_invalid_key_is_fatal() -> None:
    fake = FakeProvider().add("/v4/account", fixture="oddspapi/error_invalid_api_key_401.json", status=401)
    api = client(fake, FakeClock())
    with pytest.raises(SourceConfigError, match="invalid_api_key") as err:
        await api.fetch(CS2)
    assert KEY not in str(err.value)
    with pytest.raises(SourceConfigError):
        await api.fetch(CS2)
    assert len(fake.calls) == 1
    await api.aclose()


async def test_rate_limited_waits_retry_after_then_retries() -> None:
    fake = papi_fake().add(
        "/v4/markets",
        fixture="oddspapi/error_rate_limited_429.json",
        status=429,
        headers="oddspapi/headers_rate_limited_429.json",
        first=True,
    )
    clock = FakeClock()
    api = client(fake, clock)
    result = await api.fetch(CS2)
    await api.aclose()
    assert result.quotes
    assert 1.0 in clock.sleeps
    assert len(fake.calls_to("/v4/markets")) == 2


async def test_legacy_cooldown_uses_retry_ms() -> None:
    fake = papi_fake().add(
        "/v4/markets", fixture="oddspapi/error_cooldown_legacy_429.json", status=429, first=True
    )
    clock = FakeClock()
    api = client(fake, clock)
    await api.winner_market(17)
    await api.aclose()
    assert clock.sleeps[0] == pytest.approx(0.85)  # retryMs, then the rest of the 1.1 s endpoint gap
    assert sum(clock.sleeps) == pytest.approx(1.1)


async def test_persistent_429_gives_up_as_rate_limited() -> None:
    fake = FakeProvider().add("/v4/markets", fixture="oddspapi/error_rate_limited_429.json", status=429)
    api = client(fake, FakeClock())
    with pytest.raises(RateLimited):
        await api.winner_market(17)
    assert len(fake.calls) == 3
    await api.aclose()


async def test_request_limit_exceeded_is_quota_and_never_retried() -> None:
    fake = FakeProvider().add(
        "/v4/markets", fixture="oddspapi/error_request_limit_legacy_429.json", status=429
    )
    clock = FakeClock()
    api = client(fake, clock)
    with pytest.raises(QuotaExhausted):
        await api.winner_market(17)
    assert len(fake.calls) == 1
    assert clock.sleeps == []
    with pytest.raises(QuotaExhausted):
        await api.winner_market(17)
    assert len(fake.calls) == 1
    await api.aclose()


async def test_validation_error_is_our_bug() -> None:
    fake = FakeProvider().add("/v4/odds", fixture="oddspapi/error_validation_422.json", status=422)
    api = client(fake, FakeClock())
    with pytest.raises(RequestRejected, match="fixtureId") as err:
        await api.odds("x")
    assert err.value.code == "validation_error"
    assert len(fake.calls) == 1
    await api.aclose()


async def test_uncovered_sport_is_refused_with_reason() -> None:
    nba = MatchRef("KXNBAGAME-26NOV28BOSNYK", "Boston vs New York", "Boston", "A", "New York", "B")
    fake = papi_fake()
    api = client(fake, FakeClock())
    with pytest.raises(NotFound, match="manual theo"):
        await api.fetch(nba)  # sport 11: no winner market in /markets and none in the fallback table
    await api.aclose()


EPL = MatchRef(
    event_ticker="KXEPLGAME-26NOV29BHAWOL",
    title="Brighton vs. Wolves",
    team_a="Brighton",
    market_a="KXEPLGAME-26NOV29BHAWOL-BHA",
    team_b="Wolves",
    market_b="KXEPLGAME-26NOV29BHAWOL-WOL",
    market_draw="KXEPLGAME-26NOV29BHAWOL-TIE",
)
NBA_TOTAL = MatchRef(
    event_ticker="KXNBATOTAL-26NOV28BOSNYK",
    title="Boston at New York: Total Points",
    team_a="Boston",
    market_a="KXNBATOTAL-26NOV28BOSNYK-T220.5",
    team_b="New York",
    market_b="KXNBATOTAL-26NOV28BOSNYK-T220.5",
    line=LineRef(LineKind.TOTAL, Decimal("220.5")),
)


def shapes_fake(sport_id: int, odds_fixture: str) -> FakeProvider:
    return (
        FakeProvider()
        .add("/v4/account", body=ACCOUNT)
        .add("/v4/markets", fixture="oddspapi/markets_with_lines.json")
        .add("/v4/fixtures", fixture=f"oddspapi/fixtures_sport{sport_id}.json")
        .add("/v4/bookmakers", fixture="oddspapi/bookmakers.json")
        .add("/v4/odds", fixture=odds_fixture)
    )


async def test_soccer_1x2_prices_home_away_and_draw_last_from_market_101() -> None:
    fake = shapes_fake(10, "oddspapi/odds_fixture_soccer.json")
    api = client(fake, FakeClock())
    result = await api.fetch(EPL)
    await api.aclose()
    by_book = {q.book: q.odds for q in result.quotes}
    # (A = Brighton = "1", B = Wolves = "2", draw = "X" last): 101 / 103 / 102.
    assert by_book == {
        "pinnacle": (Decimal("2.1"), Decimal("3.6"), Decimal("3.4")),
        "bet365": (Decimal("2.05"), Decimal("3.75"), Decimal("3.3")),
    }
    excluded = dict(result.excluded)
    assert "102" in excluded["1xbet"]  # its draw price is inactive: never a two-way soccer price
    assert "exchange" in excluded["kalshi"]
    assert fake.calls_to("/v4/fixtures")[0].params["sportId"] == "10"


async def test_soccer_from_the_away_side_reorders_all_three() -> None:
    away_first = replace(
        EPL, team_a="Wolves", market_a=EPL.market_b, team_b="Brighton", market_b=EPL.market_a
    )
    api = client(shapes_fake(10, "oddspapi/odds_fixture_soccer.json"), FakeClock())
    result = await api.fetch(away_first)
    await api.aclose()
    pinnacle = {q.book: q.odds for q in result.quotes}["pinnacle"]
    assert pinnacle == (Decimal("3.6"), Decimal("2.1"), Decimal("3.4"))


async def test_a_total_is_priced_from_the_market_whose_handicap_is_the_strike() -> None:
    api = client(shapes_fake(11, "oddspapi/odds_fixture_nba_lines.json"), FakeClock())
    result = await api.fetch(NBA_TOTAL)
    await api.aclose()
    assert {q.book: q.odds for q in result.quotes} == {"pinnacle": (Decimal("1.95"), Decimal("1.87"))}
    assert "11280" in dict(result.excluded)["bet365"]  # bet365 hangs 221.5 only


async def test_a_spread_for_participant2_reads_participant1s_opposite_handicap() -> None:
    spread = replace(
        NBA_TOTAL,
        event_ticker="KXNBASPREAD-26NOV28BOSNYK",
        line=LineRef(LineKind.SPREAD, Decimal("2.5"), "Boston"),
    )
    api = client(shapes_fake(11, "oddspapi/odds_fixture_nba_lines.json"), FakeClock())
    result = await api.fetch(spread)
    await api.aclose()
    # Boston is participant2: Knicks +2.5 (market 11310) is Boston -2.5; YES = outcome 2, NO = outcome 1.
    assert {q.book: q.odds for q in result.quotes} == {"pinnacle": (Decimal("1.89"), Decimal("1.95"))}


async def test_no_book_at_the_strike_is_refused_naming_every_offered_line() -> None:
    other = replace(NBA_TOTAL, line=LineRef(LineKind.TOTAL, Decimal("219.5")))
    api = client(shapes_fake(11, "oddspapi/odds_fixture_nba_lines.json"), FakeClock())
    with pytest.raises(NoOdds) as refused:
        await api.fetch(other)
    await api.aclose()
    assert "sportsbook total 220.5 ≠ Kalshi strike 219.5 (pinnacle)" in str(refused.value)
    assert "sportsbook total 221.5 ≠ Kalshi strike 219.5 (bet365)" in str(refused.value)


def test_line_markets_keep_full_match_lines_with_over_under_ids() -> None:
    markets = load_fixture("odds/oddspapi/markets_with_lines.json")
    totals = line_markets(markets, 11, LineKind.TOTAL)
    assert [(m.market_id, m.outcome_ids, m.handicap) for m in totals] == [
        (11280, (11280, 11281), Decimal("220.5")),
        (11282, (11282, 11283), Decimal("221.5")),
    ]  # the first-quarter 2.5 line is another bet
    spreads = line_markets(markets, 11, LineKind.SPREAD)
    assert [m.handicap for m in spreads] == [Decimal("2.5"), Decimal("3.5")]
    assert line_markets(markets, 17, LineKind.TOTAL) == ()


def test_a_spread_for_participant1_needs_its_own_minus_strike_handicap() -> None:
    fixture_odds = load_decimal("odds/oddspapi/odds_fixture_nba_lines.json")
    lines = line_markets(load_fixture("odds/oddspapi/markets_with_lines.json"), 11, LineKind.SPREAD)
    knicks = LineRef(LineKind.SPREAD, Decimal("2.5"), "New York")  # YES = Knicks (participant1) by over 2.5
    quotes, refused = line_quotes(fixture_odds, lines, knicks, True, {})
    # The books hang Knicks +2.5 / +3.5 (underdogs): neither is Kalshi's Knicks -2.5.
    assert quotes == ()
    assert ("pinnacle", "sportsbook spread New York +2.5 ≠ Kalshi strike New York -2.5") in refused
    assert ("bet365", "sportsbook spread New York +3.5 ≠ Kalshi strike New York -2.5") in refused
