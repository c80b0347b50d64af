"""Theo from what the user typed: odds with a sane margin, manual theos that can both be fair."""

from decimal import Decimal

import pytest

from kmm_tui.domain.prices import Price
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import TheoInput
from kmm_tui.engine.pricing_inputs import outcome_theos, theo_prices


def test_odds_with_a_margin_above_the_cap_are_refused_until_confirmed() -> None:
    typo = TheoInput(odds_a=Decimal("1.2"), odds_b=Decimal("2.1"))  # 83 % + 48 % = a 31 % margin
    with pytest.raises(EngineError, match=r"31\.0 % bookmaker margin, above the 15 % cap") as refused:
        theo_prices(typo)
    assert refused.value.field == "odds_a"
    confirmed = TheoInput(odds_a=Decimal("1.2"), odds_b=Decimal("2.1"), margin_confirmed=True)
    theo_a, theo_b = theo_prices(confirmed)
    assert theo_a is not None and theo_b is not None and theo_a + theo_b <= 10_000


def test_the_margin_cap_is_per_match() -> None:
    odds = {"odds_a": Decimal("1.85"), "odds_b": Decimal("1.85")}  # 8.1 %
    assert theo_prices(TheoInput(**odds)) == (Price(5000), Price(5000))
    with pytest.raises(EngineError, match="above the 5 % cap"):
        theo_prices(TheoInput(**odds, max_margin=Decimal("0.05")))


def test_manual_theos_that_add_up_to_more_than_100c_are_refused() -> None:
    with pytest.raises(EngineError, match="add up to more than 100c") as refused:
        theo_prices(TheoInput(theo_a=Price(6000), theo_b=Price(4500)))
    assert refused.value.field == "theo_b"
    assert theo_prices(TheoInput(theo_a=Price(6000), theo_b=Price(3800))) == (Price(6000), Price(3800))


def test_three_way_manual_theo_implies_the_missing_outcome() -> None:
    theo = TheoInput(theo_a=Price(4500), theo_tie=Price(2800))
    assert outcome_theos(theo, three_way=True) == (Price(4500), Price(2700), Price(2800))
    implied_tie = TheoInput(theo_a=Price(4500), theo_b=Price(2600))
    assert outcome_theos(implied_tie, three_way=True) == (Price(4500), Price(2600), Price(2900))


def test_three_way_manual_theos_above_100c_or_too_few_are_refused() -> None:
    with pytest.raises(EngineError, match=r"A 60c \+ draw 45c add up to more than 100c") as refused:
        outcome_theos(TheoInput(theo_a=Price(6000), theo_tie=Price(4500)), three_way=True)
    assert refused.value.field == "theo_tie"
    with pytest.raises(EngineError, match="enter a theo for 2 of the 3 outcomes") as few:
        outcome_theos(TheoInput(theo_a=Price(6000)), three_way=True)
    assert few.value.field == "theo_tie"
    with pytest.raises(EngineError, match="leaving nothing for theo b"):
        outcome_theos(TheoInput(theo_a=Price(6000), theo_tie=Price(4000)), three_way=True)


@pytest.mark.parametrize("method", list(DevigMethod))
def test_three_way_odds_give_three_theos_for_every_method(method: DevigMethod) -> None:
    theo = TheoInput(odds_a=Decimal("2.1"), odds_draw=Decimal("3.4"), odds_b=Decimal("3.6"), method=method)
    home, away, draw = outcome_theos(theo, three_way=True)
    assert home is not None and away is not None and draw is not None
    assert home > away > 0 and draw > 0
    total = home + away + draw
    assert total <= 10_000 and (method is DevigMethod.WORST_CASE or total >= 9_990)
    with pytest.raises(EngineError, match="draw's decimal odds") as missing:
        outcome_theos(TheoInput(odds_a=Decimal("2.1"), odds_b=Decimal("3.6")), three_way=True)
    assert missing.value.field == "odds_draw"
