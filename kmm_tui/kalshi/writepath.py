"""The order write path: creates, amends, decreases and cancels sent over aiohttp.

Everything else the client asks goes through httpx (``rest.py``); order writes are the hot path, one
per book move per match, and ``bench/bench_http.py`` measured a signed amend through ``KalshiRest`` at
1.8 ms of CPU over httpx against 0.56 ms over aiohttp on the same loop (3.3x, the 0.3 ms RSA signature
included in both; about 7x for the HTTP part alone). The bar for leaving httpx on the write path was 3x.

Same contract as the httpx path: a status and the body bytes back, or :class:`Unavailable` for a
transport failure (timeout, refused or reset connection), whose outcome the caller must read back.

On Python 3.11 aiohttp writes a request's body, and the headers it holds back to send with it, from a
task that starts on the loop's *next* turn (from 3.12 on it starts that task eagerly): every order write
waited behind whatever else was ready on the engine's loop before it left, 0.5 ms at the median at 200
matches and 10 ms under load (docs/benchmarks.md, "Reaction, leg by leg"). :func:`write_bodies_eagerly`
gives the engine's loop that 3.12 behaviour for aiohttp's body writer alone.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from aiohttp.client_reqrep import ClientRequest

from kmm_tui.kalshi.errors import unavailable_from_exception


class WritePath:
    """One aiohttp session (created on first use, on the running loop) for the order write endpoints."""

    def __init__(self, base_url: str, *, timeout_s: float, connections: int, headers: dict[str, str]) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 5.0))
        self._connections = connections
        self._headers = headers
        self._session: aiohttp.ClientSession | None = None
        # The proxy is read from the environment once, as httpx does: aiohttp's trust_env would look it
        # (and ~/.netrc) up in a worker thread on every request, two thread hand-overs per write.
        host = urlsplit(base_url).hostname or ""
        self._proxy = None if proxy_bypass(host) or host in _LOOPBACK else _env_proxy(base_url)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            write_bodies_eagerly(asyncio.get_running_loop())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300),
                timeout=self._timeout,
                headers=self._headers,
                trust_env=False,
            )
        return self._session

    async def send(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None,
        body: Any,
        headers: dict[str, str],
        what: str,
    ) -> tuple[int, bytes]:
        """(HTTP status, body) of one attempt; :class:`Unavailable` when no answer arrived."""
        try:
            async with self._open().request(
                method,
                self._base_url + path,
                params=query,
                json=body,
                headers=headers,
                allow_redirects=False,
                proxy=self._proxy,
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise unavailable_from_exception(exc, what=what) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _env_proxy(url: str) -> str | None:
    """``HTTPS_PROXY``/``HTTP_PROXY`` (or ``ALL_PROXY``) for this URL's scheme, as httpx reads them."""
    proxies = getproxies()
    return proxies.get(urlsplit(url).scheme) or proxies.get("all")


_BODY_WRITER = ClientRequest.write_bytes.__code__


def write_bodies_eagerly(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop`` start aiohttp's request body writer in the requesting turn (Python 3.11 only).

    A task factory that runs that one coroutine's first step at once, as ``eager_start=True`` does on
    3.12+ (aiohttp asks for exactly that there): a small body is written, with its headers, before the
    request coroutine goes on; should the writer have to wait (a full socket buffer), a task carries it
    on from there. Every other task is made as before (by the factory already set, if any).
    """
    if sys.version_info >= (3, 12):
        return
    previous = loop.get_task_factory()
    if getattr(previous, "writes_bodies_eagerly", False):
        return

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Future[Any]:
        if getattr(coro, "cr_code", None) is _BODY_WRITER:
            return _start_eagerly(loop, coro)
        if previous is not None:
            return previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    factory.writes_bodies_eagerly = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)


def _start_eagerly(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
    """Run the coroutine's first step now: a done future if it finished, else a task that resumes it."""
    try:
        awaited = coro.send(None)
    except StopIteration as done:
        future = loop.create_future()
        future.set_result(done.value)
        return future
    except asyncio.CancelledError:
        future = loop.create_future()
        future.cancel()
        return future
    except Exception as error:
        future = loop.create_future()
        future.set_exception(error)
        return future
    return asyncio.Task(_resume(coro, awaited), loop=loop)


async def _resume(coro: Coroutine[Any, Any, Any], awaited: Any) -> Any:
    """Drive a coroutine that already ran its first step: wait for what it waits for, hand it the
    outcome (a cancellation of this task included), until it returns."""
    while True:
        try:
            if awaited is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
                await asyncio.sleep(0)
                value = None
            else:  # a future it yielded, flagged as awaited by it: taken over here, as a task would
                awaited._asyncio_future_blocking = False
                value = await awaited
        except BaseException as error:  # the coroutine decides what a failure or a cancellation means
            try:
                awaited = coro.throw(error)
            except StopIteration as done:
                return done.value
        else:
            try:
                awaited = coro.send(value)
            except StopIteration as done:
                return done.value

