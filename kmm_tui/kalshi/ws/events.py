"""The events the feed delivers to its consumer (books, fills, orders, positions, lifecycle, health)."""

from __future__ import annotations

from dataclasses import dataclass

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Price
from kmm_tui.kalshi.models import EventFeeUpdate, Fill, Lifecycle, Order, OrderGroupUpdate, Position


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
    no_delta: tuple[Price, int] | None = None  # a NO-bid delta (NO price, signed count); None otherwise


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
