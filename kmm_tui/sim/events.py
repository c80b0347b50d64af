"""What the exchange announces after each change, for the WebSocket layer (and tests) to consume.

The engine is synchronous and knows nothing about sockets: it calls its listeners with these frozen
values right after each state change, in order, so a subscriber can rebuild the book exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kmm_tui.sim.model import Fill, Order, Trade


@dataclass(frozen=True, slots=True)
class BookDelta:
    """A level changed by ``delta`` (signed Count). ``side`` is the leg; ``price`` is that leg's price."""

    ticker: str
    side: str  # "yes" | "no"
    price: int
    delta: int
    ts_ms: int
    account_id: str | None = None
    client_order_id: str | None = None
    subaccount: int = 0


@dataclass(frozen=True, slots=True)
class TradeEvent:
    trade: Trade


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order changed; ``order`` is the live object, serialise it before yielding control."""

    order: Order


@dataclass(frozen=True, slots=True)
class PositionEvent:
    account_id: str
    ticker: str


@dataclass(frozen=True, slots=True)
class TickerEvent:
    ticker: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class GroupEvent:
    account_id: str
    group_id: str
    event_type: str  # created | triggered | reset | deleted | limit_updated
    ts_ms: int
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    ticker: str
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventChanged:
    """An event's metadata (``event_lifecycle``) or fee overrides (``event_fee_update``) changed."""

    event_ticker: str
    kind: str  # "event_lifecycle" | "event_fee_update"


SimEvent = (
    BookDelta
    | TradeEvent
    | FillEvent
    | OrderEvent
    | PositionEvent
    | TickerEvent
    | GroupEvent
    | LifecycleEvent
    | EventChanged
)
