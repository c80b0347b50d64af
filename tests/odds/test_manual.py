"""Manual odds / theo typed by the user."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.domain.theo import DevigMethod, OddsError
from kmm_tui.odds.consensus import theo_for_match
from kmm_tui.odds.errors import NoOdds
from kmm_tui.odds.manual import ManualSource
from kmm_tui.odds.models import MatchRef
from tests.odds.fakes import NOW_MS, FakeClock

TWO = MatchRef("KXCS2GAME-26NOV281330VITFAZ", "Vitality vs FaZe", "Vitality", "V", "FaZe Clan", "F")
THREE = MatchRef(
    "KXEPLGAME-26NOV29BHAWOL", "Brighton vs Wolves", "Brighton", "B", "Wolves", "W", market_draw="T"
)


async def test_manual_odds_become_a_quote_in_outcome_order() -> None:
    clock = FakeClock()
    source = ManualSource(clock)
    source.set_odds(TWO, ["1.62", " 2.42 "])
    result = await source.fetch(TWO)
    assert result.quotes[0].odds == (Decimal("1.62"), Decimal("2.42"))
    assert result.fixed_theo is None and result.confidence == 1
    clock.now_ms += 3_600_000  # a user entry does not go stale on its own
    theo = theo_for_match([await source.fetch(TWO)], DevigMethod.MULTIPLICATIVE, clock.now_ms, 120_000)
    assert theo.theo_a == 5990


async def test_manual_theo_in_cents() -> None:
    source = ManualSource(FakeClock())
    source.set_theo(TWO, ["55.5"])
    result = await source.fetch(TWO)
    assert result.fixed_theo == (5550, 4450) and result.quotes == ()
    source.set_theo(THREE, ["45", "26.5", "28.5"])
    assert (await source.fetch(THREE)).fixed_theo == (4500, 2650, 2850)


@pytest.mark.parametrize(
    ("match", "texts", "message"),
    [
        (TWO, ["1.62"], "enter 2 decimal odds"),
        (THREE, ["2.1", "3.6"], "team A, team B, draw"),
        (TWO, ["1.0", "2"], "greater than 1"),
        (TWO, ["abc", "2"], "not a number"),
        (TWO, ["3", "3"], "less than 100 %"),
    ],
)
def test_manual_odds_validation(match: MatchRef, texts: list[str], message: str) -> None:
    with pytest.raises(OddsError, match=message):
        ManualSource(FakeClock()).set_odds(match, texts)


@pytest.mark.parametrize(
    ("match", "texts", "message"),
    [
        (TWO, ["60", "50"], "more than 100c"),
        (TWO, ["0"], "between 0 and 100"),
        (THREE, ["45", "26.5", "20"], "sum to exactly 100c"),
        (THREE, ["45", "x", "20"], "not a price in cents"),
        (THREE, ["45"], "team A, team B and the draw"),
    ],
)
def test_manual_theo_validation(match: MatchRef, texts: list[str], message: str) -> None:
    with pytest.raises(OddsError, match=message):
        ManualSource(FakeClock()).set_theo(match, texts)


async def test_nothing_entered_or_cleared() -> None:
    source = ManualSource(FakeClock())
    with pytest.raises(NoOdds):
        await source.fetch(TWO)
    source.set_theo(TWO, ["50"])
    source.clear(TWO)
    with pytest.raises(NoOdds):
        await source.fetch(TWO)
    assert NOW_MS > 0
