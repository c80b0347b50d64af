"""Matching engine and accounts: order types, priority, STP, amend/decrease/cancel, groups, lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.domain.prices import MONEY_SCALE, PRICE_SCALE, Count, Money, Price
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.events import BookDelta, GroupEvent
from kmm_tui.sim.exchange import AmendRequest, Exchange, OrderRequest
from kmm_tui.sim.fees import fill_fee
from tests.sim.simkit import NBA, TICKER, FakeClock, make_exchange

DOLLARS = MONEY_SCALE


def c(n: float) -> Count:
    return Count(round(n * 100))


def p(cents: float) -> Price:
    return Price(round(cents * 100))


def req(side: str, cents: float, n: float, ticker: str = TICKER, **kw: object) -> OrderRequest:
    return OrderRequest(ticker, side, p(cents), c(n), **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ex(clock: FakeClock) -> Exchange:
    exchange = make_exchange(clock)
    for name in ("alice", "bob", "carol"):
        exchange.open_account(name, Money(1000 * DOLLARS))
    return exchange


def expect(code: str, fn: object, *args: object, **kwargs: object) -> SimError:
    with pytest.raises(SimError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value
    return info.value


# --- fees -------------------------------------------------------------------------------------------


def test_fees_match_the_documented_examples() -> None:
    # taker 1 @ 0.52 -> 0.0175; maker 5 @ 0.61 on a maker-fee series -> 0.0209; taker 4 @ 0.58 -> 0.0683
    assert fill_fee("quadratic", Decimal(1), 5200, c(1), is_taker=True) == 17_500
    assert fill_fee("quadratic_with_maker_fees", Decimal(1), 6100, c(5), is_taker=False) == 20_900
    assert fill_fee("quadratic", Decimal(1), 5800, c(4), is_taker=True) == 68_300
    assert fill_fee("quadratic", Decimal(1), 5000, c(1), is_taker=False) == 0
    assert (
        fill_fee("quadratic_with_maker_fees", Decimal(1), 5000, c(1), is_taker=False) == 4_400
    )  # 0.4375c up
    assert fill_fee("quadratic", Decimal(0), 5000, c(100), is_taker=True) == 0


# --- basic matching ---------------------------------------------------------------------------------


def test_resting_bid_reserves_collateral_and_ask_reserves_one_minus_price(ex: Exchange) -> None:
    ex.create_order("alice", req("bid", 55, 10))
    ex.create_order("alice", req("ask", 60, 10))
    alice = ex.accounts["alice"]
    assert alice.reserved == c(10) * p(55) + c(10) * p(40)
    assert alice.available == 1000 * DOLLARS - alice.reserved


def test_cross_trades_at_maker_price_and_books_positions_and_fees(ex: Exchange) -> None:
    ex.create_order("alice", req("bid", 55, 10))  # maker YES bid
    result = ex.create_order("bob", req("ask", 50, 4, time_in_force="immediate_or_cancel"))
    assert result.filled_now == c(4)
    assert result.order.status == "executed" and result.order.remaining == 0
    alice, bob = ex.accounts["alice"], ex.accounts["bob"]
    assert alice.positions[TICKER].position == c(4)
    assert bob.positions[TICKER].position == -c(4)
    assert alice.positions[TICKER].cost == c(4) * p(55)
    assert bob.positions[TICKER].cost == c(4) * p(45)  # NO at 1 - 0.55
    taker_fee = fill_fee("quadratic", Decimal(1), p(55), c(4), is_taker=True)
    assert bob.fills[0].fee == taker_fee and alice.fills[0].fee == 0
    assert bob.cash == 1000 * DOLLARS - c(4) * p(45) - taker_fee
    assert ex.markets[TICKER].open_interest == c(4)
    assert ex.books[TICKER].yes_levels() == {p(55): c(6)}


def test_maker_fee_series_charges_makers(ex: Exchange) -> None:
    ex.create_order("alice", req("ask", 61, 5, ticker=NBA))
    ex.create_order("bob", req("bid", 61, 5, ticker=NBA))
    assert ex.accounts["alice"].fills[0].fee == 20_900
    assert ex.accounts["alice"].positions[NBA].position == -c(5)


def test_price_then_time_priority(ex: Exchange) -> None:
    first = ex.create_order("alice", req("bid", 55, 5)).order
    second = ex.create_order("bob", req("bid", 55, 5)).order
    better = ex.create_order("alice", req("bid", 56, 2)).order
    ex.create_order("carol", req("ask", 55, 8, time_in_force="immediate_or_cancel"))
    assert better.fill_count == c(2) and better.status == "executed"
    assert first.fill_count == c(5) and first.status == "executed"
    assert second.fill_count == c(1) and second.remaining == c(4)


def test_yes_bid_crosses_no_bid_at_one_minus_price(ex: Exchange) -> None:
    ex.create_order("alice", req("ask", 58, 10))  # NO bid at 0.42
    assert ex.books[TICKER].no_levels() == {p(42): c(10)}
    result = ex.create_order("bob", req("bid", 60, 3))
    assert result.filled_now == c(3)
    assert ex.accounts["bob"].fills[0].yes_price == p(58)


def test_post_only_cross_is_rejected_and_leaves_nothing(ex: Exchange) -> None:
    ex.create_order("alice", req("ask", 55, 10))
    err = expect("invalid_order", ex.create_order, "bob", req("bid", 55, 1, post_only=True))
    assert err.details == "post only cross" and err.status == 400
    assert ex.accounts["bob"].orders == {}


def test_ioc_without_liquidity_is_cancelled_on_arrival(ex: Exchange) -> None:
    result = ex.create_order("alice", req("bid", 40, 3, time_in_force="immediate_or_cancel"))
    assert result.order.status == "canceled" and result.order.fill_count == 0 and result.order.remaining == 0


def test_fill_or_kill(ex: Exchange) -> None:
    ex.create_order("alice", req("ask", 55, 3))
    killed = ex.create_order("bob", req("bid", 56, 5, time_in_force="fill_or_kill")).order
    assert killed.status == "canceled" and killed.fill_count == 0
    assert ex.books[TICKER].asks[p(55)][0].remaining == c(3)
    filled = ex.create_order("bob", req("bid", 56, 3, time_in_force="fill_or_kill")).order
    assert filled.status == "executed" and filled.fill_count == c(3)


def test_stp_taker_at_cross_stops_the_incoming_order(ex: Exchange) -> None:
    ex.create_order("carol", req("bid", 56, 2))
    own = ex.create_order("alice", req("bid", 55, 10)).order
    result = ex.create_order(
        "alice", req("ask", 50, 5, time_in_force="immediate_or_cancel", stp="taker_at_cross")
    )
    assert result.order.fill_count == c(2)  # the earlier fill stands
    assert result.order.remaining == 0 and result.order.status == "canceled"
    assert own.status == "resting" and own.remaining == c(10)


def test_stp_maker_cancels_own_resting_and_continues(ex: Exchange) -> None:
    own = ex.create_order("alice", req("bid", 56, 10)).order
    ex.create_order("carol", req("bid", 55, 10))
    result = ex.create_order("alice", req("ask", 55, 4, time_in_force="immediate_or_cancel", stp="maker"))
    assert own.status == "canceled"
    assert result.order.fill_count == c(4)
    assert ex.accounts["carol"].positions[TICKER].position == c(4)


def test_client_order_id_is_unique_forever(ex: Exchange) -> None:
    order = ex.create_order("alice", req("bid", 50, 1, client_order_id="abc")).order
    ex.cancel_order("alice", order.order_id)
    err = expect("order_already_exists", ex.create_order, "alice", req("bid", 50, 1, client_order_id="abc"))
    assert err.status == 409
    ex.create_order("bob", req("bid", 50, 1, client_order_id="abc"))  # per account


def test_off_grid_price_and_bad_sizes(ex: Exchange) -> None:
    expect("invalid_price", ex.create_order, "alice", req("bid", 55.5, 1))
    expect("invalid_price", ex.create_order, "alice", req("bid", 100, 1))
    expect("invalid_order_size", ex.create_order, "alice", req("bid", 55, 0))


def test_insufficient_balance(ex: Exchange) -> None:
    ex.open_account("poor", Money(5 * DOLLARS))
    expect("insufficient_balance", ex.create_order, "poor", req("bid", 50, 11))
    ex.create_order("poor", req("bid", 50, 9))
    expect("insufficient_balance", ex.create_order, "poor", req("bid", 50, 2))


def test_buying_the_other_leg_redeems_pairs_and_realises_pnl(ex: Exchange) -> None:
    ex.create_order("alice", req("bid", 40, 10))
    ex.create_order("bob", req("ask", 40, 10, time_in_force="immediate_or_cancel"))  # alice long 10 @ 0.40
    ex.create_order("carol", req("bid", 50, 10))
    ex.create_order("alice", req("ask", 50, 10, time_in_force="immediate_or_cancel"))  # alice sells @ 0.50
    pos = ex.accounts["alice"].positions[TICKER]
    assert pos.position == 0 and pos.cost == 0
    assert pos.realized_pnl == c(10) * p(10)  # +$1.00
    fee = ex.accounts["alice"].fills[-1].fee
    assert ex.accounts["alice"].cash == 1000 * DOLLARS + DOLLARS - fee


# --- amend / decrease / cancel ----------------------------------------------------------------------


def test_amend_price_moves_to_back_and_size_down_keeps_priority(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 55, 10)).order
    b = ex.create_order("bob", req("bid", 55, 10)).order
    ex.amend_order("alice", a.order_id, AmendRequest(TICKER, "bid", p(55), c(6)))
    assert [o.order_id for o in ex.books[TICKER].bids[p(55)]] == [a.order_id, b.order_id]
    ex.amend_order("alice", a.order_id, AmendRequest(TICKER, "bid", p(55), c(8)))  # size up: back
    assert [o.order_id for o in ex.books[TICKER].bids[p(55)]] == [b.order_id, a.order_id]
    ex.amend_order("bob", b.order_id, AmendRequest(TICKER, "bid", p(54), c(10)))
    ex.amend_order("bob", b.order_id, AmendRequest(TICKER, "bid", p(55), c(10)))
    assert [o.order_id for o in ex.books[TICKER].bids[p(55)]] == [a.order_id, b.order_id]
    assert ex.accounts["alice"].reserved == c(8) * p(55)


def test_amend_count_includes_filled_and_crossing_amend_trades(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 55, 10, client_order_id="a1")).order
    ex.create_order("bob", req("ask", 55, 4, time_in_force="immediate_or_cancel"))
    assert a.fill_count == c(4) and a.remaining == c(6)
    result = ex.amend_order(
        "alice", a.order_id, AmendRequest(TICKER, "bid", p(54), c(10), "a1", updated_client_order_id="a2")
    )
    assert result.order.remaining == c(6) and result.order.client_order_id == "a2"
    ex.create_order("carol", req("ask", 57, 3))
    crossing = ex.amend_order("alice", a.order_id, AmendRequest(TICKER, "bid", p(57), c(10)))
    assert crossing.filled_now == c(3) and crossing.order.remaining == c(3)
    expect(
        "invalid_order_size", ex.amend_order, "alice", a.order_id, AmendRequest(TICKER, "bid", p(57), c(7))
    )


def test_amend_mismatches(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 55, 10, client_order_id="x")).order
    expect(
        "order_side_mismatch", ex.amend_order, "alice", a.order_id, AmendRequest(TICKER, "ask", p(55), c(5))
    )
    expect(
        "order_ticker_mismatch", ex.amend_order, "alice", a.order_id, AmendRequest(NBA, "bid", p(55), c(5))
    )
    expect(
        "order_id_and_client_order_id_mismatch",
        ex.amend_order,
        "alice",
        a.order_id,
        AmendRequest(TICKER, "bid", p(55), c(5), client_order_id="y"),
    )
    expect("not_found", ex.amend_order, "bob", a.order_id, AmendRequest(TICKER, "bid", p(55), c(5)))


def test_post_only_amend_that_would_cross_is_rejected_and_keeps_the_order(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 50, 10, post_only=True)).order
    ex.create_order("bob", req("ask", 55, 10))
    expect("invalid_order", ex.amend_order, "alice", a.order_id, AmendRequest(TICKER, "bid", p(56), c(10)))
    assert a.price == p(50) and ex.books[TICKER].bids[p(50)] == [a]


def test_decrease_and_cancel(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 55, 10)).order
    ex.decrease_order("alice", a.order_id, reduce_by=c(3))
    assert a.remaining == c(7)
    ex.decrease_order("alice", a.order_id, reduce_to=c(2))
    assert a.remaining == c(2) and ex.accounts["alice"].reserved == c(2) * p(55)
    expect("invalid_parameters", ex.decrease_order, "alice", a.order_id, reduce_by=c(1), reduce_to=c(1))
    order, reduced = ex.cancel_order("alice", a.order_id)
    assert reduced == c(2) and order.status == "canceled" and ex.accounts["alice"].reserved == 0
    expect("not_found", ex.cancel_order, "alice", a.order_id)  # already cancelled
    expect("not_found", ex.cancel_order, "alice", "no-such-order")
    b = ex.create_order("alice", req("bid", 55, 1)).order
    ex.create_order("bob", req("ask", 55, 1))
    assert b.status == "executed"
    expect("not_found", ex.cancel_order, "alice", b.order_id)  # already executed


def test_decrease_to_zero_cancels(ex: Exchange) -> None:
    a = ex.create_order("alice", req("bid", 55, 10)).order
    ex.decrease_order("alice", a.order_id, reduce_to=Count(0))
    assert a.status == "canceled" and not ex.books[TICKER].bids


def test_cancel_all(ex: Exchange) -> None:
    for cents in (50, 51, 52):
        ex.create_order("alice", req("bid", cents, 1))
    ex.create_order("bob", req("bid", 49, 1))
    assert len(ex.cancel_all("alice")) == 3
    assert list(ex.books[TICKER].bids) == [p(49)]


def test_expiration_time_cancels_the_order(ex: Exchange, clock: FakeClock) -> None:
    a = ex.create_order("alice", req("bid", 55, 1, expiration_ms=clock.now + 5_000)).order
    expect("invalid_parameters", ex.create_order, "alice", req("bid", 55, 1, expiration_ms=clock.now - 1))
    clock.now += 4_999
    ex.sweep()
    assert a.status == "resting"
    clock.now += 1
    ex.sweep()
    assert a.status == "canceled"


# --- order groups -----------------------------------------------------------------------------------


def test_order_group_triggers_on_matched_limit_and_rejects_until_reset(
    ex: Exchange, clock: FakeClock
) -> None:
    events: list[GroupEvent] = []
    ex.listeners.append(lambda e: events.append(e) if isinstance(e, GroupEvent) else None)
    group = ex.create_order_group("alice", c(5))
    a = ex.create_order("alice", req("bid", 55, 10, order_group_id=group.group_id)).order
    b = ex.create_order("alice", req("ask", 60, 10, order_group_id=group.group_id)).order
    ex.create_order("bob", req("ask", 55, 3, time_in_force="immediate_or_cancel"))
    assert not group.triggered
    clock.now += 16_000  # the first 3 leave the 15 s window
    ex.create_order("bob", req("ask", 55, 3, time_in_force="immediate_or_cancel"))
    assert not group.triggered
    ex.create_order("bob", req("ask", 55, 2, time_in_force="immediate_or_cancel"))
    assert group.triggered
    assert a.status == "canceled" and b.status == "canceled"
    expect("invalid_order", ex.create_order, "alice", req("bid", 50, 1, order_group_id=group.group_id))
    ex.reset_order_group("alice", group.group_id)
    ex.create_order("alice", req("bid", 50, 1, order_group_id=group.group_id))
    assert [e.event_type for e in events] == ["created", "triggered", "reset"]


def test_order_group_manual_trigger_limit_and_delete(ex: Exchange) -> None:
    group = ex.create_order_group("alice", c(50))
    a = ex.create_order("alice", req("bid", 55, 10, order_group_id=group.group_id)).order
    ex.trigger_order_group("alice", group.group_id)
    assert a.status == "canceled" and group.triggered
    ex.reset_order_group("alice", group.group_id)
    ex.create_order("alice", req("bid", 55, 4, order_group_id=group.group_id))
    ex.create_order("bob", req("ask", 55, 4, time_in_force="immediate_or_cancel"))
    d = ex.create_order("alice", req("bid", 54, 1, order_group_id=group.group_id)).order
    ex.set_order_group_limit("alice", group.group_id, c(4))  # already at the limit: triggers
    assert group.triggered and d.status == "canceled"
    ex.delete_order_group("alice", group.group_id)
    expect("not_found", ex.order_group, "alice", group.group_id)


def test_group_limit_hit_by_a_taker_stops_it_from_resting(ex: Exchange) -> None:
    group = ex.create_order_group("alice", c(2))
    ex.create_order("bob", req("ask", 55, 5))
    taker = ex.create_order("alice", req("bid", 55, 10, order_group_id=group.group_id)).order
    assert group.triggered and taker.status == "canceled" and taker.fill_count == c(5)
    assert not ex.books[TICKER].bids


# --- market lifecycle -------------------------------------------------------------------------------


def test_pause_cancels_flagged_orders_and_blocks_new_ones(ex: Exchange) -> None:
    flagged = ex.create_order("alice", req("bid", 55, 1, cancel_on_pause=True)).order
    kept = ex.create_order("alice", req("bid", 54, 1)).order
    ex.pause_market(TICKER)
    assert flagged.status == "canceled" and kept.status == "resting"
    expect("market_inactive", ex.create_order, "alice", req("bid", 50, 1))
    ex.cancel_order("alice", kept.order_id)  # cancels still work while paused
    ex.resume_market(TICKER)
    ex.create_order("alice", req("bid", 50, 1))


def test_pause_then_resume_cancels_every_resting_order(ex: Exchange) -> None:
    unflagged = ex.create_order("alice", req("bid", 54, 1)).order
    other = ex.create_order("bob", req("ask", 60, 2)).order
    elsewhere = ex.create_order("alice", req("bid", 40, 1, ticker=NBA)).order
    ex.pause_market(TICKER)
    assert unflagged.status == "resting", "only flagged orders go at the pause itself"
    ex.resume_market(TICKER)
    assert unflagged.status == other.status == "canceled"
    assert elsewhere.status == "resting"
    assert ex.accounts["alice"].reserved == elsewhere.reserved


def test_resume_keeps_unflagged_orders_when_the_switch_is_off(ex: Exchange) -> None:
    ex.fidelity.resume_cancels_all = False
    kept = ex.create_order("alice", req("bid", 54, 1)).order
    ex.pause_market(TICKER)
    ex.resume_market(TICKER)
    assert kept.status == "resting"


def test_close_and_settle_pay_out(ex: Exchange) -> None:
    ex.create_order("alice", req("bid", 60, 10))
    ex.create_order("bob", req("ask", 60, 10, time_in_force="immediate_or_cancel"))
    resting = ex.create_order("carol", req("bid", 30, 5)).order
    ex.settle_market(TICKER, "yes")
    assert resting.status == "canceled"
    market = ex.markets[TICKER]
    assert market.status == "finalized" and market.result == "yes" and market.open_interest == 0
    alice, bob = ex.accounts["alice"], ex.accounts["bob"]
    assert alice.cash == 1000 * DOLLARS + c(10) * p(40)  # paid 6.00, got 10.00 (maker: no fee)
    bob_fee = bob.fills[0].fee
    assert bob.cash == 1000 * DOLLARS - c(10) * p(40) - bob_fee
    assert alice.positions[TICKER].realized_pnl == c(10) * p(40)
    assert alice.settlements[0].revenue == 10 * DOLLARS
    expect("market_closed", ex.create_order, "alice", req("bid", 50, 1))
    expect("market_closed", ex.settle_market, TICKER, "no")


def test_book_deltas_reconstruct_the_book(ex: Exchange) -> None:
    deltas: list[BookDelta] = []
    ex.listeners.append(lambda e: deltas.append(e) if isinstance(e, BookDelta) else None)
    ex.create_order("alice", req("bid", 55, 10, client_order_id="mine"))
    ex.create_order("bob", req("ask", 58, 4))
    ex.create_order("carol", req("ask", 55, 3, time_in_force="immediate_or_cancel"))
    ex.amend_order("bob", ex.resting_orders("bob")[0].order_id, AmendRequest(TICKER, "ask", p(59), c(4)))
    yes: dict[int, int] = {}
    no: dict[int, int] = {}
    for d in deltas:
        side = yes if d.side == "yes" else no
        side[d.price] = side.get(d.price, 0) + d.delta
    assert {k: v for k, v in yes.items() if v} == ex.books[TICKER].yes_levels()
    assert {k: v for k, v in no.items() if v} == ex.books[TICKER].no_levels()
    assert deltas[0].client_order_id == "mine" and deltas[0].account_id == "alice"
    assert no == {PRICE_SCALE - p(58): 0, PRICE_SCALE - p(59): c(4)}
