"""The feed's protocol side: subscribe commands, ``seq`` checking and the handling of incoming frames.

A mixin of :class:`~kmm_tui.kalshi.ws.KalshiFeed` (``connection``), over the session state that class
owns: it turns frames into :class:`~kmm_tui.kalshi.ws.events` and live books, marks books stale on a
gap or repeat and asks for fresh snapshots, and raises :class:`_Reconnect` when only a new connection
helps (repeated gaps, terminal subscription errors).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import websockets
from websockets.asyncio.client import ClientConnection

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
from kmm_tui.kalshi.ws.events import (
    BookEvent,
    FeedEvent,
    FeedHealth,
    FeedProblem,
    FeeUpdateEvent,
    FillEvent,
    LifecycleEvent,
    OrderEvent,
    OrderGroupEvent,
    PositionEvent,
)
from kmm_tui.kalshi.ws.livebook import _LiveBook

log = logging.getLogger(__package__)  # "kmm_tui.kalshi.ws", as before the split

BOOK_CHANNEL = "orderbook_delta"
PRIVATE_CHANNELS = ("fill", "user_orders", "market_positions", "order_group_updates")
LIFECYCLE_CHANNEL = "market_lifecycle_v2"
TERMINAL_ERROR_CODES = frozenset({10, 17, 25})


class _Reconnect(Exception):
    """Internal: drop this connection and start over (reason in the message)."""


class FeedMessages:
    """Commands out, frames in. The state below is set up by ``KalshiFeed.__init__``/``_reset_session``."""

    private: bool
    lifecycle: bool
    max_gaps: int
    gap_window_s: float
    events: asyncio.Queue[FeedEvent]
    dropped_deltas: int
    gaps: int
    _on_event: Callable[[FeedEvent], None] | None
    _clock_ms: Callable[[], int]
    _wanted: dict[str, None]
    _books: dict[str, _LiveBook]
    _ws: ClientConnection | None
    _connected: bool
    _last_message_ms: int | None
    _detail: str
    _gap_times: deque[float]
    _ids: itertools.count[int]
    _pending: dict[int, tuple[str, list[str]]]
    _sent: set[str]
    _book_sid: int | None
    _book_sub_pending: bool
    _seq: dict[int, int]
    _sid_channel: dict[int, str]

    if TYPE_CHECKING:

        def health(self) -> FeedHealth: ...

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
                no_delta=(delta.price, delta.delta) if delta.side == "no" else None,
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
