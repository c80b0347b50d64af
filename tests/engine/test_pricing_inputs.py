"""Theo from what the user typed: odds with a sane margin, manual theos that can both be fair."""

from decimal import Decimal

import pytest

from kmm_tui.domain.prices import Price
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import TheoInput
from kmm_tui.engine.pricing_inputs import theo_prices


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
