"""Planning the fewest order actions for one side (pure, no I/O)."""

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, contracts
from kmm_tui.engine.orders import OrderState, OwnOrder
from kmm_tui.engine.reconciler import Amend, Cancel, Create, Decrease, Priority, order_actions, plan_side


def resting(price: int, size: int, filled: int = 0, cid: str = "c1") -> OwnOrder:
    return OwnOrder(
        cid,
        "m",
        Side.A,
        "T-A",
        Price(price),
        contracts(size + filled),
        contracts(filled),
        order_id=f"o-{cid}",
        state=OrderState.RESTING,
    )


def test_leaves_a_correct_order_alone() -> None:
    assert plan_side(Side.A, Price(5500), contracts(10), [resting(5500, 10)]) == []


def test_creates_when_nothing_rests() -> None:
    assert plan_side(Side.A, Price(5500), contracts(10), []) == [Create(Side.A, Price(5500), contracts(10))]


def test_moves_price_with_one_amend_instead_of_cancel_replace() -> None:
    order = resting(5400, 10)
    actions = plan_side(Side.A, Price(5500), contracts(10), [order])
    assert actions == [Amend(order, Price(5500), contracts(10), Priority.OTHER)]


def test_lowering_a_bid_is_a_safer_move() -> None:
    order = resting(5500, 10)
    [action] = plan_side(Side.A, Price(5400), contracts(10), [order])
    assert isinstance(action, Amend) and action.priority is Priority.SAFER


def test_shrinks_with_decrease_to_keep_queue_priority() -> None:
    order = resting(5500, 10)
    assert plan_side(Side.A, Price(5500), contracts(4), [order]) == [Decrease(order, contracts(4))]


def test_a_partial_fill_alone_causes_no_write() -> None:
    """Topping up would cost the order its queue place and be a write caused by the fill alone."""
    order = resting(5500, 6, filled=4)
    assert plan_side(Side.A, Price(5500), contracts(10), [order]) == []


def test_a_partly_filled_order_is_resized_with_the_amend_that_moves_it() -> None:
    order = resting(5500, 6, filled=4)
    assert plan_side(Side.A, Price(5600), contracts(10), [order]) == [
        Amend(order, Price(5600), contracts(10), Priority.OTHER)
    ]


def test_an_unfilled_order_grows_when_the_size_grows() -> None:
    order = resting(5500, 5)
    assert plan_side(Side.A, Price(5500), contracts(10), [order]) == [
        Amend(order, Price(5500), contracts(10), Priority.OTHER)
    ]


def test_no_quote_cancels_everything_on_the_side() -> None:
    a, b = resting(5500, 10, cid="a"), resting(5400, 5, cid="b")
    assert plan_side(Side.A, None, Count(0), [a, b]) == [Cancel(a), Cancel(b)]


def test_duplicate_orders_keep_the_one_at_the_target_price() -> None:
    a, b = resting(5400, 10, cid="a"), resting(5500, 10, cid="b")
    assert plan_side(Side.A, Price(5500), contracts(10), [a, b]) == [Cancel(a)]


def test_waits_while_a_write_is_in_flight() -> None:
    order = resting(5400, 10)
    order.busy = True
    assert plan_side(Side.A, Price(5500), contracts(10), [order]) == []


def test_waits_while_an_order_state_is_unknown() -> None:
    order = resting(5400, 10)
    order.state = OrderState.UNKNOWN
    assert plan_side(Side.A, None, Count(0), [order]) == []


def test_cancels_go_before_everything_else() -> None:
    a, b = resting(5400, 10, cid="a"), resting(5500, 10, cid="b")
    actions = [
        Create(Side.B, Price(4000), contracts(1)),
        Cancel(a),
        Amend(b, Price(5300), contracts(10), Priority.SAFER),
    ]
    assert [type(x) for x in order_actions(actions)] == [Cancel, Amend, Create]
