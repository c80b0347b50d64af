"""KalshiFeed against tiny local WebSocket servers replaying fixture frames (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.ws import (
    Backoff,
    BookEvent,
    FeedEvent,
    FeedHealth,
    FeedProblem,
    FillEvent,
    KalshiFeed,
    LifecycleEvent,
    OrderEvent,
    PositionEvent,
    Reconnected,
)
from tests.kalshi.conftest import KEY_ID
from tests.support import FIXTURES, load_fixture

VIT = "KXCS2GAME-26NOV281330VITFAZ-VIT"
FAZ = "KXCS2GAME-26NOV281330VITFAZ-FAZ"
WS_PATH = "/trade-api/ws/v2"
SESSION = [
    json.loads(line)
    for line in (FIXTURES / "kalshi/ws/session_orderbook_with_gap.jsonl").read_text().splitlines()
    if line.strip() and "_comment" not in line
]
# SESSION: [0] subscribed, [1..2] snapshots seq 1-2, [3..6] deltas seq 3-6, [7] delta seq 9 (gap),
#          [8..9] fresh snapshots seq 10-11, [10] delta seq 12
FAST = Backoff(base_s=0.01, cap_s=0.05)

Handler = Callable[[ServerConnection, "Server"], Awaitable[None]]


@dataclass
class Server:
    url: str = ""
    upgrades: list[dict[str, str]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0


async def send(ws: ServerConnection, frame: dict[str, Any]) -> None:
    await ws.send(json.dumps(frame))


async def subscribed(ws: ServerConnection, cmd: dict[str, Any], first_sid: int) -> None:
    for offset, channel in enumerate(cmd["params"]["channels"]):
        await send(
            ws,
            {"id": cmd["id"], "type": "subscribed", "msg": {"channel": channel, "sid": first_sid + offset}},
        )


@asynccontextmanager
async def ws_server(public_key: rsa.RSAPublicKey, handler: Handler) -> AsyncIterator[Server]:
    state = Server()

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        state.upgrades.append(headers)
        try:
            message = f"{headers['kalshi-access-timestamp']}GET{request.path.split('?')[0]}".encode()
            public_key.verify(
                base64.b64decode(headers["kalshi-access-signature"]),
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        except (KeyError, InvalidSignature, ValueError):
            return connection.respond(401, "authentication_error\n")
        return None

    async def run(ws: ServerConnection) -> None:
        state.connections += 1
        with contextlib.suppress(Exception):
            await handler(ws, state)

    async with serve(run, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}{WS_PATH}"
        yield state


async def commands(ws: ServerConnection, state: Server) -> AsyncIterator[dict[str, Any]]:
    async for raw in ws:
        cmd = json.loads(raw)
        state.commands.append(cmd)
        yield cmd


class Collector:
    """Reads feed events, remembering all of them, until one matches."""

    def __init__(self, feed: KalshiFeed) -> None:
        self.feed = feed
        self.seen: list[FeedEvent] = []

    async def until(self, predicate: Callable[[FeedEvent], bool]) -> FeedEvent:
        async with asyncio.timeout(5.0):
            while True:
                event = await self.feed.events.get()
                self.seen.append(event)
                if predicate(event):
                    return event

    def books(self, ticker: str) -> list[BookEvent]:
        return [e for e in self.seen if isinstance(e, BookEvent) and e.ticker == ticker]


def is_book(ticker: str, *, seq: int | None = None, stale: bool = False) -> Callable[[FeedEvent], bool]:
    def check(event: FeedEvent) -> bool:
        return (
            isinstance(event, BookEvent)
            and event.ticker == ticker
            and event.stale is stale
            and (seq is None or event.seq == seq)
        )

    return check


async def session_handler(ws: ServerConnection, state: Server, *, drop_after_resync: bool = True) -> None:
    """The recorded session: snapshots, deltas, a gap; fresh snapshots on get_snapshot; then a drop."""
    connection = state.connections
    async for cmd in commands(ws, state):
        if cmd["cmd"] == "subscribe" and cmd["params"]["channels"] == ["orderbook_delta"]:
            await send(ws, SESSION[0] | {"id": cmd["id"]})
            for frame in SESSION[1:8] if connection == 1 else SESSION[1:3]:
                await send(ws, frame)
        elif cmd["cmd"] == "subscribe":
            await subscribed(ws, cmd, first_sid=10 * len(state.commands))
        elif cmd["cmd"] == "update_subscription" and cmd["params"]["action"] == "get_snapshot":
            for frame in SESSION[8:11]:
                await send(ws, frame)
            if connection == 1 and drop_after_resync:
                await ws.close()
                return


async def test_books_gap_resnapshot_and_reconnect(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    async with ws_server(rsa_key.public_key(), session_handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT, FAZ], backoff=FAST)
        events = Collector(feed)
        async with feed:
            # snapshots + deltas up to seq 6
            at6 = await events.until(is_book(VIT, seq=6))
            assert isinstance(at6, BookEvent)
            assert at6.book.bids == ((5600, 8000), (5500, 1000), (5400, 12000), (5000, 25000))
            assert at6.book.asks[0] == (5800, 5500)  # NO 0.42 grew 40 -> 55
            own = next(e for e in events.books(VIT) if e.seq == 4)
            assert (
                own.client_order_id == "c4f1a8e2-6d3b-4a97-b1c5-7e2f9d0a3b16"
            )  # our order stays in the book
            faz = next(e for e in events.books(FAZ) if e.seq == 5)
            assert (faz.book.best_bid, faz.book.best_ask) == (4200, 4400)

            # seq 9 after 6: both books go stale and a snapshot is requested for both
            await events.until(is_book(VIT, stale=True))
            await events.until(is_book(FAZ, stale=True))
            final = await events.until(is_book(VIT, seq=12))
            assert isinstance(final, BookEvent)
            assert final.book.bids == (
                (5600, 8500),
                (5400, 12000),
                (5000, 25000),
            )  # fresh snapshot - delta 12
            assert all(
                5700 not in dict(e.book.bids) for e in events.books(VIT)
            )  # the seq-9 delta was dropped
            request = next(c for c in server.commands if c["cmd"] == "update_subscription")
            expected = load_fixture("kalshi/ws/cmd_update_get_snapshot.json")
            assert request["params"] == expected["params"]
            assert feed.gaps == 1

            # the server drops the connection: books stale, reconnect, Reconnected, fresh books again
            down = await events.until(lambda e: isinstance(e, FeedHealth) and not e.connected)
            assert isinstance(down, FeedHealth) and set(down.stale_tickers) == {VIT, FAZ}
            back = await events.until(lambda e: isinstance(e, Reconnected))
            assert isinstance(back, Reconnected) and back.reconnects == 1 and back.down_since_ms is not None
            await events.until(is_book(FAZ, seq=2))
            health = feed.health()
            assert health.connected and health.stale_tickers == () and health.reconnects == 1
            assert health.last_message_ms is not None
    assert server.connections == 2
    # every upgrade was signed afresh (the server verified each signature over GET /trade-api/ws/v2)
    assert len(server.upgrades) == 2 and all(u["kalshi-access-key"] == KEY_ID for u in server.upgrades)
    assert server.upgrades[0]["kalshi-access-signature"] != server.upgrades[1]["kalshi-access-signature"]


async def test_subscribe_commands(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    async def handler(ws: ServerConnection, state: Server) -> None:
        async for cmd in commands(ws, state):
            await subscribed(ws, cmd, first_sid=len(state.commands))

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT, FAZ], backoff=FAST)
        async with feed:
            for _ in range(100):
                if len(server.commands) >= 3:
                    break
                await asyncio.sleep(0.02)
    book, private, lifecycle = server.commands[:3]
    assert book["params"] == load_fixture("kalshi/ws/cmd_subscribe_orderbook.json")["params"]
    assert book["params"]["use_yes_price"] is False
    assert private["params"] == load_fixture("kalshi/ws/cmd_subscribe_private.json")["params"]
    assert lifecycle["params"] == load_fixture("kalshi/ws/cmd_subscribe_lifecycle.json")["params"]
    assert [c["id"] for c in server.commands[:3]] == [1, 2, 3]


async def test_private_channels_become_typed_events(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    frames = [
        "fill.json",
        "user_order.json",
        "market_position.json",
        "lifecycle_deactivated.json",
        "ticker.json",
        "order_group_updates_triggered.json",
    ]

    async def handler(ws: ServerConnection, state: Server) -> None:
        async for cmd in commands(ws, state):
            await subscribed(ws, cmd, first_sid=len(state.commands))
            if "fill" in cmd["params"]["channels"]:
                for name in frames:
                    await send(ws, load_fixture(f"kalshi/ws/{name}"))

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, backoff=FAST)
        events = Collector(feed)
        async with feed:
            fill = await events.until(lambda e: isinstance(e, FillEvent))
            order = await events.until(lambda e: isinstance(e, OrderEvent))
            position = await events.until(lambda e: isinstance(e, PositionEvent))
            lifecycle = await events.until(lambda e: isinstance(e, LifecycleEvent))
    assert isinstance(fill, FillEvent) and fill.fill.yes_price == 5500 and fill.fill.count == 400
    assert isinstance(order, OrderEvent) and order.order.remaining_count == 600
    assert isinstance(position, PositionEvent) and position.position.position == 400
    assert isinstance(lifecycle, LifecycleEvent) and lifecycle.event_type == "deactivated"
    assert lifecycle.lifecycle.is_deactivated is True


async def test_add_and_remove_markets_at_runtime(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    async def handler(ws: ServerConnection, state: Server) -> None:
        seq = 0
        async for cmd in commands(ws, state):
            params = cmd.get("params", {})
            if cmd["cmd"] == "subscribe" and params["channels"] == ["orderbook_delta"]:
                await send(
                    ws,
                    {"id": cmd["id"], "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}},
                )
                for frame in SESSION[1:3]:
                    if frame["msg"]["market_ticker"] in params["market_tickers"]:
                        seq += 1
                        await send(ws, frame | {"seq": seq})
            elif cmd["cmd"] == "subscribe":
                await subscribed(ws, cmd, first_sid=5)
            elif cmd["cmd"] == "update_subscription":
                seq += 1
                await send(ws, {"id": cmd["id"], "sid": 1, "seq": seq, "type": "ok", "msg": {}})
                if params["action"] == "add_markets":
                    for frame in SESSION[1:3]:
                        if frame["msg"]["market_ticker"] in params["market_tickers"]:
                            seq += 1
                            await send(ws, frame | {"seq": seq})

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT], private=False, lifecycle=False, backoff=FAST)
        events = Collector(feed)
        async with feed:
            await events.until(is_book(VIT))
            await feed.add_markets([FAZ])
            added = await events.until(is_book(FAZ))
            assert isinstance(added, BookEvent) and added.book.best_bid == 4200
            assert feed.tickers == (VIT, FAZ)
            await feed.remove_markets([VIT])
            for _ in range(100):
                if server.commands[-1]["params"].get("action") == "delete_markets":
                    break
                await asyncio.sleep(0.02)
            assert feed.book(VIT) is None and feed.book(FAZ) is not None
            assert feed.gaps == 0  # ok replies carry seq and were counted in order
    add = next(c for c in server.commands if c["params"].get("action") == "add_markets")
    assert add["params"] == {"sid": 1, "market_tickers": [FAZ], "action": "add_markets"}
    delete = server.commands[-1]
    assert delete["params"] == {"sid": 1, "market_tickers": [VIT], "action": "delete_markets"}


async def test_repeated_seq_marks_stale_and_resyncs(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    async def handler(ws: ServerConnection, state: Server) -> None:
        async for cmd in commands(ws, state):
            if cmd["cmd"] == "subscribe":
                await send(ws, SESSION[0] | {"id": cmd["id"]})
                for frame in [*SESSION[1:4], SESSION[3]]:  # delta seq 3 arrives twice
                    await send(ws, frame)
            elif cmd["params"]["action"] == "get_snapshot":
                await send(ws, SESSION[8] | {"seq": 4})

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT], private=False, lifecycle=False, backoff=FAST)
        events = Collector(feed)
        async with feed:
            once = await events.until(is_book(VIT, seq=3))
            assert isinstance(once, BookEvent) and once.book.bids[0] == (5600, 8000)
            await events.until(is_book(VIT, stale=True))
            fresh = await events.until(is_book(VIT, seq=4))
            assert isinstance(fresh, BookEvent) and fresh.book.bid_size_at(5500) == 1000
            assert all(e.book.bids[0] != (5600, 7500) for e in events.books(VIT))  # never applied twice


async def test_terminal_error_forces_resubscribe(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    async def handler(ws: ServerConnection, state: Server) -> None:
        async for cmd in commands(ws, state):
            if cmd["cmd"] == "subscribe":
                await send(ws, SESSION[0] | {"id": cmd["id"]})
                await send(ws, SESSION[1])
                if state.connections == 1:
                    await send(ws, load_fixture("kalshi/ws/resp_error_buffer_overflow_terminal.json"))

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT], private=False, lifecycle=False, backoff=FAST)
        events = Collector(feed)
        async with feed:
            problem = await events.until(lambda e: isinstance(e, FeedProblem))
            assert isinstance(problem, FeedProblem) and problem.code == 25
            await events.until(lambda e: isinstance(e, Reconnected))
            await events.until(is_book(VIT))
    assert server.connections == 2


async def test_rejected_signature_is_reported_and_retried(rsa_key: rsa.RSAPrivateKey) -> None:
    wrong = Signer(KEY_ID, rsa.generate_private_key(public_exponent=65537, key_size=1024))

    async def handler(ws: ServerConnection, state: Server) -> None:  # pragma: no cover - never reached
        await ws.close()

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, wrong, tickers=[VIT], backoff=FAST)
        events = Collector(feed)
        async with feed:
            down = await events.until(lambda e: isinstance(e, FeedHealth) and "HTTP 401" in e.detail)
            for _ in range(100):
                if len(server.upgrades) >= 2:
                    break
                await asyncio.sleep(0.02)
    assert isinstance(down, FeedHealth) and not down.connected and "key" in down.detail
    assert server.connections == 0 and len(server.upgrades) >= 2


@asynccontextmanager
async def black_hole() -> AsyncIterator[tuple[str, list[int]]]:
    """Accepts the WebSocket upgrade, then never sends a frame or answers a ping."""
    accepted: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        accepted.append(1)
        writers.append(writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}{WS_PATH}", accepted
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_watchdog_reconnects_a_silent_connection(signer: Signer) -> None:
    async with black_hole() as (url, accepted):
        feed = KalshiFeed(
            url, signer, tickers=[VIT], watchdog_s=0.2, ping_timeout_s=0.1, close_timeout_s=0.2, backoff=FAST
        )
        events = Collector(feed)
        async with feed:
            down = await events.until(lambda e: isinstance(e, FeedHealth) and "watchdog" in e.detail)
            await events.until(lambda e: isinstance(e, Reconnected))
    assert isinstance(down, FeedHealth) and not down.connected
    assert len(accepted) >= 2


async def test_listener_receives_events_instead_of_the_queue(
    rsa_key: rsa.RSAPrivateKey, signer: Signer
) -> None:
    async def handler(ws: ServerConnection, state: Server) -> None:
        async for cmd in commands(ws, state):
            await send(ws, SESSION[0] | {"id": cmd["id"]})
            await send(ws, SESSION[1])

    async with ws_server(rsa_key.public_key(), handler) as server:
        feed = KalshiFeed(server.url, signer, tickers=[VIT], private=False, lifecycle=False, backoff=FAST)
        got: list[FeedEvent] = []
        arrived = asyncio.Event()

        def listener(event: FeedEvent) -> None:
            got.append(event)
            if is_book(VIT)(event):
                arrived.set()

        feed.set_listener(listener)
        async with feed:
            await asyncio.wait_for(arrived.wait(), 5)
    assert feed.events.empty() and any(isinstance(e, FeedHealth) for e in got)


def test_url_is_validated() -> None:
    with pytest.raises(ValueError, match="wss://"):
        KalshiFeed("https://external-api.kalshi.com/trade-api/ws/v2")
