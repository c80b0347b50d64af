"""Benchmark ``kmm_tui.domain.quoting.decide`` on a few thousand varied, realistic inputs.

Prints decisions per second for:
  * ``decide``       — the engine's real call (grids and books already built),
  * ``engine path``  — one whole decision as the strategy runner makes it (``_decide_and_act`` on a
    dry-run match of a real engine on the simulator: risk check, both sides' visible books, decide,
    the decision log), without the write that may follow,
  * ``empty``        — baseline: the same loop producing a constant Decision (the loop's own cost),
  * ``naive``        — baseline: rebuild the tick grid and book from wire-form data on every call, then decide
and the ratios against the baselines, measured in the same run. Writes ``bench/results/decide.json``.
Target: >= 50 000 decisions/s on one core. Run: ``.venv/bin/python bench/bench_decide.py``.
"""

from __future__ import annotations

import asyncio
import json
import platform
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_spec, start_engine, wait_until, write_scenario
from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import CENT, Price, TickGrid, contracts
from kmm_tui.domain.quoting import (
    Decision,
    QuoteMemo,
    QuoteSettings,
    Reason,
    SideInput,
    SideMemo,
    SideQuote,
    decide,
)
from kmm_tui.engine import commands as cmd
from kmm_tui.sim import SimServer

ENGINE_PATH_DECISIONS = 3_000

N_CASES = 4_000
REPEATS = 5
TARGET = 50_000
RESULT = Path(__file__).resolve().parent / "results" / "decide.json"

LINEAR_RANGES = [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]
TAPERED_RANGES = [
    {"start": "0.0000", "end": "0.1000", "step": "0.0050"},
    {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
    {"start": "0.9000", "end": "1.0000", "step": "0.0050"},
]

Case = tuple[SideInput, SideInput, QuoteSettings, Inventory, QuoteMemo, int, int | None]
WireCase = tuple[list[dict[str, str]], dict[int, int], dict[int, int], dict[int, int], dict[int, int]]


def _wire_side(rng: random.Random, theo: int) -> tuple[dict[int, int], dict[int, int]]:
    """Per-leg bid maps as the feed delivers them: YES bids below theo, NO bids (= asks above)."""
    yes = {max(1, theo // CENT - rng.randint(1, 12)) * CENT: rng.randint(1, 500) * 100
           for _ in range(rng.randint(0, 8))}
    no = {max(1, (10_000 - theo) // CENT - rng.randint(1, 12)) * CENT: rng.randint(1, 500) * 100
          for _ in range(rng.randint(0, 8))}
    return yes, no


def build_cases(seed: int = 20261128) -> tuple[list[Case], list[WireCase]]:
    rng = random.Random(seed)
    grids = {"linear": TickGrid.from_price_ranges(LINEAR_RANGES),
             "tapered": TickGrid.from_price_ranges(TAPERED_RANGES)}
    cases: list[Case] = []
    wires: list[WireCase] = []
    for _ in range(N_CASES):
        ranges = LINEAR_RANGES if rng.random() < 0.7 else TAPERED_RANGES
        grid = grids["linear" if ranges is LINEAR_RANGES else "tapered"]
        theo_a = rng.randint(1_500, 8_500)
        theo_b = 10_000 - theo_a
        sides = []
        legs = []
        for theo in (theo_a, theo_b):
            yes, no = _wire_side(rng, theo)
            legs.extend((yes, no))
            book = Book.from_legs(yes, no)
            best = book.best_bid
            resting = None
            if best is not None and rng.random() < 0.7:
                resting = grid.up(best) if rng.random() < 0.6 else best
            sides.append(SideInput(theo, book, resting, contracts(10) if resting else 0, grid,
                                   market_open=rng.random() > 0.02))
        settings = QuoteSettings(
            edge=rng.choice([100, 150, 200, 300]),
            contracts=contracts(rng.choice([5, 10, 25])),
            inventory_max=contracts(rng.choice([10, 25, 50])),
            backoff_ticks=rng.choice([0, 0, 1, 2]),
            max_join_depth=rng.choice([None, None, 3, 10]),
            fee_aware=rng.random() < 0.3,
            fee_type=rng.choice([FeeType.QUADRATIC, FeeType.QUADRATIC_WITH_MAKER_FEES]),
            fee_multiplier=Decimal(1),
            start_margin_ms=300_000,
        )
        inventory = Inventory()
        for _ in range(rng.randint(0, 6)):
            side = rng.choice([Side.A, Side.B])
            theo = theo_a if side is Side.A else theo_b
            inventory = inventory.apply_fill(side, max(100, theo - 300), contracts(rng.randint(1, 10)), 4_400)
        memo = QuoteMemo(
            SideMemo(max(100, theo_a - 200), rng.randint(0, 60_000)) if rng.random() < 0.3 else SideMemo(),
            SideMemo(max(100, theo_b - 200), rng.randint(0, 60_000)) if rng.random() < 0.3 else SideMemo(),
        )
        # mostly well before the start; 5 % inside the 300 s start margin (cheap "paused" decisions)
        start = rng.choices([None, 3_600_000, 400_000, 320_000], weights=[30, 40, 25, 5])[0]
        cases.append((sides[0], sides[1], settings, inventory, memo, 60_000, start))
        wires.append((ranges, legs[0], legs[1], legs[2], legs[3]))
    return cases, wires


def run_decide(cases: list[Case]) -> float:
    start = time.perf_counter()
    for a, b, settings, inventory, memo, now, begin in cases:
        decide(a, b, settings, inventory, memo, now, begin)
    return time.perf_counter() - start


def run_empty(cases: list[Case]) -> float:
    quote = SideQuote(None, 0, Reason.STOPPED, "", None)
    memo = QuoteMemo()

    def empty(a: Any, b: Any, settings: Any, inventory: Any, m: Any, now: Any, begin: Any) -> Decision:
        return Decision(quote, quote, memo)

    start = time.perf_counter()
    for a, b, settings, inventory, m, now, begin in cases:
        empty(a, b, settings, inventory, m, now, begin)
    return time.perf_counter() - start


def run_naive(cases: list[Case], wires: list[WireCase]) -> float:
    """What an engine without cached grids/books would pay: parse price_ranges and rebuild books each call."""
    start = time.perf_counter()
    for (a, b, settings, inventory, memo, now, begin), (ranges, yes_a, no_a, yes_b, no_b) in zip(
        cases, wires, strict=True
    ):
        grid = TickGrid.from_price_ranges(ranges)
        side_a = SideInput(a.theo, Book.from_legs(yes_a, no_a), a.resting_price, a.resting_size, grid,
                           a.market_open)
        side_b = SideInput(b.theo, Book.from_legs(yes_b, no_b), b.resting_price, b.resting_size, grid,
                           b.market_open)
        decide(side_a, side_b, settings, inventory, memo, now, begin)
    return time.perf_counter() - start


async def run_engine_path(decisions: int = ENGINE_PATH_DECISIONS) -> float:
    """Seconds for ``decisions`` passes of the runner's decision path on a live dry-run match."""
    with tempfile.TemporaryDirectory(prefix="kmm-bench-decide-") as tmp:
        async with SimServer(write_scenario(Path(tmp), 1), agents=False, tier="prestige") as sim:
            ticker_a, ticker_b = sim.matches[0].tickers[:2]
            sim.place_competitor_order(ticker_a, "bid", Price(5000), contracts(5))
            sim.place_competitor_order(ticker_b, "bid", Price(3000), contracts(5))
            engine = await start_engine(sim)
            try:
                await engine.execute(cmd.AddMatch(bench_spec("m1", ticker_a, ticker_b)))
                await engine.execute(cmd.StartMatch("m1", dry_run=True))
                markets = engine._data.markets
                await wait_until(lambda: not markets[ticker_a].stale and not markets[ticker_b].stale, 10,
                                 "live books")
                match = engine._matches["m1"]
                runner = engine._strategy
                best = float("inf")
                for _ in range(REPEATS):
                    start = time.perf_counter()
                    for _ in range(decisions):
                        await runner._decide_and_act(match)
                    best = min(best, time.perf_counter() - start)
                return best
            finally:
                await engine.close()


def main() -> int:
    cases, wires = build_cases()
    reasons: dict[str, int] = {}
    for a, b, settings, inventory, memo, now, begin in cases:
        decision = decide(a, b, settings, inventory, memo, now, begin)
        for quote in (decision.a, decision.b):
            reasons[quote.reason.value] = reasons.get(quote.reason.value, 0) + 1
    best = {"decide": float("inf"), "empty": float("inf"), "naive": float("inf")}
    for _ in range(REPEATS):
        best["decide"] = min(best["decide"], run_decide(cases))
        best["empty"] = min(best["empty"], run_empty(cases))
        best["naive"] = min(best["naive"], run_naive(cases, wires))
    rate = {name: len(cases) / seconds for name, seconds in best.items()}
    rate["engine_path"] = ENGINE_PATH_DECISIONS / asyncio.run(run_engine_path())
    result = {
        "benchmark": "decide",
        "cases": len(cases),
        "repeats": REPEATS,
        "decisions_per_s": round(rate["decide"]),
        "engine_path_decisions_per_s": round(rate["engine_path"]),
        "engine_path_meets_target": rate["engine_path"] >= TARGET,
        "empty_baseline_per_s": round(rate["empty"]),
        "naive_rebuild_per_s": round(rate["naive"]),
        "ratio_vs_empty": round(rate["decide"] / rate["empty"], 4),
        "ratio_vs_naive_rebuild": round(rate["decide"] / rate["naive"], 3),
        "target_per_s": TARGET,
        "meets_target": rate["decide"] >= TARGET,
        "reasons": dict(sorted(reasons.items())),
        "python": platform.python_version(),
    }
    print(f"decide:        {rate['decide']:>12,.0f} decisions/s  (target {TARGET:,})")
    print(f"engine path:   {rate['engine_path']:>12,.0f} decisions/s  (target {TARGET:,}: "
          f"{'pass' if result['engine_path_meets_target'] else 'FAIL'})")
    print(f"empty baseline:{rate['empty']:>12,.0f} decisions/s  "
          f"ratio decide/empty = {result['ratio_vs_empty']}")
    print(f"naive rebuild: {rate['naive']:>12,.0f} decisions/s  "
          f"ratio decide/naive = {result['ratio_vs_naive_rebuild']}")
    print("reasons:", ", ".join(f"{k} {v}" for k, v in result["reasons"].items()))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULT}")
    return 0 if result["meets_target"] and result["engine_path_meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
