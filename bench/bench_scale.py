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

As in production: the journal is on (a SQLite file, group commits), logging at INFO goes to a file
through the redacting handler, the engine runs on ``kmm_tui.eventloop`` (uvloop), and the account signs
with the key kind of ``--key-type`` (Ed25519 by default; ``rsa`` for RSA-PSS). The quoting window opens
only once start-up has settled (every bid resting and the feed delay back under 50 ms). Also measured
in the quoting window: reaction (the exchange's timestamp of a competitor delta that moves the best bid
to the reply of our amend that follows it), leg by leg (``bench/reaction_legs.py``: feed, wake,
decide, hand, queue, request, emit, with the exchange's own part of the feed and request legs measured
in the simulator's process), the client limiter's pacing of writes, and every 429 the exchange sent
(counted by the simulator). The exchange's timestamp has ms resolution; the driver also stamps each
move in ns (same clock, other process), and the reaction goal is judged on that precise figure.

Cases: ``--matches`` at the prestige tier (200 matches at this rate need ~200 amends/s), plus
``--basic-at`` matches at the basic tier (10 amends/s: the limiter paces the writes; no 429 may arrive).
The goals (``TARGETS``) are checked at ``GOAL_MATCHES`` on prestige; 500 matches is the stretch, reported.
Every case also times its close (``engine.close()`` while quoting and the books still move: kill all,
every order cancelled and verified gone) against ``CLOSE_WITHIN_S``.
``--soak-minutes M`` instead runs ``GOAL_MATCHES`` quoting for a warm-up (``SOAK_WARMUP_S``) and then M
minutes, and reports RSS, its slope after the warm-up and where the memory grew: per kind of mapping,
glibc's and Python's accounts, the journal's files, the engine's collections (bench/memmap.py);
``--tracemalloc`` adds the Python allocation sites that grew (tracing slows the engine: opt-in).
Run: ``.venv/bin/python bench/bench_scale.py [--matches 50,200,500 --seconds 8]`` ->
``bench/results/scale.json`` (``soak.json`` for a soak).
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
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import kmm_tui.engine.strategy as strategy_module
from bench import memmap
from bench.common import (
    EDGE_CENTS,
    THEO_A_CENTS,
    bench_spec,
    engine_for,
    install_counter,
    match_tickers,
    percentile,
    write_result,
    write_scenario,
)
from bench.reaction_legs import FEED_PARTS, LEGS, REQUEST_PARTS, LegTracer, SendStamps, ServerTimer
from kmm_tui import eventloop
from kmm_tui.bootstrap import sim_key_from_state
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import BookUpdated, Event, OrderAction, OrderChanged
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.match import HISTORY_POINTS
from kmm_tui.engine.strategy import HISTORY_STEP_MS
from kmm_tui.gc_tuning import freeze_after_startup
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.ratelimit import BucketName
from kmm_tui.kalshi.ws import BookEvent, FeedEvent, KalshiFeed
from kmm_tui.logsetup import setup_logging, teardown_logging
from kmm_tui.replay.recorder import SessionRecorder
from kmm_tui.sim import SimServer

SCRIPT = Path(__file__).resolve()
TIER = "prestige"
LAG_PERIOD_S = 0.01
SETTLED_DELAY_MS = 50  # start-up has settled once the feed delay of the last second is back under this
SETTLE_MAX_S = 60.0
GOAL_MATCHES = 200
STRETCH_MATCHES = 500
# (figure, comparison, limit): the goals at GOAL_MATCHES matches on prestige.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("engine_cpu_pct", "<", 40.0),
    ("feed_delay_p99_ms", "<", 50.0),
    ("reaction_p50_ms", "<=", 5.0),
    ("reaction_p99_ms", "<=", 25.0),
    ("peak_rss_mb", "<", 300.0),
)
# Closing (engine.close: kill all, every order of ours cancelled and verified gone, then the connections)
# from quoting at the case's tier, judged at every tier. At Basic the cancels alone take ~8 s at 200
# matches (400 orders at 2 tokens each from an empty 100 tokens/s bucket).
CLOSE_WITHIN_S = 10.0
SOAK_SAMPLE_S = 10.0
SOAK_MAX_SLOPE_MB_PER_MIN = 0.2  # "flat": under 6 MB over 30 minutes
# The slope is judged after the engine's longest bounded memory has filled: each match's history of
# one point per HISTORY_STEP_MS, HISTORY_POINTS long (4 minutes; the decision logs fill sooner). At
# 200 matches the two hold ~20 MB when full; RSS is sampled from the start and the warm-up reported.
SOAK_WARMUP_S = HISTORY_POINTS * HISTORY_STEP_MS / 1000 + 60
KEEP_UP_MS = 100  # feed delay p99 above this means the engine is not keeping up with the books
ANCHOR_BELOW_CEILING_CENTS = 10  # a standing competitor 10c under our ceiling: we quote one cent above
MOVER_MAX_CENTS = 5  # the mover bids 1..5c above the anchor: always under the ceiling
DEEP_MAX_ORDERS = 6
MOVES_KEPT = 32  # per market, the driver's newest move stamps (a market moves its best bid ~0.5/s)
STATS_LINE_LIMIT = 1 << 24  # the child's stats line carries those and reaction_legs' stamps (< 4 MiB)


@dataclass(frozen=True, slots=True)
class Config:
    matches: tuple[int, ...] = (50, GOAL_MATCHES, STRETCH_MATCHES)
    seconds: float = 8.0
    warmup_s: float = 2.0
    rate: float = 5.0  # book updates per market per second
    requote_share: float = 0.1
    seed: int = 3
    basic_at: tuple[int, ...] = ()  # also run these match counts on the basic tier (the CLI: 200)
    key_type: str = "ed25519"
    soak_minutes: float = 0.0
    trace_malloc: bool = False  # the soak also diffs tracemalloc snapshots (slower, and traces cost RSS)


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
        # ticker -> wall-clock ns just before each move of the best bid (reaction_legs: the precise
        # first leg, with no millisecond truncation); taken by each ``stats`` call
        self.moves: dict[str, deque[int]] = {}
        self.send_stamps = SendStamps()  # when each move's delta left the exchange
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
            moved_ns = time.time_ns()
            self.moves.setdefault(market.ticker, deque(maxlen=MOVES_KEPT)).append(moved_ns)
            self.send_stamps.moved(market.ticker, moved_ns)
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


async def serve_sim(
    n_matches: int, rate: float, requote_share: float, seed: int, state_dir: Path, tier: str, key_type: str
) -> None:
    """Child process: run the simulator and the driver; obey ``go``/``stats``/``quit`` on stdin."""
    scenario = write_scenario(state_dir, n_matches)
    sim = SimServer(scenario, agents=False, tier=tier, state_dir=state_dir / "sim")
    timer = ServerTimer(sim.app)  # how long an amend takes in here (the exchange's part of reaction)
    timer.install_arrivals()
    sim.app = timer
    async with sim:
        counter = install_counter(sim)  # every 429 the exchange sends is counted here
        lag_task = asyncio.create_task(timer.sample_lag(), name="sim-lag")
        driver = Driver(sim, rate, requote_share, seed)
        driver.send_stamps.install()
        ready: dict[str, Any] = {
            "base_url": sim.base_url, "ws_url": sim.ws_url, "matches": match_tickers(sim)
        }
        if key_type != "rsa":
            account = sim.create_account(10_000_000, tier, key_type=key_type)
            ready["key"] = {"key_id": account.key_id, "pem": account.private_key_pem.decode()}
        print(json.dumps(ready), flush=True)
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
                    counts = {"updates": driver.updates, "requotes": driver.requotes,
                              "refused_429": counter.refused}
                    since_last = {"moves": {t: list(m) for t, m in driver.moves.items()},
                                  "server": timer.take(), "sent": driver.send_stamps.take()}
                    driver.moves = {}
                    print(json.dumps({**stats, **counts, **since_last}), flush=True)
                elif line == "quit":
                    break
        finally:
            for running in (task, lag_task):
                if running is not None:
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running


# --- the parent: the engine under load --------------------------------------------------------------


class SimProcess:
    """The child simulator: spawn, talk to over its pipes, stop."""

    def __init__(self, proc: asyncio.subprocess.Process, ready: dict[str, Any]) -> None:
        self.proc = proc
        self.ready = ready

    @classmethod
    async def spawn(
        cls, n_matches: int, config: Config, state_dir: Path, tier: str = TIER
    ) -> SimProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), "--serve-sim",
            "--matches", str(n_matches), "--rate", str(config.rate),
            "--requote-share", str(config.requote_share), "--seed", str(config.seed),
            "--state-dir", str(state_dir), "--tier", tier, "--key-type", config.key_type,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=STATS_LINE_LIMIT,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            await proc.wait()
            raise RuntimeError(f"the simulator child exited with {proc.returncode} before it was ready")
        return cls(proc, json.loads(line))

    def signer(self, state_dir: Path) -> Signer:
        """The account the engine trades with: the child's Ed25519 account, or the RSA demo key."""
        key = self.ready.get("key")
        if key is None:
            return sim_key_from_state(state_dir)
        return Signer.from_pem(key["key_id"], key["pem"].encode())

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
    # receive time (ns clock) minus the exchange's ms timestamp, in ms: a fraction, so two windows'
    # percentiles differ by what was measured, not by whole-ms steps (the timestamp's resolution)
    feed_delays_ms: list[float] = field(default_factory=list)  # float-ok: latency statistics
    movers_above: dict[str, int] = field(default_factory=dict)  # ticker -> the anchor's price
    moved_ms: dict[str, int] = field(default_factory=dict)  # ticker -> exchange time of an unanswered move
    reactions_ms: list[float] = field(default_factory=list)  # float-ok: latency statistics, as above

    def on_event(self, event: Event) -> None:
        if isinstance(event, BookUpdated):
            self.book_updates += 1
        elif isinstance(event, OrderChanged):
            if event.action is OrderAction.REJECTED:
                self.rejected += 1
            else:
                self.writes += 1
                moved = self.moved_ms.pop(event.ticker, None)
                if moved is not None and event.action is OrderAction.AMENDED:
                    self.reactions_ms.append(since_ms(moved))
                TRACER.answered(event.ticker, event.action is OrderAction.AMENDED)

    def on_delta(self, event: BookEvent) -> None:
        """A competitor's delta above the anchor moves the best bid: our amend must follow it."""
        anchor = self.movers_above.get(event.ticker)
        delta = event.delta
        if event.client_order_id is None and delta is not None and anchor is not None and delta[0] > anchor:
            self.moved_ms.setdefault(event.ticker, event.ts_ms)
            TRACER.moved(event.ticker, event.ts_ms)

    async def sample_lag(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(LAG_PERIOD_S)
            self.lags.append(time.perf_counter() - start - LAG_PERIOD_S)


def since_ms(exchange_ms: int) -> float:
    """Milliseconds from an exchange timestamp (ms) to now, now read to the nanosecond."""
    return (time.time_ns() - exchange_ms * 1_000_000) / 1e6


PROBE = Probe()
TRACER = LegTracer()  # reaction leg by leg (bench/reaction_legs.py)


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
                PROBE.feed_delays_ms.append(since_ms(event.ts_ms))
                PROBE.on_delta(event)
            on_event(event)

        super().set_listener(timed)


@dataclass(slots=True)
class Production:
    """What the engine carries in production, measured per window: journal, log file, limiter."""

    engine: Engine
    journal: Journal
    log_path: Path

    def counters(self) -> dict[str, float]:
        limiter = self.engine._x.rest.limiter
        return {
            "commits": self.journal.commits,
            "log_bytes": self.log_path.stat().st_size if self.log_path.exists() else 0,
            "paced": limiter.paced[BucketName.WRITE],
            "paced_s": limiter.paced_s[BucketName.WRITE],
            "gate_superseded": gate.superseded if (gate := self.engine._execution.gate) else 0,
            "gate_wait_s": gate.waited_s if gate else 0.0,
            "disk_write_bytes": _disk_written(),
        }


def _disk_written() -> int:
    """Bytes this process has caused to be written to storage (Linux ``/proc/self/io``), else 0."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


async def window(
    seconds: float, probe: Probe, decisions: list[int], sim: SimProcess, markets: int, prod: Production
) -> dict[str, Any]:
    sim_before = await sim.stats()
    before = prod.counters()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    updates0, writes0, rejected0, decided0 = probe.book_updates, probe.writes, probe.rejected, decisions[0]
    lag_mark, delay_mark, reaction_mark = len(probe.lags), len(probe.feed_delays_ms), len(probe.reactions_ms)
    legs_mark = len(TRACER.done)
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sim_after = await sim.stats()
    after = prod.counters()
    lags_ms = [lag * 1000 for lag in probe.lags[lag_mark:]]
    delays = probe.feed_delays_ms[delay_mark:]
    reactions = probe.reactions_ms[reaction_mark:]
    last_second = delays[-max(1, len(delays) // max(1, int(seconds))):]
    rss, peak = memory_mb()
    sim_wall = sim_after["wall_s"] - sim_before["wall_s"]
    driven = (sim_after["updates"] - sim_before["updates"]) / sim_wall
    requotes = sim_after["requotes"] - sim_before["requotes"]
    writes = probe.writes - writes0
    paced = after["paced"] - before["paced"]
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
            "p50": round(percentile(delays, 50), 2),
            "p99": round(percentile(delays, 99), 2),
            "max": round(max(delays), 2),
            "last_second_p50": round(percentile(last_second, 50), 2),
        },
        "keeps_up": percentile(delays, 99) <= KEEP_UP_MS,
        "reaction_ms": {
            "n": len(reactions),
            "p50": round(percentile(reactions, 50), 2) if reactions else None,
            "p99": round(percentile(reactions, 99), 2) if reactions else None,
        },
        "reaction_legs_ms": TRACER.legs(
            legs_mark, sim_after["moves"], sim_after["server"].pop("served"), sim_after["sent"]
        ),
        "exchange_amend_ms": sim_after["server"],
        "writes_paced_by_limiter": paced,
        # a write is decided, then waits in the limiter: its decision is that old when it is sent
        "mean_decision_age_at_send_ms": round((after["paced_s"] - before["paced_s"]) / writes * 1000, 1)
        if writes
        else None,
        "mean_pacing_wait_ms": round((after["paced_s"] - before["paced_s"]) / paced * 1000, 1)
        if paced
        else 0,
        # rounds of writes that waited for tokens in the write gate, and were decided again when the
        # tokens came (engine/write_gate.py): the decision a write carries is that fresh
        "rounds_waited_for_tokens": int(after["gate_superseded"] - before["gate_superseded"]),
        "mean_token_wait_ms": round(
            (after["gate_wait_s"] - before["gate_wait_s"])
            / (after["gate_superseded"] - before["gate_superseded"])
            * 1000,
            1,
        )
        if after["gate_superseded"] > before["gate_superseded"]
        else 0,
        "http_429_received": int(sim_after["refused_429"] - sim_before["refused_429"]),
        "journal_commits_per_s": round((after["commits"] - before["commits"]) / wall, 1),
        "disk_write_kb_per_s": round(
            (after["disk_write_bytes"] - before["disk_write_bytes"]) / wall / 1024, 1
        ),
        "log_mb_per_hour": round((after["log_bytes"] - before["log_bytes"]) / wall * 3600 / 2**20, 1),
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


async def settle(engine: Engine, probe: Probe, n_matches: int) -> float:
    """Wait for start-up to settle: every bid resting and the last second's feed delay under 50 ms."""
    began = time.perf_counter()
    while time.perf_counter() - began < SETTLE_MAX_S:
        mark = len(probe.feed_delays_ms)
        await asyncio.sleep(1.0)
        recent = probe.feed_delays_ms[mark:]
        resting = engine.snapshot().resting_orders
        if resting >= 2 * n_matches * 0.9 and recent and percentile(recent, 99) < SETTLED_DELAY_MS:
            break
    return round(time.perf_counter() - began, 1)


async def measure(
    n_matches: int,
    config: Config,
    tier: str = TIER,
    soak_s: float = 0.0,
    session_dir: Path | None = None,
    write_gate: bool = True,
) -> dict[str, Any]:
    """One match count; the session is recorded under ``session_dir`` (kept) or a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="kmm-bench-scale-") as tmp:
        recorder = TimedRecorder(session_dir or Path(tmp), "sim", start_ms=time.time_ns() // 1_000_000)
        sim = await SimProcess.spawn(n_matches, config, Path(tmp), tier)
        engine: Engine | None = None
        probe = PROBE
        probe.feed_delays_ms.clear()
        probe.reactions_ms.clear()
        probe.moved_ms.clear()
        TRACER.clear()
        probe.movers_above = {}
        for a, b in sim.ready["matches"]:
            probe.movers_above[a] = (THEO_A_CENTS - EDGE_CENTS - ANCHOR_BELOW_CEILING_CENTS) * 100
            probe.movers_above[b] = (100 - THEO_A_CENTS - EDGE_CENTS - ANCHOR_BELOW_CEILING_CENTS) * 100
        lag_task: asyncio.Task[None] | None = None
        journal = Journal(Path(tmp) / "journal.sqlite3")
        log_path = setup_logging(Path(tmp), logging.INFO)
        soak: dict[str, Any] | None = None
        try:
            engine = engine_for(
                sim.ready["base_url"],
                sim.ready["ws_url"],
                sim.signer(Path(tmp)),
                TimedFeed,
                recorder,
                journal=journal,
            )
            if not write_gate:  # the baseline: writes queue in the limiter with the decision they carry
                engine._execution.gate = None
            await engine.start()
            prod = Production(engine, journal, log_path)
            engine.listen(probe.on_event)
            specs = [bench_spec(f"m{i}", a, b) for i, (a, b) in enumerate(sim.ready["matches"])]
            added = time.perf_counter()
            await _each(specs, lambda spec: engine.execute(cmd.AddMatch(spec)))  # type: ignore[union-attr]
            add_s = time.perf_counter() - added
            lag_task = asyncio.create_task(probe.sample_lag(), name="lag-sampler")
            await sim.send("go")
            with TRACER.installed(), counting_decisions() as decisions:
                await asyncio.sleep(config.warmup_s)
                idle = await window(config.seconds, probe, decisions, sim, 2 * n_matches, prod)
                started = time.perf_counter()
                await _each(specs, lambda spec: engine.execute(cmd.StartMatch(spec.match_id)))  # type: ignore[union-attr]
                start_s = time.perf_counter() - started
                settle_s = await settle(engine, probe, n_matches)
                freeze_after_startup()  # as `kmm run` does once its match is quoting (gc_tuning.py)
                await asyncio.sleep(config.warmup_s)
                resting = engine.snapshot().resting_orders
                recorder_ns = recorder.cpu_ns
                quoting = await window(config.seconds, probe, decisions, sim, 2 * n_matches, prod)
                recording_s = (recorder.cpu_ns - recorder_ns) / 1e9
                if soak_s > 0:
                    roots = {"engine": engine, "recorder": recorder, "journal": journal}
                    files = {end or "db": Path(f"{journal.path}{end}") for end in ("", "-wal", "-shm")}
                    soak = await soak_rss(soak_s, probe, roots, files, config.trace_malloc)
            quoting["resting_orders"] = resting
            quoting["recording_cpu_s"] = round(recording_s, 4)
            quoting["recording_share_of_engine_cpu"] = round(recording_s / quoting["engine_cpu_s"], 4)
            refused_total = (await sim.stats())["refused_429"]
        finally:
            if lag_task is not None:
                lag_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lag_task
            closing = time.perf_counter()  # kill all: every order pulled and verified, then the port closed
            left = await engine.close() if engine is not None else 0
            close_s = time.perf_counter() - closing
            recorder.close(time.time_ns() // 1_000_000)
            await sim.stop()
            journal.close()
            teardown_logging()
        session_bytes = recorder.path.stat().st_size
        if left:
            raise RuntimeError(f"{left} order(s) left resting after the engine closed")
    if resting < 2 * n_matches * 0.9:
        raise RuntimeError(f"only {resting} of {2 * n_matches} bids were resting: the engine was not quoting")
    case: dict[str, Any] = {
        "matches": n_matches,
        "markets": 2 * n_matches,
        "tier": tier,
        "write_gate": write_gate,
        "add_matches_s": round(add_s, 2),
        "start_matches_s": round(start_s, 2),
        "settle_s": settle_s,
        "http_429_received_whole_run": int(refused_total),
        "close_s": round(close_s, 2),
        "idle_baseline": idle,
        "quoting": quoting,
        "ratio_cpu_quoting_over_idle": round(quoting["engine_cpu_s"] / idle["engine_cpu_s"], 2)
        if idle["engine_cpu_s"] > 0
        else None,
        "session_file": str(recorder.path) if session_dir is not None else None,
        "session_kib": session_bytes // 1024,
    }
    if soak is not None:
        case["soak"] = soak
    return case


async def soak_rss(
    seconds: float, probe: Probe, roots: dict[str, object], files: dict[str, Path], trace: bool = False
) -> dict[str, Any]:
    """RSS every ``SOAK_SAMPLE_S`` while quoting, for ``SOAK_WARMUP_S`` and then ``seconds``; the
    least-squares slope after the warm-up says whether it is flat (the whole run's is reported too).

    Each sample also splits the resident memory by kind of mapping (bench/memmap.py) and takes glibc's
    and Python's accounts, so a growth says where it is; the engine's collections (``roots``) are
    measured at the start, the end of the warm-up and the end, and with ``trace`` the Python allocation
    sites that grew after the warm-up; the sizes of ``files`` (the journal's database, WAL and WAL
    index) are sampled with the memory."""
    samples: list[tuple[float, float]] = []
    kinds: list[dict[str, int]] = []
    heap: list[dict[str, int]] = []
    disk: list[dict[str, int]] = []
    began = time.perf_counter()
    cpu0 = time.process_time()
    delay_p99s: list[int] = []
    del probe.feed_delays_ms[:], probe.reactions_ms[:]
    sizes = [memmap.container_sizes(roots)]
    traced0: tracemalloc.Snapshot | None = None
    warm_minutes = SOAK_WARMUP_S / 60

    def sample(elapsed: float) -> None:
        samples.append((elapsed / 60, memory_mb()[0]))
        kinds.append(memmap.summarize(memmap.smaps_groups()))
        heap.append({**memmap.malloc_kib(), "python_blocks": memmap.python_blocks()})
        disk.append({name: p.stat().st_size // 1024 if p.exists() else 0 for name, p in files.items()})

    while (elapsed := time.perf_counter() - began) < SOAK_WARMUP_S + seconds:
        if len(sizes) == 1 and elapsed >= SOAK_WARMUP_S:
            sizes.append(memmap.container_sizes(roots))
            if trace:
                tracemalloc.start()
                traced0 = tracemalloc.take_snapshot()
        sample(elapsed)
        await asyncio.sleep(SOAK_SAMPLE_S)
        if probe.feed_delays_ms:
            delay_p99s.append(percentile(probe.feed_delays_ms, 99))
        # the bench's own records must not be what grows: the probe's lists (2,400 delays a second: 35 MB
        # in 30 minutes) and the leg tracer's finished traces (~200 a second: 4 MB a minute)
        del probe.lags[:], probe.feed_delays_ms[:], probe.reactions_ms[:]
        TRACER.clear()
    sample(time.perf_counter() - began)
    judged = [(m, mb) for m, mb in samples if m >= warm_minutes]
    slope = _slope(judged)
    rss = [mb for _, mb in samples]
    minutes = [m for m, _ in samples]
    warm = next(i for i, m in enumerate(minutes) if m >= warm_minutes)
    traced = None
    if traced0 is not None:
        traced = memmap.tracemalloc_diff(traced0, tracemalloc.take_snapshot())
        tracemalloc.stop()
    sizes.append(memmap.container_sizes(roots))
    return {
        "warmup_minutes": round(warm_minutes, 1),
        "minutes_after_warmup": round(samples[-1][0] - judged[0][0], 1),
        "rss_first_mb": round(rss[0], 1),
        "rss_after_warmup_mb": round(rss[warm], 1),
        "rss_last_mb": round(rss[-1], 1),
        "rss_max_mb": round(max(rss), 1),
        "rss_slope_mb_per_min": round(slope, 3),
        "rss_slope_whole_run_mb_per_min": round(_slope(samples), 3),
        "flat": abs(slope) <= SOAK_MAX_SLOPE_MB_PER_MIN and max(rss) < 300,
        "engine_cpu_share": round((time.process_time() - cpu0) / (time.perf_counter() - began), 3),
        "feed_delay_p99_ms_worst_10s": max(delay_p99s) if delay_p99s else None,
        "samples": [(round(m, 2), round(mb, 1)) for m, mb in samples],
        "rss_by_mapping_kib": _growth(kinds, minutes, warm),
        "malloc_and_python": _growth(heap, minutes, warm),
        "files_kib": _growth(disk, minutes, warm),
        "collections_grown_in_warmup": _grown(sizes[0], sizes[1]),
        "collections_grown_after_warmup": _grown(sizes[1], sizes[2]),
        "tracemalloc_top_growth_after_warmup": traced,
    }


def _grown(before: dict[str, int], after: dict[str, int]) -> list[dict[str, Any]]:
    return [{"path": path, "first": first, "last": last} for path, first, last in memmap.grown(before, after)]


def _growth(rows: list[dict[str, int]], minutes: list[float], warm: int) -> dict[str, dict[str, Any]]:
    """Per key of the sampled dicts: first, after the warm-up (sample ``warm``), last, the growth and
    slope per minute after the warm-up, and every sample."""
    keys = sorted({key for row in rows for key in row}, key=lambda key: -(rows[-1].get(key, 0)))
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        values = [row.get(key, 0) for row in rows]
        after = list(zip(minutes[warm:], values[warm:], strict=True))
        out[key] = {
            "first": values[0],
            "after_warmup": values[warm],
            "last": values[-1],
            "growth_after_warmup": values[-1] - values[warm],
            "slope_per_min_after_warmup": round(_slope(after), 1),
            "samples": values,
        }
    return out


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def goal_figures(case: dict[str, Any]) -> dict[str, float | None]:
    """The goals' figures. Reaction is judged on its precise measure (from the driver's ns stamp of the
    move: the exchange's ms timestamp can be up to 1 ms early), else on the ms one."""
    w = case["quoting"]
    precise = w["reaction_legs_ms"]["precise_reaction"]
    reaction = precise if precise["p50"] is not None else w["reaction_ms"]
    return {
        "engine_cpu_pct": round(w["engine_cpu_share"] * 100, 1),
        "feed_delay_p99_ms": w["feed_delay_ms"]["p99"],
        "reaction_p50_ms": reaction["p50"],
        "reaction_p99_ms": reaction["p99"],
        "peak_rss_mb": w["peak_rss_mb"],
    }


def verdicts(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its figure, limit and verdict (a missing figure fails)."""
    figures = goal_figures(case)
    out = []
    for name, op, limit in TARGETS:
        value = figures[name]
        ok = value is not None and (value < limit if op == "<" else value <= limit)
        verdict = "pass" if ok else "FAIL"
        out.append({"figure": name, "value": value, "target": f"{op} {limit:g}", "verdict": verdict})
    return out


async def run(config: Config, results_dir: Path | None = None) -> dict[str, Any]:
    if config.soak_minutes > 0:
        case = await measure(GOAL_MATCHES, config, TIER, soak_s=config.soak_minutes * 60)
        case["close_verdict"] = "pass" if case["close_s"] <= CLOSE_WITHIN_S else "FAIL"
        result = {"benchmark": "soak", "key_type": config.key_type, "loop": eventloop.loop_name(),
                  "case": case, "python": platform.python_version()}
        write_result("soak", result, results_dir)
        return result
    cases = [await measure(n, config, TIER) for n in config.matches]
    for n in config.basic_at:  # with the write gate, then the baseline without it (same run)
        cases += [await measure(n, config, "basic"), await measure(n, config, "basic", write_gate=False)]
    for case in cases:
        if case["tier"] == TIER and case["matches"] == GOAL_MATCHES:
            case["goals"] = verdicts(case)
        case["close_verdict"] = "pass" if case["close_s"] <= CLOSE_WITHIN_S else "FAIL"
        if case["tier"] == "basic":
            w = case["quoting"]
            case["basic_tier_no_429"] = "pass" if case["http_429_received_whole_run"] == 0 else "FAIL"
            case["basic_tier_writes_paced"] = w["writes_paced_by_limiter"]
            baseline = next(
                (c for c in cases if c["tier"] == "basic" and c["matches"] == case["matches"]
                 and not c["write_gate"]),
                None,
            )
            if case["write_gate"] and baseline is not None:
                # how old the decision a write carries is: the wait between deciding and sending
                gated = w["mean_decision_age_at_send_ms"]
                queued = baseline["quoting"]["mean_decision_age_at_send_ms"]
                case["decision_age_at_send_ms"] = {"write_gate": gated, "baseline_no_gate": queued}
                case["ratio_decision_age_baseline_over_gate"] = (
                    round(queued / gated, 1) if gated and queued is not None else None
                )
    result = {
        "benchmark": "scale",
        "setup": "simulator + competitor driver in a child process; engine alone in this process, "
        "journal on, INFO logging to a file",
        "key_type": config.key_type,
        "loop": eventloop.loop_name(),
        "target_updates_per_market_s": config.rate,
        "requote_share": config.requote_share,
        "window_s": config.seconds,
        "cases": cases,
        "python": platform.python_version(),
    }
    write_result("scale", result, results_dir)
    return result


def _print_case(case: dict[str, Any], rate: float) -> None:
    gate = "" if case.get("write_gate", True) else " WITHOUT the write gate (baseline)"
    print(f"== {case['matches']} matches ({case['markets']} markets), {case['tier']} tier{gate}, "
          f"target {rate:g} updates/market/s (start-up settled in {case['settle_s']} s)")
    for name in ("idle_baseline", "quoting"):
        w = case[name]
        lag = w["loop_lag_ms"]
        print(f"  {name:13s} engine cpu {w['engine_cpu_share'] * 100:5.1f}% of a core  "
              f"{w['decisions_per_s']:8.1f} decisions/s  "
              f"{w['book_updates_received_per_s']:8.1f} updates/s  "
              f"{w['order_writes_per_s']:6.1f} writes/s "
              f"({w['writes_per_requote_update']} per best-bid move)")
        feed, reaction = w["feed_delay_ms"], w["reaction_ms"]
        print(f"  {'':13s} feed delay p50 {feed['p50']} p99 {feed['p99']} max {feed['max']} ms "
              f"(last second p50 {feed['last_second_p50']} ms)  "
              f"{'keeps up' if w['keeps_up'] else 'FALLING BEHIND the feed'}; "
              f"reaction p50 {reaction['p50']} p99 {reaction['p99']} ms (n {reaction['n']})")
        print(f"  {'':13s} loop lag p50 {lag['p50']:.2f} p99 {lag['p99']:.2f} max {lag['max']:.2f} ms  "
              f"rss {w['rss_mb']:.0f} MiB (peak {w['peak_rss_mb']:.0f})  "
              f"sim cpu {w['sim_cpu_share'] * 100:.0f}%  "
              f"driven {w['driver_updates_per_market_s']:.2f}/market/s")
        print(f"  {'':13s} journal {w['journal_commits_per_s']} commits/s, disk writes "
              f"{w['disk_write_kb_per_s']} KB/s, log {w['log_mb_per_hour']} MB/h, "
              f"writes paced by the limiter {w['writes_paced_by_limiter']} "
              f"(mean wait {w['mean_pacing_wait_ms']} ms: the age of the decision a write carries), "
              f"rounds re-decided after waiting for tokens {w['rounds_waited_for_tokens']} "
              f"(mean wait {w['mean_token_wait_ms']} ms), 429s received {w['http_429_received']}")
    print(f"  ratio quoting/idle engine CPU: {case['ratio_cpu_quoting_over_idle']}x")
    _print_legs(case["quoting"])
    quoting = case["quoting"]
    print(f"  session recording: {quoting['recording_cpu_s']} s CPU = "
          f"{quoting['recording_share_of_engine_cpu'] * 100:.1f}% of the engine's CPU while quoting; "
          f"file {case['session_kib']} KiB")
    for goal in case.get("goals", ()):
        print(f"  GOAL {goal['figure']:18s} {goal['value']!s:>8} "
              f"(target {goal['target']}): {goal['verdict']}")
    print(f"  CLOSE kill all -> 0 orders resting (verified) -> connections closed: {case['close_s']} s "
          f"(target <= {CLOSE_WITHIN_S:g} s): {case['close_verdict']}")
    if "basic_tier_no_429" in case:
        print(f"  BASIC tier: {case['basic_tier_writes_paced']} writes paced by the limiter; "
              f"429s received over the whole run {case['http_429_received_whole_run']} "
              f"(target 0): {case['basic_tier_no_429']}")
    if "decision_age_at_send_ms" in case:
        age = case["decision_age_at_send_ms"]
        print(f"  BASIC tier: a write carries a decision {age['write_gate']} ms old on average "
              f"(baseline without the write gate {age['baseline_no_gate']} ms, ratio "
              f"{case['ratio_decision_age_baseline_over_gate']}x)")


def _print_legs(w: dict[str, Any]) -> None:
    legs, server = w["reaction_legs_ms"], w["exchange_amend_ms"]
    def pair(name: str) -> str:
        return f"{legs[name]['p50']}/{legs[name]['p99']}"

    print(f"  reaction legs p50/p99 ms ({legs['n_complete']} of {legs['n_moves_answered']} moves "
          f"followed): {'  '.join(f'{leg} {pair(leg)}' for leg in LEGS)}")
    print(f"  {'':13s} request = {'  '.join(f'{part} {pair(part)}' for part in REQUEST_PARTS)}; "
          f"engine receive->reply {pair('engine_total')}")
    print(f"  {'':13s} precise (the driver's ns stamp of each move): feed {pair('precise_feed')} = "
          f"{'  '.join(f'{part} {pair(part)}' for part in FEED_PARTS)}; reaction {pair('precise_reaction')}")
    print(f"  {'':13s} in the simulator: amend app {server['app']['p50']}/{server['app']['p99']}, "
          f"loop lag {server['loop_lag']['p50']}/{server['loop_lag']['p99']} ms")


def _print(result: dict[str, Any]) -> None:
    print(f"key {result.get('key_type')}, loop {result.get('loop')}, journal on, INFO logging")
    if result["benchmark"] == "soak":
        case = result["case"]
        soak = case["soak"]
        _print_case(case, 5.0)
        print(f"SOAK {soak['minutes_after_warmup']} min at {case['matches']} matches after a "
              f"{soak['warmup_minutes']} min warm-up: rss {soak['rss_first_mb']} -> "
              f"{soak['rss_after_warmup_mb']} (warm) -> {soak['rss_last_mb']} MiB "
              f"(max {soak['rss_max_mb']}), "
              f"slope after the warm-up {soak['rss_slope_mb_per_min']} MB/min "
              f"(target |slope| <= {SOAK_MAX_SLOPE_MB_PER_MIN} and < 300 MB): "
              f"{'pass' if soak['flat'] else 'FAIL'} (whole run {soak['rss_slope_whole_run_mb_per_min']}); "
              f"cpu {soak['engine_cpu_share'] * 100:.1f}%")
        _print_memory(soak)
        return
    for case in result["cases"]:
        _print_case(case, result["target_updates_per_market_s"])
        if case["matches"] == STRETCH_MATCHES:
            print("  (stretch goal: reported, not judged)")


def _print_memory(soak: dict[str, Any]) -> None:
    """Where the resident memory grew: per kind of mapping, glibc and Python, journal files, engine
    collections; first, after the warm-up, last, and the slope after the warm-up (per minute)."""
    sections = (("resident KiB by kind of mapping", "rss_by_mapping_kib"),
                ("glibc malloc (all arenas, KiB) and Python blocks", "malloc_and_python"),
                ("journal files KiB on disk", "files_kib"))
    for title, key in sections:
        print(f"  {title} (first, after warm-up -> last, growth and slope/min after warm-up):")
        for kind, row in soak[key].items():
            if row["first"] or row["last"]:
                print(f"    {kind:40s} {row['first']:8d} {row['after_warmup']:8d} -> {row['last']:8d}  "
                      f"{row['growth_after_warmup']:+8d}  {row['slope_per_min_after_warmup']:+8.1f}")
    for when in ("in_warmup", "after_warmup"):
        grown = soak[f"collections_grown_{when}"]
        print(f"  engine collections that grew {when.replace('_', ' ')}: {len(grown)}")
        for row in grown:
            print(f"    {row['path']:70s} {row['first']:7d} -> {row['last']:7d}")
    for row in soak["tracemalloc_top_growth_after_warmup"] or ():
        print(f"    tracemalloc {row['site']:70s} {row['size_diff_kib']:+9.1f} KiB {row['count_diff']:+7d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", default=",".join(map(str, DEFAULTS.matches)),
                        help="comma-separated match counts on the prestige tier (default 50,200,500; "
                        "'' = none)")
    parser.add_argument("--basic-at", default=str(GOAL_MATCHES),
                        help="match counts also run on the basic tier (default 200; '' = none)")
    parser.add_argument("--seconds", type=float, default=DEFAULTS.seconds, help="window length (default 8)")
    parser.add_argument("--rate", type=float, default=DEFAULTS.rate,
                        help="book updates per market per second (default 5)")
    parser.add_argument("--requote-share", type=float, default=DEFAULTS.requote_share,
                        help="share of updates that move the best competing bid (default 0.1)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--key-type", choices=("ed25519", "rsa"), default=DEFAULTS.key_type)
    parser.add_argument("--soak-minutes", type=float, default=0.0,
                        help=f"run {GOAL_MATCHES} matches quoting this long after a "
                        f"{SOAK_WARMUP_S / 60:g} min warm-up and report RSS and its slope")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="with --soak-minutes: also report the Python allocation sites that grew")
    parser.add_argument("--serve-sim", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tier", default=TIER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.serve_sim:
        if args.state_dir is None:
            parser.error("--serve-sim needs --state-dir")
        asyncio.run(serve_sim(int(args.matches), args.rate, args.requote_share, args.seed, args.state_dir,
                              args.tier, args.key_type))
        return 0
    try:
        matches = tuple(int(n) for n in args.matches.split(",") if n.strip())
        basic_at = tuple(int(n) for n in args.basic_at.split(",") if n.strip())
    except ValueError:
        parser.error(f"--matches/--basic-at must be comma-separated integers, not {args.matches!r}")
    config = Config(matches, args.seconds, DEFAULTS.warmup_s, args.rate, args.requote_share, args.seed,
                    basic_at, args.key_type, args.soak_minutes, args.tracemalloc)
    result = eventloop.run(run(config))
    _print(result)
    judged = result["cases"] if result["benchmark"] == "scale" else []
    failed = [g for c in judged for g in c.get("goals", ()) if g["verdict"] != "pass"]
    failed += [c for c in judged if c.get("basic_tier_no_429") == "FAIL" or c.get("close_verdict") == "FAIL"]
    return 1 if failed or (result["benchmark"] == "soak" and not result["case"]["soak"]["flat"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
