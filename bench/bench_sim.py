"""Simulator throughput: V2 order create+cancel over loopback HTTP vs the same calls in-process.

Baseline (measured in the same run): the matching engine alone. The ratio says how much the HTTP,
JSON and signature layers cost per order; the engine's trading loop pays that, not the baseline.
Writes ``bench/results/sim.json``. Run: ``.venv/bin/python bench/bench_sim.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from kmm_tui.domain.prices import contracts, price_from_cents
from kmm_tui.sim import OrderRequest, SimServer

N_ENGINE = 5_000
N_HTTP = 200
RESULTS = Path(__file__).resolve().parent / "results" / "sim.json"


def signed(key: object, key_id: str, method: str, path: str) -> dict[str, str]:
    ts = str(int(time.time() * 1000))
    sig = key.sign(  # type: ignore[attr-defined]
        f"{ts}{method}{path}".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )
    return {
        "KALSHI-ACCESS-KEY": key_id,
        "KALSHI-ACCESS-TIMESTAMP": ts,
        "KALSHI-ACCESS-SIGNATURE": base64.b64encode(sig).decode(),
    }


async def main() -> None:
    async with SimServer(agents=False, tier="prestige") as sim:
        ticker = next(iter(sim.exchange.markets))
        account = sim.demo_account
        ex = sim.exchange
        start = time.perf_counter()
        for i in range(N_ENGINE):
            order = ex.create_order(
                account.user_id, OrderRequest(ticker, "bid", price_from_cents(10 + i % 30), contracts(1))
            ).order
            ex.cancel_order(account.user_id, order.order_id)
        engine_us = (time.perf_counter() - start) / N_ENGINE * 1e6

        key = serialization.load_pem_private_key(account.private_key_pem, password=None)
        prefix = "/trade-api/v2"
        async with httpx.AsyncClient() as client:
            start = time.perf_counter()
            for _ in range(N_HTTP):
                body = {
                    "ticker": ticker,
                    "side": "bid",
                    "price": "0.1000",
                    "count": "1",
                    "time_in_force": "good_till_canceled",
                    "self_trade_prevention_type": "maker",
                }
                path = "/portfolio/events/orders"
                r = await client.post(
                    sim.base_url + path, json=body, headers=signed(key, account.key_id, "POST", prefix + path)
                )
                oid = r.json()["order_id"]
                path = f"/portfolio/events/orders/{oid}"
                await client.delete(
                    sim.base_url + path, headers=signed(key, account.key_id, "DELETE", prefix + path)
                )
            http_us = (time.perf_counter() - start) / N_HTTP * 1e6
    ratio = http_us / engine_us
    result = {
        "engine_create_cancel_us": round(engine_us, 1),
        "http_create_cancel_us": round(http_us, 1),
        "ratio_http_vs_engine": round(ratio, 1),
    }
    print(f"engine {engine_us:.1f} us/op, http {http_us:.1f} us/op, ratio {ratio:.1f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
