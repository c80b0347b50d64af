"""Properties of every match shape (two teams, a soccer 1X2 event, one YES/NO market).

Issue #15's properties: outcome theos from every de-vig method add up to 100c (±1 tick); no bids
resting at once on every outcome of a match complete a set that loses after fees, rebalancing included;
the exposure vector (``pnl_if`` per outcome) is the brute-force settlement P&L of the fills; our own
quotes never push the most-held outcome past ``inventory_max`` over the least held.
"""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import maker_fee
from kmm_tui.domain.inventory import THREE_WAY, TWO_WAY, Inventory, Side
from kmm_tui.domain.prices import CENT, PRICE_SCALE, TickGrid
from kmm_tui.domain.quoting import QuoteMemo, QuoteSettings, Reason, SideInput, decide
from kmm_tui.domain.theo import DevigMethod, OddsError, devig, prob_to_price
from tests.domain.test_quoting_properties import GRIDS, planned_fee, quote_settings, side_inputs

TICK = 10  # the finest grid's tick, 0.1c
SHAPES = {"teams": TWO_WAY, "three_way": THREE_WAY, "yes_no": TWO_WAY}


@st.composite
def fair_odds(draw: st.DrawFn, n: int) -> list[Decimal]:
    """N decimal odds with a bookmaker margin between 0 and 15 %."""
    weights = [draw(st.integers(5, 90)) for _ in range(n)]
    total = sum(weights)
    margin = Decimal(draw(st.integers(0, 150))) / 1000
    return [(Decimal(total) / (Decimal(w) * (1 + margin))).quantize(Decimal("0.01")) for w in weights]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=st.sampled_from(sorted(SHAPES)), method=st.sampled_from(DevigMethod))
def test_outcome_theos_add_up_to_100c_for_every_shape_and_method(
    data: st.DataObject, shape: str, method: DevigMethod
) -> None:
    odds = data.draw(fair_odds(len(SHAPES[shape])))
    try:
        theos = [prob_to_price(p) for p in devig(odds, method)]
    except OddsError:
        return  # refused with a reason (an arbitrage, or additive pushing a long shot to 0)
    total = sum(theos)
    assert total <= PRICE_SCALE  # floored: never more than the whole dollar
    if method is not DevigMethod.WORST_CASE:  # worst case is each outcome's floor, by design below 100c
        assert total >= PRICE_SCALE - TICK


@st.composite
def fills(draw: st.DrawFn, outcomes: tuple[Side, ...]) -> list[tuple[Side, int, int, int]]:
    return [
        (draw(st.sampled_from(outcomes)), draw(st.integers(1, PRICE_SCALE)), draw(st.integers(1, 3_000)),
         draw(st.integers(0, 50_000)))
        for _ in range(draw(st.integers(0, 12)))
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), shape=st.sampled_from(sorted(SHAPES)))
def test_exposure_vector_is_the_brute_force_settlement_of_the_fills(data: st.DataObject, shape: str) -> None:
    outcomes = SHAPES[shape]
    history = data.draw(fills(outcomes))
    inv = Inventory()
    for side, price, count, fee in history:
        inv = inv.apply_fill(side, price, count, fee)
    for winner in outcomes:
        # settle every fill on its own: a contract of the winner pays $1 (Money: Price × Count)
        settled = sum((PRICE_SCALE if side is winner else 0) * count - price * count - fee
                      for side, price, count, fee in history)
        assert inv.pnl_if(winner) == settled
    assert inv.worst_pnl(outcomes) == min(inv.pnl_if(o) for o in outcomes)
    sets = inv.locked_sets(outcomes)
    assert sets == min(sum(c for s, _, c, _ in history if s is o) for o in outcomes)
    if sets:  # a locked set pays $1 whatever happens: its profit never exceeds the worst outcome's bound
        assert inv.locked_set_profit(outcomes) <= sets * PRICE_SCALE - inv.fees


@st.composite
def inventories(draw: st.DrawFn, outcomes: tuple[Side, ...]) -> Inventory:
    inv = Inventory()
    for side, price, count, fee in draw(fills(outcomes)):
        inv = inv.apply_fill(side, price // CENT * CENT or CENT, count, fee % 20_000)
    return inv


@settings(max_examples=400, deadline=None)
@given(data=st.data(), three=st.booleans())
def test_no_bids_resting_at_once_complete_a_set_that_loses_after_fees(
    data: st.DataObject, three: bool
) -> None:
    """Fee-aware, theos adding up to at most 100c: bids on every outcome leave ≥ N × edge after fees; a
    rebalancing bid completes a set with the other outcomes' cost bases that keeps ≥ 1c after fees; and
    a whole bid filling never takes the most-held outcome more than inventory_max past the least held."""
    outcomes = THREE_WAY if three else TWO_WAY
    grid = data.draw(st.sampled_from(GRIDS))
    left = PRICE_SCALE
    theos = {}
    for side in outcomes:
        theos[side] = data.draw(st.integers(1, max(1, left - (len(outcomes) - len(theos) - 1))))
        left -= theos[side]
    if left < 0:
        return
    inputs = {}
    for side in outcomes:
        raw = data.draw(side_inputs(grid))
        inputs[side] = SideInput(theos[side], raw.book, raw.resting_price, raw.resting_size, grid)
    s = data.draw(quote_settings())
    s = QuoteSettings(s.edge, s.contracts, s.inventory_max, s.retest_interval_ms, s.backoff_ticks,
                      s.max_join_depth, True, s.fee_type, s.fee_multiplier)
    inv = data.draw(inventories(outcomes))
    decision = decide(inputs[Side.A], inputs[Side.B], s, inv, QuoteMemo(), 0, None,
                      t=inputs[Side.T] if three else None)
    quotes = dict(decision.quotes)
    assert tuple(quotes) == outcomes
    bids = {side: q for side, q in quotes.items() if q.price is not None}
    for side, q in bids.items():
        assert q.price is not None
        after = inv.apply_fill(side, q.price, q.size, 0)
        assert after.exposure(side, outcomes) <= max(s.inventory_max, inv.exposure(side, outcomes))
        if q.reason is Reason.REBALANCING:
            others = sum(inv.avg_cost(o) or PRICE_SCALE for o in outcomes if o is not side)
            assert q.price + planned_fee(q.price, q.size, s) + others <= PRICE_SCALE - CENT
            assert len(bids) == 1  # every other outcome is at the limit: nothing else is bid
    if len(bids) == len(outcomes):
        cost = sum(q.price + planned_fee(q.price, q.size, s) for q in bids.values() if q.price is not None)
        assert PRICE_SCALE - cost >= len(outcomes) * s.edge


def test_flipped_book_is_the_no_bidders_view() -> None:
    yes = Book(bids=((4500, 100), (4400, 300)), asks=((4700, 200), (4900, 100)))
    no = yes.flipped()
    assert no.bids == ((5300, 200), (5100, 100)) and no.asks == ((5500, 100), (5600, 300))
    assert no.flipped() == yes


def test_flipped_grid_mirrors_the_bands() -> None:
    tapered = TickGrid.from_price_ranges([
        {"start": "0", "end": "0.1", "step": "0.001"},
        {"start": "0.1", "end": "0.95", "step": "0.01"},
        {"start": "0.95", "end": "1", "step": "0.001"},
    ])
    no = tapered.flipped()
    for p in range(0, PRICE_SCALE + 1, 10):
        assert no.is_valid(p) == tapered.is_valid(PRICE_SCALE - p)
    assert no.flipped() == tapered


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_three_way_fills_of_our_own_quotes_never_push_the_worst_outcome_past_the_limit(
    data: st.DataObject,
) -> None:
    """Feed each decision's memo and prices back in and fill some quotes, on any of the three outcomes:
    the most-held outcome never ends more than inventory_max above the least held (unless it already
    was)."""
    grid = data.draw(st.sampled_from(GRIDS))
    s = data.draw(quote_settings())
    inv, memo, now = Inventory(), QuoteMemo(), 0
    for _ in range(data.draw(st.integers(1, 20))):
        now += data.draw(st.integers(0, 20_000))
        theos = [data.draw(st.integers(1_000, 5_000)) for _ in range(2)]
        theos.append(PRICE_SCALE - sum(theos))
        inputs = {}
        for side, theo in zip(THREE_WAY, theos, strict=True):
            raw = data.draw(side_inputs(grid))
            inputs[side] = SideInput(theo, raw.book, None, 0, grid)
        decision = decide(inputs[Side.A], inputs[Side.B], s, inv, memo, now, None, t=inputs[Side.T])
        memo = decision.memo
        for side, quote in decision.quotes:
            if quote.price is not None and data.draw(st.integers(0, 2)) == 0:
                before = inv.spread(THREE_WAY)
                fee = maker_fee(quote.price, quote.size, s.fee_type, s.fee_multiplier)
                inv = inv.apply_fill(side, quote.price, quote.size, fee)
                assert inv.spread(THREE_WAY) <= max(before, s.inventory_max)
