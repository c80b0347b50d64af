"""SportsGameOdds v2 client against a loopback server serving the fixture."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.odds.errors import NotFound, RateLimited, SourceConfigError
from kmm_tui.odds.http import HttpSettings
from kmm_tui.odds.matching import Matcher
from kmm_tui.odds.models import MatchRef
from kmm_tui.odds.sportsgameodds import SportsGameOdds, SportsGameOddsSettings
from tests.odds.fakes import FakeClock, FakeProvider, iso_ms

KEY = "sgo-secret"
NBA = MatchRef("KXNBAGAME-26NOV28BOSNYK", "Boston vs New York", "Boston", "X-BOS", "New York", "X-NYK")


def client(fake: FakeProvider, clock: FakeClock) -> SportsGameOdds:
    return SportsGameOdds(
        SportsGameOddsSettings(api_key=KEY, base_url="http://sgo.test/v2", http=HttpSettings(max_attempts=2)),
        Matcher.load(),
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
    )


async def test_moneylines_convert_american_exactly_and_skip_unavailable() -> None:
    fake = FakeProvider().add("/v2/events", fixture="sportsgameodds/events_nba.json")
    api = client(fake, FakeClock())
    result = await api.fetch(NBA)
    await api.aclose()
    assert [q.book for q in result.quotes] == ["pinnacle"]
    # A = Boston (away, -125 → 1.8); B = New York (home, +108 → 2.08)
    assert result.quotes[0].odds == (Decimal("1.8"), Decimal("2.08"))
    assert result.quotes[0].updated_ms == iso_ms("2026-11-28T16:04:48Z")
    assert dict(result.excluded)["draftkings"] == "price not available"
    assert result.commence_ms == iso_ms("2026-11-29T00:30:00Z")
    call = fake.calls[0]
    assert call.headers["x-api-key"] == KEY and "apiKey" not in call.params
    assert call.params == {"leagueID": "NBA", "oddsAvailable": "true"}


async def test_key_rejected_and_rate_limit() -> None:
    fake = FakeProvider().add("/v2/events", body={"success": False, "error": "bad key"}, status=401)
    api = client(fake, FakeClock())
    with pytest.raises(SourceConfigError, match=r"sportsgameodds_key under \[odds\] .* KMM_SPORTSGAMEODDS"):
        await api.fetch(NBA)
    await api.aclose()
    fake = FakeProvider().add("/v2/events", body={"success": False}, status=429, headers={"retry-after": "2"})
    clock = FakeClock()
    api = client(fake, clock)
    with pytest.raises(RateLimited):
        await api.fetch(NBA)
    assert clock.sleeps == [2.0]
    await api.aclose()


async def test_uncovered_league_is_refused() -> None:
    api = client(FakeProvider(), FakeClock())
    cs2 = MatchRef("KXCS2GAME-26NOV281330VITFAZ", "V vs F", "Vitality", "A", "FaZe", "B")
    with pytest.raises(NotFound):
        await api.fetch(cs2)
    await api.aclose()
