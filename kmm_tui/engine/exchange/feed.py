"""Market data into the engine: the WebSocket feed translated to engine events, with a REST fallback.

While the socket is up, book, fill, order, position, lifecycle and order-group messages become the
values in ``exchange.values``, delivered straight onto the engine loop. While it is down, a poller reads
books and fills over REST so quoting stays informed (the stale-feed guard still pulls quotes until a
fresh snapshot arrives); after a reconnect, the fills and resting orders missed meanwhile are read back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kmm_tui.engine.exchange.values import (
    BookChange,
    ExchangeEvent,
    FeedStatus,
    GroupTriggered,
    MarketGrid,
    MarketStatus,
    PositionSeen,
    fill_seen_from,
    order_update_from,
)
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.ws import (
    BookEvent,
    FeedEvent,
    FeedHealth,
    FeedProblem,
    FillEvent,
    KalshiFeed,
    LifecycleEvent,
    OrderEvent,
    OrderGroupEvent,
    PositionEvent,
    Reconnected,
)

log = logging.getLogger(__name__)


class FeedBridge:
    """The watched markets, the feed's translation and the REST fallback poller."""

    def __init__(
        self,
        rest: KalshiRest,
        feed: KalshiFeed | None,
        *,
        clock: Callable[[], int],
        poll_interval_s: float,
        tasks: list[asyncio.Task[None]],
    ) -> None:
        self._rest = rest
        self._feed = feed
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._tasks = tasks
        self._listener: Callable[[ExchangeEvent], None] = lambda event: None
        self._watched: dict[str, None] = {}
        self._feed_connected = False
        self._last_fill_ms: int | None = None

    def on_event(self, listener: Callable[[ExchangeEvent], None]) -> None:
        self._listener = listener

    def emit(self, event: ExchangeEvent) -> None:
        """Hand the engine an event learnt some other way than the feed (a write's answer, a read)."""
        self._listener(event)

    async def start(self) -> None:
        if self._feed is not None:
            self._feed.set_listener(self._on_feed_event)  # deliver straight onto the engine loop
            await self._feed.start()
        self._tasks.append(asyncio.create_task(self._fallback_poller(), name="rest-fallback"))

    async def watch(self, tickers: list[str]) -> None:
        fresh = [t for t in tickers if t not in self._watched]
        for ticker in fresh:
            self._watched[ticker] = None
        if not fresh:
            return
        if self._feed is not None:
            await self._feed.add_markets(fresh)
        if self._feed is None or not self._feed_connected:
            await self._poll_books(fresh)

    async def unwatch(self, tickers: list[str]) -> None:
        gone = [t for t in tickers if t in self._watched]
        for ticker in gone:
            del self._watched[ticker]
        if self._feed is not None and gone:
            await self._feed.remove_markets(gone)

    def note_fill(self, created_ms: int) -> None:
        """Remember the newest fill seen: the fallback and back-fill read from there."""
        if self._last_fill_ms is None or created_ms > self._last_fill_ms:
            self._last_fill_ms = created_ms

    def _on_feed_event(self, event: FeedEvent) -> None:
        emit = self._listener
        if isinstance(event, BookEvent):
            if event.ticker in self._watched:
                emit(
                    BookChange(
                        event.ticker,
                        event.book,
                        event.stale,
                        event.client_order_id,
                        event.delta,
                        event.snapshot,
                        event.no_delta,
                    )
                )
        elif isinstance(event, FillEvent):
            self.note_fill(event.fill.created_ms)
            emit(fill_seen_from(event.fill))
        elif isinstance(event, OrderEvent):
            emit(order_update_from(event.order))
        elif isinstance(event, PositionEvent):
            emit(PositionSeen(event.position.ticker, event.position.position))
        elif isinstance(event, LifecycleEvent):
            status = _status_from_lifecycle(event.event_type, event.lifecycle.is_deactivated)
            if status is not None:
                emit(MarketStatus(event.ticker, status, event.event_type))
            if event.lifecycle.grid is not None and event.ticker in self._watched:
                emit(MarketGrid(event.ticker, event.lifecycle.grid))
        elif isinstance(event, OrderGroupEvent):
            update = event.update
            if getattr(update, "event_type", "") == "triggered":
                emit(GroupTriggered(getattr(update, "order_group_id", "")))
        elif isinstance(event, FeedHealth):
            self._feed_connected = event.connected
            emit(
                FeedStatus(
                    event.connected,
                    event.stale_tickers,
                    event.detail or ("connected" if event.connected else "disconnected"),
                )
            )
        elif isinstance(event, Reconnected):
            self._tasks.append(
                asyncio.create_task(self._backfill_fills(event.down_since_ms), name="backfill")
            )
        elif isinstance(event, FeedProblem):
            log.warning("feed problem: %s (code %s, %s)", event.message, event.code, event.ticker)

    async def _backfill_fills(self, since_ms: int | None) -> None:
        """After a reconnect: fills that happened while the socket was down, over REST (engine dedupes)."""
        start = since_ms if since_ms is not None else self._last_fill_ms
        if start is None:
            start = self._clock() - 600_000
        try:
            fills = await self._rest.list_fills(min_ts_ms=max(0, start - 60_000))
        except kx.KalshiError as error:
            log.warning("fill back-fill failed: %s", error)
            return
        for fill in reversed(fills):  # oldest first
            self.note_fill(fill.created_ms)
            self._listener(fill_seen_from(fill))
        try:
            orders = await self._rest.list_orders(status="resting")
        except kx.KalshiError as error:
            log.warning("order back-fill failed: %s", error)
            return
        for order in orders:
            self._listener(order_update_from(order))

    async def _fallback_poller(self) -> None:
        """While the WebSocket is down, read books and fills over REST so quoting stays informed."""
        while True:
            await asyncio.sleep(self._poll_interval_s)
            if self._feed is not None and self._feed_connected:
                continue
            try:
                await self._poll_books(list(self._watched))
                since = self._last_fill_ms if self._last_fill_ms is not None else self._clock() - 60_000
                fills = await self._rest.list_fills(min_ts_ms=max(0, since - 5_000))
                for fill in reversed(fills):
                    self.note_fill(fill.created_ms)
                    self._listener(fill_seen_from(fill))
            except asyncio.CancelledError:
                raise
            except kx.KalshiError as error:
                log.warning("REST fallback poll failed: %s", error)

    async def _poll_books(self, tickers: list[str]) -> None:
        for start in range(0, len(tickers), 100):
            chunk = tickers[start : start + 100]
            if not chunk:
                continue
            try:
                books = await self._rest.get_orderbooks(chunk)
            except kx.KalshiError as error:
                log.warning("order book poll failed: %s", error)
                return
            for ticker, snapshot in books.items():
                if ticker in self._watched:
                    self._listener(BookChange(ticker, snapshot.book(), stale=False, snapshot=True))


def _status_from_lifecycle(event_type: str, is_deactivated: bool | None) -> str | None:
    if event_type == "deactivated" or is_deactivated:
        return "inactive"
    if event_type == "activated":
        return "active"
    if event_type in ("determined", "settled"):
        return "determined" if event_type == "determined" else "finalized"
    return None
