"""The order write path's CPU: httpx against aiohttp, real signed amends to the simulator over loopback.

The simulator runs in a child process (``bench_scale.py --serve-sim``), so the CPU measured here is the
client's alone: ``time.process_time`` over ``--amends`` amends sent ``--concurrency`` at a time, each
moving one of our resting bids by a cent, through ``KalshiRest`` as the engine calls it (rate limiter,
signing, JSON, error mapping). Two clients in the same run, on the same loop:

* baseline — httpx for the writes (a ``KalshiRest`` given its own httpx transport keeps every request on
  httpx; the semaphore in front of its pool is on for both);
* write path — aiohttp (``kalshi/writepath.py``), what the engine uses.

The issue's bar: keep httpx unless another client cuts the write path's CPU by at least 3x. Also printed:
the signature alone (RSA-PSS, and Ed25519 for comparison), part of every write on both clients.
Run: ``.venv/bin/python bench/bench_http.py [--amends 400 --concurrency 20]`` -> ``bench/results/http.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from bench.bench_scale import Config as ScaleConfig
from bench.bench_scale import SimProcess
from bench.common import write_result
from kmm_tui import eventloop
from kmm_tui.bootstrap import sim_key_from_state
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.ratelimit import RateLimiter
from kmm_tui.kalshi.rest import KalshiRest

TARGET_RATIO = 3.0
SIGN_PATH = "/trade-api/v2/portfolio/events/orders/00000000-0000-0000-0000-000000000000/amend"


@dataclass(frozen=True, slots=True)
class Config:
    amends: int = 400
    concurrency: int = 20


DEFAULTS = Config()

async def _amend_cpu(rest: KalshiRest, ticker: str, config: Config, base_cents: int) -> float:
    """CPU seconds per amend: ``concurrency`` resting bids, each moved a cent up and down in turn."""
    acks = [
        await rest.create_order(
            ticker, "bid", Price((base_cents + i) * 100), contracts(1), f"kmm-h{base_cents}-{i}"
        )
        for i in range(config.concurrency)
    ]
    rounds = max(1, config.amends // config.concurrency)

    async def walk(i: int, order_id: str) -> None:
        for step in range(rounds):
            cents = base_cents + i + (1 if step % 2 == 0 else 0)
            await rest.amend_order(order_id, ticker, "bid", Price(cents * 100), contracts(1))

    await walk(0, acks[0].order_id)  # connections open, caches warm
    cpu = time.process_time()
    await asyncio.gather(*(walk(i, ack.order_id) for i, ack in enumerate(acks)))
    used = time.process_time() - cpu
    for ack in acks:
        await rest.cancel_order(ack.order_id, ticker)
    return used / (rounds * len(acks))


def _sign_cpu(signer: Signer, n: int = 300) -> float:
    cpu = time.process_time()
    for _ in range(n):
        signer.headers("POST", SIGN_PATH, 1_700_000_000_000)
    return (time.process_time() - cpu) / n


async def run(config: Config, results_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kmm-bench-http-") as tmp:
        sim = await SimProcess.spawn(1, ScaleConfig(), Path(tmp))
        try:
            signer = sim_key_from_state(Path(tmp))
            url = sim.ready["base_url"]
            ticker = sim.ready["matches"][0][0]
            limiter = RateLimiter.for_tier("prestige")
            async with KalshiRest(
                url, signer=signer, limiter=limiter, transport=httpx.AsyncHTTPTransport()
            ) as rest:
                httpx_s = await _amend_cpu(rest, ticker, config, 10)
            async with KalshiRest(url, signer=signer, limiter=RateLimiter.for_tier("prestige")) as rest:
                aiohttp_s = await _amend_cpu(rest, ticker, config, 40)
        finally:
            await sim.stop()
    rsa_sign = _sign_cpu(signer)
    ed_sign = _sign_cpu(Signer("bench", ed25519.Ed25519PrivateKey.generate()))
    ratio = httpx_s / aiohttp_s
    result = {
        "benchmark": "http",
        "setup": "signed V2 amends to the simulator in a child process; client CPU only",
        "amends": config.amends,
        "concurrency": config.concurrency,
        "loop": eventloop.loop_name(),
        "baseline_httpx_cpu_ms_per_write": round(httpx_s * 1000, 3),
        "aiohttp_cpu_ms_per_write": round(aiohttp_s * 1000, 3),
        "ratio_httpx_over_aiohttp": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "verdict": "pass" if ratio >= TARGET_RATIO else "FAIL",
        "sign_cpu_ms": {"rsa_pss": round(rsa_sign * 1000, 3), "ed25519": round(ed_sign * 1000, 3)},
        "python": platform.python_version(),
    }
    write_result("http", result, results_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--amends", type=int, default=DEFAULTS.amends)
    parser.add_argument("--concurrency", type=int, default=DEFAULTS.concurrency)
    args = parser.parse_args(argv)
    result = eventloop.run(run(Config(args.amends, args.concurrency)))
    print(
        f"write CPU per signed amend ({result['concurrency']} concurrent, {result['loop']}): "
        f"httpx {result['baseline_httpx_cpu_ms_per_write']:.2f} ms, "
        f"aiohttp {result['aiohttp_cpu_ms_per_write']:.2f} ms"
    )
    print(
        f"ratio httpx/aiohttp {result['ratio_httpx_over_aiohttp']}x (target >= {TARGET_RATIO:g}x): "
        f"{result['verdict']}"
    )
    sign = result["sign_cpu_ms"]
    print(f"of which the signature: RSA-PSS {sign['rsa_pss']:.3f} ms, Ed25519 {sign['ed25519']:.3f} ms")
    return 0 if result["verdict"] == "pass" else 1


if __name__ == "__main__":
    raise SystemExit(main())
