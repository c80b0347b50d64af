"""KalshiRest against a fixture-backed ASGI exchange: typed results, signing, pagination and retries."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import (
    AuthError,
    BadResponse,
    DuplicateClientOrderId,
    NotFoundError,
    NotSent,
    OrderRejected,
    RateLimited,
    Unavailable,
)
from kmm_tui.kalshi.models import CreateOrderSpec
from kmm_tui.kalshi.ratelimit import BucketName, RateLimiter, TierLimits
from kmm_tui.kalshi.rest import DEMO_REST, PROD_REST, KalshiRest, RetryPolicy, sim_rest_url
from tests.kalshi.conftest import KEY_ID
from tests.kalshi.fake_exchange import MARKETS_CURSOR, FakeKalshi, FlakyTransport, error

VIT = "KXCS2GAME-26NOV281330VITFAZ-VIT"
FAZ = "KXCS2GAME-26NOV281330VITFAZ-FAZ"
BASE = "http://exchange.test/trade-api/v2"
CID = "c4f1a8e2-6d3b-4a97-b1c5-7e2f9d0a3b16"


class Harness:
    def __init__(
        self, rsa_key: rsa.RSAPrivateKey, *, signed: bool = True, limiter: RateLimiter | None = None
    ):
        self.exchange = FakeKalshi(rsa_key.public_key(), KEY_ID)
        self.transport = FlakyTransport(httpx.ASGITransport(app=self.exchange.app))
        self.sleeps: list[float] = []
        self._ms = itertools.count(1795881900000, 7)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.api = KalshiRest(
            BASE,
            signer=Signer(KEY_ID, rsa_key) if signed else None,
            limiter=limiter,
            transport=self.transport,
            clock_ms=lambda: next(self._ms),
            sleep=sleep,
            rng=random.Random(1),
        )


@pytest.fixture
async def h(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[Harness]:
    harness = Harness(rsa_key)
    async with harness.api:
        yield harness


@pytest.fixture
async def public(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[Harness]:
    harness = Harness(rsa_key, signed=False)
    async with harness.api:
        yield harness


def test_host_constants_and_sim_url() -> None:
    assert PROD_REST == "https://external-api.kalshi.com/trade-api/v2"
    assert DEMO_REST == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert sim_rest_url(9000) == "http://127.0.0.1:9000/trade-api/v2"
    with pytest.raises(ValueError, match="https://host"):
        KalshiRest("external-api.kalshi.com")


# --- public data ----------------------------------------------------------------------------------


async def test_public_calls_work_without_a_key(public: Harness) -> None:
    status = await public.api.exchange_status()
    assert status.trading_active
    market = await public.api.get_market(VIT)
    assert market.yes_bid == 5600 and market.grid.is_valid(5500)
    series = await public.api.get_series("KXCS2GAME")
    assert series.fee_type == "quadratic"
    assert [s.ticker for s in await public.api.list_series(category="Sports")] == ["KXCS2GAME", "KXNBAGAME"]
    assert all("kalshi-access-signature" not in r.headers for r in public.exchange.requests)
    assert public.exchange.calls("GET", "/series")[0].query == [("category", "Sports")]


async def test_private_call_without_key_says_what_to_configure(public: Harness) -> None:
    with pytest.raises(AuthError) as info:
        await public.api.get_balance()
    assert "API key" in info.value.user_message and "private_key_path" in info.value.user_message
    assert public.exchange.requests == []


async def test_unknown_market_is_not_found(public: Harness) -> None:
    with pytest.raises(NotFoundError):
        await public.api.get_market("KXNOPE-1")


async def test_markets_pagination_follows_cursor(public: Harness) -> None:
    markets = await public.api.list_markets(event_ticker="KXCS2GAME-26NOV281330VITFAZ", status="open")
    assert [m.ticker for m in markets] == [VIT, FAZ, "KXATPMATCH-26NOV28SINALC-SIN"]
    first, second = public.exchange.calls("GET", "/markets")
    assert ("event_ticker", "KXCS2GAME-26NOV281330VITFAZ") in first.query and (
        "status",
        "open",
    ) in first.query
    assert not any(k == "cursor" for k, _ in first.query)
    assert ("cursor", MARKETS_CURSOR) in second.query
    streamed = [m.ticker async for m in public.api.iter_markets(tickers=[VIT, FAZ])]
    assert len(streamed) == 3
    assert ("tickers", f"{VIT},{FAZ}") in public.exchange.calls("GET", "/markets")[2].query


async def test_repeated_cursor_is_refused(public: Harness) -> None:
    page = {"markets": [], "cursor": "same"}
    public.exchange.fail_next("GET", "/markets", (200, page), (200, page))
    with pytest.raises(BadResponse, match="repeated pagination cursor"):
        await public.api.list_markets()


async def test_events_milestones_books(public: Harness) -> None:
    (event,) = await public.api.list_events(
        series_ticker="KXCS2GAME", with_nested_markets=True, with_milestones=True
    )
    assert event.start_ms == 1795890600000 and len(event.markets) == 2
    assert ("with_milestones", "true") in public.exchange.calls("GET", "/events")[0].query
    got = await public.api.get_event(event.event_ticker)
    assert [m.ticker for m in got.markets] == [VIT, FAZ]
    (milestone,) = await public.api.list_milestones(related_event_ticker=event.event_ticker)
    assert milestone.start_ms == 1795890600000
    book = (await public.api.get_orderbook(VIT)).book()
    assert (book.best_bid, book.best_ask) == (5600, 5800)
    books = await public.api.get_orderbooks([VIT, FAZ])
    assert books[FAZ].book().best_bid == 4200
    assert public.exchange.calls("GET", "/markets/orderbooks")[0].query == [
        ("tickers", VIT),
        ("tickers", FAZ),
    ]


# --- signing and private reads --------------------------------------------------------------------


async def test_private_calls_are_signed_and_verified(h: Harness) -> None:
    balance = await h.api.get_balance()
    assert balance.available == 487_319_200
    (request,) = h.exchange.calls("GET", "/portfolio/balance")
    assert request.headers["kalshi-access-key"] == KEY_ID
    assert request.headers["kalshi-access-timestamp"].isdigit()
    # the fake exchange verified the signature over /trade-api/v2/portfolio/balance (no query)
    orders = await h.api.list_orders(status="resting", ticker=VIT)
    assert [o.status for o in orders] == ["resting", "canceled", "executed"]
    assert ("status", "resting") in h.exchange.calls("GET", "/portfolio/orders")[0].query


async def test_bad_signature_surfaces_auth_error(rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    harness = Harness(rsa_key)
    harness.api.signer = Signer(KEY_ID, other)
    async with harness.api:
        with pytest.raises(AuthError) as info:
            await harness.api.get_positions()
    assert info.value.details == "INCORRECT_API_KEY_SIGNATURE"
    assert len(harness.exchange.requests) == 1  # auth failures are never retried blindly


async def test_portfolio_reads(h: Harness) -> None:
    positions = await h.api.get_positions()
    assert [p.position for p in positions] == [400, -500]
    fills = await h.api.list_fills(min_ts_ms=1795881840123, ticker=[VIT, FAZ])
    assert [f.fill_id[:8] for f in fills] == ["3a8d1f6c", "8b2e6d4a"]  # two pages
    first, second = h.exchange.calls("GET", "/portfolio/fills")
    assert ("min_ts", "1795881840") in first.query and ("ticker", f"{VIT},{FAZ}") in first.query
    assert ("cursor", "page2") in second.query
    order = await h.api.get_order("0b7f3c52-9e1a-4d6b-8f27-5a9c1e3d7b40")
    assert order.price == 5500


async def test_account_limits_configure_the_limiter(h: Harness) -> None:
    h.api.limiter.configure(TierLimits(10, 10, 10, 10))
    limits = await h.api.sync_rate_limits()
    assert limits.read_capacity == 400
    assert h.api.limiter.capacity("read") == 400 and h.api.limiter.capacity("write") == 100
    await h.api.sync_endpoint_costs()
    assert h.api.limiter.costs.cost("POST", "/account/api_usage_level/upgrade") == 30


# --- retries --------------------------------------------------------------------------------------


async def test_429_then_200_is_retried_with_backoff(h: Harness) -> None:
    h.exchange.fail_next("GET", "/portfolio/balance", (429, error("rate_limited_429.json")))
    balance = await h.api.get_balance()
    assert balance.available == 487_319_200
    first, second = h.exchange.calls("GET", "/portfolio/balance")
    assert first.headers["kalshi-access-timestamp"] != second.headers["kalshi-access-timestamp"]  # re-signed
    assert len(h.sleeps) == 1 and 0.0375 <= h.sleeps[0] <= 0.075


async def test_5xx_then_200_is_retried(h: Harness) -> None:
    h.exchange.fail_next("GET", f"/markets/{VIT}", (503, b"upstream down"), (500, b""))
    market = await h.api.get_market(VIT)
    assert market.ticker == VIT
    assert len(h.exchange.calls("GET", f"/markets/{VIT}")) == 3
    assert len(h.sleeps) == 2 and h.sleeps[1] > h.sleeps[0] / 2


async def test_retries_are_bounded_and_capped(rsa_key: rsa.RSAPrivateKey) -> None:
    harness = Harness(rsa_key)
    harness.api.retry = RetryPolicy(attempts=8, base_s=0.075, cap_s=2.0)
    harness.exchange.fail_next("GET", "/exchange/status", *[(502, b"bad gateway")] * 8)
    async with harness.api:
        with pytest.raises(Unavailable) as info:
            await harness.api.exchange_status()
    assert info.value.status == 502 and "unavailable" in info.value.user_message
    assert len(harness.exchange.calls("GET", "/exchange/status")) == 8
    assert len(harness.sleeps) == 7 and max(harness.sleeps) <= 2.0
    for n, delay in enumerate(harness.sleeps):
        nominal = min(2.0, 0.075 * 2**n)
        assert nominal / 2 <= delay <= nominal


async def test_persistent_429_raises_rate_limited(h: Harness) -> None:
    h.exchange.fail_next("GET", "/portfolio/positions", *[(429, error("rate_limited_429.json"))] * 4)
    with pytest.raises(RateLimited):
        await h.api.get_positions()
    assert len(h.exchange.calls("GET", "/portfolio/positions")) == 4


async def test_400_is_not_retried(h: Harness) -> None:
    h.exchange.fail_next("GET", "/markets", (400, error("param_validation_bare_400.json")))
    with pytest.raises(OrderRejected, match="Parameter validation failed"):
        await h.api.list_markets(limit=5000)
    assert len(h.exchange.calls("GET", "/markets")) == 1 and h.sleeps == []


async def test_connection_error_on_read_is_retried(h: Harness) -> None:
    h.transport.lose("/exchange/status", "before", httpx.ConnectError("refused"))
    assert (await h.api.exchange_status()).exchange_active
    h.transport.lose("/exchange/status", "before", httpx.ReadTimeout("slow"))
    h.transport.lose("/exchange/status", "before", httpx.ReadTimeout("slow"))
    h.transport.lose("/exchange/status", "before", httpx.ReadTimeout("slow"))
    h.transport.lose("/exchange/status", "before", httpx.ReadTimeout("slow"))
    with pytest.raises(Unavailable) as info:
        await h.api.exchange_status()
    assert info.value.code == "timeout" and info.value.status is None


async def test_non_json_success_is_bad_response(h: Harness) -> None:
    h.exchange.fail_next("GET", "/exchange/status", (200, b"<html>maintenance</html>"))
    with pytest.raises(BadResponse, match="not JSON"):
        await h.api.exchange_status()


# --- order writes ---------------------------------------------------------------------------------


async def test_create_sends_v2_body_and_returns_ack(h: Harness) -> None:
    ack = await h.api.create_order(
        VIT,
        "bid",
        Price(5500),
        contracts(10),
        CID,
        post_only=True,
        order_group_id="g1",
        expiration_ts=1795890300,
    )
    assert ack.order_id == f"oid-{CID}" and ack.remaining_count == contracts(10)
    (request,) = h.exchange.calls("POST", "/portfolio/events/orders")
    assert request.body == {
        "ticker": VIT,
        "client_order_id": CID,
        "side": "bid",
        "price": "0.5500",
        "count": "10.00",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        "post_only": True,
        "cancel_order_on_pause": True,
        "order_group_id": "g1",
        "expiration_time": 1795890300,
    }
    assert request.headers["content-type"] == "application/json"


async def test_create_5xx_then_201_retries_identical_body(h: Harness) -> None:
    h.exchange.fail_next("POST", "/portfolio/events/orders", (503, b""))
    ack = await h.api.create_order(VIT, "ask", Price(5700), contracts(5), CID)
    assert ack.client_order_id == CID
    first, second = h.exchange.calls("POST", "/portfolio/events/orders")
    assert first.body == second.body and first.body["client_order_id"] == CID


async def test_a_create_dropped_before_it_was_sent_raises_not_sent_and_sends_nothing(h: Harness) -> None:
    bucket = h.api.limiter.buckets[BucketName.WRITE]
    bucket.tokens = -bucket.rate  # the create waits a second for its tokens
    create = asyncio.create_task(h.api.create_order(VIT, "bid", Price(5500), contracts(10), CID))
    await asyncio.sleep(0.01)
    assert h.api.limiter.abandon({FAZ}) == 0, "another market's drop leaves it waiting"
    assert h.api.limiter.abandon({VIT}) == 1
    with pytest.raises(NotSent):
        await create
    assert h.exchange.calls("POST", "/portfolio/events/orders") == []


async def test_a_create_dropped_before_its_retry_raises_what_the_first_attempt_left_unknown(
    h: Harness,
) -> None:
    h.exchange.fail_next("POST", "/portfolio/events/orders", (503, b""))
    bucket = h.api.limiter.buckets[BucketName.WRITE]
    loop = asyncio.get_running_loop()

    async def back_off(seconds: float) -> None:  # the retry will wait for tokens, and be dropped then
        bucket.tokens = -bucket.rate
        loop.call_later(0.01, h.api.limiter.abandon, {VIT})

    h.api._sleep = back_off
    with pytest.raises(Unavailable):  # the 503'd attempt may have landed: its fate is to be read back
        await h.api.create_order(VIT, "bid", Price(5500), contracts(10), CID)
    assert len(h.exchange.calls("POST", "/portfolio/events/orders")) == 1


async def test_retried_create_409_means_first_attempt_landed(h: Harness) -> None:
    h.transport.lose("/portfolio/events/orders", "after", httpx.ReadTimeout("response lost"))
    with pytest.raises(DuplicateClientOrderId) as info:
        await h.api.create_order(VIT, "bid", Price(5500), contracts(10), CID)
    assert info.value.first_attempt_landed
    assert "look it up" in info.value.user_message
    first, second = h.exchange.calls("POST", "/portfolio/events/orders")
    assert first.body == second.body
    assert CID in h.exchange.client_ids  # the order exists exactly once on the exchange


async def test_first_attempt_409_is_a_plain_duplicate(h: Harness) -> None:
    await h.api.create_order(VIT, "bid", Price(5500), contracts(10), CID)
    with pytest.raises(DuplicateClientOrderId) as info:
        await h.api.create_order(VIT, "bid", Price(5500), contracts(10), CID)
    assert not info.value.first_attempt_landed and info.value.status == 409


async def test_create_rejections_are_typed(h: Harness) -> None:
    h.exchange.fail_next(
        "POST",
        "/portfolio/events/orders",
        (400, error("post_only_cross_400.json")),
        (409, error("market_closed_409.json")),
    )
    with pytest.raises(OrderRejected) as info:
        await h.api.create_order(VIT, "bid", Price(5900), contracts(1), "cid-1", post_only=True)
    assert info.value.details == "post only cross"
    with pytest.raises(OrderRejected) as closed:
        await h.api.create_order(VIT, "bid", Price(5500), contracts(1), "cid-2")
    assert closed.value.code == "market_closed"
    assert len(h.exchange.calls("POST", "/portfolio/events/orders")) == 2


async def test_invalid_arguments_never_reach_the_exchange(h: Harness) -> None:
    with pytest.raises(ValueError):
        await h.api.create_order(VIT, "buy", Price(5500), contracts(1), CID)
    with pytest.raises(ValueError):
        await h.api.create_order(VIT, "bid", Price(5500), contracts(1), CID, expiration_ts=1795890300000)
    assert h.exchange.requests == []


async def test_amend_is_not_retried(h: Harness) -> None:
    oid = "0b7f3c52-9e1a-4d6b-8f27-5a9c1e3d7b40"
    ack = await h.api.amend_order(
        oid,
        VIT,
        "bid",
        Price(5400),
        contracts(10),
        client_order_id=CID,
        updated_client_order_id="a7d2c9e4-3f1b-4b86-9c05-e8f3a1d6b247",
    )
    assert (ack.fill_count, ack.remaining_count) == (400, 600)
    body = h.exchange.calls("POST", f"/portfolio/events/orders/{oid}/amend")[0].body
    assert body["price"] == "0.5400" and body["count"] == "10.00" and body["side"] == "bid"
    h.exchange.fail_next("POST", f"/portfolio/events/orders/{oid}/amend", (503, b""))
    with pytest.raises(Unavailable):
        await h.api.amend_order(oid, VIT, "bid", Price(5300), contracts(10))
    assert len(h.exchange.calls("POST", f"/portfolio/events/orders/{oid}/amend")) == 2


async def test_decrease_and_cancel(h: Harness) -> None:
    oid = "0b7f3c52-9e1a-4d6b-8f27-5a9c1e3d7b40"
    ack = await h.api.decrease_order(oid, market_ticker=VIT, reduce_to=contracts(3))
    assert ack.remaining_count == 300
    assert h.exchange.calls("POST", f"/portfolio/events/orders/{oid}/decrease")[0].body == {
        "reduce_to": "3.00",
        "market_ticker": VIT,
    }
    h.exchange.fail_next("DELETE", f"/portfolio/events/orders/{oid}", (502, b""))
    cancel = await h.api.cancel_order(oid, VIT)
    assert cancel.reduced_by == 300
    calls = h.exchange.calls("DELETE", f"/portfolio/events/orders/{oid}")
    assert len(calls) == 2 and ("market_ticker", VIT) in calls[1].query
    h.exchange.fail_next("DELETE", f"/portfolio/events/orders/{oid}", (404, error("not_found_404.json")))
    with pytest.raises(NotFoundError):
        await h.api.cancel_order(oid, VIT)


async def test_batch_create_reports_each_item(h: Harness) -> None:
    specs = [
        CreateOrderSpec(VIT, "bid", Price(5500), contracts(10), "b1"),
        CreateOrderSpec(FAZ, "bid", Price(4100), contracts(10), "b2"),
        CreateOrderSpec(FAZ, "bid", Price(4150), contracts(10), "b3"),
    ]
    results = await h.api.batch_create(specs)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].error is not None and results[2].error.code == "invalid_price"
    assert [r.index for r in results] == [0, 1, 2]
    (request,) = h.exchange.calls("POST", "/portfolio/events/orders/batched")
    assert [o["price"] for o in request.body["orders"]] == ["0.5500", "0.4100", "0.4150"]


async def test_batch_create_is_split_to_fit_the_bucket(rsa_key: rsa.RSAPrivateKey) -> None:
    harness = Harness(rsa_key, limiter=RateLimiter(TierLimits(200, 400, 100, 30)))
    specs = [CreateOrderSpec(VIT, "bid", Price(5000 + 100 * i), contracts(1), f"s{i}") for i in range(7)]
    async with harness.api:
        results = await harness.api.batch_create(specs)
    assert [r.index for r in results] == list(range(7)) and all(r.ok for r in results)
    sizes = [
        len(r.body["orders"]) for r in harness.exchange.calls("POST", "/portfolio/events/orders/batched")
    ]
    assert sizes == [3, 3, 1]


async def test_retried_batch_create_flags_landed_items(h: Harness) -> None:
    h.transport.lose("/portfolio/events/orders/batched", "after", httpx.ReadTimeout("lost"))
    results = await h.api.batch_create([CreateOrderSpec(VIT, "bid", Price(5500), contracts(1), "r1")])
    assert isinstance(results[0].error, DuplicateClientOrderId)


async def test_batch_cancel_and_cancel_all(h: Harness) -> None:
    results = await h.api.batch_cancel([("o1", VIT), ("00000000-0000-0000-0000-000000000000", FAZ)])
    assert results[0].ok and results[0].ack is not None and results[0].ack.reduced_by == 100
    assert isinstance(results[1].error, NotFoundError)
    body = h.exchange.calls("DELETE", "/portfolio/events/orders/batched")[0].body
    assert body == {
        "orders": [
            {"order_id": "o1", "market_ticker": VIT},
            {"order_id": "00000000-0000-0000-0000-000000000000", "market_ticker": FAZ},
        ]
    }
    assert await h.api.cancel_all() is None


async def test_order_groups(h: Harness) -> None:
    group = await h.api.create_order_group(contracts(50), exchange_index=0)
    assert group.order_group_id == "2c9e7b41-8d3a-4f56-a1e0-5b6d9c8f7e23" and group.contracts_limit == 5000
    assert h.exchange.calls("POST", "/portfolio/order_groups/create")[0].body == {
        "contracts_limit_fp": "50.00",
        "exchange_index": 0,
    }
    got = await h.api.get_order_group(group.order_group_id)
    assert got.is_auto_cancel_enabled and len(got.order_ids) == 2
    assert [g.order_group_id for g in await h.api.list_order_groups()] == [group.order_group_id]
    gid = group.order_group_id
    h.exchange.fail_next("PUT", f"/portfolio/order_groups/{gid}/trigger", (500, b""))
    await h.api.trigger_order_group(gid)  # the kill switch is retried
    assert len(h.exchange.calls("PUT", f"/portfolio/order_groups/{gid}/trigger")) == 2
    await h.api.reset_order_group(gid)
    await h.api.set_order_group_limit(gid, contracts(80))
    assert h.exchange.calls("PUT", f"/portfolio/order_groups/{gid}/limit")[0].body == {
        "contracts_limit_fp": "80.00"
    }
    await h.api.delete_order_group(gid)
    assert len(h.exchange.calls("DELETE", f"/portfolio/order_groups/{gid}")) == 1


async def test_every_call_waits_on_the_limiter(rsa_key: rsa.RSAPrivateKey) -> None:
    frozen = RateLimiter(TierLimits(200, 400, 100, 100), clock=lambda: 0.0)  # no refill during the test
    harness = Harness(rsa_key, limiter=frozen)
    async with harness.api:
        await harness.api.create_order(VIT, "bid", Price(5500), contracts(1), "lim-1")
        await harness.api.cancel_order("o1", VIT)
        await harness.api.get_market(VIT)
        await harness.api.get_order("o1")
    # of what refill reaches: the buckets less their 0.1 s reserve (380 of 400 read, 90 of 100 write)
    assert harness.api.headroom() == {"read": pytest.approx(368 / 380), "write": pytest.approx(78 / 90)}
