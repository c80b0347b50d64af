"""Kalshi fees per fill (kalshi-api.md §10): exact formula, rounded up to $0.0001 per fill."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.fees import (
    FeeError,
    FeeType,
    maker_fee,
    maker_fee_per_contract_upper_bound,
    taker_fee,
)
from kmm_tui.domain.prices import MONEY_SCALE, contracts, parse_money, parse_price

ONE = Decimal(1)


def test_taker_fee_matches_worked_example() -> None:
    # taker 1 @ 0.52 -> "0.017500"
    assert taker_fee(parse_price("0.52"), contracts(1), ONE) == parse_money("0.017500")


def test_maker_fee_matches_worked_example() -> None:
    # maker 5 @ 0.61 on quadratic_with_maker_fees -> 0.02081625 rounded up to 0.0209
    fee = maker_fee(parse_price("0.61"), contracts(5), FeeType.QUADRATIC_WITH_MAKER_FEES, ONE)
    assert fee == parse_money("0.0209")


def test_makers_are_free_on_plain_quadratic_series() -> None:
    assert maker_fee(parse_price("0.50"), contracts(100), FeeType.QUADRATIC, ONE) == 0


def test_combo_maker_fee_is_half_the_taker_rate() -> None:
    # 0.035 * 10 * 0.25 = 0.0875 exactly
    fee = maker_fee(parse_price("0.50"), contracts(10), FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, ONE)
    assert fee == parse_money("0.0875")


def test_flat_schedule_is_refused_with_a_next_step() -> None:
    with pytest.raises(FeeError, match="not supported"):
        maker_fee(parse_price("0.50"), contracts(1), FeeType.FLAT, ONE)


def test_zero_multiplier_means_free() -> None:
    assert taker_fee(parse_price("0.50"), contracts(10), Decimal(0)) == 0


def test_multiplier_scales_the_fee() -> None:
    # 0.07 * 0.5 * 1 * 0.25 = 0.00875 -> 0.0088
    assert taker_fee(parse_price("0.50"), contracts(1), Decimal("0.5")) == parse_money("0.0088")


def test_tiny_fractional_fill_is_rounded_up_to_the_next_hundredth_cent() -> None:
    # 0.07 * 0.01 contracts * 0.25 = 0.000175 -> 0.0002
    assert taker_fee(parse_price("0.50"), 1, ONE) == parse_money("0.0002")


def test_invalid_fee_inputs_are_rejected() -> None:
    with pytest.raises(FeeError):
        taker_fee(parse_price("0.50"), -1, ONE)
    with pytest.raises(FeeError):
        taker_fee(10_001, 1, ONE)
    with pytest.raises(FeeError, match="negative"):
        taker_fee(5000, 100, Decimal("-1"))
    with pytest.raises(FeeError, match="finite"):
        taker_fee(5000, 100, Decimal("NaN"))


def test_per_contract_upper_bound_at_fifty_cents() -> None:
    # 0.0175 * 0.25 = 0.004375 -> 0.0044 = 44 Price units
    bound = maker_fee_per_contract_upper_bound(5000, FeeType.QUADRATIC_WITH_MAKER_FEES, ONE)
    assert bound == 44


def _exact_fee(rate: Fraction, price: int, count: int) -> Fraction:
    return rate * Fraction(count, 100) * Fraction(price, 10_000) * (1 - Fraction(price, 10_000))


@given(price=st.integers(0, 10_000), count=st.integers(0, 100_000),
       m=st.sampled_from([Decimal(0), Decimal("0.5"), ONE, Decimal("1.25")]))
def test_taker_fee_is_exact_fee_rounded_up_to_a_hundredth_cent(price: int, count: int, m: Decimal) -> None:
    fee = taker_fee(price, count, m)
    exact = _exact_fee(Fraction(7, 100) * Fraction(m), price, count) * MONEY_SCALE
    assert fee % 100 == 0
    assert exact <= fee < exact + 100


@given(price=st.integers(1, 9_999), whole=st.integers(1, 500),
       fee_type=st.sampled_from([FeeType.QUADRATIC_WITH_MAKER_FEES, FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES]))
def test_per_contract_bound_covers_any_whole_contract_fill(price: int, whole: int, fee_type: FeeType) -> None:
    bound = maker_fee_per_contract_upper_bound(price, fee_type, ONE)
    fee = maker_fee(price, contracts(whole), fee_type, ONE)
    assert fee <= bound * whole * 100  # Price units -> Money per contract
