"""Typed events out of the engine. A front-end subscribes and renders; nothing else couples them.

Events say what happened; ``Engine.snapshot()`` says how things are now. A UI that redraws at a bounded
rate should render snapshots and use events for logs, notifications and wake-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.domain.quoting import Decision
from kmm_tui.engine.model import MatchStatus


class OrderAction(StrEnum):
    PLACED = "placed"
    AMENDED = "amended"
    DECREASED = "decreased"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    NOT_SENT = "not_sent"  # dropped before it was sent (its match stopped): nothing happened
    WOULD_PLACE = "would_place"  # dry run


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class BookUpdated:
    ticker: str
    book: Book  # full visible book, our orders included
    ts_ms: int
    stale: bool = False


@dataclass(frozen=True, slots=True)
class QuoteDecided:
    match_id: str
    decision: Decision
    ts_ms: int


@dataclass(frozen=True, slots=True)
class OrderChanged:
    match_id: str
    ticker: str
    action: OrderAction
    order_id: str | None
    client_order_id: str
    price: Price | None
    count: Count
    ts_ms: int
    detail: str = ""
    side: str = ""  # the outcome the order bids for: "a" | "t" | "b" (a NO bid of one market is "b")


@dataclass(frozen=True, slots=True)
class Filled:
    match_id: str
    ticker: str
    side: str  # "a" | "t" | "b"
    trade_id: str
    order_id: str
    price: Price
    count: Count
    fee: Money
    is_taker: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class InventoryChanged:
    match_id: str
    inventory: Inventory
    ts_ms: int


@dataclass(frozen=True, slots=True)
class MatchStatusChanged:
    match_id: str
    status: MatchStatus
    reason: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class FeedHealthChanged:
    connected: bool
    stale_tickers: tuple[str, ...]
    detail: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class RateHeadroom:
    read: float  # fraction of bucket capacity available, for display only  # float-ok
    write: float  # float-ok
    ts_ms: int


@dataclass(frozen=True, slots=True)
class BalanceChanged:
    balance: Money
    ts_ms: int


@dataclass(frozen=True, slots=True)
class LogEvent:
    level: Level
    text: str
    ts_ms: int
    match_id: str | None = None


Event = (
    BookUpdated
    | QuoteDecided
    | OrderChanged
    | Filled
    | InventoryChanged
    | MatchStatusChanged
    | FeedHealthChanged
    | RateHeadroom
    | BalanceChanged
    | LogEvent
)
