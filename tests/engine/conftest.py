"""The engine against the embedded exchange over loopback HTTP and WebSocket: no mocks anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kmm_tui.domain.prices import Count, Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import Event
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.rest import KalshiRest, RetryPolicy
from kmm_tui.kalshi.ws import KalshiFeed
from kmm_tui.sim import Fidelity, SimServer

QUIET = Path(__file__).with_name("quiet.toml")


@dataclass
class Trading:
    """A running simulator, an engine connected to it, and helpers to play the competition."""

    sim: SimServer
    engine: Engine
    feed: KalshiFeed
    events: list[Event] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.sim.demo_account.user_id

    def tickers(self, series: str) -> tuple[str, str]:
        match = next(m for m in self.sim.matches if m.event_ticker.startswith(series))
        return match.tickers[0], match.tickers[1]

    def resting(self, ticker: str | None = None) -> list:
        return [
            o for o in self.sim.exchange.resting_orders(self.account) if ticker is None or o.ticker == ticker
        ]

    def our_price(self, ticker: str) -> int | None:
        orders = self.resting(ticker)
        assert len(orders) <= 1, f"more than one resting order on {ticker}: {orders}"
        return orders[0].price if orders else None

    def compete(self, ticker: str, cents: int, count: int = 5, side: str = "bid") -> str:
        return self.sim.place_competitor_order(ticker, side, Price(cents * 100), contracts(count))

    def view(self, match_id: str = "m1"):
        return next(m for m in self.engine.snapshot().matches if m.spec.match_id == match_id)


async def eventually(check: Callable[[], object], within: float = 5.0, what: str = "condition") -> None:
    """Poll until ``check()`` is truthy (the engine reacts in milliseconds; this bounds the wait)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        try:
            if check():
                return
        except (AssertionError, StopIteration, IndexError):
            pass
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def quoting_a(t: Trading) -> str:
    """Add the default match (ceilings 58c / 38c), started, and wait for its first bid on A: the
    starting point of the scenarios that then move the book. Returns A's ticker."""
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    a, _ = t.tickers("KXCS2GAME")
    await eventually(lambda: t.our_price(a) is not None, what="a first bid on A")
    return a


def spec(
    t: Trading,
    series: str = "KXCS2GAME",
    *,
    theo_a: int = 60,
    edge: int = 2,
    size: int = 5,
    inventory_max: int = 50,
    **settings: object,
) -> MatchSpec:
    a, b = t.tickers(series)
    return MatchSpec(
        "m1",
        a,
        b,
        TheoInput(theo_a=Price(theo_a * 100), theo_b=Price((100 - theo_a) * 100)),
        MatchSettings(
            edge=Price(edge * 100),
            contracts=contracts(size),
            inventory_max=contracts(inventory_max),
            **settings,
        ),  # type: ignore[arg-type]
    )


async def connect(
    sim: SimServer,
    *,
    timeout_s: float = 10.0,
    clock: Callable[[], int] | None = None,
    retry: RetryPolicy | None = None,
    **engine_options: Any,
) -> tuple[Engine, KalshiFeed]:
    account = sim.demo_account
    signer = Signer.from_pem(account.key_id, account.private_key_pem)
    rest = KalshiRest(sim.base_url, signer=signer, timeout_s=timeout_s, retry=retry)
    feed = KalshiFeed(sim.ws_url, signer, watchdog_s=5)
    clock = clock or _wall
    engine = Engine(ExchangePort(rest, feed, clock=clock), environment="sim", clock=clock, **engine_options)
    await engine.start()
    return engine, feed


def _wall() -> int:
    return time.time_ns() // 1_000_000


# As unkind as Kalshi, but fast enough for scenario tests: a share of writes fails before or after the
# exchange applied them (5xx, dropped connections; hangs are for the chaos run), REST reads of orders,
# fills and positions lag by up to 400 ms, the WebSocket feed lags by 150 ms (a write's reply comes
# before the feed shows it), post-only crosses are sometimes cancelled on arrival.
def adversarial() -> Fidelity:
    return Fidelity(
        write_fail_before_pct=5,
        write_fail_after_pct=5,
        write_failures=("5xx", "drop"),
        read_lag_ms=400,
        post_only_cancel_pct=50,
        rounding_fee=True,
        strict_requests=True,
        feed_lag_ms=150,
    )


@contextlib.asynccontextmanager
async def trading_on(fidelity: Fidelity | None = None) -> AsyncIterator[Trading]:
    """A quiet simulator, an engine connected to it, and at the end: nothing of ours left resting."""
    async with SimServer(QUIET, agents=False, fidelity=fidelity) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        engine.listen(t.events.append)
        try:
            yield t
        finally:
            await engine.close()
        assert t.resting() == [], "orders left resting after close"


@pytest.fixture
async def adversarial_trading() -> AsyncIterator[Trading]:
    """``trading`` against an exchange with ambiguous writes and lagging reads switched on."""
    async with trading_on(adversarial()) as t:
        yield t


@pytest.fixture
async def trading() -> AsyncIterator[Trading]:
    async with trading_on() as t:
        yield t


__all__ = ["Count", "Trading", "connect", "eventually", "spec"]
