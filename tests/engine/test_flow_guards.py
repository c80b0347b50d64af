"""The fill-burst, line-move and account-limit checks trip on their condition and only then (pure)."""

from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.prices import Money, Price
from kmm_tui.engine import guards
from kmm_tui.engine.flow_guards import FlowGuards
from kmm_tui.engine.guards import AccountTotals, BurstRule, GuardAction
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.model import AccountLimits, MatchSpec, TheoInput

RULE = BurstRule(count=3, window_ms=10_000, cooloff_ms=30_000)


def test_three_fills_within_the_window_pull_the_side_for_the_cooloff() -> None:
    assert guards.fill_burst("a", (0, 4_000), RULE, 5_000) is None
    trip = guards.fill_burst("a", (0, 4_000, 9_000), RULE, 9_000)
    assert trip is not None and trip.guard == "fill_burst" and trip.action is GuardAction.PULL
    assert "3 fills on A within 10s" in trip.reason
    assert guards.fill_burst("a", (0, 4_000, 9_000), RULE, 38_999) is not None
    assert guards.fill_burst("a", (0, 4_000, 9_000), RULE, 39_000) is None  # cooled off


def test_fills_spread_out_are_no_burst_and_count_zero_is_off() -> None:
    assert guards.fill_burst("b", (0, 6_000, 12_000, 18_000), RULE, 18_000) is None
    assert guards.fill_burst("b", (0, 1, 2), BurstRule(0, 10_000, 30_000), 2) is None


@given(st.lists(st.integers(min_value=0, max_value=100_000), max_size=12))
def test_a_burst_needs_count_fills_inside_one_window(times: list[int]) -> None:
    times.sort()
    until = guards.burst_until(tuple(times), RULE)
    any_burst = any(times[i + 2] - times[i] <= RULE.window_ms for i in range(len(times) - 2))
    assert (until is not None) == any_burst


def test_line_moves_beyond_the_threshold_only() -> None:
    assert not guards.moved_beyond(Price(6000), Price(6300), Price(300))
    assert guards.moved_beyond(Price(6000), Price(6301), Price(300))
    assert not guards.moved_beyond(Price(6000), Price(9000), None)  # off
    history = ((0, Price(5000)), (4_000, Price(5200)), (8_000, Price(5600)))
    assert guards.mid_move(history, 8_000, 10_000, Price(500)) == (5000, 5600, 0)
    assert guards.mid_move(history, 12_000, 10_000, Price(500)) is None  # the 50c point left the window
    assert guards.mid_move(history, 8_000, 10_000, Price(600)) is None


def test_account_limits_trip_on_the_first_breach_and_name_it() -> None:
    totals = AccountTotals(Money(-5_000_000), Money(-40_000_000), Money(40_000_000), Money(9_000_000))
    assert guards.account_limits(totals, AccountLimits()) is None
    assert guards.account_limits(totals, AccountLimits(max_session_loss=Money(5_000_000))) is None
    trip = guards.account_limits(totals, AccountLimits(max_session_loss=Money(4_999_999)))
    assert trip is not None and trip.action is GuardAction.HALT and "marked to theo" in trip.reason
    trip = guards.account_limits(totals, AccountLimits(max_resting_notional=Money(8_000_000)))
    assert trip is not None and "resting notional $9.00" in trip.reason
    trip = guards.account_limits(totals, AccountLimits(max_exposure=Money(30_000_000)))
    assert trip is not None and "exposure" in trip.reason


def test_a_jump_after_a_long_steady_mid_is_a_line_move() -> None:
    """The steady mid is re-dated at every decision, so a jump is measured against it, not against
    when it was first seen (outside the window)."""
    spec = MatchSpec("m1", "A", "B", TheoInput(theo_a=Price(6000), theo_b=Price(4000)))
    match = MatchRuntime(spec, "EV", "A vs B", Price(6000), Price(4000))
    flow = FlowGuards()
    for second in range(30):
        assert flow.line_move(match, (Price(6000), None), second * 1000) is None
    trip = flow.line_move(match, (Price(7000), None), 30_000)
    assert trip is not None and trip.guard == "line_move" and "60c → 70c" in trip.reason
    assert flow.line_move(match, (Price(7000), None), 34_999) is trip  # held
    assert flow.line_move(match, (Price(7000), None), 35_000) is None  # then requotes
