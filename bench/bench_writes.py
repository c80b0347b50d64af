"""Write efficiency: exchange write requests (and rate-limit tokens) per book change, moving book.

A competitor moves its bid along a seeded random walk (35c..56c, one move every ``--interval``
seconds; each move places the new bid, then cancels the old one, so the best competing bid jumps
straight from the old price to the new one). Our quote follows it one cent above (the walk stays
under the 58c ceiling). Counted on the exchange side: every write request the simulator admitted
for our account (its rate limiter is swapped for a counting one), with its token cost.

* engine   — the real ``Engine`` (amends in place: V2 amend = 10 tokens);
* baseline — measured in the same run on the same book path: a naive feed-driven quoter with the same
  decision function that changes price by cancel + create (2 + 10 tokens).

Writes during start-up (order group, first bids) are excluded: the window opens once both quoters are
resting at the first price. Tier: basic (100 write tokens/s). Run:
``.venv/bin/python bench/bench_writes.py [--changes 100 --interval 0.15]`` -> ``bench/results/writes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import platform
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    AMEND_TOKENS,
    CANCEL_TOKENS,
    CREATE_TOKENS,
    EDGE_CENTS,
    THEO_A_CENTS,
    CountingLimiter,
    WriteTally,
    bench_spec,
    install_counter,
    signer_for,
    start_engine,
    wait_until,
    write_result,
    write_scenario,
)
from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Price, TickGrid, contracts
from kmm_tui.domain.quoting import QuoteMemo, QuoteSettings, SideInput, decide
from kmm_tui.engine import commands as cmd
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.ws import BookEvent, FeedEvent, KalshiFeed
from kmm_tui.sim import SimServer
from kmm_tui.sim.events import OrderEvent, SimEvent

# The walk stays below the 58c ceiling: a quote that reaches the ceiling is held there (sticky) for the
# 30 s retest interval, after which neither quoter would need to write at all.
LOW_CENTS, HIGH_CENTS = 35, 56
START_CENTS = 45
CEILING_CENTS = THEO_A_CENTS - EDGE_CENTS
TIER = "basic"


@dataclass(frozen=True, slots=True)
class Config:
    changes: int = 100
    interval_s: float = 0.15
    settle_s: float = 0.5
    seed: int = 11
    burst: int = 5  # the burst case: this many moves ``burst_gap_s`` apart, then ``interval_s`` of quiet
    burst_gap_s: float = 0.002


DEFAULTS = Config()


def book_path(changes: int, seed: int) -> list[int]:
    """The competitor's successive bids in cents: a reflected random walk, every step a real move."""
    rng = random.Random(seed)
    path, price = [], START_CENTS
    for _ in range(changes):
        step = rng.choice((-3, -2, -1, 1, 2, 3))
        nxt = price + step
        if not LOW_CENTS <= nxt <= HIGH_CENTS:
            nxt = price - step
        path.append(nxt)
        price = nxt
    return path


def expected_quote(competitor_cents: int) -> int:
    """Where either quoter should rest: one cent above the competitor (the walk stays under the ceiling)."""
    if competitor_cents + 1 >= CEILING_CENTS:
        raise ValueError("the bench walk must stay below the ceiling (sticky quotes would not follow it)")
    return competitor_cents + 1


class MoveCounter:
    """Counts how often our resting bid on ``ticker`` changed price (exchange side)."""

    def __init__(self, account_id: str, ticker: str) -> None:
        self.account_id, self.ticker = account_id, ticker
        self.last: Price | None = None
        self.moves = 0

    def __call__(self, event: SimEvent) -> None:
        if not isinstance(event, OrderEvent):
            return
        order = event.order
        if order.account_id != self.account_id or order.ticker != self.ticker or order.status != "resting":
            return
        if order.price != self.last:
            if self.last is not None:
                self.moves += 1
            self.last = order.price


def our_price(sim: SimServer, ticker: str) -> Price | None:
    orders = [o for o in sim.exchange.resting_orders(sim.demo_account.user_id) if o.ticker == ticker]
    if len(orders) > 1:
        raise RuntimeError(f"{len(orders)} resting orders of ours on {ticker}: the quoter left one behind")
    return orders[0].price if orders else None


@dataclass(frozen=True, slots=True)
class Window:
    writes: WriteTally
    moves: int
    final_cents: int | None


async def drive(
    sim: SimServer,
    ticker: str,
    order_id: str,
    path: list[int],
    config: Config,
    limiter: CountingLimiter,
    bursts: bool = False,
) -> Window:
    """Open the window, walk the competitor (its bid ``order_id``) along ``path``, settle, close it.

    With ``bursts`` the moves come ``config.burst`` at a time, ``burst_gap_s`` apart (a book that
    jumps several times within milliseconds): only the last price of a burst needs a quote.
    """
    account = sim.demo_account.user_id
    moves = MoveCounter(account, ticker)
    moves.last = our_price(sim, ticker)
    sim.exchange.listeners.append(moves)
    before = limiter.tally(account)
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    try:
        for step, cents in enumerate(path, start=1):
            new_id = sim.place_competitor_order(ticker, "bid", Price(cents * 100), contracts(5))
            sim.cancel_competitor_order(order_id)
            order_id = new_id
            in_burst = config.burst > 1 and bursts and step % config.burst != 0
            next_at += config.burst_gap_s if in_burst else config.interval_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))
        await asyncio.sleep(config.settle_s)
    finally:
        sim.exchange.listeners.remove(moves)
    after = limiter.tally(account)
    by_cost = {c: n - before.by_cost.get(c, 0) for c, n in after.by_cost.items()}
    delta = WriteTally(
        after.requests - before.requests,
        after.tokens - before.tokens,
        {c: n for c, n in by_cost.items() if n},
    )
    price = our_price(sim, ticker)
    return Window(delta, moves.moves, None if price is None else price // 100)


def _open_market(sim: SimServer, ticker: str) -> str:
    """The competitor's first bid (the walk starts here); returns its order id."""
    return sim.place_competitor_order(ticker, "bid", Price(START_CENTS * 100), contracts(5))


async def measure_engine(scenario: Path, path: list[int], config: Config, bursts: bool = False) -> Window:
    async with SimServer(scenario, agents=False, tier=TIER) as sim:
        limiter = install_counter(sim)
        ticker_a, ticker_b = sim.matches[0].tickers[:2]
        competitor = _open_market(sim, ticker_a)
        engine = await start_engine(sim)
        try:
            await engine.execute(cmd.AddMatch(bench_spec("m1", ticker_a, ticker_b), start=True))
            first = Price(expected_quote(START_CENTS) * 100)
            await wait_until(lambda: our_price(sim, ticker_a) == first, 10, "the engine's first bid")
            await asyncio.sleep(config.settle_s)
            return await drive(sim, ticker_a, competitor, path, config, limiter, bursts)
        finally:
            left = await engine.close()
            if left:
                raise RuntimeError(f"{left} order(s) left resting after the engine closed")


class CancelReplaceQuoter:
    """The naive baseline: reacts to the same WebSocket feed with the same ``decide``, but changes its
    price by cancelling the resting order and creating a new one (no amend). Quotes team A only.

    Its own orders are subtracted from the feed's book exactly while the feed shows them: a new order
    from the moment its delta arrives, a cancelled one until its removal delta arrives (deltas caused
    by our orders carry our client order id), so it never reacts to itself.
    """

    def __init__(
        self,
        rest: KalshiRest,
        feed: KalshiFeed,
        ticker: str,
        theo: Price,
        settings: QuoteSettings,
        grid: TickGrid,
        start_ms: int | None,
    ) -> None:
        self.rest, self.feed, self.ticker = rest, feed, ticker
        self.theo, self.settings, self.grid, self.start_ms = theo, settings, grid, start_ms
        self.memo = QuoteMemo()
        self.book: Book | None = None
        self.wake = asyncio.Event()
        self.live: tuple[str, Price, Count] | None = None  # client id, price, size
        self.live_order_id: str | None = None
        self.live_in_feed = False
        self.ghosts: dict[str, tuple[Price, Count]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.feed.set_listener(self._on_event)
        await self.feed.start()
        await self.feed.add_markets([self.ticker])
        self._task = asyncio.create_task(self._run(), name="cancel-replace-quoter")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.live_order_id is not None:
            await self.rest.cancel_order(self.live_order_id, self.ticker)
        await self.feed.aclose()

    def _on_event(self, event: FeedEvent) -> None:
        if not isinstance(event, BookEvent) or event.ticker != self.ticker or event.stale:
            return
        cid = event.client_order_id
        if cid is not None:
            if self.live is not None and cid == self.live[0]:
                self.live_in_feed = True
            self.ghosts.pop(cid, None)
        self.book = event.book
        self.wake.set()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            await self._step()

    async def _step(self) -> None:
        if self.book is None:
            return
        own = list(self.ghosts.values())
        if self.live is not None and self.live_in_feed:
            own.append((self.live[1], self.live[2]))
        visible = self.book.without(own_bids=own)
        price = self.live[1] if self.live else None
        size = self.live[2] if self.live else Count(0)
        closed = SideInput(None, Book(), None, Count(0), self.grid, market_open=False)
        mine = SideInput(self.theo, visible, price, size, self.grid)
        decision = decide(
            mine, closed, self.settings, Inventory(), self.memo, time.time_ns() // 1_000_000, self.start_ms
        )
        self.memo = decision.memo
        want, want_size = decision.a.price, decision.a.size
        if want == price and want_size == size:
            return
        if self.live is not None and self.live_order_id is not None:
            cid, old_price, old_size = self.live
            if self.live_in_feed:
                self.ghosts[cid] = (old_price, old_size)
            await self.rest.cancel_order(self.live_order_id, self.ticker)
            self.live, self.live_order_id, self.live_in_feed = None, None, False
        if want is None or want_size <= 0:
            return
        cid = f"bench-cr-{uuid.uuid4().hex[:16]}"
        self.live, self.live_in_feed = (cid, want, want_size), False
        ack = await self.rest.create_order(self.ticker, "bid", want, want_size, cid, post_only=True)
        self.live_order_id = ack.order_id
        self.wake.set()  # look again: the book may have moved while we were writing


async def measure_baseline(scenario: Path, path: list[int], config: Config) -> Window:
    async with SimServer(scenario, agents=False, tier=TIER) as sim:
        limiter = install_counter(sim)
        match = sim.matches[0]
        ticker = match.tickers[0]
        competitor = _open_market(sim, ticker)
        spec = bench_spec("baseline", ticker, match.tickers[1])
        s = spec.settings
        settings = QuoteSettings(
            edge=s.edge,
            contracts=s.contracts,
            inventory_max=s.inventory_max,
            retest_interval_ms=s.retest_interval_ms,
            backoff_ticks=s.backoff_ticks,
            fee_aware=s.fee_aware,
            start_margin_ms=s.start_margin_ms,
        )
        signer = signer_for(sim.demo_account)
        async with KalshiRest(sim.base_url, signer=signer) as rest:
            await rest.sync_rate_limits()
            grid = (await rest.get_market(ticker)).grid
            assert spec.theo.theo_a is not None
            quoter = CancelReplaceQuoter(
                rest, KalshiFeed(sim.ws_url, signer, watchdog_s=10), ticker, spec.theo.theo_a, settings, grid,
                match.start_ms,
            )
            await quoter.start()
            try:
                first = Price(expected_quote(START_CENTS) * 100)
                await wait_until(lambda: our_price(sim, ticker) == first, 10, "the baseline's first bid")
                await asyncio.sleep(config.settle_s)
                return await drive(sim, ticker, competitor, path, config, limiter)
            finally:
                await quoter.close()


def _side(window: Window, changes: int, expected_final: int) -> dict[str, Any]:
    if window.final_cents != expected_final:
        raise RuntimeError(
            f"the quoter ended at {window.final_cents}c, expected {expected_final}c: "
            "it lost track of the book"
        )
    w = window.writes
    return {
        "write_requests": w.requests,
        "tokens": w.tokens,
        "requests_by_token_cost": {str(k): v for k, v in sorted(w.by_cost.items())},
        "quote_moves": window.moves,
        "writes_per_change": round(w.requests / changes, 3),
        "tokens_per_change": round(w.tokens / changes, 2),
        "writes_per_quote_move": round(w.requests / window.moves, 3) if window.moves else None,
        "tokens_per_quote_move": round(w.tokens / window.moves, 2) if window.moves else None,
    }


async def run(config: Config, results_dir: Path | None = None) -> dict[str, Any]:
    path = book_path(config.changes, config.seed)
    quotes = [expected_quote(START_CENTS), *(expected_quote(p) for p in path)]
    needed_moves = sum(1 for a, b in itertools.pairwise(quotes) if a != b)
    with tempfile.TemporaryDirectory(prefix="kmm-bench-") as tmp:
        scenario = write_scenario(Path(tmp), 1)
        engine = await measure_engine(scenario, path, config)
        burst = await measure_engine(scenario, path, config, bursts=True)
        baseline = await measure_baseline(scenario, path, config)
    e = _side(engine, config.changes, quotes[-1])
    n_bursts = -(-config.changes // max(1, config.burst))
    b = _side(baseline, config.changes, quotes[-1])
    result: dict[str, Any] = {
        "benchmark": "writes",
        "book_changes": config.changes,
        "interval_s": config.interval_s,
        "quote_moves_needed": needed_moves,
        "rate_limit_tier": TIER,
        "token_costs": {"amend": AMEND_TOKENS, "create": CREATE_TOKENS, "cancel": CANCEL_TOKENS},
        "engine_amend": e,
        "engine_bursts": {
            "burst": config.burst,
            "burst_gap_ms": config.burst_gap_s * 1000,
            "bursts": n_bursts,
            **_side(burst, config.changes, quotes[-1]),
            "writes_per_burst": round(burst.writes.requests / n_bursts, 2),
        },
        "baseline_cancel_replace": b,
        "ratio_writes_baseline_over_engine": round(b["write_requests"] / e["write_requests"], 2)
        if e["write_requests"]
        else None,
        "ratio_tokens_baseline_over_engine": round(b["tokens"] / e["tokens"], 2) if e["tokens"] else None,
        "python": platform.python_version(),
    }
    write_result("writes", result, results_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=DEFAULTS.changes,
                        help="competitor moves (default 100)")
    parser.add_argument("--interval", type=float, default=DEFAULTS.interval_s,
                        help="seconds between moves (default 0.15)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="book path seed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(Config(changes=args.changes, interval_s=args.interval, seed=args.seed)))
    print(f"{result['book_changes']} book changes, {result['quote_moves_needed']} needed a new quote")
    for name, key in (("engine (amend)", "engine_amend"), ("cancel/replace", "baseline_cancel_replace")):
        side = result[key]
        print(f"{name:15s} {side['write_requests']:4d} writes {side['tokens']:5d} tokens  "
              f"{side['writes_per_change']:.2f} writes/change  "
              f"{side['tokens_per_change']:.2f} tokens/change  "
              f"({side['quote_moves']} quote moves)")
    b = result["engine_bursts"]
    print(f"engine, {b['bursts']} bursts of {b['burst']} moves {b['burst_gap_ms']:g} ms apart: "
          f"{b['write_requests']} writes, {b['writes_per_burst']} per burst "
          f"(target <= {b['burst']}: the moves coalesce), the final quote right")
    print(f"ratio cancel-replace/engine: writes {result['ratio_writes_baseline_over_engine']}x, "
          f"tokens {result['ratio_tokens_baseline_over_engine']}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
