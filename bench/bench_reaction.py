"""Reaction latency: a competitor outbids us -> our amended order is live on the exchange.

Engine: the real ``Engine`` on the simulator over loopback (signed REST + WebSocket feed). A
competitor places a bid one cent above ours with ``sim.place_competitor_order``; the clock stops when
the exchange applies our amend (a listener on ``sim.exchange`` sees our resting order at the new
price, in the same process, so no polling delay is added). Also reported: when the client got the
amend's HTTP reply (the engine's ``OrderChanged``).

Baseline, measured in the same run on a fresh simulator: the original tool's loop with the same
client and the same ``domain.quoting.decide`` — every ``--poll-interval`` seconds (2 s) read the REST
book, decide, amend. Competitor bids arrive at random phases spread evenly over the poll cycle (as
real ones arrive at any moment), so its latency is ~uniform on (0, 2 s].

Everything (simulator, engine, client) shares one process and one event loop: loopback latency here
includes the simulator's own work. Rate-limit tier: prestige, so the client's throttle never enters
the latency (bench_writes measures the token cost). Target: engine p50 <= 10 ms.
Run: ``.venv/bin/python bench/bench_reaction.py [--trials 200 --baseline-trials 12]``.
Writes ``bench/results/reaction.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    bench_spec,
    signer_for,
    start_engine,
    summary_ms,
    wait_until,
    write_result,
    write_scenario,
)
from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Price, TickGrid, contracts
from kmm_tui.domain.quoting import QuoteMemo, QuoteSettings, SideInput, decide
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.events import Event, OrderAction, OrderChanged
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.sim import SimServer
from kmm_tui.sim.events import OrderEvent, SimEvent

TARGET_P50_MS = 10.0
BASE_CENTS = 40  # a resting competitor that anchors the book; we start one cent above it
TOP_CENTS = 57  # highest price we are pushed to (the ceiling is 58c: stay below it, no sticky ceiling)
TIER = "prestige"


@dataclass(frozen=True, slots=True)
class Config:
    trials: int = 200
    baseline_trials: int = 12
    poll_interval_s: float = 2.0
    engine_jitter_s: float = 0.02
    engine_timeout_s: float = 2.0
    loaded: int = 50  # the loaded case: this many other matches quoting in the same engine


DEFAULTS = Config()

class AckWatch:
    """Exchange-side detector: resolves when our resting order on ``ticker`` shows ``target`` price."""

    def __init__(self, account_id: str, ticker: str) -> None:
        self.account_id = account_id
        self.ticker = ticker
        self._target: Price | None = None
        self._done: asyncio.Future[float] | None = None

    def arm(self, target: Price) -> asyncio.Future[float]:
        self._target = target
        self._done = asyncio.get_running_loop().create_future()
        return self._done

    def __call__(self, event: SimEvent) -> None:
        if not isinstance(event, OrderEvent) or self._done is None or self._done.done():
            return
        order = event.order
        if (
            order.account_id == self.account_id
            and order.ticker == self.ticker
            and order.status == "resting"
            and order.price == self._target
        ):
            self._done.set_result(time.perf_counter())


def our_price(sim: SimServer, ticker: str) -> Price | None:
    orders = [o for o in sim.exchange.resting_orders(sim.demo_account.user_id) if o.ticker == ticker]
    if len(orders) > 1:
        raise RuntimeError(f"more than one resting order of ours on {ticker}: the bench is broken")
    return orders[0].price if orders else None


@dataclass(slots=True)
class Trials:
    exchange_s: list[float]
    client_s: list[float]
    resets: int = 0


async def run_trials(
    sim: SimServer,
    ticker: str,
    n: int,
    *,
    delays: Callable[[], float],
    timeout_s: float,
    client_acked: Callable[[Price], asyncio.Future[float]],
) -> Trials:
    """``n`` times: wait ``delays()``, outbid our bid by one cent, time until our amend is live.

    When the next outbid would pass TOP_CENTS the trial competitors are withdrawn and we wait (not
    timed) for the quoter to step back down to one cent above the anchor.
    """
    watch = AckWatch(sim.demo_account.user_id, ticker)
    sim.exchange.listeners.append(watch)
    trial_orders: list[str] = []
    result = Trials([], [])
    try:
        while len(result.exchange_s) < n:
            current = our_price(sim, ticker)
            if current is None:
                raise RuntimeError(f"no resting bid of ours on {ticker}: the quoter is not quoting")
            competitor = Price(current + 100)
            target = Price(current + 200)
            if target > TOP_CENTS * 100:
                for order_id in trial_orders:
                    sim.cancel_competitor_order(order_id)
                trial_orders.clear()
                low = Price((BASE_CENTS + 1) * 100)
                await wait_until(
                    lambda low=low: our_price(sim, ticker) == low, 5 * timeout_s, "the step back down"
                )
                result.resets += 1
                continue
            await asyncio.sleep(delays())
            done = watch.arm(target)
            client = client_acked(target)
            start = time.perf_counter()
            trial_orders.append(sim.place_competitor_order(ticker, "bid", competitor, contracts(5)))
            try:
                exchange_at = await asyncio.wait_for(done, timeout_s)
                client_at = await asyncio.wait_for(client, timeout_s)
            except TimeoutError:
                client.cancel()
                raise TimeoutError(
                    f"no amend to {target // 100}c within {timeout_s:.1f}s of a {competitor // 100}c "
                    "competitor: the quoter did not react"
                ) from None
            result.exchange_s.append(exchange_at - start)
            result.client_s.append(client_at - start)
    finally:
        sim.exchange.listeners.remove(watch)
    return result


# --- the engine ---------------------------------------------------------------------------------------


async def measure_engine(scenario: Path, config: Config, rng: random.Random, loaded: int = 0) -> Trials:
    """Trials on the scenario's first match; ``loaded`` more matches quote in the same engine meanwhile."""
    async with SimServer(scenario, agents=False, tier=TIER) as sim:
        ticker_a, ticker_b = sim.matches[0].tickers[:2]
        others = [m.tickers[:2] for m in sim.matches[1 : 1 + loaded]]
        sim.place_competitor_order(ticker_a, "bid", Price(BASE_CENTS * 100), contracts(5))
        engine = await start_engine(sim)
        waiters: list[tuple[Price, asyncio.Future[float]]] = []

        def on_event(event: Event) -> None:
            if (
                isinstance(event, OrderChanged)
                and event.ticker == ticker_a
                and event.action in (OrderAction.AMENDED, OrderAction.PLACED)
            ):
                now = time.perf_counter()
                for price, future in waiters:
                    if price == event.price and not future.done():
                        future.set_result(now)

        def client_acked(price: Price) -> asyncio.Future[float]:
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            waiters.append((price, future))
            future.add_done_callback(lambda _: waiters.remove((price, future)))
            return future

        engine.listen(on_event)
        try:
            for i, (a, b) in enumerate(others):
                sim.place_competitor_order(a, "bid", Price(BASE_CENTS * 100), contracts(5))
                await engine.execute(cmd.AddMatch(bench_spec(f"load{i}", a, b), start=True))
            await wait_until(
                lambda: engine.snapshot().resting_orders >= 2 * len(others), 30, "the load quoting"
            )
            await engine.execute(cmd.AddMatch(bench_spec("m1", ticker_a, ticker_b), start=True))
            first = Price((BASE_CENTS + 1) * 100)
            await wait_until(lambda: our_price(sim, ticker_a) == first, 10, "the engine's first bid")
            return await run_trials(
                sim,
                ticker_a,
                config.trials,
                delays=lambda: rng.uniform(0, config.engine_jitter_s),
                timeout_s=config.engine_timeout_s,
                client_acked=client_acked,
            )
        finally:
            left = await engine.close()
            if left:
                raise RuntimeError(f"{left} order(s) left resting after the engine closed")


# --- the baseline: poll the REST book every 2 s -------------------------------------------------------


class PollingQuoter:
    """The original tool's loop: every ``interval_s`` read the book over REST, decide, amend.

    Same client, same decision function and settings as the engine; only the data path differs (a
    timed REST poll instead of the WebSocket feed). Quotes team A only.
    """

    def __init__(
        self,
        rest: KalshiRest,
        ticker: str,
        theo: Price,
        settings: QuoteSettings,
        grid: TickGrid,
        start_ms: int | None,
        interval_s: float,
    ) -> None:
        self.rest = rest
        self.ticker = ticker
        self.theo = theo
        self.settings = settings
        self.grid = grid
        self.start_ms = start_ms
        self.interval_s = interval_s
        self.memo = QuoteMemo()
        self.order_id: str | None = None
        self.price: Price | None = None
        self.size = Count(0)
        self.acks: list[tuple[Price, float]] = []
        self.polls = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            await self.step()
            next_at += self.interval_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def step(self) -> None:
        self.polls += 1
        book = (await self.rest.get_orderbook(self.ticker)).book()
        if self.price is not None:
            book = book.without(own_bids=[(self.price, self.size)])
        closed = SideInput(None, Book(), None, Count(0), self.grid, market_open=False)
        mine = SideInput(self.theo, book, self.price, self.size, self.grid)
        decision = decide(
            mine, closed, self.settings, Inventory(), self.memo, time.time_ns() // 1_000_000, self.start_ms
        )
        self.memo = decision.memo
        want, size = decision.a.price, decision.a.size
        if want is None or size <= 0:
            if self.order_id is not None:
                await self.rest.cancel_order(self.order_id, self.ticker)
                self.order_id, self.price, self.size = None, None, Count(0)
            return
        if self.order_id is None:
            ack = await self.rest.create_order(
                self.ticker, "bid", want, size, f"bench-poll-{time.time_ns()}", post_only=True
            )
            self.order_id = ack.order_id
        elif want != self.price or size != self.size:
            await self.rest.amend_order(self.order_id, self.ticker, "bid", want, size)
        else:
            return
        self.price, self.size = want, size
        self.acks.append((want, time.perf_counter()))


def stratified_phases(n: int, interval_s: float, rng: random.Random) -> Callable[[], float]:
    """Delays that place the ``n`` competitor bids evenly (stratified, shuffled) over the poll cycle.

    Each trial starts right after the poller's previous ack, i.e. just after a poll, so the delay is
    the bid's phase in the cycle. Stratifying keeps a dozen trials representative of the uniform
    phase a real competitor has, without the luck of a few random draws.
    """
    phases = [(k + rng.random()) / n * interval_s for k in range(n)]
    rng.shuffle(phases)
    it = iter(phases)
    return lambda: next(it, rng.uniform(0, interval_s))


async def measure_baseline(scenario: Path, config: Config, rng: random.Random) -> tuple[Trials, int]:
    async with SimServer(scenario, agents=False, tier=TIER) as sim:
        match = sim.matches[0]
        ticker = match.tickers[0]
        sim.place_competitor_order(ticker, "bid", Price(BASE_CENTS * 100), contracts(5))
        spec = bench_spec("baseline", ticker, match.tickers[1])
        settings = QuoteSettings(
            edge=spec.settings.edge,
            contracts=spec.settings.contracts,
            inventory_max=spec.settings.inventory_max,
            retest_interval_ms=spec.settings.retest_interval_ms,
            backoff_ticks=spec.settings.backoff_ticks,
            fee_aware=spec.settings.fee_aware,
            start_margin_ms=spec.settings.start_margin_ms,
        )
        async with KalshiRest(sim.base_url, signer=signer_for(sim.demo_account)) as rest:
            await rest.sync_rate_limits()
            grid = (await rest.get_market(ticker)).grid
            assert spec.theo.theo_a is not None
            quoter = PollingQuoter(
                rest, ticker, spec.theo.theo_a, settings, grid, match.start_ms, config.poll_interval_s
            )

            async def acked_after(price: Price, mark: int) -> float:
                while True:
                    for acked, at in quoter.acks[mark:]:
                        if acked == price:
                            return at
                    await asyncio.sleep(0.001)

            def client_acked(price: Price) -> asyncio.Future[float]:
                return asyncio.ensure_future(acked_after(price, len(quoter.acks)))

            task = asyncio.create_task(quoter.run(), name="polling-quoter")
            try:
                first = Price((BASE_CENTS + 1) * 100)
                await wait_until(
                    lambda: our_price(sim, ticker) == first, 3 * config.poll_interval_s, "the first bid"
                )
                trials = await run_trials(
                    sim,
                    ticker,
                    config.baseline_trials,
                    delays=stratified_phases(config.baseline_trials, config.poll_interval_s, rng),
                    timeout_s=2 * config.poll_interval_s + 1.0,
                    client_acked=client_acked,
                )
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                if quoter.order_id is not None:
                    await rest.cancel_order(quoter.order_id, ticker)
            return trials, quoter.polls


async def run(config: Config, results_dir: Path | None = None, seed: int = 7) -> dict[str, Any]:
    """Both measurements and the ratio; writes ``reaction.json`` and returns the result."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="kmm-bench-") as tmp:
        scenario = write_scenario(Path(tmp), 1 + config.loaded)
        engine = await measure_engine(scenario, config, rng)
        loaded = await measure_engine(scenario, config, rng, loaded=config.loaded)
        baseline, polls = await measure_baseline(scenario, config, rng)
    engine_x, base_x = summary_ms(engine.exchange_s), summary_ms(baseline.exchange_s)
    loaded_x = summary_ms(loaded.exchange_s)
    result: dict[str, Any] = {
        "benchmark": "reaction",
        "what": "competitor outbids us -> our amended bid live on the exchange (loopback, one process)",
        "rate_limit_tier": TIER,
        "engine": {
            "exchange_applied": engine_x,
            "client_acked": summary_ms(engine.client_s),
            "resets": engine.resets,
        },
        "engine_loaded": {
            "other_matches_quoting": config.loaded,
            "exchange_applied": loaded_x,
            "client_acked": summary_ms(loaded.client_s),
            "resets": loaded.resets,
        },
        "ratio_p99_loaded_over_alone": round(float(loaded_x["p99_ms"]) / float(engine_x["p99_ms"]), 2),
        "baseline_rest_poll": {
            "poll_interval_s": config.poll_interval_s,
            "exchange_applied": base_x,
            "client_acked": summary_ms(baseline.client_s),
            "resets": baseline.resets,
            "polls": polls,
        },
        "ratio_p50_baseline_over_engine": round(float(base_x["p50_ms"]) / float(engine_x["p50_ms"]), 1),
        "ratio_p99_baseline_over_engine": round(float(base_x["p99_ms"]) / float(engine_x["p99_ms"]), 1),
        "target_p50_ms": TARGET_P50_MS,
        "meets_target": float(engine_x["p50_ms"]) <= TARGET_P50_MS
        and float(loaded_x["p50_ms"]) <= TARGET_P50_MS,
        "python": platform.python_version(),
    }
    write_result("reaction", result, results_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=DEFAULTS.trials, help="engine trials (default 200)")
    parser.add_argument("--baseline-trials", type=int, default=DEFAULTS.baseline_trials,
                        help="REST-poll baseline trials, ~2 s each (default 12)")
    parser.add_argument("--poll-interval", type=float, default=DEFAULTS.poll_interval_s,
                        help="baseline poll interval in seconds (default 2)")
    parser.add_argument("--loaded", type=int, default=DEFAULTS.loaded,
                        help="other matches quoting in the loaded case (default 50)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the engine's info/warning lines would drown the results
    config = Config(
        trials=args.trials, baseline_trials=args.baseline_trials, poll_interval_s=args.poll_interval,
        loaded=args.loaded,
    )
    result = asyncio.run(run(config))
    e, b = result["engine"], result["baseline_rest_poll"]
    print(f"engine   (feed):     p50 {e['exchange_applied']['p50_ms']:8.2f} ms   "
          f"p99 {e['exchange_applied']['p99_ms']:8.2f} ms   "
          f"client ack p50 {e['client_acked']['p50_ms']:.2f} ms   n={e['exchange_applied']['n']}")
    loaded = result["engine_loaded"]
    print(f"engine, {loaded['other_matches_quoting']} matches loaded: "
          f"p50 {loaded['exchange_applied']['p50_ms']:8.2f} ms   "
          f"p99 {loaded['exchange_applied']['p99_ms']:8.2f} ms   "
          f"(p99 {result['ratio_p99_loaded_over_alone']}x alone)")
    print(f"baseline (REST {config.poll_interval_s:g}s):  p50 {b['exchange_applied']['p50_ms']:8.2f} ms   "
          f"p99 {b['exchange_applied']['p99_ms']:8.2f} ms   n={b['exchange_applied']['n']}")
    print(f"ratio baseline/engine: p50 {result['ratio_p50_baseline_over_engine']}x, "
          f"p99 {result['ratio_p99_baseline_over_engine']}x   "
          f"(target engine p50 <= {TARGET_P50_MS:g} ms: {'met' if result['meets_target'] else 'MISSED'})")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
