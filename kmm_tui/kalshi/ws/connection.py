"""The feed's connection: ``KalshiFeed`` itself, its public API and the connect/serve/reconnect loop.

One signed connection, kept alive: silence for ``watchdog_s`` and no answer to a ping, repeated gaps
or terminal subscription errors all lead to a reconnect with exponential back-off and jitter; after a
reconnect every book is stale until re-snapshotted and a :class:`Reconnected` event asks the engine to
back-fill fills and orders over REST. What is said on the connection is :mod:`.messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

from kmm_tui.domain.book import Book
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.ws.events import FeedEvent, FeedHealth, Reconnected
from kmm_tui.kalshi.ws.livebook import _LiveBook
from kmm_tui.kalshi.ws.messages import FeedMessages, _Reconnect

log = logging.getLogger(__package__)  # "kmm_tui.kalshi.ws", as before the split

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delay ``min(cap, base * 2**n)`` times a random factor in [0.5, 1)."""

    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return min(self.cap_s, self.base_s * (2 ** min(attempt, 30))) * (0.5 + rng.random() / 2)


class KalshiFeed(FeedMessages):
    """One WebSocket session, kept alive. ``await start()`` then read ``events`` (or pass ``on_event``).

    ``signer`` signs the upgrade request (Kalshi requires it on every connection; private channels are
    only subscribed with one). ``tickers`` are the markets to build books for; change them at runtime
    with :meth:`add_markets` / :meth:`remove_markets`.
    """

    def __init__(
        self,
        url: str,
        signer: Signer | None = None,
        *,
        tickers: Iterable[str] = (),
        private: bool = True,
        lifecycle: bool = True,
        watchdog_s: float = 30.0,
        ping_timeout_s: float = 5.0,
        open_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        backoff: Backoff | None = None,
        max_gaps: int = 3,
        gap_window_s: float = 60.0,
        on_event: Callable[[FeedEvent], None] | None = None,
        clock_ms: Callable[[], int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError(f"WebSocket URL {url!r} must look like wss://host/trade-api/ws/v2")
        if watchdog_s <= 0:
            raise ValueError("watchdog_s must be positive")
        self.url = url
        self._path = parts.path or "/"
        self._loopback = parts.hostname in _LOOPBACK
        self.signer = signer
        self.private = private and signer is not None
        self.lifecycle = lifecycle
        self.watchdog_s = watchdog_s
        self.ping_timeout_s = ping_timeout_s
        self.open_timeout_s = open_timeout_s
        self.close_timeout_s = close_timeout_s
        self.backoff = backoff or Backoff()
        self.max_gaps = max_gaps
        self.gap_window_s = gap_window_s
        self.events: asyncio.Queue[FeedEvent] = asyncio.Queue()
        self._on_event = on_event
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._rng = rng or random.Random()

        self._wanted: dict[str, None] = dict.fromkeys(tickers)
        self._books: dict[str, _LiveBook] = {t: _LiveBook() for t in self._wanted}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._ws: ClientConnection | None = None
        self._connected = False
        self._connections = 0
        self._turn_wanted = False
        self._reconnects = 0
        self._last_message_ms: int | None = None
        self._down_since_ms: int | None = None
        self._detail = "not started"
        self._gap_times: deque[float] = deque()
        self.dropped_deltas = 0
        self.gaps = 0
        self._reset_session()

    # --- public API -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the connection loop in a background task (idempotent)."""
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self.run(), name="kalshi-feed")

    async def aclose(self) -> None:
        """Stop for good: close the socket and end the task."""
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def __aenter__(self) -> KalshiFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def give_turn(self) -> None:
        """The event being delivered woke work that should not wait for the rest of a burst (a match's
        runner): the loop gets a turn after this frame. Frames arrive in bursts that websockets queues
        parsed, and ``recv()`` returns the next without yielding, so the runner waited behind the
        whole burst. A turn after every frame cost a loop pass each, and at 500 matches that pushed
        the engine over a core (docs/benchmarks.md, "A turn when a frame wakes a match")."""
        self._turn_wanted = True

    def set_listener(self, on_event: Callable[[FeedEvent], None] | None) -> None:
        """Deliver events to ``on_event`` (called on the feed's loop) instead of ``events``; None = queue."""
        self._on_event = on_event

    def health(self) -> FeedHealth:
        return FeedHealth(
            connected=self._connected,
            stale_tickers=tuple(t for t, b in self._books.items() if b.stale),
            last_message_ms=self._last_message_ms,
            reconnects=self._reconnects,
            detail=self._detail,
        )

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(self._wanted)

    def book(self, ticker: str) -> tuple[Book, bool] | None:
        """(current book, stale?) of a watched market, or None if not watched."""
        live = self._books.get(ticker)
        return None if live is None else (live.book, live.stale)

    async def add_markets(self, tickers: Iterable[str]) -> None:
        """Start building books for more markets (stale until their snapshot arrives)."""
        for ticker in tickers:
            if ticker and ticker not in self._wanted:
                self._wanted[ticker] = None
                self._books[ticker] = _LiveBook()
        if self._connected:
            await self._sync_book_subscription()

    async def remove_markets(self, tickers: Iterable[str]) -> None:
        """Stop watching markets; their books are dropped."""
        gone = [t for t in tickers if t in self._wanted]
        for ticker in gone:
            del self._wanted[ticker]
            self._books.pop(ticker, None)
        sent = [t for t in gone if t in self._sent]
        for ticker in sent:
            self._sent.discard(ticker)
        if self._connected and self._book_sid is not None and sent:
            await self._command(
                "update_subscription",
                {"sid": self._book_sid, "market_tickers": sent, "action": "delete_markets"},
                purpose="delete_markets",
            )

    async def resnapshot(self, tickers: Iterable[str] | None = None) -> None:
        """Ask for fresh snapshots (all watched markets by default); the books go stale until then."""
        wanted = [t for t in (tickers if tickers is not None else self._wanted) if t in self._books]
        for ticker in wanted:
            self._mark_stale(ticker)
        await self._request_snapshots(wanted)

    # --- connection loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, reconnect with back-off until :meth:`aclose`. Never raises on network errors."""
        attempt = 0
        while not self._closing:
            got_messages = False
            try:
                got_messages = await self._serve_once()
                reason = "connection closed by the server"
            except _Reconnect as exc:
                got_messages = True
                reason = str(exc)
            except websockets.exceptions.InvalidStatus as exc:
                status = exc.response.status_code
                hint = " - check the API key id, key file and clock" if status in (401, 403) else ""
                reason = f"WebSocket upgrade refused: HTTP {status}{hint}"
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                reason = f"WebSocket failed: {type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except asyncio.CancelledError:
                self._on_disconnect("feed stopped")
                raise
            if self._closing:
                self._on_disconnect("feed stopped")
                break
            self._on_disconnect(reason)
            attempt = 0 if got_messages else attempt + 1
            delay = self.backoff.delay(attempt, self._rng)
            log.warning("kalshi feed: %s; reconnecting in %.2fs", reason, delay)
            await asyncio.sleep(delay)

    async def _serve_once(self) -> bool:
        headers: dict[str, str] = {}
        if self.signer is not None:
            headers = self.signer.headers("GET", self._path, self._clock_ms())
        async with connect(
            self.url,
            additional_headers=headers,
            open_timeout=self.open_timeout_s,
            ping_interval=None,  # our watchdog pings only when the line goes quiet
            close_timeout=self.close_timeout_s,  # a dead peer must not hold up the reconnect
            max_size=1 << 24,
            proxy=None if self._loopback else True,
        ) as ws:
            self._ws = ws
            self._reset_session()
            self._connected = True
            self._connections += 1
            self._detail = "connected"
            reconnected = self._connections > 1
            if reconnected:
                self._reconnects += 1
            await self._subscribe_all()
            self._emit(self.health())
            if reconnected:
                self._emit(Reconnected(self._reconnects, self._down_since_ms))
            return await self._pump(ws)

    async def _pump(self, ws: ClientConnection) -> bool:
        """Handle frames until the connection closes; True when any arrived.

        Silence for ``watchdog_s`` -> ping -> no pong -> reconnect. One deadline serves many frames
        and is moved at most every half watchdog: a timeout per frame (a timer armed and cancelled
        for each of thousands of frames a second) was 15 % of the feed's CPU.
        """
        loop = asyncio.get_running_loop()
        got_messages = False
        last = loop.time()
        when = last + self.watchdog_s
        while True:
            try:
                async with asyncio.timeout_at(when) as deadline:
                    while True:
                        try:
                            raw = await ws.recv()
                        except websockets.exceptions.ConnectionClosed:
                            return got_messages
                        got_messages = True
                        last = loop.time()
                        if (deadline.when() or 0.0) - last < self.watchdog_s / 2:
                            deadline.reschedule(last + self.watchdog_s)
                        await self._handle(raw)
                        if self._turn_wanted:  # see give_turn
                            self._turn_wanted = False
                            await asyncio.sleep(0)
            except TimeoutError:
                if loop.time() - last < self.watchdog_s:
                    when = last + self.watchdog_s  # the deadline ran ahead of the last frame
                    continue
            try:
                pong = await ws.ping()
                await asyncio.wait_for(pong, timeout=self.ping_timeout_s)
            except (TimeoutError, websockets.exceptions.ConnectionClosed):
                raise _Reconnect(f"no frame for {self.watchdog_s:g}s (watchdog)") from None
            last = loop.time()
            when = last + self.watchdog_s

    def _reset_session(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, list[str]]] = {}
        self._sent: set[str] = set()
        self._book_sid: int | None = None
        self._book_sub_pending = False
        self._seq: dict[int, int] = {}
        self._sid_channel: dict[int, str] = {}

    def _on_disconnect(self, reason: str) -> None:
        was_connected = self._connected
        self._connected = False
        self._ws = None
        self._detail = reason
        if was_connected or self._down_since_ms is None:
            self._down_since_ms = self._last_message_ms or self._clock_ms()
        for ticker in self._books:
            self._mark_stale(ticker)
        self._emit(self.health())
