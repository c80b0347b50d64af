"""The engine under exchange faults: dropped sockets, sequence gaps, timeouts, 429s, crashing runners."""

from __future__ import annotations

import asyncio

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.model import MatchStatus
from kmm_tui.kalshi.rest import RetryPolicy
from kmm_tui.sim import Fidelity, SimServer
from kmm_tui.sim.exchange import OrderRequest

from .conftest import QUIET, Trading, connect, eventually, spec


async def test_no_fill_is_lost_when_the_websocket_drops_mid_fill(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    await t.engine.execute(cmd.AddMatch(spec(t, size=10), start=True))
    await eventually(lambda: t.our_price(a) == 5500, what="bid at 55c")
    reconnects = t.feed.health().reconnects
    t.sim.faults.drop_websockets()
    t.compete(a, 55, count=3, side="ask")  # fills while our socket is down
    t.compete(a, 55, count=2, side="ask")
    await eventually(lambda: t.feed.health().reconnects > reconnects, what="feed reconnected")
    await eventually(lambda: t.view().inventory.count_long_a == contracts(5), what="both fills counted")
    exchange_fills = [f for f in t.sim.exchange.account(t.account).fills if f.ticker == a]
    assert len(exchange_fills) == 2 and len(t.view().fills) == 2
    await eventually(lambda: not t.view().market_a.stale, what="fresh book after resnapshot")


async def test_a_sequence_gap_resnapshots_the_book_and_quoting_goes_on(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) is not None, what="first bid")
    gaps = t.feed.gaps
    t.sim.faults.skip_seq()
    t.compete(a, 50)
    await eventually(lambda: t.feed.gaps > gaps, what="gap detected")
    t.compete(a, 52)
    await eventually(lambda: t.our_price(a) == 5300, what="outbid 52c after the resnapshot")
    assert not t.view().market_a.stale


async def test_a_create_that_times_out_is_resolved_without_a_duplicate_order() -> None:
    async with SimServer(QUIET, agents=False) as sim:
        engine, _ = await connect(sim, timeout_s=0.3, retry=RetryPolicy(attempts=2))
        t = Trading(sim, engine, _)
        try:
            await engine.execute(cmd.AddMatch(spec(t)))
            await engine.execute(cmd.StartMatch("m1"))
            sim.faults.latency_ms(500)  # the creates answer after our timeout, but are processed
            await asyncio.sleep(1.5)
            sim.faults.clear()
            a, b = t.tickers("KXCS2GAME")
            await eventually(
                lambda: len(t.resting(a)) == 1 and len(t.resting(b)) == 1,
                within=15,
                what="exactly one bid per side",
            )
            await eventually(
                lambda: all(o.state == "resting" for o in t.view().orders), within=15, what="orders resolved"
            )
            await asyncio.sleep(0.5)
            assert len(t.resting(a)) == 1 and len(t.resting(b)) == 1
        finally:
            await engine.close()
        assert t.resting() == []


async def test_a_429_storm_delays_but_does_not_break_quoting(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t)))
    await t.engine.execute(cmd.StartMatch("m1"))
    t.sim.faults.rate_limit(20)  # the next 20 requests, our first creates among them, answer 429
    await eventually(lambda: len(t.resting()) == 2, within=15, what="both bids despite 429s")
    t.compete(a, 56)
    await eventually(lambda: t.our_price(a) == 5700, within=10, what="outbid after the storm")


async def test_a_5xx_burst_on_writes_recovers(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t)))
    await t.engine.execute(cmd.StartMatch("m1"))
    t.sim.faults.http_errors(6, status=503)
    await eventually(lambda: len(t.resting()) == 2, within=15, what="both bids after the 503s")
    assert t.view().status is MatchStatus.QUOTING


async def test_a_runner_that_raises_halts_only_its_own_match(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    lol = spec(t, "KXLOLGAME", theo_a=50)
    lol = type(lol)("m2", lol.ticker_a, lol.ticker_b, lol.theo, lol.settings)
    await t.engine.execute(cmd.AddMatch(lol, start=True))
    await eventually(lambda: len(t.resting()) == 4, what="four bids")
    runtime = t.engine._matches["m2"]
    runtime.memo = None  # corrupt one match's state: its next decision raises inside the runner
    runtime.wake.set()
    await eventually(lambda: t.view("m2").status is MatchStatus.HALTED, what="m2 halted")
    a2, b2 = t.tickers("KXLOLGAME")
    assert t.resting(a2) == [] and t.resting(b2) == []
    assert t.view("m1").status is MatchStatus.QUOTING
    assert len(t.resting()) == 2


async def test_kill_all_leaves_nothing_resting(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    await t.engine.execute(cmd.KillAll())
    assert t.resting() == []
    assert t.view().status is MatchStatus.STOPPED


async def test_a_triggered_order_group_halts_the_match(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    group = t.engine._matches["m1"].order_group_id
    assert group is not None
    t.sim.exchange.trigger_order_group(t.account, group)  # as if the matched-contracts limit was hit
    await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted by the order group guard")
    assert "order group" in t.view().status_reason
    assert t.resting() == []


async def test_a_market_closed_early_halts_the_match_and_pulls_the_other_side(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    t.sim.faults.close_market(a)
    await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted by the market status guard")
    assert t.resting(b) == []
    assert "closed" in t.view().status_reason


async def test_two_second_latency_spikes_do_not_duplicate_or_strand_orders(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    t.sim.faults.latency_ms(2000)
    t.compete(a, 55)
    await asyncio.sleep(2.5)
    t.sim.faults.latency_ms(0)
    await eventually(lambda: t.our_price(a) == 5600, within=10, what="outbid 55c after the spike")
    assert len(t.resting(a)) == 1


async def test_the_rest_backup_cancels_strays_and_notices_orders_gone_silently(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    stray = t.sim.exchange.create_order(
        t.account, OrderRequest(b, "bid", Price(1000), contracts(1), client_order_id="kmm-stray-from-a-crash")
    ).order
    ours = t.resting(a)[0]
    t.sim.exchange.cancel_order(t.account, ours.order_id)  # gone without a WebSocket message reaching us
    for order in t.engine._orders.live():
        order.last_write_ms = 0  # old enough for the read-lag allowance
    await t.engine._reconcile_orders()
    assert stray.order_id not in {o.order_id for o in t.resting()}
    await eventually(lambda: len(t.resting(a)) == 1, what="side A quoted again after the silent cancel")


async def test_close_still_pulls_every_order_when_kill_all_itself_fails(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")

    async def broken(reason: str) -> int:
        raise RuntimeError("a bug in kill_all")

    t.engine._kill_all = broken  # type: ignore[method-assign]
    assert await t.engine.close() == 0
    assert t.resting() == []


async def test_creates_refused_by_a_long_429_storm_never_count_as_rejections(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t)))
    await t.engine.execute(cmd.StartMatch("m1"))
    t.sim.faults.rate_limit(60)  # longer than the client's retries: creates end without an answer
    await eventually(lambda: len(t.resting()) == 2, within=30, what="both bids once the storm passes")
    assert t.view().status is MatchStatus.QUOTING, t.view().status_reason


async def test_a_brief_pause_pulls_and_quoting_resumes_when_the_market_reopens(trading: Trading) -> None:
    """Kalshi cancels resting orders on a pause; the match waits (pulled, reason shown) and requotes."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    t.sim.faults.pause_market(a)
    await eventually(lambda: t.resting() == [], what="both sides pulled")
    view = t.view()
    assert view.status is MatchStatus.QUOTING
    assert view.quote_a is not None and "paused" in view.quote_a.detail
    t.sim.faults.resume_market(a)
    await eventually(lambda: len(t.resting()) == 2, what="quoting again after the pause")
    assert t.view().status is MatchStatus.QUOTING


async def test_a_pause_learnt_from_a_refused_write_waits_for_the_reopening(trading: Trading) -> None:
    """The write is refused before the lifecycle message arrives: still a pause, not a halt; a REST
    read finds the reopening even when no lifecycle message announces it."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    market = t.sim.exchange.market(a)
    t.compete(a, 58)  # the engine will try to raise its bid...
    market.status = "inactive"  # ...into a pause with no lifecycle message: 409 market_inactive
    await eventually(lambda: t.engine._data.markets[a].status == "inactive", what="pause noticed")
    await eventually(lambda: t.resting(a) == [], what="side A pulled")
    assert t.view().status is MatchStatus.QUOTING
    market.status = "active"  # reopened silently
    await t.engine._data.recheck_paused()
    await eventually(lambda: t.our_price(a) == 5800, what="quoting A again at 58c")


async def test_a_stale_book_pull_reads_book_stale_not_theo_stale(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    gaps = t.feed.gaps
    t.sim.faults.skip_seq()
    t.compete(t.tickers("KXCS2GAME")[0], 50)
    await eventually(lambda: t.feed.gaps > gaps, what="gap detected")
    await eventually(
        lambda: any(
            e.reason == "book_stale" for e in t.view().decisions
        ),
        what="a pull that names the stale book",
    )


HUNG_REPLY_BOUND_S = 2.0  # the feed reports an order within milliseconds; the REST timeout is 10 s


async def test_a_create_whose_reply_hangs_is_known_by_its_exchange_id_within_two_seconds() -> None:
    """The exchange applies both creates but their replies hang past the client's 10 s timeout (a
    stalled connection): the engine must own each order under the exchange's id as soon as the feed
    shows it resting, not after the timeout and a retry's read-back."""
    hung = Fidelity(write_fail_after_pct=100, write_failures=("timeout",), write_timeout_ms=30_000)
    async with SimServer(QUIET, agents=False, fidelity=hung) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        try:
            await engine.execute(cmd.AddMatch(spec(t), start=True))
            await eventually(lambda: len(t.resting()) == 2, what="both creates applied by the exchange")
            sim.fidelity.write_fail_after_pct = 0  # a retry would be answered; the first replies still hang
            exchange_ids = {o.order_id for o in t.resting()}
            await eventually(
                lambda: engine._orders.live_ids() == exchange_ids,
                within=HUNG_REPLY_BOUND_S,
                what=f"both orders owned by their exchange ids within {HUNG_REPLY_BOUND_S} s",
            )
        finally:
            await engine.close()
        assert t.resting() == []


async def test_a_create_whose_reply_hangs_is_found_by_a_read_when_the_feed_is_late_too() -> None:
    """As above, but the feed lags a minute: a create unanswered for a second is looked for by its
    client id among the market's orders, so the ledger still owns it within a couple of seconds of
    landing (plus the 400 ms read lag)."""
    hung = Fidelity(write_fail_after_pct=100, write_failures=("timeout",), write_timeout_ms=30_000)
    async with SimServer(QUIET, agents=False, fidelity=hung) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        try:
            await engine.execute(cmd.AddMatch(spec(t)))
            await eventually(lambda: not (t.view().market_a.stale or t.view().market_b.stale), what="books")
            sim.fidelity.feed_lag_ms, sim.fidelity.read_lag_ms = 60_000, 400
            await engine.execute(cmd.StartMatch("m1"))
            await eventually(lambda: len(t.resting()) == 2, what="both creates applied by the exchange")
            sim.fidelity.write_fail_after_pct = 0
            exchange_ids = {o.order_id for o in t.resting()}
            await eventually(
                lambda: engine._orders.live_ids() == exchange_ids,
                within=HUNG_REPLY_BOUND_S + 0.4,
                what=f"both orders owned by their exchange ids within {HUNG_REPLY_BOUND_S + 0.4} s",
            )
        finally:
            await engine.close()
        assert t.resting() == []
