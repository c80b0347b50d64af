"""Inventory: exact cost basis, exposure, locked pairs, P&L by outcome, the rebalance ceiling."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.fees import FeeType, maker_fee
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import PRICE_SCALE, TickGrid, contracts, parse_money, price_from_cents

C = price_from_cents


def test_yes_fill_on_a_adds_to_a_only() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(10), parse_money("0.04"))
    assert (inv.count_long_a, inv.count_long_b) == (contracts(10), 0)
    assert inv.cost_long_a == parse_money("4.80")
    assert inv.fees == parse_money("0.04")
    assert inv.net_exposure == contracts(10)


def test_net_exposure_is_positive_when_long_a_and_negative_when_long_b() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(3), 0).apply_fill(Side.B, C(49), contracts(5), 0)
    assert inv.net_exposure == -contracts(2)
    assert inv.locked_pairs == contracts(3)


def test_average_cost_is_exact_and_rounded_up() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(1), 0).apply_fill(Side.A, C(49), contracts(2), 0)
    assert inv.avg_cost_a == 4867  # 146c / 3 = 48.666..c, rounded up to 48.67c
    assert inv.avg_cost_b is None


def test_pnl_by_outcome_includes_costs_of_both_sides_and_fees() -> None:
    inv = (Inventory()
           .apply_fill(Side.A, C(48), contracts(10), parse_money("0.05"))
           .apply_fill(Side.B, C(49), contracts(4), parse_money("0.02")))
    # A wins: 10 * $1 - 4.80 - 1.96 - 0.07 = 3.17; B wins: 4 - 6.76 - 0.07 = -2.83
    assert inv.pnl_if_a_wins == parse_money("3.17")
    assert inv.pnl_if_b_wins == parse_money("-2.83")


def test_locked_profit_counts_pairs_at_average_cost_minus_fees() -> None:
    inv = (Inventory()
           .apply_fill(Side.A, C(48), contracts(10), parse_money("0.05"))
           .apply_fill(Side.B, C(49), contracts(4), parse_money("0.02")))
    # 4 pairs * (1 - 0.48 - 0.49) = 0.12, minus all fees 0.07
    assert inv.locked_profit == parse_money("0.05")
    assert Inventory(fees_a=parse_money("0.01")).locked_profit == -parse_money("0.01")


def test_rebalance_ceiling_is_breakeven_minus_a_cent_against_the_other_side() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(6), 0).apply_fill(Side.A, C(49), contracts(6), 0)
    assert inv.avg_cost_a == C("48.5")
    assert inv.rebalance_ceiling(Side.B) == C("50.5")
    assert inv.rebalance_ceiling(Side.A) is None  # nothing held on B


def test_rebalance_ceiling_absent_when_the_other_side_cost_a_dollar() -> None:
    inv = Inventory().apply_fill(Side.A, C("99.5"), contracts(1), 0)
    assert inv.rebalance_ceiling(Side.B) is None


@given(
    fills=st.lists(st.tuples(st.integers(2, 97), st.integers(1, 20)), min_size=1, max_size=8),
    grid=st.sampled_from([TickGrid.linear_cent(), TickGrid.from_price_ranges(
        [{"start": "0", "end": "1", "step": "0.001"}])]),
)
def test_rebalance_ceiling_guarantees_pair_profit(fills: list[tuple[int, int]], grid: TickGrid) -> None:
    """Buy A at any prices (maker fees, m = 1), then all of B at the rebalance ceiling: P&L ≥ 0 either way."""
    inv = Inventory()
    for cents, n in fills:
        fee = maker_fee(C(cents), contracts(n), FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1))
        inv = inv.apply_fill(Side.A, C(cents), contracts(n), fee)
    ceiling = inv.rebalance_ceiling(Side.B)
    assert ceiling is not None
    price = grid.floor(ceiling)
    fee = maker_fee(price, inv.count_long_a, FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1))
    locked = inv.apply_fill(Side.B, price, inv.count_long_a, fee)
    assert locked.net_exposure == 0
    assert locked.pnl_if_a_wins >= 0 and locked.pnl_if_b_wins >= 0
    assert locked.locked_profit >= 0


def test_synced_positions_keep_average_price_and_the_fees_paid() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(10), parse_money("0.03"))
    assert inv.avg_cost_a == C("48.3")  # cost basis: 4.80 + 0.03 fees over 10 contracts
    smaller = inv.with_positions(contracts(4), 0)
    assert smaller.count_long_a == contracts(4) and smaller.cost_long_a == parse_money("1.92")
    assert smaller.avg_cost_a == C("48.75")  # the fees were paid: fewer contracts carry them
    larger = inv.with_positions(contracts(15), 0)
    assert larger.cost_long_a == parse_money("7.20") and larger.avg_cost_a == C("48.2")
    assert larger.fees == inv.fees
    assert inv.with_positions(contracts(10), 0) == inv


def test_position_that_appears_without_a_known_fill_is_booked_at_a_dollar() -> None:
    inv = Inventory().with_positions(0, contracts(3))
    assert inv.avg_cost_b == PRICE_SCALE
    assert inv.pnl_if_b_wins == 0  # worst case: paid the most a YES can cost
    assert inv.rebalance_ceiling(Side.A) is None  # never rebalance against an unknown cost


def test_position_synced_to_zero_clears_its_cost() -> None:
    inv = Inventory().apply_fill(Side.B, C(40), contracts(2), 0).with_positions(0, 0)
    assert inv.cost_long_b == 0 and inv.avg_cost_b is None


def test_short_positions_are_refused_with_a_next_step() -> None:
    with pytest.raises(ValueError, match="close the NO position"):
        Inventory().with_positions(-contracts(1), 0)


@pytest.mark.parametrize(("price", "count", "fee"),
                         [(0, 100, 0), (10_001, 100, 0), (5000, 0, 0), (5000, 100, -1)])
def test_invalid_fills_are_rejected(price: int, count: int, fee: int) -> None:
    with pytest.raises(ValueError):
        Inventory().apply_fill(Side.A, price, count, fee)


def test_negative_or_inconsistent_inventory_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="negative"):
        Inventory(count_long_a=-1)
    with pytest.raises(ValueError, match="no contracts"):
        Inventory(cost_long_b=100)


def test_side_other() -> None:
    assert Side.A.other is Side.B and Side.B.other is Side.A
    assert Side("a") is Side.A


def test_correction_without_a_price_keeps_the_average_price_of_what_is_held() -> None:
    inv = Inventory().apply_fill(Side.A, C(48), contracts(10), parse_money("0.03"))
    fixed = inv.corrected(contracts(12), 0, None, None)
    assert fixed.cost_long_a == parse_money("5.76") and fixed.fees == inv.fees


def test_correction_refuses_a_count_with_no_price_on_a_side_not_held() -> None:
    """Booking 10 B at $0 would lift A's rebalance ceiling to 99c."""
    inv = Inventory().apply_fill(Side.A, C(48), contracts(10), 0)
    with pytest.raises(ValueError, match="side B: enter the average price"):
        inv.corrected(contracts(10), contracts(10), None, None)
    fixed = inv.corrected(contracts(10), contracts(10), None, C(50))
    assert fixed.rebalance_ceiling(Side.A) == C(49)
