"""The engine's one door to the exchange: the Kalshi REST client and WebSocket feed behind a narrow port.

The engine speaks in its own terms (our ``OwnOrder`` records, ``WriteOutcome``s, small event values);
this module translates to and from the client's typed results and exceptions. Keeping that translation
in one place means the trading logic never sees wire formats, HTTP errors or feed plumbing, and every
error is turned into something the engine can act on (retry, look up, reject, halt).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, OrderState, OwnOrder
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.models import Fill, Order, OrderAck
from kmm_tui.kalshi.ratelimit import Priority
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

CANCEL_DEADLINE_S = 15.0
HALT_CODES = frozenset(
    {"market_closed", "market_inactive", "insufficient_balance", "available_balance_too_low"}
)


# --- values the engine receives -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookChange:
    ticker: str
    book: Book
    stale: bool
    client_order_id: str | None = None  # set when the change was caused by one of our orders


@dataclass(frozen=True, slots=True)
class FillSeen:
    trade_id: str
    order_id: str
    client_order_id: str | None
    ticker: str
    book_side: str
    price: Price  # YES price
    count: Count
    fee: Money
    is_taker: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order_id: str
    client_order_id: str | None
    ticker: str
    price: Price
    filled: Count
    remaining: Count
    state: OrderState


@dataclass(frozen=True, slots=True)
class MarketStatus:
    ticker: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class FeedStatus:
    connected: bool
    stale_tickers: tuple[str, ...]
    detail: str
    reconnected: bool = False


@dataclass(frozen=True, slots=True)
class GroupTriggered:
    order_group_id: str


@dataclass(frozen=True, slots=True)
class PositionSeen:
    """The exchange's position on one market (+ YES held, − NO held)."""

    ticker: str
    position: Count


ExchangeEvent = (
    BookChange | FillSeen | OrderUpdate | MarketStatus | FeedStatus | GroupTriggered | PositionSeen
)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    ticker: str
    price: Price
    count: Count
    client_order_id: str
    order_group_id: str | None
    post_only: bool = True
    expiration_s: int | None = None  # Unix seconds: the exchange cancels it then even if we are gone


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What one write did, in the engine's terms."""

    ok: bool
    order_id: str | None = None
    filled: Count | None = None
    state: OrderState | None = None
    detail: str = ""
    counts_as_rejection: bool = False
    halt_reason: str | None = None


def order_state(status: str, remaining: Count) -> OrderState:
    if status == "resting" and remaining > 0:
        return OrderState.RESTING
    if status == "executed":
        return OrderState.EXECUTED
    return OrderState.CANCELLED


def order_update_from(order: Order) -> OrderUpdate:
    return OrderUpdate(
        order.order_id,
        order.client_order_id,
        order.ticker,
        order.price,
        order.fill_count,
        order.remaining_count,
        order_state(order.status, order.remaining_count),
    )


def fill_seen_from(fill: Fill) -> FillSeen:
    return FillSeen(
        fill.fill_id,
        fill.order_id,
        fill.client_order_id,
        fill.ticker,
        fill.book_side,
        fill.yes_price,
        fill.count,
        fill.fee,
        fill.is_taker,
        fill.created_ms,
    )


class ExchangePort:
    """REST + WebSocket feed, in the engine's terms. Tests run it against the simulator, never a mock."""

    def __init__(
        self,
        rest: KalshiRest,
        feed: KalshiFeed | None,
        *,
        clock: Callable[[], int],
        poll_interval_s: float = 1.0,
    ) -> None:
        self.rest = rest
        self.feed = feed
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._listener: Callable[[ExchangeEvent], None] = lambda event: None
        self._watched: dict[str, None] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._feed_connected = False
        self._last_fill_ms: int | None = None
        self._series_fees: dict[str, tuple[FeeType, Decimal]] = {}

    def on_event(self, listener: Callable[[ExchangeEvent], None]) -> None:
        self._listener = listener

    async def start(self) -> None:
        """Start the feed (if any) and the REST fallback poller that covers feed outages."""
        try:
            await self.rest.sync_rate_limits()  # size the local buckets from the account's real tier
        except kx.KalshiError as error:
            log.warning("account limits not readable, using the configured tier: %s", error)
        if self.feed is not None:
            self.feed.set_listener(self._on_feed_event)  # deliver straight onto the engine loop
            await self.feed.start()
        self._tasks.append(asyncio.create_task(self._fallback_poller(), name="rest-fallback"))

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
        fresh = [t for t in tickers if t not in self._watched]
        for ticker in fresh:
            self._watched[ticker] = None
        if not fresh:
            return
        if self.feed is not None:
            await self.feed.add_markets(fresh)
        if self.feed is None or not self._feed_connected:
            await self._poll_books(fresh)

    async def unwatch(self, tickers: list[str]) -> None:
        gone = [t for t in tickers if t in self._watched]
        for ticker in gone:
            del self._watched[ticker]
        if self.feed is not None and gone:
            await self.feed.remove_markets(gone)

    # --- feed events ------------------------------------------------------------------------------

    def _on_feed_event(self, event: FeedEvent) -> None:
        emit = self._listener
        if isinstance(event, BookEvent):
            if event.ticker in self._watched:
                emit(BookChange(event.ticker, event.book, event.stale, event.client_order_id))
        elif isinstance(event, FillEvent):
            self._note_fill(event.fill.created_ms)
            emit(fill_seen_from(event.fill))
        elif isinstance(event, OrderEvent):
            emit(order_update_from(event.order))
        elif isinstance(event, PositionEvent):
            emit(PositionSeen(event.position.ticker, event.position.position))
        elif isinstance(event, LifecycleEvent):
            status = _status_from_lifecycle(event.event_type, event.lifecycle.is_deactivated)
            if status is not None:
                emit(MarketStatus(event.ticker, status, event.event_type))
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

    def _note_fill(self, created_ms: int) -> None:
        if self._last_fill_ms is None or created_ms > self._last_fill_ms:
            self._last_fill_ms = created_ms

    async def _backfill_fills(self, since_ms: int | None) -> None:
        """After a reconnect: fills that happened while the socket was down, over REST (engine dedupes)."""
        start = since_ms if since_ms is not None else self._last_fill_ms
        if start is None:
            start = self._clock() - 600_000
        try:
            fills = await self.rest.list_fills(min_ts_ms=max(0, start - 60_000))
        except kx.KalshiError as error:
            log.warning("fill back-fill failed: %s", error)
            return
        for fill in reversed(fills):  # oldest first
            self._note_fill(fill.created_ms)
            self._listener(fill_seen_from(fill))
        try:
            orders = await self.rest.list_orders(status="resting")
        except kx.KalshiError as error:
            log.warning("order back-fill failed: %s", error)
            return
        for order in orders:
            self._listener(order_update_from(order))

    async def _fallback_poller(self) -> None:
        """While the WebSocket is down, read books and fills over REST so quoting stays informed."""
        while True:
            await asyncio.sleep(self._poll_interval_s)
            if self.feed is not None and self._feed_connected:
                continue
            try:
                await self._poll_books(list(self._watched))
                since = self._last_fill_ms if self._last_fill_ms is not None else self._clock() - 60_000
                fills = await self.rest.list_fills(min_ts_ms=max(0, since - 5_000))
                for fill in reversed(fills):
                    self._note_fill(fill.created_ms)
                    self._listener(fill_seen_from(fill))
            except asyncio.CancelledError:
                raise
            except kx.KalshiError as error:
                log.warning("REST fallback poll failed: %s", error)

    async def books(self, tickers: list[str]) -> dict[str, Book]:
        """Current books of these markets over REST (for previews of markets not watched yet)."""
        try:
            found = await self.rest.get_orderbooks(tickers)
        except kx.KalshiError as error:
            raise EngineError(f"order books not readable: {error.user_message}") from None
        return {ticker: snapshot.book() for ticker, snapshot in found.items()}

    async def _poll_books(self, tickers: list[str]) -> None:
        for start in range(0, len(tickers), 100):
            chunk = tickers[start : start + 100]
            if not chunk:
                continue
            try:
                books = await self.rest.get_orderbooks(chunk)
            except kx.KalshiError as error:
                log.warning("order book poll failed: %s", error)
                return
            for ticker, snapshot in books.items():
                if ticker in self._watched:
                    self._listener(BookChange(ticker, snapshot.book(), stale=False))

    # --- reference data ---------------------------------------------------------------------------

    async def load_market(self, ticker: str, *, field: str) -> MarketState:
        try:
            market = await self.rest.get_market(ticker)
        except kx.NotFoundError:
            raise EngineError(
                f"unknown ticker {ticker}: no such market on the exchange", field=field
            ) from None
        except kx.KalshiError as error:
            raise EngineError(f"could not load {ticker}: {error.user_message}", field=field) from None
        fee_type, multiplier = await self._fees(market.event_ticker)
        return MarketState(
            ticker=market.ticker,
            event_ticker=market.event_ticker,
            title=market.yes_sub_title or market.ticker,
            grid=market.grid,
            status=market.status,
            exchange_index=market.exchange_index,
            fee_type=fee_type,
            fee_multiplier=multiplier,
            rest_yes_ask=market.yes_ask,
            rest_read_ms=self._clock(),
        )

    async def _fees(self, event_ticker: str) -> tuple[FeeType, Decimal]:
        """Fee schedule of an event: its override, else its series' (cached per series)."""
        try:
            event = await self.rest.get_event(event_ticker)
        except kx.KalshiError as error:
            raise EngineError(f"could not load event {event_ticker}: {error.user_message}") from None
        if event.series_ticker not in self._series_fees:
            try:
                series = await self.rest.get_series(event.series_ticker)
                self._series_fees[event.series_ticker] = (_fee_type(series.fee_type), series.fee_multiplier)
            except kx.KalshiError:
                log.warning("series %s not readable; assuming maker fees apply", event.series_ticker)
                self._series_fees[event.series_ticker] = (FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1))
        fee_type, multiplier = self._series_fees[event.series_ticker]
        if event.fee_type_override:
            fee_type = _fee_type(event.fee_type_override)
        if event.fee_multiplier_override is not None:
            multiplier = event.fee_multiplier_override
        return fee_type, multiplier

    async def load_event(self, event_ticker: str) -> tuple[str, int | None, int]:
        """Event title, scheduled start from its milestone (None when the exchange has none), and how
        many outcome markets it has (3 for soccer with a TIE market)."""
        try:
            event = await self.rest.get_event(event_ticker)
        except kx.KalshiError as error:
            raise EngineError(f"could not load event {event_ticker}: {error.user_message}") from None
        start_ms = event.milestone.start_ms if event.milestone else None
        if start_ms is None:
            try:
                milestones = await self.rest.list_milestones(related_event_ticker=event_ticker, limit=10)
            except kx.KalshiError as error:
                log.warning("milestones for %s not readable: %s", event_ticker, error)
                milestones = []
            starts = [m.start_ms for m in milestones if m.start_ms is not None]
            start_ms = min(starts) if starts else None
        outcomes = len(event.markets)
        if outcomes == 0:  # nested list missing: page the event's markets (kalshi-api.md §4)
            try:
                outcomes = len(await self.rest.list_markets(event_ticker=event_ticker))
            except kx.KalshiError as error:
                raise EngineError(
                    f"could not list the markets of {event_ticker}: {error.user_message}"
                ) from None
        return event.title, start_ms, outcomes

    # --- writes -----------------------------------------------------------------------------------

    async def create(self, intent: OrderIntent) -> WriteOutcome:
        """Place one YES bid. A timeout leaves the order UNKNOWN, to be looked up, never resent blindly."""
        try:
            ack = await self.rest.create_order(
                intent.ticker,
                "bid",
                intent.price,
                intent.count,
                intent.client_order_id,
                post_only=intent.post_only,
                order_group_id=intent.order_group_id,
                cancel_order_on_pause=True,
                expiration_ts=intent.expiration_s,
                priority=Priority.LOW,  # new quotes wait behind cancels and moves toward safety
            )
        except kx.DuplicateClientOrderId:
            return WriteOutcome(ok=True, state=OrderState.UNKNOWN, detail="created on an earlier attempt")
        except kx.KalshiError as error:
            return _failed(error)
        remaining = ack.remaining_count if ack.remaining_count is not None else intent.count
        if ack.cancelled_on_arrival:
            return WriteOutcome(
                ok=False,
                order_id=ack.order_id,
                filled=Count(0),
                state=OrderState.CANCELLED,
                detail="cancelled on arrival (post-only cross or self-trade)",
            )
        state = OrderState.RESTING if remaining > 0 else OrderState.EXECUTED
        return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=state)

    async def amend(
        self, order: OwnOrder, price: Price, remaining: Count, *, safer: bool = False
    ) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        try:
            ack = await self.rest.amend_order(
                order.order_id,
                order.ticker,
                "bid",
                price,
                Count(order.filled + remaining),
                priority=Priority.NORMAL if safer else Priority.LOW,
            )
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return _failed(error)
        return _after_ack(ack)

    async def decrease(self, order: OwnOrder, reduce_to: Count) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        reduce_by = Count(order.remaining - reduce_to)
        if reduce_by <= 0:
            return WriteOutcome(ok=True, state=order.state)
        try:
            ack = await self.rest.decrease_order(
                order.order_id, market_ticker=order.ticker, reduce_by=reduce_by, priority=Priority.NORMAL
            )
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return _failed(error)
        return _after_ack(ack)

    async def cancel(self, order: OwnOrder) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        try:
            await self.rest.cancel_order(order.order_id, order.ticker)
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return _failed(error)
        return WriteOutcome(ok=True, state=OrderState.CANCELLED)

    async def _gone(self, order: OwnOrder) -> WriteOutcome:
        """A 404 proves nothing (cancelled, executed and unknown all answer it): read the order."""
        state = await self._lookup_state(order)
        return WriteOutcome(ok=state is OrderState.CANCELLED, state=state, detail="order no longer resting")

    async def _lookup_state(self, order: OwnOrder) -> OrderState:
        if order.order_id is None:
            return OrderState.UNKNOWN
        try:
            found = await self.rest.get_order(order.order_id)
        except kx.NotFoundError:
            return OrderState.CANCELLED
        except kx.KalshiError:
            return OrderState.UNKNOWN
        order.filled = max(order.filled, found.fill_count)
        return order_state(found.status, found.remaining_count)

    async def resolve(self, order: OwnOrder) -> None:
        """Settle an UNKNOWN order: find it by client id among the market's orders (no lookup by client id
        exists), or by order id. Not found at all means the create never landed."""
        if order.order_id is not None:
            order.state = await self._lookup_state(order)
            return
        try:
            candidates = await self.rest.list_orders(ticker=order.ticker)
        except kx.KalshiError as error:
            log.warning("could not resolve order %s: %s", order.client_order_id, error)
            return
        for found in candidates:
            if found.client_order_id == order.client_order_id:
                order.order_id = found.order_id
                order.filled = max(order.filled, found.fill_count)
                order.price = found.price
                order.initial = found.initial_count
                order.state = order_state(found.status, found.remaining_count)
                return
        order.state = OrderState.CANCELLED

    async def cancel_and_verify(
        self, orders: list[OwnOrder], deadline_s: float = CANCEL_DEADLINE_S
    ) -> set[str]:
        """Batch-cancel these orders, then list resting orders until none of them remain (or the deadline).

        Returns the exchange ids still resting. Orders whose create is unresolved are resolved first so
        an order that landed during a timeout is not forgotten.
        """
        for order in orders:
            if order.order_id is None:
                await self.resolve(order)
        targets = {
            o.order_id: o for o in orders if o.order_id is not None and o.state is not OrderState.CANCELLED
        }
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        attempt = 0
        while targets:
            if attempt:
                await asyncio.sleep(min(0.2 * attempt, 1.0))
            attempt += 1
            try:
                results = await self.rest.batch_cancel([(oid, o.ticker) for oid, o in targets.items()])
                for result in results:
                    if result.error is not None and not isinstance(result.error, kx.NotFoundError):
                        log.warning("cancel of %s failed: %s", result.order_id, result.error)
                tickers = sorted({o.ticker for o in targets.values()})
                resting = {
                    o.order_id
                    for t in tickers
                    for o in await self.rest.list_orders(status="resting", ticker=t)
                }
            except kx.KalshiError as error:
                log.warning("cancel round %d failed: %s", attempt, error)
                if loop.time() > end:
                    break
                continue
            for order_id in list(targets):
                if order_id not in resting:
                    targets.pop(order_id).state = OrderState.CANCELLED
            if loop.time() > end:
                break
        return set(targets)

    async def cancel_all_ours(self, keep: frozenset[str | None] = frozenset()) -> tuple[int, int]:
        """Cancel every resting order on the account that carries our client id prefix, verified,
        except the order ids in ``keep``.

        Returns (how many were resting, how many still rest). Orders of other tools are left alone.
        """
        try:
            resting = await self.rest.list_orders(status="resting")
        except kx.KalshiError as error:
            log.error("could not list resting orders: %s", error)
            raise
        ours = [
            o
            for o in resting
            if (o.client_order_id or "").startswith(CLIENT_ID_PREFIX) and o.order_id not in keep
        ]
        if not ours:
            return 0, 0
        stand_ins = [
            OwnOrder(
                o.client_order_id or "",
                "",
                Side.A,
                o.ticker,
                o.price,
                o.initial_count,
                o.fill_count,
                o.order_id,
                OrderState.RESTING,
            )
            for o in ours
        ]
        return len(ours), len(await self.cancel_and_verify(stand_ins))

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
            self._note_fill(fill.created_ms)
        return [fill_seen_from(f) for f in reversed(fills)]

    async def balance(self) -> Money | None:
        try:
            return (await self.rest.get_balance()).available
        except kx.KalshiError as error:
            log.warning("balance not readable: %s", error)
            return None

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


def _after_ack(ack: OrderAck) -> WriteOutcome:
    remaining = ack.remaining_count
    if remaining is not None and remaining <= 0:
        return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=OrderState.EXECUTED)
    return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=OrderState.RESTING)


def _failed(error: kx.KalshiError) -> WriteOutcome:
    """One classification for every write: no answer (the write may or may not have landed: look it
    up before anything else) versus a rejection (it did not happen; counts toward the halt)."""
    if isinstance(error, kx.Unavailable | kx.BadResponse | kx.RateLimited):
        return WriteOutcome(ok=False, state=OrderState.UNKNOWN, detail=f"no answer: {error.user_message}")
    return _rejected(error)


def _rejected(error: kx.KalshiError) -> WriteOutcome:
    code = error.code or ""
    text = f"{code}: {error.user_message}" if code else error.user_message
    post_only = "post only" in (getattr(error, "details", "") or "").lower()
    halt = None
    if code in HALT_CODES:
        halt = f"exchange rejected an order: {error.user_message}"
    if isinstance(error, kx.AuthError):
        halt = f"not authorised: {error.user_message}"
    return WriteOutcome(
        ok=False, state=OrderState.CANCELLED, detail=text, counts_as_rejection=not post_only, halt_reason=halt
    )


def _fee_type(text: str) -> FeeType:
    try:
        return FeeType(text)
    except ValueError:
        log.warning("unknown fee type %r; assuming maker fees apply", text)
        return FeeType.QUADRATIC_WITH_MAKER_FEES


def _status_from_lifecycle(event_type: str, is_deactivated: bool | None) -> str | None:
    if event_type == "deactivated" or is_deactivated:
        return "inactive"
    if event_type == "activated":
        return "active"
    if event_type in ("determined", "settled"):
        return "determined" if event_type == "determined" else "finalized"
    if event_type == "close_date_updated":
        return None
    return None
