"""Scale: the engine quoting 50 and 200 concurrent matches while every book changes 5 times a second.

The simulator runs in a CHILD process (this script with ``--serve-sim``), together with the driver
that moves competitor bids: per market, on average ``--rate`` book updates a second, each exactly one
order-book delta. About ``--requote-share`` of them move the best competing bid under our ceiling (so
our quote must follow: one amend); the rest change deeper levels (a decision, no write). The engine
runs in THIS process and connects over loopback with the demo key the child writes (as ``kmm run
--sim-url`` would), so the CPU and memory figures below are the engine's own, not the simulator's.

Per match count, two windows of ``--seconds`` under the same driver load:
* idle (the baseline): every match added and its two markets watched (feed, books, BookUpdated
  events), no match running;
* quoting: every match started (two resting bids each, amended as the books move).
Reported per window: engine process CPU (``time.process_time``) as a share of one core, decisions/s,
book updates/s received, order writes/s, event-loop lag (a 10 ms sleeper's overshoot: p50/p99/max),
RSS now and peak (VmHWM), the feed delay (receive time minus the exchange's timestamp of each book
delta: if it grows, the engine is falling behind), and the simulator process's CPU share and the
update rate it achieved.
The ratio is quoting CPU / idle CPU: what quoting costs on top of following the books.
Session recording (kmm_tui/replay, on by default) runs throughout; the quoting window also reports the
CPU spent inside the recorder (thread CPU time around each call) as a share of the engine's CPU.

Rate-limit tier: prestige (200 matches at this rate need ~200 amends/s; a basic account could not).
Run: ``.venv/bin/python bench/bench_scale.py [--matches 50,200 --seconds 8]`` -> ``bench/results/scale.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import kmm_tui.engine.strategy as strategy_module
from bench.common import (
    EDGE_CENTS,
    THEO_A_CENTS,
    bench_spec,
    engine_for,
    match_tickers,
    percentile,
    write_result,
    write_scenario,
)
from kmm_tui.bootstrap import sim_key_from_state
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import BookUpdated, Event, OrderAction, OrderChanged
from kmm_tui.kalshi.ws import BookEvent, FeedEvent, KalshiFeed
from kmm_tui.replay.recorder import SessionRecorder
from kmm_tui.sim import SimServer

SCRIPT = Path(__file__).resolve()
TIER = "prestige"
LAG_PERIOD_S = 0.01
KEEP_UP_MS = 100  # feed delay p99 above this means the engine is not keeping up with the books
ANCHOR_BELOW_CEILING_CENTS = 10  # a standing competitor 10c under our ceiling: we quote one cent above
MOVER_MAX_CENTS = 5  # the mover bids 1..5c above the anchor: always under the ceiling
DEEP_MAX_ORDERS = 6


@dataclass(frozen=True, slots=True)
class Config:
    matches: tuple[int, ...] = (50, 200)
    seconds: float = 8.0
    warmup_s: float = 2.0
    rate: float = 5.0  # book updates per market per second
    requote_share: float = 0.1
    seed: int = 3


DEFAULTS = Config()


# --- the child: simulator + driver -------------------------------------------------------------------


@dataclass(slots=True)
class MarketDrive:
    ticker: str
    anchor: int  # cents
    mover: str | None = None
    deep: list[str] = field(default_factory=list)


class Driver:
    """Moves competitor bids: ``rate`` updates per market per second on average, one delta each."""

    def __init__(self, sim: SimServer, rate: float, requote_share: float, seed: int) -> None:
        self.sim = sim
        self.rate = rate
        self.requote_share = requote_share
        self.rng = random.Random(seed)
        self.markets: list[MarketDrive] = []
        self.updates = 0
        self.requotes = 0  # updates that moved the best competing bid: each needs exactly one amend
        for ticker_a, ticker_b in match_tickers(sim):
            ceiling_a = THEO_A_CENTS - EDGE_CENTS
            ceiling_b = 100 - THEO_A_CENTS - EDGE_CENTS
            self.markets.append(MarketDrive(ticker_a, ceiling_a - ANCHOR_BELOW_CEILING_CENTS))
            self.markets.append(MarketDrive(ticker_b, ceiling_b - ANCHOR_BELOW_CEILING_CENTS))
        for market in self.markets:
            self._bid(market.ticker, market.anchor)

    def _bid(self, ticker: str, cents: int) -> str:
        return self.sim.place_competitor_order(ticker, "bid", Price(cents * 100), contracts(5))

    def act(self, market: MarketDrive) -> None:
        """One book update on ``market``: toggle the mover (our quote must follow) or touch depth."""
        rng = self.rng
        if rng.random() < self.requote_share:
            self.requotes += 1
            if market.mover is None:
                market.mover = self._bid(market.ticker, market.anchor + rng.randint(1, MOVER_MAX_CENTS))
            else:
                self.sim.cancel_competitor_order(market.mover)
                market.mover = None
        elif len(market.deep) < 2 or (len(market.deep) < DEEP_MAX_ORDERS and rng.random() < 0.5):
            market.deep.append(self._bid(market.ticker, market.anchor - rng.randint(2, 12)))
        else:
            self.sim.cancel_competitor_order(market.deep.pop(rng.randrange(len(market.deep))))
        self.updates += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        total_rate = self.rate * len(self.markets)
        start, done = loop.time(), 0
        while True:
            due = int(total_rate * (loop.time() - start)) - done
            for _ in range(due):
                self.act(self.markets[self.rng.randrange(len(self.markets))])
            done += max(due, 0)
            await asyncio.sleep(0.01)


async def serve_sim(n_matches: int, rate: float, requote_share: float, seed: int, state_dir: Path) -> None:
    """Child process: run the simulator and the driver; obey ``go``/``stats``/``quit`` on stdin."""
    scenario = write_scenario(state_dir, n_matches)
    async with SimServer(scenario, agents=False, tier=TIER, state_dir=state_dir / "sim") as sim:
        driver = Driver(sim, rate, requote_share, seed)
        print(json.dumps({"base_url": sim.base_url, "ws_url": sim.ws_url, "matches": match_tickers(sim)}),
              flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        task: asyncio.Task[None] | None = None
        try:
            while line := (await reader.readline()).decode().strip():
                if line == "go" and task is None:
                    task = asyncio.create_task(driver.run(), name="driver")
                elif line == "stats":
                    stats = {"cpu_s": time.process_time(), "wall_s": time.monotonic()}
                    counts = {"updates": driver.updates, "requotes": driver.requotes}
                    print(json.dumps({**stats, **counts}), flush=True)
                elif line == "quit":
                    break
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


# --- the parent: the engine under load --------------------------------------------------------------


class SimProcess:
    """The child simulator: spawn, talk to over its pipes, stop."""

    def __init__(self, proc: asyncio.subprocess.Process, ready: dict[str, Any]) -> None:
        self.proc = proc
        self.ready = ready

    @classmethod
    async def spawn(cls, n_matches: int, config: Config, state_dir: Path) -> SimProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), "--serve-sim",
            "--matches", str(n_matches), "--rate", str(config.rate),
            "--requote-share", str(config.requote_share), "--seed", str(config.seed),
            "--state-dir", str(state_dir),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            await proc.wait()
            raise RuntimeError(f"the simulator child exited with {proc.returncode} before it was ready")
        return cls(proc, json.loads(line))

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}\n".encode())
        await self.proc.stdin.drain()

    async def stats(self) -> dict[str, float]:
        await self.send("stats")
        assert self.proc.stdout is not None
        return json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 30))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self.send("quit")
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@contextlib.contextmanager
def counting_decisions() -> Iterator[list[int]]:
    """Count the strategy runner's calls of ``domain.quoting.decide`` (the module global it calls)."""
    original = strategy_module.decide
    count = [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(*args, **kwargs)

    strategy_module.decide = counted  # type: ignore[assignment]
    try:
        yield count
    finally:
        strategy_module.decide = original


def memory_mb() -> tuple[float, float]:
    """(RSS now, peak RSS) of this process in MiB; Linux /proc, else ru_maxrss for both."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


@dataclass(slots=True)
class Probe:
    """Counters fed by engine events and a loop-lag sampler; windows read differences."""

    book_updates: int = 0
    writes: int = 0
    rejected: int = 0
    lags: list[float] = field(default_factory=list)
    feed_delays_ms: list[int] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        if isinstance(event, BookUpdated):
            self.book_updates += 1
        elif isinstance(event, OrderChanged):
            if event.action is OrderAction.REJECTED:
                self.rejected += 1
            else:
                self.writes += 1

    async def sample_lag(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(LAG_PERIOD_S)
            self.lags.append(time.perf_counter() - start - LAG_PERIOD_S)


PROBE = Probe()


def _timer_overhead_ns(samples: int = 20_000) -> int:
    """What one pair of ``thread_time_ns`` reads costs (subtracted from each timed call)."""
    start = time.thread_time_ns()
    for _ in range(samples):
        time.thread_time_ns()
    return (time.thread_time_ns() - start) // samples


class TimedRecorder(SessionRecorder):
    """The session recorder, adding up the CPU time (this thread's) spent inside its calls, minus the
    timer's own cost."""

    cpu_ns = 0
    overhead_ns = _timer_overhead_ns()

    def decided(self, *args: Any) -> None:
        start = time.thread_time_ns()
        super().decided(*args)
        self.cpu_ns += time.thread_time_ns() - start - self.overhead_ns

    def on_event(self, event: Event) -> None:
        start = time.thread_time_ns()
        super().on_event(event)
        self.cpu_ns += time.thread_time_ns() - start - self.overhead_ns


class TimedFeed(KalshiFeed):
    """The engine's real feed, also noting each book delta's delay: receive time minus the exchange's
    timestamp of the delta. A delay that grows means the engine is falling behind the feed."""

    def set_listener(self, on_event: Callable[[FeedEvent], None] | None) -> None:
        if on_event is None:
            super().set_listener(None)
            return

        def timed(event: FeedEvent) -> None:
            if isinstance(event, BookEvent) and event.seq is not None and not event.stale:
                PROBE.feed_delays_ms.append(time.time_ns() // 1_000_000 - event.ts_ms)
            on_event(event)

        super().set_listener(timed)


async def window(
    seconds: float, probe: Probe, decisions: list[int], sim: SimProcess, markets: int
) -> dict[str, Any]:
    sim_before = await sim.stats()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    updates0, writes0, rejected0, decided0 = probe.book_updates, probe.writes, probe.rejected, decisions[0]
    lag_mark, delay_mark = len(probe.lags), len(probe.feed_delays_ms)
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sim_after = await sim.stats()
    lags_ms = [lag * 1000 for lag in probe.lags[lag_mark:]]
    delays = probe.feed_delays_ms[delay_mark:]
    rss, peak = memory_mb()
    sim_wall = sim_after["wall_s"] - sim_before["wall_s"]
    driven = (sim_after["updates"] - sim_before["updates"]) / sim_wall
    requotes = sim_after["requotes"] - sim_before["requotes"]
    writes = probe.writes - writes0
    return {
        "wall_s": round(wall, 2),
        "engine_cpu_s": round(cpu, 3),
        "engine_cpu_share": round(cpu / wall, 3),
        "decisions_per_s": round((decisions[0] - decided0) / wall, 1),
        "book_updates_received_per_s": round((probe.book_updates - updates0) / wall, 1),
        "order_writes_per_s": round(writes / wall, 1),
        "writes_per_requote_update": round(writes / requotes, 2) if requotes else None,
        "rejected_writes": probe.rejected - rejected0,
        "loop_lag_ms": {
            "p50": round(percentile(lags_ms, 50), 3),
            "p99": round(percentile(lags_ms, 99), 3),
            "max": round(max(lags_ms), 3),
        },
        "feed_delay_ms": {
            "p50": percentile(delays, 50),
            "p99": percentile(delays, 99),
            "max": max(delays),
            "last_second_p50": percentile(delays[-max(1, len(delays) // int(max(1, seconds))):], 50),
        },
        "keeps_up": percentile(delays, 99) <= KEEP_UP_MS,
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "sim_cpu_share": round((sim_after["cpu_s"] - sim_before["cpu_s"]) / sim_wall, 3),
        "driver_updates_per_s": round(driven, 1),
        "driver_updates_per_market_s": round(driven / markets, 2),
    }


async def _each(items: list[Any], action: Callable[[Any], Any], concurrency: int = 8) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> None:
        async with gate:
            await action(item)

    await asyncio.gather(*(one(item) for item in items))


async def measure(n_matches: int, config: Config, session_dir: Path | None = None) -> dict[str, Any]:
    """One match count; the session is recorded under ``session_dir`` (kept) or a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="kmm-bench-scale-") as tmp:
        recorder = TimedRecorder(session_dir or Path(tmp), "sim", start_ms=time.time_ns() // 1_000_000)
        sim = await SimProcess.spawn(n_matches, config, Path(tmp))
        engine: Engine | None = None
        probe = PROBE
        probe.feed_delays_ms.clear()
        lag_task: asyncio.Task[None] | None = None
        try:
            signer = sim_key_from_state(Path(tmp))
            engine = engine_for(sim.ready["base_url"], sim.ready["ws_url"], signer, TimedFeed, recorder)
            await engine.start()
            engine.listen(probe.on_event)
            specs = [bench_spec(f"m{i}", a, b) for i, (a, b) in enumerate(sim.ready["matches"])]
            added = time.perf_counter()
            await _each(specs, lambda spec: engine.execute(cmd.AddMatch(spec)))  # type: ignore[union-attr]
            add_s = time.perf_counter() - added
            lag_task = asyncio.create_task(probe.sample_lag(), name="lag-sampler")
            await sim.send("go")
            with counting_decisions() as decisions:
                await asyncio.sleep(config.warmup_s)
                idle = await window(config.seconds, probe, decisions, sim, 2 * n_matches)
                started = time.perf_counter()
                await _each(specs, lambda spec: engine.execute(cmd.StartMatch(spec.match_id)))  # type: ignore[union-attr]
                start_s = time.perf_counter() - started
                await asyncio.sleep(config.warmup_s)
                resting = engine.snapshot().resting_orders
                recorder_ns = recorder.cpu_ns
                quoting = await window(config.seconds, probe, decisions, sim, 2 * n_matches)
                recording_s = (recorder.cpu_ns - recorder_ns) / 1e9
            quoting["resting_orders"] = resting
            quoting["recording_cpu_s"] = round(recording_s, 4)
            quoting["recording_share_of_engine_cpu"] = round(recording_s / quoting["engine_cpu_s"], 4)
        finally:
            if lag_task is not None:
                lag_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lag_task
            left = await engine.close() if engine is not None else 0
            recorder.close(time.time_ns() // 1_000_000)
            await sim.stop()
        session_bytes = recorder.path.stat().st_size
        if left:
            raise RuntimeError(f"{left} order(s) left resting after the engine closed")
    if resting < 2 * n_matches * 0.9:
        raise RuntimeError(f"only {resting} of {2 * n_matches} bids were resting: the engine was not quoting")
    return {
        "matches": n_matches,
        "markets": 2 * n_matches,
        "add_matches_s": round(add_s, 2),
        "start_matches_s": round(start_s, 2),
        "idle_baseline": idle,
        "quoting": quoting,
        "ratio_cpu_quoting_over_idle": round(quoting["engine_cpu_s"] / idle["engine_cpu_s"], 2)
        if idle["engine_cpu_s"] > 0
        else None,
        "session_file": str(recorder.path) if session_dir is not None else None,
        "session_kib": session_bytes // 1024,
    }


async def run(config: Config, results_dir: Path | None = None) -> dict[str, Any]:
    cases = [await measure(n, config) for n in config.matches]
    result = {
        "benchmark": "scale",
        "setup": "simulator + competitor driver in a child process; engine alone in this process",
        "rate_limit_tier": TIER,
        "target_updates_per_market_s": config.rate,
        "requote_share": config.requote_share,
        "window_s": config.seconds,
        "cases": cases,
        "python": platform.python_version(),
    }
    write_result("scale", result, results_dir)
    return result


def _print(result: dict[str, Any]) -> None:
    for case in result["cases"]:
        print(f"== {case['matches']} matches ({case['markets']} markets), "
              f"target {result['target_updates_per_market_s']:g} updates/market/s")
        for name in ("idle_baseline", "quoting"):
            w = case[name]
            lag = w["loop_lag_ms"]
            print(f"  {name:13s} engine cpu {w['engine_cpu_share'] * 100:5.1f}% of a core  "
                  f"{w['decisions_per_s']:8.1f} decisions/s  "
                  f"{w['book_updates_received_per_s']:8.1f} updates/s  "
                  f"{w['order_writes_per_s']:6.1f} writes/s "
                  f"({w['writes_per_requote_update']} per best-bid move)")
            feed = w["feed_delay_ms"]
            print(f"  {'':13s} feed delay p50 {feed['p50']} p99 {feed['p99']} max {feed['max']} ms "
                  f"(last second p50 {feed['last_second_p50']} ms)  "
                  f"{'keeps up' if w['keeps_up'] else 'FALLING BEHIND the feed'}")
            print(f"  {'':13s} loop lag p50 {lag['p50']:.2f} p99 {lag['p99']:.2f} max {lag['max']:.2f} ms  "
                  f"rss {w['rss_mb']:.0f} MiB (peak {w['peak_rss_mb']:.0f})  "
                  f"sim cpu {w['sim_cpu_share'] * 100:.0f}%  "
                  f"driven {w['driver_updates_per_market_s']:.2f}/market/s")
        print(f"  ratio quoting/idle engine CPU: {case['ratio_cpu_quoting_over_idle']}x")
        quoting = case["quoting"]
        print(f"  session recording: {quoting['recording_cpu_s']} s CPU = "
              f"{quoting['recording_share_of_engine_cpu'] * 100:.1f}% of the engine's CPU while quoting; "
              f"file {case['session_kib']} KiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", default=",".join(map(str, DEFAULTS.matches)),
                        help="comma-separated match counts (default 50,200)")
    parser.add_argument("--seconds", type=float, default=DEFAULTS.seconds, help="window length (default 8)")
    parser.add_argument("--rate", type=float, default=DEFAULTS.rate,
                        help="book updates per market per second (default 5)")
    parser.add_argument("--requote-share", type=float, default=DEFAULTS.requote_share,
                        help="share of updates that move the best competing bid (default 0.1)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--serve-sim", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.serve_sim:
        if args.state_dir is None:
            parser.error("--serve-sim needs --state-dir")
        asyncio.run(serve_sim(int(args.matches), args.rate, args.requote_share, args.seed, args.state_dir))
        return 0
    try:
        matches = tuple(int(n) for n in args.matches.split(","))
    except ValueError:
        parser.error(f"--matches must be comma-separated integers, not {args.matches!r}")
    config = Config(matches, args.seconds, DEFAULTS.warmup_s, args.rate, args.requote_share, args.seed)
    result = asyncio.run(run(config))
    _print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
