"""The order ledger against the simulator: rejected writes, partial fills, order groups and the sweep.

Each test checks the ledger's invariant as it goes: the orders of ours resting on the exchange are
exactly the orders the ledger owns as live.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import OrderAction, OrderChanged
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.orders import OrderState, OwnOrder
from kmm_tui.engine.reconciler import Amend, Priority
from kmm_tui.sim import SimServer
from kmm_tui.sim.exchange import OrderRequest
from kmm_tui.sim.fidelity import Fidelity

from .conftest import QUIET, Trading, eventually, spec, trading_on
from .test_recovery import crash, start_engine


def ledger_matches_exchange(t: Trading) -> bool:
    """The invariant: our resting orders on the exchange are exactly the ledger's live ones."""
    return {o.order_id for o in t.resting()} == t.engine._orders.live_ids()


def writes_on(t: Trading, ticker: str, since: int) -> list[OrderChanged]:
    return [
        e
        for e in t.events[since:]
        if isinstance(e, OrderChanged) and e.ticker == ticker and e.action is not OrderAction.CANCELLED
    ]


async def test_a_rejected_amend_leaves_the_order_live_and_no_second_bid_beside_it(trading: Trading) -> None:
    """Post-only cross on an amend: the order still rests at its old price. It must stay the ledger's
    (not booked as cancelled), and the side must not place a second bid next to it."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) == 5500, what="bid at 55c")
    t.compete(a, 57, side="ask")  # an ask at 57c: a bid at 57c would cross it
    match = t.engine._matches["m1"]
    [order] = t.engine._orders.live("m1", Side.A)
    await t.engine._execution._apply(match, Amend(order, Price(5700), order.remaining, Priority.OTHER))
    await eventually(lambda: order.state is OrderState.RESTING, what="the rejected amend read back")
    assert order.price == 5500 and order.is_live
    await asyncio.sleep(0.5)
    assert len(t.resting(a)) == 1 and t.our_price(a) == 5500
    assert ledger_matches_exchange(t)


async def test_an_amend_refused_for_balance_halts_and_leaves_nothing_resting(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    t.compete(b, 34)
    await t.engine.execute(cmd.AddMatch(spec(t, size=10), start=True))
    await eventually(lambda: t.our_price(a) == 5500 and t.our_price(b) == 3500, what="bids at 55c / 35c")
    account = t.sim.exchange.account(t.account)
    account.cash = Money(account.reserved)  # nothing left to raise a bid with
    t.compete(a, 55)  # outbid: the engine amends up, the exchange refuses for balance
    await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted on insufficient balance")
    await eventually(lambda: t.resting() == [], what="every order pulled")
    assert t.engine._orders.live_ids() == set()


async def test_a_partial_fill_causes_no_write_and_no_self_outbid(trading: Trading) -> None:
    """The feed still shows the filled contracts for a moment: they are ours, not a competitor's."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    await t.engine.execute(cmd.AddMatch(spec(t, size=10), start=True))
    await eventually(lambda: t.our_price(a) == 5500, what="bid at 55c")
    await asyncio.sleep(0.3)
    mark = len(t.events)
    t.compete(a, 55, count=3, side="ask")  # a taker fills 3 of our 10
    await eventually(lambda: t.view().inventory.count_long_a == contracts(3), what="partial fill")
    await asyncio.sleep(1.0)
    assert writes_on(t, a, mark) == [], "a fill alone caused a write"
    [resting] = t.resting(a)
    assert (resting.price, resting.remaining) == (5500, contracts(7))
    assert ledger_matches_exchange(t)


async def test_the_sweep_cancels_a_resting_order_of_ours_the_ledger_does_not_own(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    stray = t.sim.exchange.create_order(
        t.account, OrderRequest(a, "bid", Price(2000), contracts(3), client_order_id="kmm-stray")
    ).order
    assert not ledger_matches_exchange(t)
    await t.engine._sweeps.reconcile_orders()
    await eventually(lambda: stray.status != "resting", what="the stray cancelled")
    assert ledger_matches_exchange(t) and len(t.resting()) == 2
    assert t.engine._sweeps.strays_cancelled == 1


async def test_a_triggered_order_group_is_replaced_when_the_match_starts_again(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with SimServer(QUIET, agents=False) as sim:
        engine = await start_engine(sim, Journal(path))
        t = Trading(sim, engine, engine._x.feed)
        await engine.execute(cmd.AddMatch(spec(t), start=True))
        await eventually(lambda: len(t.resting()) == 2, what="two bids")
        group = engine._matches["m1"].order_group_id
        assert group is not None
        sim.exchange.trigger_order_group(t.account, group)
        await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted by the group")
        await crash(engine)

        restarted = await start_engine(sim, Journal(path))
        t = Trading(sim, restarted, restarted._x.feed)
        try:
            await restarted.execute(cmd.StartMatch("m1"))
            await eventually(lambda: len(t.resting()) == 2, what="quoting again after the restart")
            fresh = restarted._matches["m1"].order_group_id
            assert fresh is not None and fresh != group
            assert {o.order_group_id for o in t.resting()} == {fresh}
        finally:
            await restarted.close()
        assert t.resting() == []


def own(cid: str, order_id: str | None = None, state: OrderState = OrderState.PENDING) -> OwnOrder:
    return OwnOrder(cid, "m", Side.A, "T", Price(5000), contracts(5), order_id=order_id, state=state)


def test_an_amend_that_answers_with_a_new_id_moves_the_order_to_it() -> None:
    ledger = OrderLedger()
    order = own("kmm-1", "old", OrderState.RESTING)
    ledger.add(order)
    ledger.bind(order, "new")
    assert ledger.by_order_id("new") is order and ledger.by_order_id("old") is None
    assert ledger.live_ids() == {"new"}


def test_the_sweep_plan_keeps_a_create_in_flight_and_cancels_what_the_ledger_gave_up() -> None:
    ledger = OrderLedger()
    pending = own("kmm-p")  # create sent, no reply yet
    gone = own("kmm-g", "g", OrderState.CANCELLED)
    live = own("kmm-l", "l", OrderState.RESTING)
    for order in (pending, gone, live):
        ledger.add(order)
    plan = ledger.sweep({"p": "kmm-p", "g": "kmm-g", "x": "other-tool"}, settled_before_ms=10)
    assert plan.cancel == ("g",)  # ours, resting, but the ledger thinks it gone; other tools untouched
    assert plan.look_up == (live,)  # the ledger has it resting; the exchange does not show it
    gone.last_write_ms = 20  # the exchange told us it was cancelled after the read was taken
    assert ledger.sweep({"g": "kmm-g"}, settled_before_ms=10).cancel == ()


async def test_a_wrong_hand_correction_halts_with_a_hint_and_the_exchange_position_is_shown(
    trading: Trading,
) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) == 5500, what="bid at 55c")
    t.compete(a, 55, count=2, side="ask")
    await eventually(lambda: t.view().inventory.count_long_a == contracts(2), what="fill of 2")
    await t.engine._portfolio.sync_positions()
    assert t.view().exchange_positions == (contracts(2), contracts(0))
    await t.engine.execute(cmd.CorrectInventory("m1", contracts(5), contracts(0), None, None))
    t.engine._matches["m1"].drift_since_ms = 0  # the grace period has long passed
    t.engine._matches["m1"].wake.set()
    await eventually(lambda: t.view().status is MatchStatus.HALTED, what="drift halt")
    assert "corrected by hand" in t.view().status_reason
    assert t.view().exchange_positions == (contracts(2), contracts(0))


async def test_an_edge_below_one_tick_is_refused_on_add_and_on_edit(trading: Trading) -> None:
    t = trading
    with pytest.raises(EngineError, match="at least one tick") as refused:
        await t.engine.execute(cmd.AddMatch(spec(t, edge=0)))
    assert refused.value.field == "edge"
    await t.engine.execute(cmd.AddMatch(spec(t)))
    with pytest.raises(EngineError, match="at least one tick"):
        await t.engine.execute(cmd.UpdateMatch("m1", settings=replace(spec(t).settings, edge=Price(0))))
    assert t.view().spec.settings.edge == Price(200)


async def test_an_order_settled_by_a_read_back_is_found_by_its_exchange_id() -> None:
    """A create answered with a 5xx after the exchange applied it is settled by reading the market's
    orders at once, before the (lagging) feed shows it; the id found there must reach the ledger's
    index, or a fill or update that names only the exchange's id would not find the order."""
    lost = Fidelity(write_fail_after_pct=100, write_failures=("5xx",), feed_lag_ms=1_000)
    async with trading_on(lost) as t:
        a, _ = t.tickers("KXCS2GAME")
        await t.engine.execute(cmd.AddMatch(spec(t), start=True))
        await eventually(lambda: len(t.resting(a)) == 1, what="the create applied on the exchange")
        t.sim.fidelity.write_fail_after_pct = 0
        [landed] = t.resting(a)
        ours = t.engine._orders.by_client(landed.client_order_id)
        assert ours is not None
        await eventually(lambda: ours.state is OrderState.RESTING, what="the order read back")
        assert ours.order_id == landed.order_id
        assert t.engine._orders.by_order_id(landed.order_id) is ours
