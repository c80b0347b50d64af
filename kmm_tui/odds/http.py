"""Shared HTTP plumbing for the odds clients: timeouts, retries with backoff, key redaction.

Provider-specific meaning (which status is fatal, which is quota, which is retryable) lives in each
client's ``classify`` function; this module only runs the loop. API keys travel in query strings, so
nothing here logs a URL, and every piece of text that could carry one goes through :func:`redact`.
JSON is parsed with ``parse_float=Decimal``: odds never pass through a float.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import httpx

from kmm_tui.odds.errors import OddsSourceError, SourceDown

log = logging.getLogger("kmm.odds")

Clock = Callable[[], int]
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

_KEY_IN_TEXT = re.compile(r"(?i)(api_?key=|x-api-key:\s*)[^&\s\"',;]+")


class _RedactKeysFilter(logging.Filter):
    """httpx logs every request URL at INFO, and our keys are query parameters: scrub them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACT_FILTER = _RedactKeysFilter()
# Filters on a logger do not apply to its children, so name each logger that can print a URL.
_URL_LOGGERS = (
    "httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy",
)
for _name in _URL_LOGGERS:
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactKeysFilter) for f in _logger.filters):
        _logger.addFilter(_REDACT_FILTER)


def wall_clock_ms() -> int:
    """Unix milliseconds (the default clock; tests pass their own)."""
    return time.time_ns() // 1_000_000


def loads_decimal(raw: str | bytes) -> Any:
    """Parse JSON with every non-integer number as an exact ``Decimal``."""
    return json.loads(raw, parse_float=Decimal)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove API keys from ``text``: any ``apiKey=…`` value and each known secret verbatim."""
    out = _KEY_IN_TEXT.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "***")
    return out


def lenient_int(value: object, *, round_up: bool = False) -> int | None:
    """Header/body number → int: ``"436"``, ``"436.0"``, ``436``; None when missing or unparsable.

    Fractions round down by default (remaining credits: never overstate) or up (used/cost).
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    whole = int(number.to_integral_value(rounding="ROUND_CEILING" if round_up else "ROUND_FLOOR"))
    return whole


def retry_after_ms(value: object) -> int | None:
    """``Retry-After`` / ``retryAfterSec`` in seconds (int or decimal) → ms; None if absent/garbled."""
    seconds = lenient_int(value, round_up=True) if value is not None else None
    if seconds is None or seconds < 0:
        return None
    return seconds * 1000


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Per-call timeout and the retry budget for 5xx / timeouts / rate limits."""

    timeout_ms: int = 10_000
    max_attempts: int = 3
    backoff_base_ms: int = 1_000
    backoff_cap_ms: int = 5_000


@dataclass(frozen=True, slots=True)
class RawResponse:
    """Status, lower-cased headers, and the Decimal-parsed JSON body (None if not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any
    text: str


class Retry(Exception):
    """Raised by a classifier: try again after ``delay_ms`` (None = exponential backoff), else ``error``."""

    def __init__(self, error: OddsSourceError, delay_ms: int | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay_ms = delay_ms


def backoff_ms(attempt: int, settings: HttpSettings, rng: random.Random) -> int:
    """Exponential backoff with up to +50 % jitter, capped: 1–1.5 s, 2–3 s, 4–5 s, 5 s … by default."""
    base = min(settings.backoff_cap_ms, settings.backoff_base_ms * (2**attempt))
    return min(settings.backoff_cap_ms, base + rng.randint(0, base // 2))


class JsonHttp:
    """An httpx.AsyncClient bound to one provider, with the retry loop and redaction built in."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        secrets: Iterable[str] = (),
        settings: HttpSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.source = source
        self.settings = settings or HttpSettings()
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(self.settings.timeout_ms / 1000),
            follow_redirects=False,
        )

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_once(self, path: str, params: Mapping[str, str]) -> RawResponse:
        """One GET; transport failures become :class:`SourceDown` with redacted text."""
        try:
            response = await self._client.get(path, params=dict(params))
        except httpx.TimeoutException:
            raise SourceDown(
                self.source, f"GET {path} timed out after {self.settings.timeout_ms} ms"
            ) from None
        except httpx.HTTPError as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            raise SourceDown(self.source, f"GET {path} failed ({detail}); check the network") from None
        text = response.text
        try:
            body = loads_decimal(response.content) if response.content else None
        except ValueError:
            body = None
        log.debug("%s GET %s -> %s", self.source, path, response.status_code)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return RawResponse(response.status_code, headers, body, self.redact(text[:500]))

    async def request(
        self,
        path: str,
        params: Mapping[str, str],
        classify: Callable[[RawResponse], T],
        *,
        slot: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> T:
        """GET with retries: transport errors and ``Retry`` from ``classify`` are retried.

        ``slot`` (e.g. ``MinGapGate.slot``) wraps every attempt, so cooldowns apply to retries too.
        """
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(attempts):
            delay: int | None = None
            try:
                if slot is None:
                    return classify(await self.get_once(path, params))
                async with slot():
                    response = await self.get_once(path, params)
                return classify(response)
            except SourceDown as exc:
                error: OddsSourceError = exc
            except Retry as retry:
                error, delay = retry.error, retry.delay_ms
            if attempt + 1 >= attempts:
                raise error
            wait = delay if delay is not None else backoff_ms(attempt, self.settings, self._rng)
            log.info("%s: %s; retrying in %d ms", self.source, error.message, wait)
            await self._sleep(wait / 1000)
        raise AssertionError("unreachable")  # pragma: no cover


class MinGapGate:
    """Serialises calls per endpoint and keeps a minimum gap between their starts (OddsPapi cooldowns)."""

    def __init__(self, clock: Clock = wall_clock_ms, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._last_start: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def slot(self, endpoint: str, gap_ms: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(endpoint, asyncio.Lock())
        async with lock:
            last = self._last_start.get(endpoint)
            if last is not None:
                wait = last + gap_ms - self._clock()
                if wait > 0:
                    await self._sleep(wait / 1000)
            self._last_start[endpoint] = self._clock()
            yield

    def push_back(self, endpoint: str, until_ms: int, gap_ms: int) -> None:
        """Make the next call on ``endpoint`` wait until at least ``until_ms`` (after a 429)."""
        self._last_start[endpoint] = max(self._last_start.get(endpoint, 0), until_ms - gap_ms)
