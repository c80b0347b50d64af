"""The REST transport: one signed, rate-limited, retried request (``_call``) and cursor paging.

One ``httpx.AsyncClient`` (connection pool, timeouts) per client; the base URL is the only difference
between the real exchange and the simulator. Every attempt first waits on the local
:class:`~kmm_tui.kalshi.ratelimit.RateLimiter` (so bursts queue rather than earn 429s), is signed afresh
(timestamps expire) and is mapped to a typed result or a :class:`~kmm_tui.kalshi.errors.KalshiError`.

Retries (jittered exponential back-off, capped, bounded attempts) only where repeating is safe: reads,
cancels, order-group kill switches, and creates, which always carry a ``client_order_id`` so the
exchange refuses a duplicate; a 409 ``order_already_exists`` on a *retried* create means the first
attempt landed and is raised as :class:`DuplicateClientOrderId` with ``first_attempt_landed`` set.
The endpoint groups (``market_data``, ``portfolio``, ``orders``, ``order_groups``) are mixins over
:class:`RestTransport`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import (
    AuthError,
    BadResponse,
    DuplicateClientOrderId,
    KalshiError,
    NotSent,
    RateLimited,
    Unavailable,
    error_from_response,
    unavailable_from_exception,
)
from kmm_tui.kalshi.ratelimit import Priority, RateLimiter
from kmm_tui.kalshi.writepath import WritePath

log = logging.getLogger(__package__)  # "kmm_tui.kalshi.rest", as before the split

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


class RestTransport:
    """The base of :class:`~kmm_tui.kalshi.rest.KalshiRest`: construction, lifetime and ``_call``.

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

    async def __aenter__(self) -> Self:
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
        market: str | None = None,
    ) -> Any:
        """One logical request (maybe several attempts). Returns the parsed JSON body (None for 204).

        ``market`` tags a write for the limiter's ``abandon``: dropped before its first attempt it raises
        NotSent (nothing happened); dropped before a retry it raises the failure of the attempt before,
        whose outcome is what is unknown (it may have landed)."""
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
        previous: KalshiError | None = None
        while True:
            attempt += 1
            try:
                await self.limiter.acquire(bucket, cost, priority, market)
            except NotSent:
                if previous is not None:
                    raise previous from None
                raise
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
            previous = error
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
        priority: int = Priority.NORMAL,
    ) -> AsyncIterator[tuple[dict[str, Any], list[Any]]]:
        """Follow ``cursor`` until the last page (``""``/missing). Yields (page body, its items)."""
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            page_params = list(params) + ([("cursor", cursor)] if cursor else [])
            data = await self._call("GET", path, params=page_params, private=private, priority=priority)
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
