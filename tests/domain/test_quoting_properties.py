"""Properties of decide() over random books, grids, inventories, memos and settings.

For every side: the bid is on the grid and inside the quotable range, never at or above the best ask,
never above its ceiling (checked against an independent brute-force ceiling) except under the
rebalancing rule — and then the pair it completes is profitable — and our own quotes never push the
net exposure past the limit.
"""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType, maker_fee
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import CENT, COUNT_SCALE, PRICE_SCALE, TickGrid
from kmm_tui.domain.quoting import (
    Decision,
    QuoteMemo,
    QuoteSettings,
    Reason,
    SideInput,
    SideMemo,
    SideQuote,
    decide,
)
from tests.support import load_fixture

GRIDS = [
    TickGrid.linear_cent(),
    TickGrid.from_price_ranges(
        load_fixture("kalshi/rest/market_get_tennis_shard3_tapered.json")["market"]["price_ranges"]),
    TickGrid.from_price_ranges([{"start": "0", "end": "1", "step": "0.001"}]),
]

ONE_IN_TEN = st.sampled_from([False] * 9 + [True])


def on_grid(grid: TickGrid) -> st.SearchStrategy[int]:
    return st.integers(grid.min_price, grid.max_price).map(grid.floor)


@st.composite
def side_inputs(draw: st.DrawFn, grid: TickGrid) -> SideInput:
    bids = sorted(set(draw(st.lists(on_grid(grid), max_size=4))), reverse=True)
    asks: list[int] = []
    if draw(st.booleans()):
        low = grid.up(bids[0]) if bids else grid.min_price
        asks = sorted(set(draw(st.lists(st.integers(low, PRICE_SCALE).map(grid.ceil), max_size=3))))
    size = st.integers(1, 5_000)
    return SideInput(
        theo=draw(st.one_of(st.none(), st.integers(0, PRICE_SCALE))) if draw(ONE_IN_TEN)
        else draw(st.one_of(st.integers(2_000, 8_000), st.integers(1, PRICE_SCALE - 1))),
        book=Book(tuple((p, draw(size)) for p in bids), tuple((p, draw(size)) for p in asks)),
        resting_price=draw(st.one_of(st.none(), on_grid(grid))),
        resting_size=draw(st.integers(0, 2_000)),
        grid=grid,
        market_open=not draw(ONE_IN_TEN),
    )


@st.composite
def inventories(draw: st.DrawFn) -> Inventory:
    inv = Inventory()
    for _ in range(draw(st.integers(0, 6))):
        side = draw(st.sampled_from([Side.A, Side.B]))
        inv = inv.apply_fill(side, draw(st.integers(1, 99)) * CENT, draw(st.integers(1, 1_500)),
                             draw(st.integers(0, 20_000)))
    return inv


@st.composite
def quote_settings(draw: st.DrawFn) -> QuoteSettings:
    return QuoteSettings(
        edge=draw(st.integers(10, 1_000)),
        contracts=draw(st.one_of(st.sampled_from([1_000, 500, 100]), st.integers(0, 2_000))),
        inventory_max=draw(st.one_of(st.sampled_from([2_000, 1_000, 3_000]), st.integers(0, 3_000))),
        retest_interval_ms=draw(st.integers(0, 60_000)),
        backoff_ticks=draw(st.integers(0, 3)),
        max_join_depth=draw(st.one_of(st.none(), st.integers(0, 10))),
        fee_aware=draw(st.booleans()),
        fee_type=draw(st.sampled_from([FeeType.QUADRATIC, FeeType.QUADRATIC_WITH_MAKER_FEES,
                                       FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES])),
        fee_multiplier=draw(st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal("1.5")])),
        start_margin_ms=draw(st.integers(0, 600_000)),
    )


@st.composite
def memos(draw: st.DrawFn, grid_a: TickGrid, grid_b: TickGrid) -> QuoteMemo:
    def one(grid: TickGrid) -> SideMemo:
        if draw(st.booleans()):
            return SideMemo()
        return SideMemo(draw(on_grid(grid)), draw(st.integers(0, 2_000_000)))

    return QuoteMemo(one(grid_a), one(grid_b))


def planned_fee(p: int, size: int, s: QuoteSettings) -> int:
    """The per-contract fee an order is planned to cost, straight from the exact maker fee of the whole
    order rounded up to the cent (independent of the fast integer formula decide() uses)."""
    fee = maker_fee(p, size, s.fee_type, s.fee_multiplier)  # Money, rounded up to $0.0001
    cents = -(-fee // 10_000)  # the exchange charges whole cents per order
    return -(-cents * CENT * COUNT_SCALE // size)


def brute_ceiling(limit: int, grid: TickGrid, s: QuoteSettings, size: int, fees: bool) -> int | None:
    """Highest legal quotable p with p (+ planned fee if ``fees``) <= limit, by exhaustive search."""
    top = min(limit, grid.max_price)
    if top < grid.min_price:
        return None
    p = grid.floor(top)
    while True:  # every grid price downwards: a fractional order's whole-cent fee can be many cents each
        if p + (planned_fee(p, size, s) if fees else 0) <= limit:
            return p
        if p <= grid.min_price:
            return None
        p = grid.down(p)


def check_side(side: Side, q: SideQuote, inp: SideInput, s: QuoteSettings, inv: Inventory) -> None:
    net = inv.net_exposure if side is Side.A else -inv.net_exposure
    if q.price is None:
        assert q.size == 0
        return
    grid = inp.grid
    assert grid.is_valid(q.price) and grid.min_price <= q.price <= grid.max_price
    assert 0 < q.size <= s.contracts
    if inp.book.asks:
        assert q.price < inp.book.asks[0][0]  # never crosses
    assert q.ceiling is not None and q.price <= q.ceiling
    assert inp.theo is not None and inp.market_open
    room = s.inventory_max - net
    size = min(s.contracts, room - room % COUNT_SCALE)
    normal = brute_ceiling(inp.theo - s.edge, grid, s, size, s.fee_aware)
    if q.reason is Reason.REBALANCING:
        assert normal is None or q.price > normal
        other = inv.avg_cost(side.other)  # cost basis: price plus the fees that side paid
        assert other is not None
        # the pair it completes makes at least 1c after both legs' fees
        assert q.price + planned_fee(q.price, q.size, s) + other <= PRICE_SCALE - CENT
        assert q.size <= -net  # only the surplus is bought above the normal ceiling
    else:
        assert normal is not None and q.price <= normal
    assert net + q.size <= s.inventory_max  # our own fill never takes exposure past the limit
    assert q.size % COUNT_SCALE == 0 or q.size == s.contracts or q.reason is Reason.REBALANCING


def check(decision: Decision, a: SideInput, b: SideInput, s: QuoteSettings, inv: Inventory) -> None:
    check_side(Side.A, decision.a, a, s, inv)
    check_side(Side.B, decision.b, b, s, inv)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_decide_invariants_hold_for_any_input(data: st.DataObject) -> None:
    grid_a, grid_b = data.draw(st.sampled_from(GRIDS)), data.draw(st.sampled_from(GRIDS))
    a, b = data.draw(side_inputs(grid_a)), data.draw(side_inputs(grid_b))
    s, inv = data.draw(quote_settings()), data.draw(inventories())
    memo = data.draw(memos(grid_a, grid_b))
    now = data.draw(st.integers(0, 2_000_000))
    start = data.draw(st.one_of(st.none(), st.none(), st.integers(0, 3_000_000)))
    stale = data.draw(ONE_IN_TEN)
    decision = decide(a, b, s, inv, memo, now, start, stale)
    check(decision, a, b, s, inv)
    if stale:
        assert decision.a.price is None and decision.b.price is None


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_invariants_hold_over_a_sequence_of_decisions_with_fills(data: st.DataObject) -> None:
    """Feed each decision's memo and price back in, fill some quotes, move the book: still safe."""
    grid = data.draw(st.sampled_from(GRIDS))
    s = data.draw(quote_settings())
    inv, memo, now = Inventory(), QuoteMemo(), 0
    resting: dict[Side, int | None] = {Side.A: None, Side.B: None}
    for _ in range(data.draw(st.integers(1, 25))):
        now += data.draw(st.integers(0, 20_000))
        inputs = {}
        for side in (Side.A, Side.B):
            inp = data.draw(side_inputs(grid))
            inputs[side] = SideInput(inp.theo, inp.book, resting[side], inp.resting_size, grid,
                                     inp.market_open)
        decision = decide(inputs[Side.A], inputs[Side.B], s, inv, memo, now, None)
        check(decision, inputs[Side.A], inputs[Side.B], s, inv)
        memo = decision.memo
        for side, quote in ((Side.A, decision.a), (Side.B, decision.b)):
            resting[side] = quote.price
            if quote.price is not None and data.draw(st.integers(0, 3)) == 0:
                before = abs(inv.net_exposure)
                fee = maker_fee(quote.price, quote.size, s.fee_type, s.fee_multiplier)
                inv = inv.apply_fill(side, quote.price, quote.size, fee)
                assert abs(inv.net_exposure) <= max(before, s.inventory_max)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_two_bids_resting_at_once_never_complete_a_pair_that_loses_after_fees(data: st.DataObject) -> None:
    """Fee-aware (the default), theos that add up to at most 100c: whatever the books, inventory and
    memo, both bids together leave 100 − a − b − fee(a) − fee(b) ≥ 2 × edge."""
    grid = data.draw(st.sampled_from(GRIDS))
    a, b = data.draw(side_inputs(grid)), data.draw(side_inputs(grid))
    theo_a = data.draw(st.integers(1, PRICE_SCALE - 1))
    theo_b = data.draw(st.integers(1, PRICE_SCALE - theo_a))
    a = SideInput(theo_a, a.book, a.resting_price, a.resting_size, grid)
    b = SideInput(theo_b, b.book, b.resting_price, b.resting_size, grid)
    s = data.draw(quote_settings())
    s = QuoteSettings(s.edge, s.contracts, s.inventory_max, s.retest_interval_ms, s.backoff_ticks,
                      s.max_join_depth, True, s.fee_type, s.fee_multiplier)
    decision = decide(a, b, s, data.draw(inventories()), data.draw(memos(grid, grid)), 0, None)
    qa, qb = decision.a, decision.b
    if qa.price is None or qb.price is None:
        return
    fees = planned_fee(qa.price, qa.size, s) + planned_fee(qb.price, qb.size, s)
    pair = PRICE_SCALE - qa.price - qb.price - fees
    assert pair >= 2 * s.edge
