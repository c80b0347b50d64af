"""A scripted session recorded against the real simulator (loopback HTTP + WebSocket, RSA-PSS keys).

The script: one CS2 match, theo 60/40, edge 2c, 5 contracts a side. Competitors bid under us and move;
takers sell into our bids twice on A and once on B. The engine records it with ``SessionRecorder``;
the tests replay the file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.ws import KalshiFeed
from kmm_tui.replay.recorder import SessionRecorder
from kmm_tui.sim import SimServer
from tests.engine.conftest import QUIET, Trading, eventually, spec


def wall() -> int:
    return time.time_ns() // 1_000_000


async def record_session(state_dir: Path) -> Path:
    async with SimServer(QUIET, agents=False) as sim:
        account = sim.demo_account
        signer = Signer.from_pem(account.key_id, account.private_key_pem)
        rest = KalshiRest(sim.base_url, signer=signer, timeout_s=10)
        feed = KalshiFeed(sim.ws_url, signer, watchdog_s=5)
        recorder = SessionRecorder(state_dir, "sim", start_ms=wall())
        engine = Engine(ExchangePort(rest, feed, clock=wall), environment="sim", clock=wall,
                        session_recorder=recorder)
        await engine.start()
        t = Trading(sim, engine, feed)
        try:
            a, b = t.tickers("KXCS2GAME")
            t.compete(a, 50)
            t.compete(b, 30)
            await engine.execute(cmd.AddMatch(spec(t, theo_a=60, edge=2, size=5), start=True))
            await eventually(lambda: t.our_price(a) == 5100 and t.our_price(b) == 3100, what="first quotes")
            mover = t.compete(a, 53)
            await eventually(lambda: t.our_price(a) == 5400, what="outbid the mover")
            await asyncio.sleep(0.3)
            t.sim.place_competitor_order(a, "ask", Price(5400), contracts(3), name="taker")
            await eventually(lambda: t.view().inventory.count_long_a == contracts(3), what="fill on A")
            t.sim.cancel_competitor_order(mover)
            await asyncio.sleep(1.2)
            t.compete(b, 33)
            await eventually(lambda: t.our_price(b) == 3400, what="B follows up")
            t.sim.place_competitor_order(b, "ask", Price(3400), contracts(2), name="taker")
            await eventually(lambda: t.view().inventory.count_long_b == contracts(2), what="fill on B")
            await asyncio.sleep(1.2)
            price_a = t.our_price(a)
            assert price_a is not None
            t.sim.place_competitor_order(a, "ask", Price(price_a), contracts(1), name="taker")
            await eventually(lambda: t.view().inventory.count_long_a == contracts(4), what="second fill on A")
            await asyncio.sleep(1.2)
            await engine.execute(cmd.StopMatch("m1"))
        finally:
            await engine.close()
            recorder.close(wall())
    return recorder.path


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state_dir = tmp_path_factory.mktemp("state")
    yield asyncio.run(record_session(state_dir))
