"""Helpers for the simulator tests: a tiny exchange builder and an independent request signer.

The signer is written here on purpose (not imported from ``kmm_tui.kalshi``): the simulator and the
client must each implement the protocol from the spec, so one can catch the other's mistakes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from websockets.asyncio.client import ClientConnection, connect

from kmm_tui.domain.prices import TickGrid
from kmm_tui.sim import SimServer
from kmm_tui.sim.auth import SimAccount
from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.model import EventDef, Market, SeriesDef

WS_PATH = "/trade-api/ws/v2"

TICKER = "KXCS2GAME-26NOV281330VITFAZ-VIT"
TICKER2 = "KXCS2GAME-26NOV281330VITFAZ-FAZ"
NBA = "KXNBAGAME-26NOV28BOSNYK-BOS"
T0 = 1_795_881_900_000


class FakeClock:
    def __init__(self, now_ms: int = T0) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now


def make_exchange(clock: FakeClock | None = None) -> Exchange:
    """Two CS2 markets (plain quadratic fees) and one NBA market (maker fees)."""
    ex = Exchange(clock or FakeClock())
    ex.add_series(SeriesDef("KXCS2GAME", "CS2", ("Esports",), "quadratic", Decimal(1)))
    ex.add_series(SeriesDef("KXNBAGAME", "NBA", ("Basketball",), "quadratic_with_maker_fees", Decimal(1)))
    ex.add_event(EventDef("KXCS2GAME-26NOV281330VITFAZ", "KXCS2GAME", "Vitality vs. FaZe", "Nov 28", "CS2"))
    ex.add_event(EventDef("KXNBAGAME-26NOV28BOSNYK", "KXNBAGAME", "Boston at New York", "Nov 28", "NBA"))
    ranges = [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]
    for ticker, event in (
        (TICKER, "KXCS2GAME-26NOV281330VITFAZ"),
        (TICKER2, "KXCS2GAME-26NOV281330VITFAZ"),
        (NBA, "KXNBAGAME-26NOV28BOSNYK"),
    ):
        ex.add_market(
            Market(
                ticker=ticker,
                event_ticker=event,
                market_id=f"id-{ticker}",
                title=ticker,
                yes_sub_title=ticker,
                price_ranges=ranges,
                price_level_structure="linear_cent",
                grid=TickGrid.from_price_ranges(ranges),
                open_ms=T0 - 1,
                close_ms=T0 + 10**9,
                expected_expiration_ms=T0 + 10**8,
                created_ms=T0 - 1,
            )
        )
    return ex


def sign_headers(key_id: str, pem: bytes, method: str, path: str, ts_ms: int | None = None) -> dict[str, str]:
    """The three Kalshi headers: RSA-PSS(SHA-256, MGF1-SHA-256, salt 32) over ts + METHOD + path."""
    key = serialization.load_pem_private_key(pem, password=None)
    ts = str(ts_ms if ts_ms is not None else int(time.time() * 1000))
    path = path.split("?", 1)[0]
    signature = key.sign(  # type: ignore[union-attr]
        f"{ts}{method.upper()}{path}".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )
    return {
        "KALSHI-ACCESS-KEY": key_id,
        "KALSHI-ACCESS-TIMESTAMP": ts,
        "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode(),
    }


class Signed:
    """A signing wrapper around an ``httpx.AsyncClient`` for one account."""

    def __init__(self, client: Any, base_url: str, key_id: str, pem: bytes) -> None:
        self.client = client
        self.base_url = base_url
        self.key_id = key_id
        self.pem = pem
        self.prefix = "/trade-api/v2"

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = sign_headers(self.key_id, self.pem, method, self.prefix + path)
        return await self.client.request(method, self.base_url + path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        return await self.request("DELETE", path, **kwargs)


# --- WebSocket helpers --------------------------------------------------------------------------


@asynccontextmanager
async def feed(sim: SimServer, account: SimAccount | None = None) -> AsyncIterator[ClientConnection]:
    account = account or sim.demo_account
    headers = sign_headers(account.key_id, account.private_key_pem, "GET", WS_PATH)
    async with connect(sim.ws_url, additional_headers=headers) as ws:
        yield ws


async def recv(ws: ClientConnection, wait: float = 2.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), wait))


async def recv_type(ws: ClientConnection, mtype: str, wait: float = 2.0) -> dict[str, Any]:
    while True:
        msg = await recv(ws, wait)
        if msg["type"] == mtype:
            return msg


async def send(ws: ClientConnection, cmd: dict[str, Any]) -> None:
    await ws.send(json.dumps(cmd))
