"""The engine's one door to the exchange: the Kalshi REST client and WebSocket feed behind a narrow port.

The engine speaks in its own terms (our ``OwnOrder`` records, ``WriteOutcome``s, small event values);
the port translates to and from the client's typed results and exceptions, so the trading logic never
sees wire formats, HTTP errors or feed plumbing. It is assembled from one part per job: ``writes``
(order writes and verified cancels), ``feed`` (events in, REST fallback), ``reference`` (market and
event metadata); the account reads and order groups are here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Money
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.exchange.feed import FeedBridge
from kmm_tui.engine.exchange.reference import EventInfo, Reference
from kmm_tui.engine.exchange.values import ExchangeEvent, FillSeen, MarketStatus, fill_seen_from
from kmm_tui.engine.exchange.writes import OrderWrites
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.orders import CLIENT_ID_PREFIX
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.models import Order
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.ws import KalshiFeed

log = logging.getLogger(__name__)


class ExchangePort(OrderWrites):
    """REST + WebSocket feed, in the engine's terms. Tests run it against the simulator, never a mock."""

    def __init__(
        self,
        rest: KalshiRest,
        feed: KalshiFeed | None,
        *,
        clock: Callable[[], int],
        poll_interval_s: float = 1.0,
    ) -> None:
        super().__init__(rest)
        self.feed = feed
        self._clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self._bridge = FeedBridge(rest, feed, clock=clock, poll_interval_s=poll_interval_s, tasks=self._tasks)
        self._reference = Reference(rest, clock)

    def on_event(self, listener: Callable[[ExchangeEvent], None]) -> None:
        self._bridge.on_event(listener)

    async def start(self) -> None:
        """Start the feed (if any) and the REST fallback poller that covers feed outages."""
        try:
            await self.rest.sync_rate_limits()  # size the local buckets from the account's real tier
        except kx.KalshiError as error:
            log.warning("account limits not readable, using the configured tier: %s", error)
        await self._bridge.start()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.feed is not None:
            await self.feed.aclose()
        await self.rest.aclose()

    def headroom(self) -> tuple[float, float]:
        room = self.rest.headroom()
        return room.get("read", 1.0), room.get("write", 1.0)

    async def watch(self, tickers: list[str]) -> None:
        await self._bridge.watch(tickers)

    async def unwatch(self, tickers: list[str]) -> None:
        await self._bridge.unwatch(tickers)

    # --- reference data ---------------------------------------------------------------------------

    async def load_market(self, ticker: str, *, field: str) -> MarketState:
        return await self._reference.load_market(ticker, field=field)

    async def load_event(self, event_ticker: str) -> EventInfo:
        """Event title, scheduled start (None when unknown) and how many outcome markets it has."""
        return await self._reference.load_event(event_ticker)

    async def books(self, tickers: list[str]) -> dict[str, Book]:
        """Current books of these markets over REST (for previews of markets not watched yet)."""
        try:
            found = await self.rest.get_orderbooks(tickers)
        except kx.KalshiError as error:
            raise EngineError(f"order books not readable: {error.user_message}") from None
        return {ticker: snapshot.book() for ticker, snapshot in found.items()}

    async def recheck_status(self, ticker: str) -> None:
        """Read a market's status over REST and hand it to the engine as a ``MarketStatus`` (a paused
        market's reopening may come without a lifecycle message)."""
        try:
            market = await self.rest.get_market(ticker)
        except kx.KalshiError as error:
            log.warning("status of %s not readable: %s", ticker, error)
            return
        self._bridge.emit(MarketStatus(ticker, market.status, "read over REST"))

    def give_turn(self) -> None:
        """A feed event woke a match: let its runner run before the feed handles the next frame."""
        if self.feed is not None:
            self.feed.give_turn()

    def report_status(self, ticker: str, status: str, detail: str) -> None:
        """A write's answer told us a market's status (e.g. refused as paused): pass it on as an event."""
        self._bridge.emit(MarketStatus(ticker, status, detail))

    # --- account reads ----------------------------------------------------------------------------

    async def resting_orders_of_ours(self) -> list[Order]:
        """Resting orders on the account that carry our client id prefix."""
        resting = await self.rest.list_orders(status="resting")
        return [o for o in resting if (o.client_order_id or "").startswith(CLIENT_ID_PREFIX)]

    async def resting_order_ids(self) -> dict[str, str | None] | None:
        """Resting orders on the account, ``order_id -> client_order_id``; None when unreadable."""
        try:
            return {o.order_id: o.client_order_id for o in await self.rest.list_orders(status="resting")}
        except kx.KalshiError as error:
            log.warning("resting orders not readable: %s", error)
            return None

    async def positions(self, tickers: list[str]) -> dict[str, Count] | None:
        """Positions on these markets (missing = flat), or None when the exchange cannot be read."""
        try:
            found = await self.rest.get_positions(count_filter="position")
        except kx.KalshiError as error:
            log.warning("positions not readable: %s", error)
            return None
        wanted = set(tickers)
        held = {p.ticker: p.position for p in found if p.ticker in wanted}
        return {t: held.get(t, Count(0)) for t in tickers}

    async def orders_since(self, min_ts_ms: int) -> list[Order]:
        """Every order of ours (any status) created since ``min_ts_ms``: binds client ids after a crash."""
        return await self.rest.list_orders(min_ts_ms=max(0, min_ts_ms - 60_000))

    async def fills_since(self, min_ts_ms: int) -> list[FillSeen]:
        """Fills since ``min_ts_ms`` (minus a minute of overlap; the journal dedupes), oldest first."""
        fills = await self.rest.list_fills(min_ts_ms=max(0, min_ts_ms - 60_000))
        for fill in fills:
            self._bridge.note_fill(fill.created_ms)
        return [fill_seen_from(f) for f in reversed(fills)]

    async def balance(self) -> Money | None:
        try:
            return (await self.rest.get_balance()).available
        except kx.KalshiError as error:
            log.warning("balance not readable: %s", error)
            return None

    # --- order groups -----------------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: Count, exchange_index: int) -> str:
        try:
            group = await self.rest.create_order_group(contracts_limit, exchange_index)
        except kx.KalshiError as error:
            raise EngineError(error.user_message) from None
        return group.order_group_id

    async def delete_order_group(self, order_group_id: str) -> None:
        try:
            await self.rest.delete_order_group(order_group_id)
        except kx.NotFoundError:
            return
        except kx.KalshiError as error:
            raise EngineError(error.user_message) from None
