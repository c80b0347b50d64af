"""Scan-time bench: the concurrent scanner vs the same scan one request at a time.

Against the simulator's ``large`` scenario (600 markets in 10 series) on loopback, a full ``--mode all``
scan of the built-in catalogue (24 series: 48 list requests, most of them empty) is timed

* sequentially (``concurrency=1``): the baseline, measured in the same run;
* concurrently (``concurrency=8``, the default).

Loopback answers in about a millisecond, which hides what concurrency is for, so each case also runs
with 50 ms of injected server latency (about a real round trip to Kalshi). Every run uses a fresh
client with the Basic tier's local rate limiter, as ``kmm scan`` does, so the numbers include pacing.

Run: ``.venv/bin/python bench/bench_scan.py`` — writes ``bench/results/scan.json``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kmm_tui.kalshi.ratelimit import RateLimiter  # noqa: E402
from kmm_tui.kalshi.rest import KalshiRest  # noqa: E402
from kmm_tui.scan.catalogue import Catalogue  # noqa: E402
from kmm_tui.scan.model import Mode, ScanFilter  # noqa: E402
from kmm_tui.scan.scanner import DEFAULT_CONCURRENCY, Scanner  # noqa: E402
from kmm_tui.sim import SimServer  # noqa: E402

REPEATS = 3
LATENCIES_MS = (0, 50)


async def timed_scan(sim: SimServer, catalogue: Catalogue, concurrency: int) -> tuple[float, int]:
    async with KalshiRest(sim.base_url, limiter=RateLimiter.for_tier("basic")) as rest:
        scanner = Scanner(rest, catalogue, concurrency=concurrency)
        start = time.perf_counter()
        result = await scanner.scan(catalogue.selection(), ScanFilter(Mode.ALL), sim.clock.now_ms())
        return time.perf_counter() - start, len(result.rows)


async def bench() -> dict[str, object]:
    catalogue = Catalogue.packaged()
    cases: list[dict[str, object]] = []
    async with SimServer("large", agents=False) as sim:
        sim.simulation.seed_books()
        for latency in LATENCIES_MS:
            sim.faults.latency_ms(latency)
            timings: dict[int, list[float]] = {1: [], DEFAULT_CONCURRENCY: []}
            markets = 0
            for _ in range(REPEATS):
                for concurrency in timings:
                    seconds, markets = await timed_scan(sim, catalogue, concurrency)
                    timings[concurrency].append(seconds)
            sequential = statistics.median(timings[1])
            concurrent = statistics.median(timings[DEFAULT_CONCURRENCY])
            cases.append(
                {
                    "latency_ms": latency,
                    "markets": markets,
                    "series": len(catalogue.selection()),
                    "sequential_s": round(sequential, 4),
                    "concurrent_s": round(concurrent, 4),
                    "concurrency": DEFAULT_CONCURRENCY,
                    "speedup": round(sequential / concurrent, 2),
                }
            )
        sim.faults.latency_ms(0)
    return {
        "bench": "scan",
        "scenario": "large",
        "repeats": REPEATS,
        "rate_limit_tier": "basic",
        "cases": cases,
    }


def main() -> None:
    result = asyncio.run(bench())
    for case in result["cases"]:  # type: ignore[union-attr]
        print(
            f"latency {case['latency_ms']:>3} ms: {case['markets']} markets in {case['series']} series — "
            f"sequential {case['sequential_s']:.3f} s, concurrent ({case['concurrency']}) "
            f"{case['concurrent_s']:.3f} s, ratio {case['speedup']}x"
        )
    out = ROOT / "bench" / "results" / "scan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
