"""Async Kalshi REST client: typed calls, signing, local rate limiting, and safe retries.

One ``httpx.AsyncClient`` (connection pool, timeouts) per ``KalshiRest``. The base URL is the only
difference between the real exchange and the simulator. Every attempt first waits on the local
:class:`~kmm_tui.kalshi.ratelimit.RateLimiter` (so bursts queue rather than earn 429s), is signed afresh
(timestamps expire) and is mapped to a typed result or a :class:`~kmm_tui.kalshi.errors.KalshiError`.

Retries (jittered exponential back-off, capped, bounded attempts) only where repeating is safe:
reads, cancels, order-group kill switches, and creates, which always carry a ``client_order_id`` so the
exchange refuses a duplicate; a 409 ``order_already_exists`` on a *retried* create means the first
attempt landed and is raised as :class:`DuplicateClientOrderId` with ``first_attempt_landed`` set, so
the caller looks the order up instead of placing it again. Amend and decrease are not retried: their
outcome after a timeout must be read back, not guessed.

Only the V2 write paths (``/portfolio/events/orders...``) are used; the legacy ones answer 410.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from kmm_tui.domain.prices import Count, Price, format_count
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import (
    AuthError,
    BadResponse,
    DuplicateClientOrderId,
    KalshiError,
    RateLimited,
    Unavailable,
    error_from_response,
    unavailable_from_exception,
)
from kmm_tui.kalshi.models import (
    AccountLimits,
    Balance,
    BatchItemResult,
    CreateOrderSpec,
    Event,
    ExchangeStatus,
    Fill,
    Market,
    Milestone,
    Order,
    OrderAck,
    OrderBookSnapshot,
    OrderGroup,
    Position,
    Series,
    amend_body,
    decrease_body,
)
from kmm_tui.kalshi.ratelimit import (
    BATCH_CANCEL_COST_PER_ORDER,
    BATCH_CREATE_COST_PER_ORDER,
    BucketName,
    Priority,
    RateLimiter,
    TierLimits,
)
from kmm_tui.kalshi.writepath import WritePath

log = logging.getLogger(__name__)

PROD_REST = "https://external-api.kalshi.com/trade-api/v2"
DEMO_REST = "https://external-api.demo.kalshi.co/trade-api/v2"
PROD_WS = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
DEMO_WS = "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
SIM_DEFAULT_PORT = 8765
MAX_CONNECTIONS = 20  # concurrent requests in flight; the rest wait their turn before httpx sees them
ORDER_WRITES = "/portfolio/events/orders"  # create, amend, decrease, cancel, batches: the write path
COMMON_HEADERS = {"Accept": "application/json", "User-Agent": "kmm/0.1"}


def sim_rest_url(port: int = SIM_DEFAULT_PORT, host: str = "127.0.0.1") -> str:
    """The simulator's REST base URL (same path layout as Kalshi)."""
    return f"http://{host}:{port}/trade-api/v2"


DEFAULT_BASE_URL = sim_rest_url()

MAX_BATCH_ORDERS = 20  # Kalshi's documented batch maximum; larger lists are split
MAX_ORDERBOOKS_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off ``min(cap, base * 2**n)`` scaled by a random factor in [0.5, 1); ``attempts`` in total."""

    attempts: int = 4
    base_s: float = 0.075
    cap_s: float = 2.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        return min(self.cap_s, self.base_s * (2**retry_number)) * (0.5 + rng.random() / 2)


NO_RETRY = RetryPolicy(attempts=1)


def _seg(value: str) -> str:
    """One URL path segment (ticker or id), escaped so it cannot change the path."""
    if not value:
        raise ValueError("empty ticker or id in a request path")
    return quote(value, safe="")


def _list_param(values: Iterable[str] | None) -> str | None:
    if values is None:
        return None
    items = [v for v in values if v]
    return ",".join(items) if items else None


def _secs(ms: int | None) -> int | None:
    return None if ms is None else ms // 1000


class KalshiRest:
    """The Kalshi REST API. Use ``async with KalshiRest(url, signer=...) as api:`` or call :meth:`aclose`.

    ``signer`` is optional: public market data works without one; private calls without one raise
    :class:`AuthError` saying a key is needed. ``transport`` (e.g. ``httpx.ASGITransport``), ``clock_ms``,
    ``sleep`` and ``rng`` exist for tests.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        signer: Signer | None = None,
        limiter: RateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        clock_ms: Callable[[], int] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"REST base URL {base_url!r} must look like https://host/trade-api/v2")
        self.base_url = base_url.rstrip("/")
        self._prefix = parts.path.rstrip("/")
        self.signer = signer
        self.limiter = limiter or RateLimiter()
        self.retry = retry or RetryPolicy()
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._sleep = sleep
        self._rng = rng or random.Random()
        # httpcore's pool does work per waiting request on every hand-over: with 200 requests queued on
        # 20 connections one request cost ~3 ms of CPU instead of ~1.3 ms. Requests therefore queue
        # here, on a plain semaphore, and httpx only ever sees as many as it has connections.
        self._connections = asyncio.Semaphore(MAX_CONNECTIONS)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
            headers=COMMON_HEADERS,
            follow_redirects=False,
        )
        # Order writes go over aiohttp (writepath.py: 3x+ less CPU per write); a test that hands in
        # its own httpx transport keeps every request on it.
        self._signing: ThreadPoolExecutor | None = None
        self._writes = (
            WritePath(self.base_url, timeout_s=timeout_s, connections=MAX_CONNECTIONS, headers=COMMON_HEADERS)
            if transport is None
            else None
        )

    async def __aenter__(self) -> KalshiRest:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._signing is not None:
            self._signing.shutdown(wait=False)
            self._signing = None
        if self._writes is not None:
            await self._writes.aclose()

    def headroom(self) -> dict[str, float]:
        """Rate-limit headroom per bucket (0..1) for the status bar."""
        return self.limiter.headroom()

    # --- the core -------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        body: Any = None,
        private: bool = False,
        retry: RetryPolicy | None = None,
        priority: int = Priority.NORMAL,
        items: int = 1,
        is_create: bool = False,
    ) -> Any:
        """One logical request (maybe several attempts). Returns the parsed JSON body (None for 204)."""
        if private and self.signer is None:
            raise AuthError(
                f"{method} {path} needs an API key",
                code="no_api_key",
                user_message="this needs a Kalshi API key: set key_id and private_key_path under [kalshi] "
                "in settings (or use the simulator environment)",
            )
        policy = retry or self.retry
        bucket, cost = self.limiter.cost_of(method, path, items)
        query = self._clean_params(params)
        full_path = self._prefix + path
        what = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(bucket, cost, priority)
            try:
                async with self._connections:  # signed once a connection is ours: the timestamp is fresh
                    headers = {}
                    if self.signer is not None and private:
                        headers = await self._sign(method, full_path)
                    status, content = await self._send(method, path, query, body, headers, what)
                error = None if 200 <= status < 300 else error_from_response(status, content)
            except Unavailable as exc:  # timeouts, refused/reset connections, protocol errors
                status, content, error = 0, b"", exc
            if error is None:
                return self._decode(status, content, what)
            assert error is not None
            if isinstance(error, RateLimited):
                self.limiter.note_rate_limited(bucket)
            if is_create and attempt > 1 and isinstance(error, DuplicateClientOrderId):
                error.first_attempt_landed = True
                error.user_message = (
                    "the order was placed by an earlier attempt that timed out (client_order_id already "
                    "exists); look it up with list_orders before placing anything else"
                )
                raise error
            if not error.retryable or attempt >= policy.attempts:
                raise error
            delay = policy.delay(attempt - 1, self._rng)
            log.info(
                "%s failed (%s); retry %d/%d in %.3fs",
                what,
                error.code or error.status,
                attempt,
                policy.attempts - 1,
                delay,
            )
            await self._sleep(delay)

    @staticmethod
    def _clean_params(
        params: dict[str, Any] | list[tuple[str, Any]] | None,
    ) -> list[tuple[str, str]] | None:
        if params is None:
            return None
        pairs = params.items() if isinstance(params, dict) else params
        out: list[tuple[str, str]] = []
        for key, value in pairs:
            if value is None:
                continue
            if isinstance(value, bool):
                out.append((key, "true" if value else "false"))
            else:
                out.append((key, str(value)))
        return out

    async def _sign(self, method: str, full_path: str) -> dict[str, str]:
        """The auth headers. An RSA-PSS signature (0.3 ms of CPU, with the GIL released) is made on a
        worker thread, so the loop serves the feed meanwhile; Ed25519 (0.03 ms) is cheaper inline."""
        assert self.signer is not None
        if self.signer.algorithm != "RSA-PSS":
            return self.signer.headers(method, full_path, self._clock_ms())
        if self._signing is None:
            self._signing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kmm-sign")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._signing, self.signer.headers, method, full_path, self._clock_ms()
        )

    async def _send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None,
        body: Any,
        headers: dict[str, str],
        what: str,
    ) -> tuple[int, bytes]:
        """One attempt: order writes over the aiohttp write path, everything else over httpx."""
        if self._writes is not None and method != "GET" and path.startswith(ORDER_WRITES):
            return await self._writes.send(method, path, query=query, body=body, headers=headers, what=what)
        try:
            response = await self._client.request(method, path, params=query, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise unavailable_from_exception(exc, what=what) from None
        return response.status_code, response.content

    @staticmethod
    def _decode(status: int, content: bytes, what: str) -> Any:
        if status == 204 or not content:
            return None
        try:
            return json.loads(content)
        except ValueError:
            raise BadResponse(
                f"{what} returned HTTP {status} with a body that is not JSON: "
                f"{content[:200].decode('utf-8', 'replace')!r}",
                status=status,
                code="bad_response",
            ) from None

    async def _pages(
        self,
        path: str,
        key: str,
        params: list[tuple[str, Any]],
        *,
        private: bool = False,
        max_pages: int = 10_000,
    ) -> AsyncIterator[tuple[dict[str, Any], list[Any]]]:
        """Follow ``cursor`` until the last page (``""``/missing). Yields (page body, its items)."""
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            page_params = list(params) + ([("cursor", cursor)] if cursor else [])
            data = await self._call("GET", path, params=page_params, private=private)
            if not isinstance(data, dict):
                raise BadResponse(
                    f"GET {path} returned {type(data).__name__}, expected an object", code="bad_response"
                )
            items = data.get(key)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise BadResponse(f"GET {path}: {key!r} is not a list", code="bad_response")
            yield data, items
            cursor = data.get("cursor") or None
            if cursor is None:
                return
            if cursor in seen:
                raise BadResponse(f"GET {path} repeated pagination cursor {cursor!r}", code="bad_response")
            seen.add(cursor)
        raise BadResponse(f"GET {path} did not finish after {max_pages} pages", code="bad_response")

    @staticmethod
    def _obj(data: Any, key: str, what: str) -> Any:
        if not isinstance(data, dict) or data.get(key) is None:
            raise BadResponse(f"{what}: reply lacks {key!r}", code="bad_response")
        return data[key]

    # --- public market data ---------------------------------------------------------------------

    async def exchange_status(self) -> ExchangeStatus:
        return ExchangeStatus.from_wire(await self._call("GET", "/exchange/status"))

    async def get_series(self, ticker: str) -> Series:
        data = await self._call("GET", f"/series/{_seg(ticker)}")
        return Series.from_wire(self._obj(data, "series", f"series {ticker}"))

    async def list_series(self, *, category: str | None = None, tags: str | None = None) -> list[Series]:
        out: list[Series] = []
        async for _, items in self._pages("/series", "series", [("category", category), ("tags", tags)]):
            out.extend(Series.from_wire(item) for item in items)
        return out

    async def list_events(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        with_nested_markets: bool = False,
        with_milestones: bool = False,
        limit: int = 200,
    ) -> list[Event]:
        """Events (one per match). With milestones, each event's ``start_ms`` is filled when known."""
        params = [
            ("series_ticker", series_ticker),
            ("status", status),
            ("tickers", _list_param(tickers)),
            ("with_nested_markets", with_nested_markets or None),
            ("with_milestones", with_milestones or None),
            ("limit", limit),
        ]
        raw_events: list[Any] = []
        milestones: list[Milestone] = []
        async for page, items in self._pages("/events", "events", params):
            raw_events.extend(items)
            milestones.extend(Milestone.from_wire(m) for m in page.get("milestones") or [])
        return [Event.from_wire(item, milestones=milestones) for item in raw_events]

    async def get_event(self, event_ticker: str) -> Event:
        """The event and its markets (for the complete list of a large event use ``list_markets``)."""
        data = await self._call("GET", f"/events/{_seg(event_ticker)}")
        event = self._obj(data, "event", f"event {event_ticker}")
        markets = data.get("markets") if isinstance(data.get("markets"), list) else None
        return Event.from_wire(event, markets)

    async def iter_markets(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_close_ts_ms: int | None = None,
        max_close_ts_ms: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Market]:
        """Markets matching the filters, following the cursor. Query ``status`` is unopened/open/paused/
        closed/settled (the *returned* ``Market.status`` uses active/inactive/... instead)."""
        params = [
            ("series_ticker", series_ticker),
            ("event_ticker", event_ticker),
            ("status", status),
            ("tickers", _list_param(tickers)),
            ("min_close_ts", _secs(min_close_ts_ms)),
            ("max_close_ts", _secs(max_close_ts_ms)),
            ("mve_filter", "exclude"),
            ("limit", limit),
        ]
        async for _, items in self._pages("/markets", "markets", params):
            for item in items:
                yield Market.from_wire(item)

    async def list_markets(self, **filters: Any) -> list[Market]:
        """All pages of :meth:`iter_markets` as a list (same keyword filters)."""
        return [market async for market in self.iter_markets(**filters)]

    async def get_market(self, ticker: str) -> Market:
        data = await self._call("GET", f"/markets/{_seg(ticker)}")
        return Market.from_wire(self._obj(data, "market", f"market {ticker}"))

    async def get_orderbook(self, ticker: str, depth: int = 0) -> OrderBookSnapshot:
        data = await self._call("GET", f"/markets/{_seg(ticker)}/orderbook", params={"depth": depth or None})
        return OrderBookSnapshot.from_rest(data, ticker)

    async def get_orderbooks(self, tickers: Sequence[str]) -> dict[str, OrderBookSnapshot]:
        """Books of many markets (100 per call). Markets the exchange omits are absent from the result."""
        out: dict[str, OrderBookSnapshot] = {}
        unique = list(dict.fromkeys(tickers))
        for start in range(0, len(unique), MAX_ORDERBOOKS_PER_CALL):
            chunk = unique[start : start + MAX_ORDERBOOKS_PER_CALL]
            data = await self._call("GET", "/markets/orderbooks", params=[("tickers", t) for t in chunk])
            books = self._obj(data, "orderbooks", "order books")
            if not isinstance(books, list):
                raise BadResponse("order books: 'orderbooks' is not a list", code="bad_response")
            for item in books:
                snapshot = OrderBookSnapshot.from_rest(item)
                if snapshot.ticker is None:
                    raise BadResponse("order books: an entry lacks 'ticker'", code="bad_response")
                out[snapshot.ticker] = snapshot
        return out

    async def list_milestones(
        self,
        *,
        related_event_ticker: str | None = None,
        category: str | None = None,
        competition: str | None = None,
        type: str | None = None,
        minimum_start_ms: int | None = None,
        limit: int = 100,
    ) -> list[Milestone]:
        minimum = None
        if minimum_start_ms is not None:
            minimum = datetime.fromtimestamp(minimum_start_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = [
            ("limit", limit),
            ("related_event_ticker", related_event_ticker),
            ("category", category),
            ("competition", competition),
            ("type", type),
            ("minimum_start_date", minimum),
        ]
        out: list[Milestone] = []
        async for _, items in self._pages("/milestones", "milestones", params):
            out.extend(Milestone.from_wire(item) for item in items)
        return out

    # --- account and portfolio (signed) ---------------------------------------------------------

    async def account_limits(self) -> AccountLimits:
        return AccountLimits.from_wire(await self._call("GET", "/account/limits", private=True))

    async def sync_rate_limits(self) -> AccountLimits:
        """Read the live bucket sizes and adopt them in the local limiter (call at start-up)."""
        limits = await self.account_limits()
        self.limiter.configure(
            TierLimits(limits.read_rate, limits.read_capacity, limits.write_rate, limits.write_capacity)
        )
        return limits

    async def sync_endpoint_costs(self) -> None:
        """Adopt ``GET /account/endpoint_costs`` in the local limiter's cost table."""
        data = await self._call("GET", "/account/endpoint_costs", private=True)
        if isinstance(data, dict):
            self.limiter.costs.update_from_endpoint_costs(data)

    async def get_balance(self, *, exchange_index: int | None = None) -> Balance:
        data = await self._call(
            "GET", "/portfolio/balance", params={"exchange_index": exchange_index}, private=True
        )
        return Balance.from_wire(data)

    async def get_positions(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        count_filter: str | None = None,
        settlement_status: str | None = None,
        limit: int = 1000,
    ) -> list[Position]:
        """Market positions (``position`` > 0 YES, < 0 NO), all pages."""
        params = [
            ("ticker", ticker),
            ("event_ticker", event_ticker),
            ("count_filter", count_filter),
            ("settlement_status", settlement_status),
            ("limit", limit),
        ]
        out: list[Position] = []
        async for _, items in self._pages("/portfolio/positions", "market_positions", params, private=True):
            out.extend(Position.from_wire(item) for item in items)
        return out

    async def iter_fills(
        self,
        *,
        ticker: str | Sequence[str] | None = None,
        order_id: str | None = None,
        min_ts_ms: int | None = None,
        max_ts_ms: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Fill]:
        """Our fills, newest first, all pages. Times are ms here (the wire wants seconds; floored)."""
        tickers = ticker if isinstance(ticker, str) or ticker is None else _list_param(ticker)
        params = [
            ("ticker", tickers),
            ("order_id", order_id),
            ("min_ts", _secs(min_ts_ms)),
            ("max_ts", _secs(max_ts_ms)),
            ("limit", limit),
        ]
        async for _, items in self._pages("/portfolio/fills", "fills", params, private=True):
            for item in items:
                yield Fill.from_wire(item)

    async def list_fills(self, **filters: Any) -> list[Fill]:
        return [fill async for fill in self.iter_fills(**filters)]

    async def iter_orders(
        self,
        *,
        status: str | None = None,
        ticker: str | None = None,
        event_ticker: str | Sequence[str] | None = None,
        min_ts_ms: int | None = None,
        max_ts_ms: int | None = None,
        exchange_index: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Order]:
        """Our orders (status resting/canceled/executed), all pages. Reads lag writes by up to ~1 s."""
        events = (
            event_ticker
            if isinstance(event_ticker, str) or event_ticker is None
            else _list_param(event_ticker)
        )
        params = [
            ("status", status),
            ("ticker", ticker),
            ("event_ticker", events),
            ("min_ts", _secs(min_ts_ms)),
            ("max_ts", _secs(max_ts_ms)),
            ("exchange_index", exchange_index),
            ("limit", limit),
        ]
        async for _, items in self._pages("/portfolio/orders", "orders", params, private=True):
            for item in items:
                yield Order.from_wire(item)

    async def list_orders(self, **filters: Any) -> list[Order]:
        return [order async for order in self.iter_orders(**filters)]

    async def get_order(self, order_id: str) -> Order:
        data = await self._call("GET", f"/portfolio/orders/{_seg(order_id)}", private=True)
        return Order.from_wire(self._obj(data, "order", f"order {order_id}"))

    # --- order writes (V2) ----------------------------------------------------------------------

    async def create_order(
        self,
        ticker: str,
        side: str,
        price: Price,
        count: Count,
        client_order_id: str,
        *,
        time_in_force: str = "good_till_canceled",
        post_only: bool = False,
        self_trade_prevention_type: str = "taker_at_cross",
        order_group_id: str | None = None,
        cancel_order_on_pause: bool = True,
        expiration_ts: int | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Place one order. ``side`` bid = buy YES, ask = sell YES (buy NO at 1 - price); ``price`` is YES.

        ``priority`` orders this write against others waiting for rate-limit tokens (lower goes first).

        ``expiration_ts`` is Unix **seconds** (GTC only). Retried on 429/5xx/timeouts with the same
        ``client_order_id``; see :class:`DuplicateClientOrderId` for the retried-409 case. Check
        ``OrderAck.cancelled_on_arrival`` (post-only cross / STP / IOC with nothing to hit).
        """
        spec = CreateOrderSpec(
            ticker,
            side,  # type: ignore[arg-type]
            price,
            count,
            client_order_id,
            time_in_force=time_in_force,  # type: ignore[arg-type]
            post_only=post_only,
            self_trade_prevention_type=self_trade_prevention_type,  # type: ignore[arg-type]
            order_group_id=order_group_id,
            cancel_order_on_pause=cancel_order_on_pause,
            expiration_ts=expiration_ts,
        )
        return await self.create(spec, priority=priority)

    async def create(self, spec: CreateOrderSpec, *, priority: int = Priority.NORMAL) -> OrderAck:
        """:meth:`create_order` from a prepared spec."""
        data = await self._call(
            "POST",
            "/portfolio/events/orders",
            body=spec.to_wire(),
            private=True,
            is_create=True,
            priority=priority,
        )
        return OrderAck.from_wire(data)

    async def amend_order(
        self,
        order_id: str,
        ticker: str,
        side: str,
        price: Price,
        count_total: Count,
        *,
        client_order_id: str | None = None,
        updated_client_order_id: str | None = None,
        expiration_ts: int | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Move price and/or size. ``count_total`` = already filled + desired remaining. Not retried."""
        body = amend_body(
            ticker,
            side,
            price,
            count_total,
            client_order_id=client_order_id,
            updated_client_order_id=updated_client_order_id,
            expiration_ts=expiration_ts,
        )
        data = await self._call(
            "POST",
            f"/portfolio/events/orders/{_seg(order_id)}/amend",
            body=body,
            private=True,
            retry=NO_RETRY,
            priority=priority,
        )
        return OrderAck.from_wire(data)

    async def decrease_order(
        self,
        order_id: str,
        *,
        market_ticker: str,
        reduce_to: Count | None = None,
        reduce_by: Count | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Shrink a resting order, keeping its queue priority. Exactly one of reduce_to/reduce_by."""
        body = decrease_body(reduce_to=reduce_to, reduce_by=reduce_by, market_ticker=market_ticker)
        data = await self._call(
            "POST",
            f"/portfolio/events/orders/{_seg(order_id)}/decrease",
            body=body,
            private=True,
            retry=NO_RETRY,
            priority=priority,
        )
        return OrderAck.from_wire(data)

    async def cancel_order(self, order_id: str, market_ticker: str) -> OrderAck:
        """Cancel one order (cancels jump the local rate-limit queue). A 404 does not prove a cancel:
        unknown, cancelled and executed orders all answer it; reconcile with ``list_orders``."""
        data = await self._call(
            "DELETE",
            f"/portfolio/events/orders/{_seg(order_id)}",
            params={"market_ticker": market_ticker},
            private=True,
            priority=Priority.CANCEL,
        )
        return OrderAck.from_wire(data)

    async def batch_create(self, specs: Sequence[CreateOrderSpec]) -> list[BatchItemResult]:
        """Create many orders; one result per spec, in order (``index`` = position in ``specs``).

        Sent in chunks that fit both the batch maximum and the write bucket. A retried chunk whose items
        landed the first time reports them as ``DuplicateClientOrderId`` item errors.
        """
        results: list[BatchItemResult] = []
        per_chunk = self._batch_size(BATCH_CREATE_COST_PER_ORDER)
        for start in range(0, len(specs), per_chunk):
            chunk = specs[start : start + per_chunk]
            data = await self._call(
                "POST",
                "/portfolio/events/orders/batched",
                body={"orders": [spec.to_wire() for spec in chunk]},
                private=True,
                items=len(chunk),
            )
            results.extend(self._batch_items(data, start, len(chunk), "batch create"))
        return results

    async def batch_cancel(self, orders: Sequence[tuple[str, str]]) -> list[BatchItemResult]:
        """Cancel many ``(order_id, market_ticker)`` pairs; one result per pair, in order."""
        results: list[BatchItemResult] = []
        per_chunk = self._batch_size(BATCH_CANCEL_COST_PER_ORDER)
        for start in range(0, len(orders), per_chunk):
            chunk = orders[start : start + per_chunk]
            body = {"orders": [{"order_id": oid, "market_ticker": ticker} for oid, ticker in chunk]}
            data = await self._call(
                "DELETE",
                "/portfolio/events/orders/batched",
                body=body,
                private=True,
                priority=Priority.CANCEL,
                items=len(chunk),
            )
            results.extend(self._batch_items(data, start, len(chunk), "batch cancel"))
        return results

    def _batch_size(self, cost_per_item: int) -> int:
        capacity = int(self.limiter.capacity(BucketName.WRITE))
        return max(1, min(MAX_BATCH_ORDERS, capacity // max(1, cost_per_item)))

    @staticmethod
    def _batch_items(data: Any, offset: int, expected: int, what: str) -> list[BatchItemResult]:
        items = KalshiRest._obj(data, "orders", what)
        if not isinstance(items, list) or len(items) != expected:
            got = len(items) if isinstance(items, list) else type(items).__name__
            raise BadResponse(
                f"{what}: expected {expected} results, got {got}; reconcile with list_orders",
                code="bad_response",
            )
        return [BatchItemResult.from_wire(offset + i, item) for i, item in enumerate(items)]

    async def cancel_all(self) -> None:
        """``DELETE /portfolio/events/orders`` (204). May not exist for ordinary accounts and may also
        cancel orders placed in the next minute; prefer list + :meth:`batch_cancel`."""
        await self._call("DELETE", "/portfolio/events/orders", private=True, priority=Priority.CANCEL)

    # --- order groups ---------------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: Count, exchange_index: int = 0) -> OrderGroup:
        """A group on ``exchange_index`` (the market's shard) that triggers after ``contracts_limit``
        matched contracts in 15 s. Not retried (a retry could create a second group)."""
        if contracts_limit <= 0:
            raise ValueError("contracts_limit must be a positive Count")
        body = {"contracts_limit_fp": format_count(contracts_limit), "exchange_index": exchange_index}
        data = await self._call(
            "POST", "/portfolio/order_groups/create", body=body, private=True, retry=NO_RETRY
        )
        group = OrderGroup.from_wire(data)
        # The create reply has no limit; the exchange accepted the one we sent.
        return OrderGroup(
            group.order_group_id,
            contracts_limit,
            group.is_auto_cancel_enabled,
            (),
            group.exchange_index if isinstance(data, dict) and "exchange_index" in data else exchange_index,
        )

    async def get_order_group(self, order_group_id: str) -> OrderGroup:
        data = await self._call("GET", f"/portfolio/order_groups/{_seg(order_group_id)}", private=True)
        return OrderGroup.from_wire(data, order_group_id)

    async def list_order_groups(self) -> list[OrderGroup]:
        out: list[OrderGroup] = []
        async for _, items in self._pages("/portfolio/order_groups", "order_groups", [], private=True):
            out.extend(OrderGroup.from_wire(item) for item in items)
        return out

    async def trigger_order_group(self, order_group_id: str) -> None:
        """Kill switch: cancel the group's orders and reject new ones until reset. Retried."""
        await self._call(
            "PUT",
            f"/portfolio/order_groups/{_seg(order_group_id)}/trigger",
            body={},
            private=True,
            priority=Priority.CANCEL,
        )

    async def reset_order_group(self, order_group_id: str) -> None:
        await self._call(
            "PUT", f"/portfolio/order_groups/{_seg(order_group_id)}/reset", body={}, private=True
        )

    async def delete_order_group(self, order_group_id: str) -> None:
        """Cancel the group's orders and remove it. Retried (deleting twice answers 404)."""
        await self._call(
            "DELETE",
            f"/portfolio/order_groups/{_seg(order_group_id)}",
            private=True,
            priority=Priority.CANCEL,
        )

    async def set_order_group_limit(self, order_group_id: str, contracts_limit: Count) -> None:
        """New limit (triggers at once if already above it)."""
        if contracts_limit <= 0:
            raise ValueError("contracts_limit must be a positive Count")
        await self._call(
            "PUT",
            f"/portfolio/order_groups/{_seg(order_group_id)}/limit",
            body={"contracts_limit_fp": format_count(contracts_limit)},
            private=True,
        )


__all__ = [
    "DEFAULT_BASE_URL",
    "DEMO_REST",
    "DEMO_WS",
    "NO_RETRY",
    "PROD_REST",
    "PROD_WS",
    "KalshiError",
    "KalshiRest",
    "RetryPolicy",
    "sim_rest_url",
]
