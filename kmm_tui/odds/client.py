"""The plumbing every odds HTTP client shares: the key check, the quota tracker, the response cache,
the JSON HTTP session, and one cached, quota-gated GET.

Why one base: The Odds API, OddsPapi and SportsGameOdds differ in their endpoints, error bodies and
how they bill, not in how a call is made. Each subclass supplies its name, where its key is set, its
settings (``api_key``, ``http``, ``down_ms``) and its ``_classify`` of a raw response; the base makes
sure that a missing key reads the same everywhere, that an outage disables the source for
``down_ms`` in the same way, and that a cached answer never costs a request.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from kmm_tui.odds.cache import QuotaTracker, ResponseCache
from kmm_tui.odds.errors import SourceConfigError, SourceDown
from kmm_tui.odds.http import Clock, HttpSettings, JsonHttp, MinGapGate, RawResponse, Sleep, wall_clock_ms
from kmm_tui.odds.matching import Matcher


class ClientSettings(Protocol):
    """What the base reads from a client's settings dataclass."""

    @property
    def api_key(self) -> str: ...

    @property
    def http(self) -> HttpSettings: ...

    @property
    def down_ms(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Link:
    """How a client reaches its provider: host, response-cache lifetime, quota floor, fixed headers."""

    base_url: str
    cache_ttl_ms: int
    min_remaining: int = 0
    headers: Mapping[str, str] | None = None


S = TypeVar("S", bound=ClientSettings)


class OddsHttpClient(Generic[S]):
    """Base of the odds clients. Subclasses set ``name``, ``key_setting`` and ``key_variable`` and say
    in :meth:`link` how to reach the provider; the constructor is the same for every client."""

    name: str
    key_setting: str  # the [odds] setting that holds the key
    key_variable: str  # the environment variable that does

    def __init__(
        self,
        settings: S,
        matcher: Matcher,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = wall_clock_ms,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not settings.api_key.strip():
            raise SourceConfigError(
                self.name,
                f"no API key configured; set {self.key_setting} under [odds] in settings.toml "
                f"(or {self.key_variable})",
            )
        link = self.link(settings)
        self.settings = settings
        self.matcher = matcher
        self.quota = QuotaTracker(self.name, link.min_remaining)
        self._clock = clock
        self._cache = ResponseCache(link.cache_ttl_ms)
        self._gate = MinGapGate(clock, sleep)  # per-endpoint cooldowns, for providers that need them
        self._http = JsonHttp(
            self.name,
            link.base_url,
            secrets=(settings.api_key,),
            settings=settings.http,
            transport=transport,
            headers=link.headers,
            sleep=sleep,
            rng=rng,
        )

    @classmethod
    def link(cls, settings: S) -> Link:
        raise NotImplementedError

    def key_rejected(self, detail: str) -> SourceConfigError:
        """The provider refused the key: the source stops for good, and the message names the setting."""
        reason = (
            f"API key rejected ({detail}) — set a valid {self.key_setting} under [odds] in settings.toml "
            f"(or {self.key_variable}) and restart kmm"
        )
        self.quota.set_fatal(reason)
        return SourceConfigError(self.name, reason)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self,
        path: str,
        params: dict[str, str],
        classify: Callable[[RawResponse], Any],
        *,
        slot: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> Any:
        """One call; an outage that outlasts the retries disables the source for ``down_ms``."""
        try:
            return await self._http.request(path, params, classify, slot=slot)
        except SourceDown as exc:
            self.quota.disable(self._clock() + self.settings.down_ms, exc.message, quota=False)
            raise

    async def _cached_get(
        self,
        path: str,
        params: dict[str, str],
        send: Callable[[], Awaitable[Any]],
        *,
        paid: bool,
        ttl_ms: int,
    ) -> Any:
        """A cached answer if fresh; else pass the quota gate, ``send`` and cache for ``ttl_ms``."""
        key = ResponseCache.key(path, params)
        cached = self._cache.get(key, self._clock())
        if cached is not None:
            return cached
        self.quota.check(self._clock(), paid=paid)
        body = await send()
        if ttl_ms > 0:
            self._cache.put(key, body, self._clock(), ttl_ms)
        return body


__all__ = ["ClientSettings", "Link", "OddsHttpClient"]
