"""Order writes travel over the aiohttp write path against the real simulator; a dead exchange is
``Unavailable`` (the outcome must be read back), exactly as on the httpx path; a write leaves at once,
not after the work already queued on the loop."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import Unavailable
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.writepath import WritePath
from kmm_tui.sim import SimServer


async def test_create_amend_cancel_go_over_the_write_path() -> None:
    async with SimServer(agents=False) as sim:
        account = sim.demo_account
        signer = Signer.from_pem(account.key_id, account.private_key_pem)
        ticker = sim.matches[0].tickers[0]
        async with KalshiRest(sim.base_url, signer=signer) as rest:
            ack = await rest.create_order(ticker, "bid", Price(3000), contracts(2), "kmm-wp-1")
            assert rest._writes is not None and rest._writes._session is not None, "sent with aiohttp"
            await rest.amend_order(ack.order_id, ticker, "bid", Price(3100), contracts(2))
            [resting] = await rest.list_orders(status="resting", ticker=ticker)
            assert (resting.order_id, resting.price) == (ack.order_id, 3100)
            await rest.cancel_order(ack.order_id, ticker)
            assert await rest.list_orders(status="resting", ticker=ticker) == []


async def test_no_answer_is_unavailable(signer: Signer) -> None:
    async with KalshiRest("http://127.0.0.1:9/trade-api/v2", signer=signer) as rest:
        with pytest.raises(Unavailable) as caught:
            await rest.amend_order("o-1", "KXT-A", "bid", Price(3000), contracts(1))
        assert caught.value.code == "connection_error" and "amend" in str(caught.value)


class WatchedSigner(Signer):
    """A real signer that notes the thread each signature was made on."""

    __slots__ = ("threads",)

    def sign(self, message: bytes) -> bytes:
        self.threads.append(threading.current_thread().name)
        return super().sign(message)


@pytest.mark.parametrize(("key_type", "off_loop"), [("rsa", True), ("ed25519", False)])
async def test_rsa_signatures_are_made_off_the_loop(key_type: str, off_loop: bool) -> None:
    async with SimServer(agents=False) as sim:
        account = sim.create_account(key_type=key_type)
        key = serialization.load_pem_private_key(account.private_key_pem, password=None)
        signer = WatchedSigner(account.key_id, key)  # type: ignore[arg-type]
        signer.threads = []
        async with KalshiRest(sim.base_url, signer=signer) as rest:
            await rest.get_balance()
        loop_thread = threading.current_thread().name
        assert len(signer.threads) == 1
        assert (signer.threads[0] != loop_thread) is off_loop


class OneReplyServer:
    """A plain HTTP server on its own thread (not on the test's loop): notes when each request's last
    byte arrived and answers 200 with an empty JSON object, keeping the connection open."""

    def __init__(self, read_after_s: float = 0.0) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.read_after_s = read_after_s  # a slow reader: the client's socket buffer fills meanwhile
        self.arrived: list[float] = []
        self.bodies: list[int] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        time.sleep(self.read_after_s)
        with conn:
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")), 0
                )
                if sep and len(body) >= length:
                    self.arrived.append(time.monotonic())
                    self.bodies.append(length)
                    data = body[length:]
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 2\r\n\r\n{}")


async def test_a_write_leaves_in_the_turn_that_sends_it_not_after_what_the_loop_has_queued() -> None:
    """aiohttp on Python 3.11 sends a request's body (and its headers with it) from a task started on
    the loop's next turn: behind everything already queued there (write_bodies_eagerly)."""
    server = OneReplyServer()
    path = WritePath(f"http://127.0.0.1:{server.port}/trade-api/v2", timeout_s=5, connections=2, headers={})
    try:
        loop = asyncio.get_running_loop()
        for _ in range(2):  # the first also opens the connection
            queued_ends: list[float] = []

            def busy(ends: list[float] = queued_ends) -> None:  # other work already queued on the loop
                time.sleep(0.2)
                ends.append(time.monotonic())

            loop.call_soon(busy)
            status, body = await path.send(
                "POST", "/portfolio/events/orders/o1/amend", query=None, body={"count": 1}, headers={},
                what="amend",
            )
            assert (status, body) == (200, b"{}")
        assert server.arrived[-1] < queued_ends[0], "the request waited for the work queued before it"
    finally:
        await path.aclose()
        server.sock.close()


async def test_a_body_too_big_for_the_socket_at_once_still_goes_whole() -> None:
    """The writer started in the sending turn may have to wait for the socket: it goes on later."""
    server = OneReplyServer(read_after_s=0.3)
    path = WritePath(f"http://127.0.0.1:{server.port}/trade-api/v2", timeout_s=5, connections=1, headers={})
    try:
        big = {"orders": ["x" * 1000] * 8000}  # 8 MB of JSON: more than the socket buffers hold
        status, _ = await path.send(
            "POST", "/portfolio/events/orders/batched", query=None, body=big, headers={}, what="batch"
        )
        assert status == 200 and server.bodies == [len(json.dumps(big))]
    finally:
        await path.aclose()
        server.sock.close()
