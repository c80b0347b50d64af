"""Crash and restart: orphans cancelled, fills back-filled, inventory rebuilt, journal consistent."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from kmm_tui.bootstrap import Connection, build_engine
from kmm_tui.domain.prices import contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import MatchStatus
from kmm_tui.kalshi.auth import Signer
from kmm_tui.sim import SimServer

from .conftest import QUIET, Trading, eventually, spec


async def start_engine(sim: SimServer, journal: Journal, *, adopt: bool = False) -> Engine:
    """The engine as the app builds it (bootstrap), over loopback, with this journal."""
    signer = Signer.from_pem(sim.demo_account.key_id, sim.demo_account.private_key_pem)
    engine = build_engine(
        Connection("sim", sim.base_url, sim.ws_url, signer), journal=journal, adopt_orders=adopt
    )
    await engine.start()
    return engine


async def crash(engine: Engine) -> None:
    """What ``kill -9`` leaves behind: connections gone, nothing cancelled, nothing flushed on purpose.

    The journal's open commit window dies with the process: its connection is dropped uncommitted.
    """
    port = engine._x
    for match in engine._matches.values():
        if match.task is not None:
            match.task.cancel()
    for task in [*engine._tasks, *port._tasks]:
        task.cancel()
    with contextlib.suppress(Exception):
        await port.feed.aclose()
    await port.rest.aclose()
    if engine._journal is not None:
        engine._journal._db.close()  # rolls the uncommitted window back, as the dead process would
    await asyncio.sleep(0)


async def test_restart_after_a_crash_cancels_orphans_and_backfills_fills(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with SimServer(QUIET, agents=False) as sim:
        engine = await start_engine(sim, Journal(path))
        t = Trading(sim, engine, engine._x.feed)
        a, b = t.tickers("KXCS2GAME")
        t.compete(a, 54)
        t.compete(b, 34)
        await engine.execute(cmd.AddMatch(spec(t, size=10), start=True))
        await eventually(lambda: t.our_price(a) == 5500 and t.our_price(b) == 3500, what="bids at 55c / 35c")
        t.compete(a, 55, count=4, side="ask")
        await eventually(lambda: t.view().inventory.count_long_a == contracts(4), what="first fill seen")
        await crash(engine)

        t.compete(a, 55, count=3, side="ask")  # fills nobody is watching
        t.compete(b, 35, count=6, side="ask")
        assert len(t.resting()) == 2, "the crashed engine's bids are still resting"

        restarted = await start_engine(sim, Journal(path))
        try:
            assert t.resting() == [], "orphans cancelled before anything else"
            view = next(m for m in restarted.snapshot().matches if m.spec.match_id == "m1")
            assert view.status is MatchStatus.STOPPED
            assert view.inventory.count_long_a == contracts(7)
            assert view.inventory.count_long_b == contracts(6)
            exchange = sim.exchange.account(t.account)
            assert exchange.positions[a].position == contracts(7)
            assert exchange.positions[b].position == contracts(6)
            journaled = {f.trade_id for f in Journal(path).fills("m1")}
            assert journaled == {f.trade_id for f in exchange.fills}
            logs = " ".join(line.text for line in restarted.snapshot().logs)
            assert "2 resting order(s) of ours cancelled" in logs and "back-filled" in logs

            await restarted.execute(cmd.StartMatch("m1"))
            await eventually(lambda: len(t.resting()) >= 1, what="quoting again after restart")
        finally:
            await restarted.close()
        assert t.resting() == []


async def test_fills_seen_before_a_restart_are_not_counted_twice(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with SimServer(QUIET, agents=False) as sim:
        engine = await start_engine(sim, Journal(path))
        t = Trading(sim, engine, engine._x.feed)
        a, _ = t.tickers("KXCS2GAME")
        t.compete(a, 54)
        await engine.execute(cmd.AddMatch(spec(t), start=True))
        await eventually(lambda: t.our_price(a) == 5500, what="bid at 55c")
        t.compete(a, 55, count=2, side="ask")
        await eventually(lambda: t.view().inventory.count_long_a == contracts(2), what="fill seen")
        await engine.close()
        restarted = await start_engine(sim, Journal(path))
        try:
            view = next(m for m in restarted.snapshot().matches if m.spec.match_id == "m1")
            assert view.inventory.count_long_a == contracts(2)
        finally:
            await restarted.close()


async def test_restart_with_adopt_keeps_the_resting_orders_and_resumes_quoting(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with SimServer(QUIET, agents=False) as sim:
        engine = await start_engine(sim, Journal(path))
        t = Trading(sim, engine, engine._x.feed)
        a, b = t.tickers("KXCS2GAME")
        t.compete(a, 54)
        t.compete(b, 34)
        await engine.execute(cmd.AddMatch(spec(t), start=True))
        await eventually(lambda: t.our_price(a) == 5500 and t.our_price(b) == 3500, what="bids at 55c / 35c")
        before = {o.order_id for o in t.resting()}
        await crash(engine)

        restarted = await start_engine(sim, Journal(path), adopt=True)
        try:
            assert {o.order_id for o in t.resting()} == before, "the same orders, not cancelled"
            view = next(m for m in restarted.snapshot().matches if m.spec.match_id == "m1")
            assert view.status is MatchStatus.QUOTING
            assert {o.order_id for o in view.orders} == before
            t.compete(a, 56)
            await eventually(lambda: t.our_price(a) == 5700, what="the adopted order follows the market")
            assert {o.order_id for o in t.resting(a)} <= before, "moved by amend, not replaced"
        finally:
            await restarted.close()
        assert t.resting() == []


async def test_restart_during_a_429_storm_waits_it_out_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with SimServer(QUIET, agents=False) as sim:
        engine = await start_engine(sim, Journal(path))
        t = Trading(sim, engine, engine._x.feed)
        await engine.execute(cmd.AddMatch(spec(t), start=True))
        await eventually(lambda: len(t.resting()) == 2, what="two bids")
        await crash(engine)
        sim.faults.rate_limit(9)  # more refusals in a row than the client retries one request
        restarted = await start_engine(sim, Journal(path))
        try:
            assert t.resting() == [], "the orphans were cancelled once the storm passed"
            logs = [line.text for line in restarted.snapshot().logs]
            assert any("again in" in text for text in logs), logs
        finally:
            await restarted.close()
