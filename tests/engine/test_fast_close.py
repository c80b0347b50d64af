"""Kill all at the Basic tier is done in seconds, however many writes were waiting for tokens.

At 10 writes a second, a kill used to wait for every queued create and amend to be sent before its
first cancel, and then read each market's resting orders one by one (10 read tokens each): 40 matches
took 8 s, 200 took up to minutes (docs/benchmarks.md). Now the writes a stopping match has not sent are
dropped (never sent: the ledger knows they never happened), the cancels go out at once and the check
reads the account's resting orders in one call. The engine runs against the simulator at the Basic
tier; the set-up runs unthrottled so that only the kill is paced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.common import bench_spec, match_tickers, write_scenario
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import Event, MatchStatusChanged, OrderAction, OrderChanged
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.orders import OrderState
from kmm_tui.kalshi.ratelimit import TIERS, BucketName
from kmm_tui.sim import SimServer

from .conftest import Trading, connect, eventually, spec

MATCHES = 60
# Before the fix this kill took 6.9 s with the write gate and 16.6 s without; now 2.3 s either way, the
# cancels themselves (4 tokens a match from an empty bucket: 2.4 s at most).
KILL_WITHIN_S = 4.5
STATUS = {OrderState.CANCELLED: "canceled", OrderState.EXECUTED: "executed"}


def assert_ledger_is_the_exchange(engine: Engine, sim: SimServer) -> None:
    """After a kill: nothing live, and every order of the ledger is the exchange's (same id, state and
    price) — or, for a create that was never sent, unknown to the exchange."""
    ledger = engine._execution.orders
    assert ledger.live() == [], "the ledger still holds live orders"
    assert sim.exchange.resting_orders(sim.demo_account.user_id) == [], "orders left resting"
    theirs = {o.client_order_id: o for o in sim.exchange.account(sim.demo_account.user_id).orders.values()}
    ours = ledger.all()
    assert set(theirs) <= {o.client_order_id for o in ours}, "the exchange has orders the ledger lost"
    for order in ours:
        found = theirs.get(order.client_order_id)
        if order.order_id is None:
            assert found is None, f"{order.client_order_id} landed but the ledger says it was never sent"
            continue
        assert found is not None and found.order_id == order.order_id
        assert (STATUS[order.state], order.yes_price) == (found.status, found.price), order


def changes(events: list[Event], action: OrderAction) -> list[OrderChanged]:
    return [e for e in events if isinstance(e, OrderChanged) and e.action is action]


async def quoting_unthrottled(sim: SimServer, engine: Engine, n: int) -> list[tuple[str, str]]:
    """Every match quoting both sides, placed with both rate limits off; then the Basic tier again."""
    limiter = engine.rest.limiter
    sim.ctx.limiter.enabled = False
    limiter.configure(TIERS["prestige"])
    tickers = match_tickers(sim)
    specs = [bench_spec(f"m{i}", a, b) for i, (a, b) in enumerate(tickers)]
    for match_spec in specs:
        await engine.execute(cmd.AddMatch(match_spec, start=True))
    resting = lambda: len(sim.exchange.resting_orders(sim.demo_account.user_id))  # noqa: E731
    await eventually(lambda: resting() == 2 * n, within=30, what="every bid resting")
    limiter.configure(TIERS["basic"])
    sim.ctx.limiter.enabled = True
    return tickers


@pytest.fixture
async def many(tmp_path: Path) -> AsyncIterator[tuple[SimServer, Engine]]:
    async with SimServer(write_scenario(tmp_path, MATCHES), agents=False) as sim:
        engine, _ = await connect(sim)
        try:
            yield sim, engine
        finally:
            await engine.close()


@pytest.mark.parametrize("gate", [True, False], ids=["write_gate", "no_gate"])
async def test_kill_all_with_writes_queued_at_basic_is_done_in_seconds(
    many: tuple[SimServer, Engine], gate: bool
) -> None:
    sim, engine = many
    if not gate:  # writes queue in the rate limiter, each with the decision it carries
        engine._execution.gate = None
    tickers = await quoting_unthrottled(sim, engine, MATCHES)
    events: list[Event] = []
    engine.listen(events.append)
    for a, b in tickers:  # every bid must rise: two amends a match, at 10 writes a second
        sim.place_competitor_order(a, "bid", Price(5000), contracts(5))
        sim.place_competitor_order(b, "bid", Price(3000), contracts(5))
    await asyncio.sleep(0.5)
    waiting = engine._execution.gate.busy if gate else engine.rest.limiter.buckets[BucketName.WRITE].queued
    assert waiting, "writes are waiting for tokens when the kill comes"
    began = time.perf_counter()
    left = await engine.kill_all()
    took = time.perf_counter() - began
    assert left == 0
    assert took < KILL_WITHIN_S, f"kill all took {took:.1f} s"
    assert_ledger_is_the_exchange(engine, sim)
    if not gate:
        assert changes(events, OrderAction.NOT_SENT), "queued amends were dropped unsent"


async def test_a_stopped_match_drops_its_queued_writes_and_the_ledger_knows(trading: Trading) -> None:
    t = trading
    t.engine._execution.gate = None  # writes wait in the rate limiter
    bucket = t.engine.rest.limiter.buckets[BucketName.WRITE]
    a, b = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) is not None and t.our_price(b) is not None, what="both bids")
    placed = {o.ticker: o.price for o in t.resting()}
    bucket.tokens = -bucket.rate * 1.0  # the next write waits a second
    t.compete(a, 50)  # our bid on A must rise: an amend that waits for tokens
    await eventually(lambda: bucket.queued == 1, what="the amend queued")
    began = time.perf_counter()
    await t.engine.execute(cmd.StopMatch("m1"))
    assert time.perf_counter() - began < 2.0
    not_sent = changes(t.events, OrderAction.NOT_SENT)
    assert [(e.ticker, e.price) for e in not_sent] == [(a, placed[a])], "the amend left the order as it was"
    assert t.resting() == []
    assert_ledger_is_the_exchange(t.engine, t.sim)
    assert {e.ticker for e in changes(t.events, OrderAction.CANCELLED)} == {a, b}


async def test_a_create_dropped_unsent_never_exists(trading: Trading) -> None:
    t = trading
    t.engine._execution.gate = None
    bucket = t.engine.rest.limiter.buckets[BucketName.WRITE]


    def drain_once_quoting(event: Event) -> None:  # the order group is open: the creates will wait
        if isinstance(event, MatchStatusChanged) and event.status is MatchStatus.QUOTING:
            bucket.tokens = -bucket.rate * 2.0

    t.engine.listen(drain_once_quoting)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: bucket.queued == 2, what="both creates queued")
    began = time.perf_counter()
    await t.engine.execute(cmd.StopMatch("m1"))
    assert time.perf_counter() - began < 0.5, "nothing to wait for: no create was sent"
    not_sent = changes(t.events, OrderAction.NOT_SENT)
    assert len(not_sent) == 2 and all(e.order_id is None for e in not_sent)
    orders = t.engine._execution.orders.all("m1")
    assert [o.state for o in orders] == [OrderState.CANCELLED] * 2
    assert t.sim.exchange.account(t.account).orders == {}, "nothing reached the exchange"
    assert_ledger_is_the_exchange(t.engine, t.sim)
    assert t.view().status is MatchStatus.STOPPED


async def test_a_create_whose_runner_is_cancelled_is_left_to_be_read_back(trading: Trading) -> None:
    """A runner still busy 10 s after it was told to stop is cancelled (``join_runner``): a create it was
    sending may or may not have left, so the order is UNKNOWN (read back), not pending forever with a
    look-up by market every second that starved the read bucket."""
    t = trading
    t.engine._execution.gate = None
    bucket = t.engine.rest.limiter.buckets[BucketName.WRITE]

    def drain_once_quoting(event: Event) -> None:
        if isinstance(event, MatchStatusChanged) and event.status is MatchStatus.QUOTING:
            bucket.tokens = -bucket.rate * 30.0

    t.engine.listen(drain_once_quoting)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: bucket.queued == 2, what="both creates queued")
    match = t.engine._matches["m1"]
    assert match.task is not None
    match.task.cancel()  # as join_runner does after its 10 s
    with contextlib.suppress(asyncio.CancelledError):
        await match.task
    match.task = None
    orders = t.engine._execution.orders.all("m1")
    assert [(o.state, o.busy) for o in orders] == [(OrderState.UNKNOWN, False)] * 2
