"""decide(): every quoting rule, one behaviour per test (prices in cents for readability)."""

from decimal import Decimal

import pytest

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Price, TickGrid, contracts, price_from_cents
from kmm_tui.domain.quoting import Decision, QuoteMemo, QuoteSettings, Reason, SideInput, SideMemo, decide
from tests.support import load_fixture

LINEAR = TickGrid.linear_cent()
TAPERED = TickGrid.from_price_ranges(
    load_fixture("kalshi/rest/market_get_tennis_shard3_tapered.json")["market"]["price_ranges"])


def c(cents: float | str) -> Price:
    return price_from_cents(str(cents))


def side(theo: float | str | None = 55, bids: tuple = (), asks: tuple = (),
         resting: float | str | None = None, grid: TickGrid = LINEAR, market_open: bool = True) -> SideInput:
    return SideInput(
        theo=None if theo is None else c(theo),
        book=Book(tuple((c(p), contracts(n)) for p, n in bids), tuple((c(p), contracts(n)) for p, n in asks)),
        resting_price=None if resting is None else c(resting),
        resting_size=contracts(10) if resting is not None else 0,
        grid=grid,
        market_open=market_open,
    )


def settings(**overrides: object) -> QuoteSettings:
    values: dict = {"edge": c(2), "contracts": contracts(10), "inventory_max": contracts(20)}
    values.update(overrides)
    return QuoteSettings(**values)


def run(a: SideInput, b: SideInput | None = None, *, inv: Inventory | None = None,
        memo: QuoteMemo | None = None, now: int = 1_000_000, start: int | None = None, stale: bool = False,
        **overrides: object) -> Decision:
    return decide(a, b or side(45), settings(**overrides), inv or Inventory(), memo or QuoteMemo(),
                  now, start, theo_stale=stale)


def long_a(n: int, cents: float | str) -> Inventory:
    return Inventory().apply_fill(Side.A, c(cents), contracts(n), 0)


# --- stay best bid -----------------------------------------------------------------------------


def test_new_quote_goes_one_tick_above_best_competitor() -> None:
    q = run(side(55, bids=((50, 5), (49, 5)))).a
    assert (q.price, q.size, q.reason, q.ceiling) == (c(51), contracts(10), Reason.QUOTING, c(53))
    assert q.detail == "bidding 51c, one tick above 50c"


def test_holds_best_bid_when_already_one_tick_above() -> None:
    q = run(side(55, bids=((50, 5),), resting=51)).a
    assert (q.price, q.reason) == (c(51), Reason.BEST_BID)


def test_raises_one_tick_when_outbid() -> None:
    q = run(side(55, bids=((52, 5),), resting=51)).a
    assert (q.price, q.reason) == (c(53), Reason.AT_CEILING)
    q = run(side(60, bids=((52, 5),), resting=51)).a
    assert (q.price, q.reason, q.detail) == (c(53), Reason.OUTBID, "outbid at 52c → 53c")


def test_competitor_joining_our_price_counts_as_outbid() -> None:
    q = run(side(60, bids=((51, 5),), resting=51)).a
    assert (q.price, q.reason) == (c(52), Reason.OUTBID)


def test_steps_down_when_the_competitor_below_lowers() -> None:
    q = run(side(60, bids=((45, 5),), resting=51)).a
    assert (q.price, q.reason) == (c(46), Reason.STEP_DOWN)


def test_never_outbids_itself_because_own_orders_are_not_in_the_book() -> None:
    # our 51c bid is excluded from the book: the best competitor is 50c, so we stay at 51c
    q = run(side(60, bids=((50, 5),), resting=51)).a
    assert (q.price, q.reason) == (c(51), Reason.BEST_BID)


# --- the ceiling -------------------------------------------------------------------------------


def test_never_bids_above_ceiling_when_outbid_near_it() -> None:
    q = run(side(55, bids=((53, 5),), resting=52)).a
    assert q.price == c(53) == q.ceiling
    assert q.reason is Reason.AT_CEILING


def test_joins_a_competitor_sitting_exactly_at_the_ceiling() -> None:
    q = run(side(55, bids=((53, 5),))).a
    assert (q.price, q.reason, q.detail) == (c(53), Reason.AT_CEILING, "competitor at ceiling 53c: joining")


def test_backs_off_when_competitor_above_ceiling() -> None:
    q = run(side(55, bids=((57, 5),))).a
    assert (q.price, q.reason) == (c(53), Reason.COMPETITOR_ABOVE_CEILING)
    assert q.detail == "competitor above ceiling at 57c"
    q = run(side(55, bids=((57, 5),)), backoff_ticks=2).a
    assert (q.price, q.reason) == (c(51), Reason.COMPETITOR_ABOVE_CEILING)
    assert q.detail == "competitor above ceiling at 57c: sitting at 51c, ceiling 53c"


def test_backoff_past_the_grid_minimum_gives_no_quote() -> None:
    q = run(side(4, bids=((10, 5),)), backoff_ticks=3).a
    assert (q.price, q.size, q.reason) == (None, 0, Reason.COMPETITOR_ABOVE_CEILING)


def test_ceiling_is_floored_onto_the_tick_grid() -> None:
    q = run(side("55.5", bids=((57, 5),))).a
    assert q.ceiling == c(53)  # 53.5c is not a price on a 1c grid
    fine = TickGrid.from_price_ranges([{"start": "0", "end": "1", "step": "0.001"}])
    q = run(side("55.55", bids=((57, 5),), grid=fine)).a
    assert q.ceiling == c("53.5")


def test_ceiling_is_capped_at_the_grid_maximum() -> None:
    q = run(side(100, bids=((98, 5),)), edge=c("0.1")).a
    assert (q.ceiling, q.price) == (c(99), c(99))


def test_no_quote_when_ceiling_is_below_the_lowest_price() -> None:
    q = run(side(2, bids=((1, 5),)), edge=c(2)).a
    assert (q.price, q.size, q.reason) == (None, 0, Reason.CEILING_BELOW_MIN)
    assert "lowest price 1c" in q.detail


def test_fee_aware_ceiling_leaves_room_for_the_maker_fee() -> None:
    a = side(55, bids=((57, 5),))
    plain = run(a, fee_aware=False, fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES).a
    aware = run(a, fee_aware=True, fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES, fee_multiplier=Decimal(1)).a
    assert plain.ceiling == c(53)
    assert aware.ceiling == c(52)  # 53c + 0.44c fee > 53c; 52c + 0.44c <= 53c


def test_fee_aware_changes_nothing_where_makers_pay_no_fee() -> None:
    q = run(side(55, bids=((57, 5),)), fee_aware=True, fee_type=FeeType.QUADRATIC).a
    assert q.ceiling == c(53)


def test_fee_aware_on_an_unsupported_fee_schedule_does_not_quote() -> None:
    q = run(side(55), fee_aware=True, fee_type=FeeType.FLAT).a
    assert (q.price, q.reason) == (None, Reason.FEE_UNSUPPORTED)
    assert run(side(55), fee_aware=False, fee_type=FeeType.FLAT).a.price is not None  # fees not needed


# --- sticky ceiling and retest -------------------------------------------------------------------


def test_reaching_the_ceiling_makes_it_sticky() -> None:
    d = run(side(55, bids=((52, 5),), resting=51), now=1_000)
    assert d.a.price == c(53)
    assert d.memo.a == SideMemo(c(53), 1_000)


def test_sticky_ceiling_holds_when_competition_leaves() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(55, bids=((40, 5),), resting=53), memo=memo, now=11_000)
    assert (d.a.price, d.a.reason) == (c(53), Reason.AT_CEILING)
    assert d.a.detail == "holding ceiling 53c (sticky), retest in 20s"
    assert d.memo.a is memo.a


def test_retests_lower_after_the_interval() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(55, bids=((40, 5),), resting=53), memo=memo, now=31_000)
    assert (d.a.price, d.a.reason) == (c(41), Reason.RETESTING)
    assert d.a.detail == "retesting: 53c → 41c (best competitor 40c)"
    assert d.memo.a == SideMemo()
    # next call: nobody reacted, we simply hold best bid at the lower price
    again = run(side(55, bids=((40, 5),), resting=41), memo=d.memo, now=32_000)
    assert (again.a.price, again.a.reason) == (c(41), Reason.BEST_BID)


def test_retest_interval_is_configurable() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(55, bids=((40, 5),), resting=53), memo=memo, now=6_000, retest_interval_ms=5_000)
    assert d.a.reason is Reason.RETESTING


def test_sticky_price_follows_a_lower_ceiling() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(52, bids=((40, 5),), resting=53), memo=memo, now=2_000)
    assert (d.a.price, d.a.ceiling, d.a.reason) == (c(50), c(50), Reason.AT_CEILING)


def test_sticky_price_does_not_climb_with_a_higher_ceiling() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(60, bids=((40, 5),), resting=53), memo=memo, now=2_000)
    assert (d.a.price, d.a.ceiling) == (c(53), c(58))


def test_outbid_while_sticky_raises_normally() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    d = run(side(60, bids=((53, 5),), resting=53), memo=memo, now=2_000)
    assert (d.a.price, d.a.reason) == (c(54), Reason.OUTBID)
    assert d.memo.a == SideMemo()


def test_no_quote_clears_the_sticky_state() -> None:
    memo = QuoteMemo(a=SideMemo(c(53), 1_000))
    assert run(side(55, market_open=False), memo=memo).memo.a == SideMemo()


# --- empty and thin books ------------------------------------------------------------------------


def test_empty_book_quotes_the_lowest_sensible_level() -> None:
    q = run(side(55)).a
    assert (q.price, q.reason) == (c(1), Reason.EMPTY_BOOK)
    q = run(side(55), max_join_depth=3).a
    assert (q.price, q.reason) == (c(50), Reason.EMPTY_BOOK)
    assert q.detail == "no competing bid: quoting 50c, ceiling 53c"


def test_thin_book_respects_max_join_depth() -> None:
    q = run(side(55, bids=((20, 5),)), max_join_depth=5).a
    assert (q.price, q.reason) == (c(48), Reason.THIN_BOOK)
    q = run(side(55, bids=((50, 5),)), max_join_depth=5).a
    assert (q.price, q.reason) == (c(51), Reason.QUOTING)


def test_join_depth_never_goes_under_the_grid_minimum() -> None:
    q = run(side(5), max_join_depth=10).a
    assert q.price == c(1)


# --- never cross ------------------------------------------------------------------------------


def test_never_crosses_the_best_ask() -> None:
    q = run(side(60, bids=((49, 5),), asks=((51, 5),))).a
    assert (q.price, q.reason) == (c(50), Reason.QUOTING)
    q = run(side(60, bids=((49, 5),), asks=((50, 5),))).a
    assert (q.price, q.reason) == (c(49), Reason.WOULD_CROSS)
    assert q.detail == "best ask 50c: bidding 49c to stay below it"


def test_no_quote_when_the_ask_sits_at_the_grid_minimum() -> None:
    q = run(side(60, asks=((1, 5),))).a
    assert (q.price, q.reason) == (None, Reason.WOULD_CROSS)


def test_an_ask_above_the_ceiling_does_not_matter() -> None:
    q = run(side(55, bids=((50, 5),), asks=((54, 5),))).a
    assert (q.price, q.reason) == (c(51), Reason.QUOTING)


# --- clock, market state, theo ----------------------------------------------------------------


def test_pauses_inside_the_start_margin() -> None:
    d = run(side(55), now=1_000_000, start=1_000_000 + 240_000, start_margin_ms=300_000)
    assert d.a.reason is d.b.reason is Reason.PAUSED_BEFORE_START
    assert d.a.price is None and d.b.price is None
    assert d.a.detail == "paused: event starts in 4m"


def test_quotes_before_the_start_margin() -> None:
    d = run(side(55), now=1_000_000, start=1_000_000 + 301_000, start_margin_ms=300_000)
    assert d.a.price is not None


def test_event_started_means_no_quotes() -> None:
    d = run(side(55), now=1_000_000, start=1_000_000 - 180_000)
    assert d.a.reason is d.b.reason is Reason.EVENT_STARTED
    assert d.a.detail == "event started 3m ago: not quoting"


def test_closed_market_is_not_quoted() -> None:
    d = run(side(55, market_open=False))
    assert (d.a.price, d.a.reason) == (None, Reason.MARKET_NOT_OPEN)
    assert d.b.price is not None


def test_stale_theo_stops_both_sides() -> None:
    d = run(side(55), stale=True)
    assert d.a.reason is d.b.reason is Reason.THEO_STALE


def test_missing_theo_is_not_quoted() -> None:
    assert run(side(None)).a.reason is Reason.NO_THEO


# --- inventory -------------------------------------------------------------------------------


def test_size_is_limited_by_the_room_left_under_the_exposure_limit() -> None:
    d = run(side(55, bids=((50, 5),)), side(45, bids=((40, 5),)), inv=long_a(15, 48))
    assert d.a.size == contracts(5)  # 15 + 5 = 20 = limit
    assert d.b.size == contracts(10)


def test_room_is_floored_to_whole_contracts() -> None:
    inv = Inventory().apply_fill(Side.A, c(48), 1550, 0)  # 15.5 contracts
    assert run(side(55, bids=((50, 5),)), inv=inv).a.size == contracts(4)


def test_overexposed_side_is_not_quoted() -> None:
    d = run(side(55, bids=((50, 5),)), side(45, bids=((40, 5),)), inv=long_a(20, 48))
    assert (d.a.price, d.a.size, d.a.reason) == (None, 0, Reason.OVEREXPOSED)
    assert d.a.ceiling == c(53)
    assert "limit 20" in d.a.detail
    assert d.b.price == c(41) and d.b.reason is Reason.QUOTING  # normal ceiling 43c is enough


def test_reducing_side_rebalances_above_its_normal_ceiling() -> None:
    inv = long_a(20, "48.5")  # B rebalance ceiling: 100 - 48.5 - 1 = 50.5c -> 50c on a 1c grid
    d = run(side(55), side(45, bids=((47, 5),)), inv=inv)
    assert (d.b.price, d.b.reason, d.b.ceiling) == (c(48), Reason.REBALANCING, c(50))
    assert d.b.detail.startswith("rebalancing: long 20 A @ 48.5c, ceiling 50c; ")


def test_rebalancing_buys_no_more_than_the_surplus_above_the_normal_ceiling() -> None:
    inv = long_a(20, 40).apply_fill(Side.B, c(40), contracts(17), 0)  # net +3, limit 3
    d = run(side(55), side(45, bids=((47, 5),)), inv=inv, inventory_max=contracts(3))
    assert d.b.reason is Reason.REBALANCING and d.b.size == contracts(3)


def test_rebalance_ceiling_unused_when_normal_ceiling_is_higher() -> None:
    d = run(side(55), side(60, bids=((47, 5),)), inv=long_a(20, 48))
    assert (d.b.price, d.b.reason, d.b.ceiling) == (c(48), Reason.QUOTING, c(58))


def test_rebalancing_only_at_the_limit() -> None:
    d = run(side(55), side(45, bids=((47, 5),)), inv=long_a(10, "48.5"))
    assert (d.b.reason, d.b.ceiling) == (Reason.COMPETITOR_ABOVE_CEILING, c(43))


def test_no_quote_when_size_is_zero() -> None:
    assert run(side(55), contracts=0).a.reason is Reason.NO_SIZE


# --- finer grids -----------------------------------------------------------------------------


def test_tapered_grid_quotes_half_cent_ticks_at_the_edges() -> None:
    q = run(side(9, bids=((5, 5),), grid=TAPERED), side(91, grid=TAPERED), edge=c(1)).a
    assert (q.ceiling, q.price) == (c(8), c("5.5"))
    q = run(side(9, bids=((5, 5),), grid=TAPERED), edge=c("1.5")).a
    assert q.ceiling == c("7.5")
    q = run(side("99.9", bids=((97, 5),), grid=TAPERED), edge=c("0.3")).a
    assert (q.ceiling, q.price) == (c("99.5"), c("97.5"))


# --- settings validation ---------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [
    {"edge": -1}, {"contracts": -1}, {"inventory_max": -100}, {"backoff_ticks": -1},
    {"retest_interval_ms": -1}, {"max_join_depth": -1}, {"start_margin_ms": -1},
    {"fee_multiplier": Decimal("-1")}, {"fee_type": "bogus"},
])
def test_invalid_settings_are_rejected(overrides: dict) -> None:
    with pytest.raises(ValueError):
        settings(**overrides)


def test_reason_values_are_short_snake_case() -> None:
    for reason in Reason:
        assert reason.value == reason.name.lower()


def test_three_way_never_rebalances_while_an_outcome_cost_is_unknown() -> None:
    """A soccer draw pays neither team: long A only, buying B at breakeven against A is no locked set."""
    grid = TickGrid.linear_cent()
    long_a = Inventory().apply_fill(Side.A, Price(4000), contracts(10), 0)  # type: ignore[arg-type]
    book_b = Book(bids=((Price(5000), contracts(5)),))  # B's competitor at 50c: above B's 38c ceiling
    no_size = contracts(0)
    a = SideInput(Price(6000), Book(), None, no_size, grid)
    b = SideInput(Price(4000), book_b, None, no_size, grid)
    tie = SideInput(Price(2500), Book(), None, no_size, grid)
    s = QuoteSettings(edge=Price(200), contracts=contracts(5), inventory_max=contracts(10))
    assert decide(a, b, s, long_a, QuoteMemo(), 0, None).b.reason is Reason.REBALANCING
    three = decide(a, b, s, long_a, QuoteMemo(), 0, None, t=tie)
    assert three.b.reason is not Reason.REBALANCING and (three.b.price is None or three.b.price <= 3800)
    assert three.a.reason is Reason.OVEREXPOSED and three.t is not None and three.t.price is not None


def test_three_way_rebalances_the_missing_outcome_up_to_a_set_that_still_profits() -> None:
    """Long 10 home @ 40c and 10 draw @ 25c: away may be bid up to 100 − 40 − 25 − 1 = 34c (no fee on a
    quadratic series), though its own ceiling is 23c; home and draw are not quoted."""
    inv = (Inventory().apply_fill(Side.A, c(40), contracts(10), 0)
           .apply_fill(Side.T, c(25), contracts(10), 0))
    s = settings(inventory_max=contracts(10))
    d = decide(side(45), side(25, bids=((40, 5),)), s, inv, QuoteMemo(), 0, None, t=side(30))
    assert d.t is not None and d.t.reason is Reason.OVEREXPOSED and d.a.reason is Reason.OVEREXPOSED
    assert (d.b.reason, d.b.price, d.b.size, d.b.ceiling) == (Reason.REBALANCING, c(34), contracts(10), c(34))
    assert "long 10 A+T @ 65c" in d.b.detail


def test_three_way_limit_applies_to_the_most_held_outcome_against_the_least_held() -> None:
    """Long 15 home and 10 draw, none away, limit 20: home may add 5, draw 10, away the full 10."""
    inv = (Inventory().apply_fill(Side.A, c(40), contracts(15), 0)
           .apply_fill(Side.T, c(25), contracts(10), 0))
    d = decide(side(45), side(25), settings(), inv, QuoteMemo(), 0, None, t=side(30))
    assert d.t is not None
    assert (d.a.size, d.t.size, d.b.size) == (contracts(5), contracts(10), contracts(10))
    assert [s for s, _ in d.quotes] == [Side.A, Side.T, Side.B]


# --- money after fees (order-ledger issue, findings 4 and 5) -------------------------------------


def test_ceiling_from_odds_is_the_floor_of_the_exact_value_never_rounded_up() -> None:
    """Odds 1.06/7.77, edge 2c: theo A is exactly 87.99547c, so theo − edge is 85.99547c → 85c, not 86c."""
    from kmm_tui.domain.theo import devig, prob_to_price

    theo_a = prob_to_price(devig([Decimal("1.06"), Decimal("7.77")])[0])
    q = decide(SideInput(theo_a, Book(), None, 0, LINEAR), side(10), settings(), Inventory(), QuoteMemo(),
               0, None).a
    assert q.ceiling == c(85)


def test_rebalance_after_a_taker_filled_leg_still_locks_a_profit_after_both_fees() -> None:
    """A filled as taker at 60c on a maker-fee series (1.68c fee each): B's rebalance bid must leave the
    pair profitable after A's taker fee and B's own maker fee (the old rule bid 39c and lost 1.19c)."""
    from kmm_tui.domain.fees import maker_fee, taker_fee

    fees = {"fee_type": FeeType.QUADRATIC_WITH_MAKER_FEES, "fee_multiplier": Decimal(1)}
    fee_a = taker_fee(c(60), contracts(20), Decimal(1))
    inv = Inventory().apply_fill(Side.A, c(60), contracts(20), fee_a)
    q = run(side(55), side(30, bids=((45, 5),)), inv=inv, **fees).b
    assert q.reason is Reason.REBALANCING and q.price is not None
    fee_b = maker_fee(q.price, q.size, FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1))
    fee_b = -(-fee_b // 10_000) * 10_000  # the exchange charges the order's fee in whole cents
    locked = inv.apply_fill(Side.B, q.price, q.size, fee_b)
    per_pair = locked.locked_profit * 100 // q.size  # Money per contract (micro-dollars)
    assert q.price == c(36)  # 100 − 61.68 (cost basis with fee) − 1 = 37.32; minus 0.5c planned fee
    assert locked.pnl_if_b_wins - inv.pnl_if_b_wins > 0 and per_pair > 0


def test_fee_aware_quoting_is_the_default_and_an_edge_below_one_tick_is_refused() -> None:
    assert QuoteSettings(edge=c(2), contracts=contracts(1), inventory_max=contracts(1)).fee_aware
    with pytest.raises(ValueError, match="at least one tick"):
        QuoteSettings(edge=0, contracts=contracts(1), inventory_max=contracts(1))


def test_fees_are_planned_per_order_rounded_up_to_the_cent() -> None:
    """10 @ 53c on a maker-fee series: 0.0175·10·0.53·0.47 = 4.36c → 5c per order → 0.5c per contract,
    so 53c + 0.5c > 53c and the ceiling under a 55c theo (edge 2c) is 52c."""
    q = run(side(55), fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES).a
    assert q.ceiling == c(52)
