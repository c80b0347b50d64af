"""The order write path: creates, amends, decreases and cancels sent over aiohttp.

Everything else the client asks goes through httpx (``rest.py``); order writes are the hot path, one
per book move per match, and ``bench/bench_http.py`` measured a signed amend through ``KalshiRest`` at
1.8 ms of CPU over httpx against 0.56 ms over aiohttp on the same loop (3.3x, the 0.3 ms RSA signature
included in both; about 7x for the HTTP part alone). The bar for leaving httpx on the write path was 3x.

Same contract as the httpx path: a status and the body bytes back, or :class:`Unavailable` for a
transport failure (timeout, refused or reset connection), whose outcome the caller must read back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp

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
