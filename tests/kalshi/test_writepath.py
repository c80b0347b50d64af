"""Order writes travel over the aiohttp write path against the real simulator; a dead exchange is
``Unavailable`` (the outcome must be read back), exactly as on the httpx path."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives import serialization

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import Unavailable
from kmm_tui.kalshi.rest import KalshiRest
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
