"""The Kalshi WebSocket feed: live order books with sequence checking, private channels, reconnects.

One signed connection carries everything: ``orderbook_delta`` for the markets we watch (sent with an
explicit ``use_yes_price: false``, so NO levels are NO-leg prices), and ``fill``, ``user_orders``,
``market_positions``, ``order_group_updates`` and ``market_lifecycle_v2``.

Books are rebuilt from a snapshot plus signed deltas. ``seq`` is counted **per subscription id**
(shared by all markets of the subscription): on a gap or a repeat every book of that sid is marked
stale (a stale :class:`BookEvent` tells the engine to pull quotes), deltas for stale books are dropped,
and a fresh snapshot is requested with ``update_subscription``/``get_snapshot``; the snapshot's ``seq``
becomes the new baseline. Repeated gaps, terminal subscription errors (10/17/25) and silence (no frame
for ``watchdog_s``, and no answer to a ping) all lead to a reconnect with exponential back-off and
jitter; after a reconnect every book is stale until re-snapshotted and a :class:`Reconnected` event
asks the engine to back-fill fills and orders over REST (the private channels have no ``seq``).

Our own resting orders appear in these books (deltas carry our ``client_order_id``); they are left in
on purpose: the engine subtracts what it knows it has resting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Price, no_price
from kmm_tui.kalshi.auth import Signer
from kmm_tui.kalshi.errors import BadResponse
from kmm_tui.kalshi.models import (
    BookDelta,
    EventFeeUpdate,
    Fill,
    Lifecycle,
    Order,
    OrderBookSnapshot,
    OrderGroupUpdate,
    Position,
)

log = logging.getLogger(__name__)

BOOK_CHANNEL = "orderbook_delta"
PRIVATE_CHANNELS = ("fill", "user_orders", "market_positions", "order_group_updates")
LIFECYCLE_CHANNEL = "market_lifecycle_v2"
TERMINAL_ERROR_CODES = frozenset({10, 17, 25})
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


# --- events delivered to the consumer --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookEvent:
    """A market's book changed (or went stale). ``book`` is YES terms and includes our own orders.

    ``ts_ms`` is the exchange's time of the delta when sent, else the local receive time.
    When ``stale`` the book is the last known state and must not be quoted against.
    """

    ticker: str
    book: Book
    seq: int | None
    ts_ms: int
    stale: bool
    client_order_id: str | None = None  # the exchange attributed this delta to one of our orders
    delta: tuple[Price, int] | None = None  # a YES-bid delta (price, signed count); None for NO-side changes
    snapshot: bool = False  # a whole new book (no attribution): consumers re-derive our presence in it


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order: Order


@dataclass(frozen=True, slots=True)
class PositionEvent:
    position: Position


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """Market lifecycle: ``event_type`` in created/activated/deactivated/close_date_updated/determined/
    settled/price_level_structure_updated/metadata_updated; details in ``lifecycle``."""

    ticker: str
    event_type: str
    lifecycle: Lifecycle


@dataclass(frozen=True, slots=True)
class FeeUpdateEvent:
    update: EventFeeUpdate


@dataclass(frozen=True, slots=True)
class OrderGroupEvent:
    update: OrderGroupUpdate


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """Connection state for the status bar and the engine's stale-feed guard."""

    connected: bool
    stale_tickers: tuple[str, ...]
    last_message_ms: int | None
    reconnects: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The feed came back after a drop: back-fill fills/orders over REST from before ``down_since_ms``."""

    reconnects: int
    down_since_ms: int | None


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """The server reported an error for one of our commands (e.g. market not found)."""

    code: int | None
    message: str
    ticker: str | None = None


FeedEvent = (
    BookEvent
    | FillEvent
    | OrderEvent
    | PositionEvent
    | LifecycleEvent
    | FeeUpdateEvent
    | OrderGroupEvent
    | FeedHealth
    | Reconnected
    | FeedProblem
)


# --- internal state ------------------------------------------------------------------------------


@dataclass(slots=True)
class _LiveBook:
    """Per-leg sizes plus the YES-terms :class:`Book` kept up to date delta by delta.

    A delta replaces one level of one side's tuple instead of re-sorting both legs (the book used to be
    rebuilt from the dicts on every delta, the larger half of the feed's cost per frame).
    """

    yes: dict[Price, Count] = field(default_factory=dict)
    no: dict[Price, Count] = field(default_factory=dict)
    stale: bool = True
    seq: int | None = None
    book: Book = field(default_factory=Book)

    def reset(self, yes: dict[Price, Count], no: dict[Price, Count]) -> None:
        self.yes, self.no = yes, no
        self.book = Book.from_legs(yes, no)

    def apply(self, side: str, price: Price, delta: int) -> None:
        """One signed delta on one leg (NO prices are NO-leg, as on the wire)."""
        levels = self.yes if side == "yes" else self.no
        size = levels.get(price, 0) + delta
        if size > 0:
            levels[price] = Count(size)
        else:
            levels.pop(price, None)
            size = 0
        if side == "yes":
            self.book = Book(_with_level(self.book.bids, price, size, descending=True), self.book.asks)
        else:
            asks = _with_level(self.book.asks, no_price(price), size, descending=False)
            self.book = Book(self.book.bids, asks)


def _with_level(
    levels: tuple[tuple[Price, Count], ...], price: Price, size: int, *, descending: bool
) -> tuple[tuple[Price, Count], ...]:
    """``levels`` (best first) with the level at ``price`` set to ``size`` (0 removes it)."""
    for i, (at, _) in enumerate(levels):
        if at == price:
            if size > 0:
                return (*levels[:i], (price, Count(size)), *levels[i + 1 :])
            return levels[:i] + levels[i + 1 :]
        if (at < price) if descending else (at > price):
            return (*levels[:i], (price, Count(size)), *levels[i:]) if size > 0 else levels
    return (*levels, (price, Count(size))) if size > 0 else levels


class _Reconnect(Exception):
    """Internal: drop this connection and start over (reason in the message)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delay ``min(cap, base * 2**n)`` times a random factor in [0.5, 1)."""

    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return min(self.cap_s, self.base_s * (2 ** min(attempt, 30))) * (0.5 + rng.random() / 2)


# --- the feed -----------------------------------------------------------------------------------


class KalshiFeed:
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

    # --- commands -------------------------------------------------------------------------------

    async def _command(
        self, cmd: str, params: dict[str, Any] | None, *, purpose: str, tickers: list[str] | None = None
    ) -> None:
        if self._ws is None:
            return
        cmd_id = next(self._ids)
        self._pending[cmd_id] = (purpose, tickers or [])
        message: dict[str, Any] = {"id": cmd_id, "cmd": cmd}
        if params is not None:
            message["params"] = params
        try:
            await self._ws.send(json.dumps(message))
        except websockets.exceptions.ConnectionClosed:
            self._pending.pop(cmd_id, None)  # the run loop notices the close and reconnects

    async def _subscribe_all(self) -> None:
        await self._sync_book_subscription()
        if self.private:
            await self._command("subscribe", {"channels": list(PRIVATE_CHANNELS)}, purpose="private")
        if self.lifecycle:
            await self._command("subscribe", {"channels": [LIFECYCLE_CHANNEL]}, purpose="lifecycle")

    async def _sync_book_subscription(self) -> None:
        missing = [t for t in self._wanted if t not in self._sent]
        if not missing or self._book_sub_pending:
            return
        self._sent.update(missing)
        if self._book_sid is None:
            self._book_sub_pending = True
            params = {"channels": [BOOK_CHANNEL], "market_tickers": missing, "use_yes_price": False}
            await self._command("subscribe", params, purpose="book_subscribe", tickers=missing)
        else:
            params = {"sid": self._book_sid, "market_tickers": missing, "action": "add_markets"}
            await self._command("update_subscription", params, purpose="add_markets", tickers=missing)

    async def _request_snapshots(self, tickers: list[str]) -> None:
        tickers = [t for t in tickers if t in self._sent]
        if not tickers or self._book_sid is None or not self._connected:
            return
        params = {"sid": self._book_sid, "market_tickers": tickers, "action": "get_snapshot"}
        await self._command("update_subscription", params, purpose="get_snapshot", tickers=tickers)

    # --- incoming -------------------------------------------------------------------------------

    async def _handle(self, raw: str | bytes) -> None:
        self._last_message_ms = self._clock_ms()
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            log.warning("kalshi feed: ignoring a frame that is not JSON (%d bytes)", len(raw))
            return
        if not isinstance(data, dict):
            return
        mtype = data.get("type")
        msg = data.get("msg")
        sid = data.get("sid")
        seq = data.get("seq")
        if mtype == "subscribed":
            await self._on_subscribed(data)
            return
        if mtype == "error":
            await self._on_error(data)
            return
        ticker = msg.get("market_ticker") if isinstance(msg, dict) else None
        if isinstance(sid, int) and isinstance(seq, int):
            if mtype == "orderbook_snapshot" and self._awaited_snapshot(sid, ticker):
                self._seq[sid] = seq  # a requested snapshot resets the baseline (kalshi-api.md §13)
            else:
                await self._check_seq(sid, seq, ticker if mtype == "orderbook_snapshot" else None)
        if mtype in ("ok", "unsubscribed"):
            self._pending.pop(data.get("id"), None)  # type: ignore[arg-type]
            return
        try:
            if mtype == "orderbook_snapshot":
                self._on_snapshot(msg, sid, seq)
            elif mtype == "orderbook_delta":
                self._on_delta(msg, seq)
            elif mtype == "fill":
                self._emit(FillEvent(Fill.from_wire(msg)))
            elif mtype == "user_order":
                self._emit(OrderEvent(Order.from_wire(msg)))
            elif mtype == "market_position":
                self._emit(PositionEvent(Position.from_wire(msg)))
            elif mtype == "market_lifecycle_v2":
                lifecycle = Lifecycle.from_ws(msg)
                self._emit(LifecycleEvent(lifecycle.ticker, lifecycle.event_type, lifecycle))
            elif mtype == "event_fee_update":
                self._emit(FeeUpdateEvent(EventFeeUpdate.from_ws(msg)))
            elif mtype == "order_group_updates":
                self._emit(OrderGroupEvent(OrderGroupUpdate.from_ws(msg)))
        except BadResponse as exc:
            log.error("kalshi feed: cannot parse %s message: %s", mtype, exc)
            if mtype in ("orderbook_snapshot", "orderbook_delta") and isinstance(ticker, str):
                if ticker in self._books:
                    self._mark_stale(ticker)
                    await self._request_snapshots([ticker])
            else:
                self._emit(FeedProblem(None, f"unreadable {mtype} message: {exc}", ticker))

    async def _on_subscribed(self, data: dict[str, Any]) -> None:
        msg = data.get("msg") if isinstance(data.get("msg"), dict) else {}
        channel, sid = msg.get("channel"), msg.get("sid")
        if isinstance(sid, int) and isinstance(channel, str):
            self._sid_channel[sid] = channel
            if channel == BOOK_CHANNEL:
                self._book_sid = sid
                self._book_sub_pending = False
                await self._sync_book_subscription()  # markets added while the subscribe was in flight

    async def _on_error(self, data: dict[str, Any]) -> None:
        msg = data.get("msg") if isinstance(data.get("msg"), dict) else {}
        code = msg.get("code") if isinstance(msg.get("code"), int) else None
        text = str(msg.get("msg") or "unknown error")
        ticker = msg.get("market_ticker") if isinstance(msg.get("market_ticker"), str) else None
        purpose, tickers = self._pending.pop(data.get("id"), ("", []))  # type: ignore[arg-type]
        sid = data.get("sid")
        log.warning("kalshi feed: server error %s %r (command %s, sid %s)", code, text, purpose or "-", sid)
        if code == 6:  # already subscribed: harmless (re-subscribing adds markets)
            return
        self._emit(FeedProblem(code, text, ticker))
        if code in TERMINAL_ERROR_CODES and (sid is None or sid == self._book_sid or purpose):
            raise _Reconnect(f"terminal subscription error {code}: {text}")
        if purpose == "book_subscribe":
            self._book_sub_pending = False
            if code == 16 and ticker:  # one unknown market fails the subscribe: drop it and retry the rest
                self._drop_unknown(ticker)
                self._sent.difference_update(tickers)
                await self._sync_book_subscription()
            else:
                raise _Reconnect(f"order book subscribe failed ({code}: {text})")
        elif purpose == "add_markets" and code == 16 and ticker:
            self._drop_unknown(ticker)
            self._sent.difference_update(tickers)
            await self._sync_book_subscription()
        elif purpose == "get_snapshot":
            raise _Reconnect(f"snapshot request failed ({code}: {text})")

    def _drop_unknown(self, ticker: str) -> None:
        self._wanted.pop(ticker, None)
        self._books.pop(ticker, None)
        self._sent.discard(ticker)

    def _awaited_snapshot(self, sid: int, ticker: Any) -> bool:
        """A snapshot we were waiting for, while no other book of its sid is live (nothing to miss)."""
        if sid != self._book_sid or not isinstance(ticker, str):
            return False
        live = self._books.get(ticker)
        if live is None or not live.stale:
            return False
        return all(b.stale for t, b in self._books.items() if t != ticker and t in self._sent)

    async def _check_seq(self, sid: int, seq: int, snapshot_ticker: str | None) -> None:
        last = self._seq.get(sid)
        self._seq[sid] = seq if last is None else max(last, seq)
        if last is None or seq == last + 1:
            return
        kind = "gap" if seq > last + 1 else "repeat"
        self.gaps += 1
        log.warning("kalshi feed: sequence %s on sid %d (%d after %d)", kind, sid, seq, last)
        if sid != self._book_sid:
            return
        now = time.monotonic()
        self._gap_times.append(now)
        while self._gap_times and now - self._gap_times[0] > self.gap_window_s:
            self._gap_times.popleft()
        if len(self._gap_times) >= self.max_gaps:
            self._gap_times.clear()
            raise _Reconnect(f"{self.max_gaps} sequence gaps within {self.gap_window_s:g}s")
        stale = [t for t in self._books if t in self._sent]
        for ticker in stale:
            self._mark_stale(ticker)
        self._detail = f"sequence {kind} on the order book feed ({seq} after {last}); resyncing"
        self._emit(self.health())
        await self._request_snapshots([t for t in stale if t != snapshot_ticker])

    def _on_snapshot(self, msg: Any, sid: Any, seq: Any) -> None:
        snapshot = OrderBookSnapshot.from_ws(msg)
        assert snapshot.ticker is not None
        live = self._books.get(snapshot.ticker)
        if live is None:
            return  # a market we stopped watching
        live.reset(dict(snapshot.yes), dict(snapshot.no))
        live.seq = seq if isinstance(seq, int) else None
        was_stale = live.stale
        live.stale = False
        self._emit(BookEvent(snapshot.ticker, live.book, live.seq, self._clock_ms(), False, snapshot=True))
        if was_stale and self._connected and not any(b.stale for b in self._books.values()):
            self._detail = "connected; all books live"
            self._emit(self.health())

    def _on_delta(self, msg: Any, seq: Any) -> None:
        delta = BookDelta.from_ws(msg)
        live = self._books.get(delta.ticker)
        if live is None:
            return
        if live.stale:
            self.dropped_deltas += 1
            return
        live.apply(delta.side, delta.price, delta.delta)
        live.seq = seq if isinstance(seq, int) else live.seq
        self._emit(
            BookEvent(
                delta.ticker,
                live.book,
                live.seq,
                delta.ts_ms if delta.ts_ms is not None else self._clock_ms(),
                False,
                delta.client_order_id,
                (delta.price, delta.delta) if delta.side == "yes" else None,
            )
        )

    def _mark_stale(self, ticker: str) -> None:
        live = self._books.get(ticker)
        if live is None or live.stale:
            return
        live.stale = True
        self._emit(BookEvent(ticker, live.book, live.seq, self._clock_ms(), True))

    def _emit(self, event: FeedEvent) -> None:
        if self._on_event is None:
            self.events.put_nowait(event)
            return
        try:
            self._on_event(event)
        except Exception:  # a consumer bug must not kill the feed
            log.exception("kalshi feed: event consumer raised on %s", type(event).__name__)


__all__ = [
    "Backoff",
    "BookEvent",
    "FeeUpdateEvent",
    "FeedEvent",
    "FeedHealth",
    "FeedProblem",
    "FillEvent",
    "KalshiFeed",
    "LifecycleEvent",
    "OrderEvent",
    "OrderGroupEvent",
    "PositionEvent",
    "Reconnected",
]
