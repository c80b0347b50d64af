"""The Odds API v4 client against a loopback server serving the fixture bodies and headers."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest

from kmm_tui.odds.errors import (
    MatchUnconfirmed,
    NoOdds,
    NotFound,
    QuotaExhausted,
    RateLimited,
    RequestRejected,
    SourceConfigError,
    SourceDown,
)
from kmm_tui.odds.http import HttpSettings
from kmm_tui.odds.lines import LineKind, LineRef
from kmm_tui.odds.matching import Matcher
from kmm_tui.odds.models import MatchRef, OddsSource
from kmm_tui.odds.theoddsapi import TheOddsApi, TheOddsApiSettings, quota_from_headers
from tests.odds.fakes import NOW_MS, FakeClock, FakeProvider, iso_ms

KEY = "secret-odds-key-123"
NBA = MatchRef(
    event_ticker="KXNBAGAME-26NOV28BOSNYK",
    title="Boston vs New York",
    team_a="Boston",
    market_a="KXNBAGAME-26NOV28BOSNYK-BOS",
    team_b="New York",
    market_b="KXNBAGAME-26NOV28BOSNYK-NYK",
)
EPL = MatchRef(
    event_ticker="KXEPLGAME-26NOV29BHAWOL",
    title="Brighton vs Wolves",
    team_a="Wolves",
    market_a="KXEPLGAME-26NOV29BHAWOL-WOL",
    team_b="Brighton",
    market_b="KXEPLGAME-26NOV29BHAWOL-BHA",
    market_draw="KXEPLGAME-26NOV29BHAWOL-TIE",
)
NBA_EVENTS = "theoddsapi/odds_basketball_nba_h2h.json"  # /events returns the same events, minus odds
HDR_ODDS = "theoddsapi/headers_odds_200.json"
HDR_FREE = "theoddsapi/headers_sports_200.json"
FREQ_429 = "theoddsapi/error_exceeded_freq_limit_429.json"


def client(fake: FakeProvider, clock: FakeClock, **overrides: object) -> TheOddsApi:
    settings = TheOddsApiSettings(
        api_key=KEY,
        host="http://odds.test",
        bookmakers=("pinnacle", "draftkings", "fanduel", "betonlineag"),
        http=HttpSettings(max_attempts=3),
        **overrides,  # type: ignore[arg-type]
    )
    return TheOddsApi(
        settings,
        Matcher.load(),
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
    )


def nba_fake() -> FakeProvider:
    return (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture=NBA_EVENTS, headers=HDR_FREE)
        .add("/v4/sports/basketball_nba/odds", fixture=NBA_EVENTS, headers=HDR_ODDS)
    )


async def test_fetch_nba_maps_names_not_positions_and_reads_quota() -> None:
    fake, clock = nba_fake(), FakeClock()
    api = client(fake, clock)
    assert isinstance(api, OddsSource)
    result = await api.fetch(NBA)
    await api.aclose()
    by_book = {q.book: q for q in result.quotes}
    # Kalshi A = Boston = the book's away team; outcome order differs per book in the fixture.
    assert by_book["pinnacle"].odds == (Decimal("1.8"), Decimal("2.08"))
    assert by_book["draftkings"].odds == (Decimal("1.75"), Decimal("2.05"))
    assert by_book["fanduel"].odds == (Decimal("1.83"), Decimal("1.98"))
    assert by_book["betonlineag"].odds == (Decimal("1.95"), Decimal("1.85"))
    assert by_book["betonlineag"].updated_ms == iso_ms("2026-11-28T15:40:00Z")
    assert all(isinstance(x, Decimal) for q in result.quotes for x in q.odds)
    assert result.commence_ms == iso_ms("2026-11-29T00:30:00Z")
    assert result.book_event_id == "5f0c2a9e7b41d3c86e2a1b0f9d4c7e31"
    assert (result.quota.remaining, result.quota.used, result.quota.last_cost) == (436, 64, 1)
    assert result.confidence == Decimal(1)
    odds_call = fake.calls_to("/v4/sports/basketball_nba/odds")[0]
    assert odds_call.params["markets"] == "h2h"
    assert odds_call.params["oddsFormat"] == "decimal"
    assert odds_call.params["bookmakers"] == "pinnacle,draftkings,fanduel,betonlineag"
    assert "regions" not in odds_call.params


async def test_refresh_within_ttl_spends_no_credit_and_after_ttl_does() -> None:
    fake, clock = nba_fake(), FakeClock()
    api = client(fake, clock, odds_ttl_ms=60_000)
    await api.fetch(NBA)
    await api.fetch(NBA)
    assert len(fake.calls_to("/v4/sports/basketball_nba/odds")) == 1
    clock.now_ms += 60_000
    await api.fetch(NBA)
    assert len(fake.calls_to("/v4/sports/basketball_nba/odds")) == 2
    await api.aclose()


async def test_regions_are_sent_when_no_bookmakers_configured() -> None:
    fake, clock = nba_fake(), FakeClock()
    api = TheOddsApi(
        TheOddsApiSettings(api_key=KEY, host="http://odds.test", regions=("us", "eu")),
        Matcher.load(),
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
    )
    await api.fetch(NBA)
    assert fake.calls_to("/v4/sports/basketball_nba/odds")[0].params["regions"] == "us,eu"
    await api.aclose()


async def test_soccer_three_way_ignores_lay_market_and_puts_draw_last() -> None:
    path = "theoddsapi/odds_soccer_epl_h2h.json"
    fake = (
        FakeProvider()
        .add("/v4/sports/soccer_epl/events", fixture=path, headers=HDR_FREE)
        .add("/v4/sports/soccer_epl/odds", fixture=path, headers=HDR_ODDS)
    )
    clock = FakeClock()
    api = client(fake, clock)
    result = await api.fetch(EPL)
    await api.aclose()
    by_book = {q.book: q.odds for q in result.quotes}
    # A = Wolves (away), B = Brighton (home), draw last; Betfair back prices, not the h2h_lay ones.
    assert by_book["pinnacle"] == (Decimal("3.6"), Decimal("2.1"), Decimal("3.4"))
    assert by_book["betfair_ex_eu"] == (Decimal("3.7"), Decimal("2.14"), Decimal("3.45"))


async def test_event_with_no_bookmakers_is_no_odds_not_a_guess() -> None:
    fake, clock = nba_fake(), FakeClock()
    api = client(fake, clock)
    blazers = MatchRef("KXNBAGAME-26NOV28UTAPOR", "Utah vs Portland", "Utah", "X-UTA", "Portland", "X-POR")
    with pytest.raises(NoOdds):
        await api.fetch(blazers)
    await api.aclose()


async def test_unmatched_event_raises_with_candidates_and_spends_nothing() -> None:
    fake, clock = nba_fake(), FakeClock()
    api = client(fake, clock)
    other = MatchRef("KXNBAGAME-26NOV28BOSMIA", "Boston vs Miami", "Boston", "X-BOS", "Miami", "X-MIA")
    with pytest.raises(MatchUnconfirmed) as err:
        await api.fetch(other)
    assert err.value.decision.candidates
    assert fake.calls_to("/v4/sports/basketball_nba/odds") == []
    await api.aclose()


async def test_empty_odds_array_is_no_odds() -> None:
    fake = (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture=NBA_EVENTS, headers=HDR_FREE)
        .add("/v4/sports/basketball_nba/odds", fixture="theoddsapi/odds_empty.json", headers=HDR_FREE)
    )
    api = client(fake, FakeClock())
    with pytest.raises(NoOdds):
        await api.fetch(NBA)
    await api.aclose()


async def test_sports_list_is_free_and_tennis_keys_come_from_it() -> None:
    fake = FakeProvider().add("/v4/sports", fixture="theoddsapi/sports.json", headers=HDR_FREE)
    api = client(fake, FakeClock())
    sports = await api.sports()
    assert [s.key for s in sports if s.group == "Tennis" and not s.active] == [
        "tennis_atp_aus_open_singles",
        "tennis_wta_aus_open_singles",
    ]
    atp = MatchRef("KXATPMATCH-26NOV28SINALC", "Sinner v Alcaraz", "Jannik Sinner", "A", "C. Alcaraz", "B")
    with pytest.raises(NotFound, match="no The Odds API league"):
        await api.fetch(atp)  # only inactive tennis keys → nothing to poll
    assert api.quota.quota.last_cost == 0
    assert len(fake.calls_to("/v4/sports")) == 1  # cached
    await api.aclose()


@pytest.mark.parametrize("fixture", ["theoddsapi/error_invalid_key_401.json"])
async def test_bad_key_is_fatal_and_stops_all_calls(fixture: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeProvider().add("/v4/sports/basketball_nba/events", fixture=fixture, status=401)
    api = client(fake, FakeClock())
    with pytest.raises(SourceConfigError) as err:
        await api.fetch(NBA)
    assert "INVALID_KEY" in str(err.value)
    assert "api_key" in str(err.value)  # says what to fix
    with pytest.raises(SourceConfigError):
        await api.fetch(NBA)
    assert len(fake.calls) == 1
    assert KEY not in str(err.value)
    assert KEY not in caplog.text
    await api.aclose()


async def test_out_of_credits_disables_until_probe_time() -> None:
    fake = FakeProvider().add(
        "/v4/sports/basketball_nba/events",
        fixture="theoddsapi/error_out_of_usage_credits_401.json",
        status=401,
        headers={"x-requests-remaining": "0", "x-requests-used": "500", "x-requests-last": "0"},
    )
    clock = FakeClock()
    api = client(fake, clock, quota_probe_ms=3_600_000)
    with pytest.raises(QuotaExhausted) as err:
        await api.fetch(NBA)
    assert err.value.until_ms == NOW_MS + 3_600_000
    assert api.quota.quota.remaining == 0
    with pytest.raises(QuotaExhausted):
        await api.fetch(NBA)
    assert len(fake.calls) == 1
    clock.now_ms += 3_600_000
    with pytest.raises(QuotaExhausted):
        await api.fetch(NBA)  # probes again once the window passes
    assert len(fake.calls) == 2
    await api.aclose()


async def test_401_without_code_but_zero_remaining_is_quota_not_key() -> None:
    fake = FakeProvider().add(
        "/v4/sports/basketball_nba/events",
        body={"message": "quota"},
        status=401,
        headers={"x-requests-remaining": "0"},
    )
    api = client(fake, FakeClock())
    with pytest.raises(QuotaExhausted):
        await api.fetch(NBA)
    assert api.quota.fatal is None
    await api.aclose()


async def test_429_backs_off_honouring_retry_after_then_succeeds() -> None:
    fake = nba_fake().add(
        "/v4/sports/basketball_nba/events",
        fixture=FREQ_429,
        status=429,
        headers={"retry-after": "3"},
        first=True,
    )
    clock = FakeClock()
    api = client(fake, clock)
    result = await api.fetch(NBA)
    assert result.quotes
    assert clock.sleeps == [3.0]
    await api.aclose()


async def test_429_without_retry_after_uses_jittered_backoff_and_gives_up() -> None:
    fake = FakeProvider().add("/v4/sports/basketball_nba/events", fixture=FREQ_429, status=429)
    clock = FakeClock()
    api = client(fake, clock)
    with pytest.raises(RateLimited):
        await api.fetch(NBA)
    assert len(fake.calls) == 3
    assert len(clock.sleeps) == 2
    assert all(1.0 <= s <= 5.0 for s in clock.sleeps)
    await api.aclose()


@pytest.mark.parametrize(
    "fixture", ["theoddsapi/error_invalid_market_combo_422.json", "theoddsapi/error_missing_region_422.json"]
)
async def test_422_is_our_bug_and_not_retried(fixture: str) -> None:
    fake = FakeProvider().add("/v4/sports/basketball_nba/events", fixture=fixture, status=422)
    api = client(fake, FakeClock())
    with pytest.raises(RequestRejected) as err:
        await api.fetch(NBA)
    assert err.value.code in ("INVALID_MARKET_COMBO", "MISSING_REGION")
    assert len(fake.calls) == 1
    await api.aclose()


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("theoddsapi/error_unknown_sport_404.json", 404),
        ("theoddsapi/error_unknown_sport_404.json", 422),
        ("theoddsapi/error_event_not_found_404.json", 404),
    ],
)
async def test_unknown_sport_or_event_is_skipped(fixture: str, status: int) -> None:
    fake = FakeProvider().add("/v4/sports/basketball_nba/events", fixture=fixture, status=status)
    api = client(fake, FakeClock())
    with pytest.raises(NotFound):
        await api.events("basketball_nba")
    assert len(fake.calls) == 1
    await api.aclose()


async def test_5xx_retries_then_marks_source_down() -> None:
    fake = FakeProvider().add("/v4/sports/basketball_nba/events", body={"message": "boom"}, status=503)
    clock = FakeClock()
    api = client(fake, clock, down_ms=60_000)
    with pytest.raises(SourceDown):
        await api.fetch(NBA)
    assert len(fake.calls) == 3
    with pytest.raises(SourceDown):
        await api.fetch(NBA)
    assert len(fake.calls) == 3  # marked down: no call
    await api.aclose()


async def test_floor_of_remaining_credits_stops_paid_calls_but_not_free_ones() -> None:
    fake = (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture=NBA_EVENTS, headers={"x-requests-remaining": "25"})
        .add("/v4/sports/basketball_nba/odds", fixture=NBA_EVENTS, headers=HDR_ODDS)
    )
    api = client(fake, FakeClock(), min_remaining=25)
    with pytest.raises(QuotaExhausted, match="floor of 25"):
        await api.fetch(NBA)
    assert fake.calls_to("/v4/sports/basketball_nba/odds") == []
    await api.aclose()


async def test_transport_error_text_never_contains_the_key() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    clock = FakeClock()
    api = TheOddsApi(
        TheOddsApiSettings(api_key=KEY, host="http://odds.test", http=HttpSettings(max_attempts=2)),
        Matcher.load(),
        transport=httpx.MockTransport(boom),
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(SourceDown) as err:
        await api.events("basketball_nba")
    assert KEY not in str(err.value)
    assert "apiKey=***" in str(err.value)
    await api.aclose()


def test_quota_headers_are_parsed_leniently() -> None:
    q = quota_from_headers({"x-requests-remaining": "436.0", "x-requests-used": "63.5"}, 1)
    assert (q.remaining, q.used, q.last_cost) == (436, 64, None)
    q = quota_from_headers({"x-requests-remaining": "lots"}, 1)
    assert q.remaining is None


def test_missing_key_is_a_clear_config_error() -> None:
    with pytest.raises(SourceConfigError, match="KMM_ODDS_API_KEY"):
        TheOddsApi(TheOddsApiSettings(api_key=" "), Matcher.load())


NBA_TOTAL = MatchRef(
    event_ticker="KXNBATOTAL-26NOV28BOSNYK",
    title="Boston at New York: Total Points",
    team_a="Boston",
    market_a="KXNBATOTAL-26NOV28BOSNYK-T220.5",
    team_b="New York",
    market_b="KXNBATOTAL-26NOV28BOSNYK-T220.5",
    line=LineRef(LineKind.TOTAL, Decimal("220.5")),
)


def lines_fake(market: str) -> FakeProvider:
    return (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture=NBA_EVENTS, headers=HDR_FREE)
        .add("/v4/sports/basketball_nba/odds", fixture=f"theoddsapi/odds_basketball_nba_{market}.json",
             headers=HDR_ODDS)
    )


async def test_a_total_is_priced_over_under_only_from_books_at_the_kalshi_strike() -> None:
    fake, clock = lines_fake("totals"), FakeClock()
    api = client(fake, clock)
    result = await api.fetch(NBA_TOTAL)
    await api.aclose()
    by_book = {q.book: q.odds for q in result.quotes}
    # YES = over, NO = under, whatever order the book lists them in.
    assert by_book == {
        "pinnacle": (Decimal("1.95"), Decimal("1.87")),
        "fanduel": (Decimal("1.93"), Decimal("1.89")),
    }
    assert ("draftkings", "sportsbook total 221.5 ≠ Kalshi strike 220.5") in result.excluded
    [call] = fake.calls_to("/v4/sports/basketball_nba/odds")
    assert call.params["markets"] == "totals"  # only the market this match needs is paid for


async def test_no_book_at_the_kalshi_strike_is_refused_naming_both_numbers() -> None:
    fake, clock = lines_fake("totals"), FakeClock()
    api = client(fake, clock)
    other_line = replace(NBA_TOTAL, line=LineRef(LineKind.TOTAL, Decimal("219.5")))
    with pytest.raises(NoOdds) as refused:
        await api.fetch(other_line)
    await api.aclose()
    message = str(refused.value)
    assert "sportsbook total 220.5 ≠ Kalshi strike 219.5 (pinnacle, fanduel)" in message
    assert "sportsbook total 221.5 ≠ Kalshi strike 219.5 (draftkings)" in message


async def test_a_spread_is_priced_from_the_kalshi_teams_handicap_at_minus_the_strike() -> None:
    fake, clock = lines_fake("spreads"), FakeClock()
    api = client(fake, clock)
    spread = replace(
        NBA_TOTAL,
        event_ticker="KXNBASPREAD-26NOV28BOSNYK",
        market_a="KXNBASPREAD-26NOV28BOSNYK-BOS2",
        market_b="KXNBASPREAD-26NOV28BOSNYK-BOS2",
        line=LineRef(LineKind.SPREAD, Decimal("2.5"), "Boston"),
    )
    result = await api.fetch(spread)
    await api.aclose()
    # YES = Boston -2.5 covers, NO = New York +2.5; DraftKings hangs -3.5, another bet.
    assert {q.book: q.odds for q in result.quotes} == {"pinnacle": (Decimal("1.89"), Decimal("1.95"))}
    assert (
        "draftkings", "sportsbook spread Boston Celtics -3.5 ≠ Kalshi strike Boston -2.5"
    ) in result.excluded
    assert fake.calls_to("/v4/sports/basketball_nba/odds")[0].params["markets"] == "spreads"


async def test_a_winner_match_never_reads_a_totals_response_as_h2h() -> None:
    fake = (
        FakeProvider()
        .add("/v4/sports/basketball_nba/events", fixture=NBA_EVENTS, headers=HDR_FREE)
        .add("/v4/sports/basketball_nba/odds", fixture="theoddsapi/odds_basketball_nba_totals.json",
             headers=HDR_ODDS)
    )
    api = client(fake, FakeClock())
    with pytest.raises(NoOdds, match="winner price"):
        await api.fetch(NBA)
    await api.aclose()
