"""The exchange port: the engine's one door to Kalshi (REST client + WebSocket feed), in engine terms.

``port.ExchangePort`` is the door; ``values`` what crosses it; ``outcomes`` the classification of every
write's answer; ``writes`` order writes and verified cancels; ``feed`` the feed and its REST fallback;
``reference`` market and event metadata. Every public name is re-exported here.
"""

from kmm_tui.engine.exchange.outcomes import HALT_CODES
from kmm_tui.engine.exchange.port import ExchangePort
from kmm_tui.engine.exchange.values import (
    BookChange,
    ExchangeEvent,
    FeedStatus,
    FillSeen,
    GroupTriggered,
    MarketGrid,
    MarketStatus,
    OrderIntent,
    OrderUpdate,
    PositionSeen,
    WriteOutcome,
    fill_seen_from,
    order_state,
    order_update_from,
    side_price,
)
from kmm_tui.engine.exchange.writes import CANCEL_DEADLINE_S

__all__ = [
    "CANCEL_DEADLINE_S",
    "HALT_CODES",
    "BookChange",
    "ExchangeEvent",
    "ExchangePort",
    "FeedStatus",
    "FillSeen",
    "GroupTriggered",
    "MarketGrid",
    "MarketStatus",
    "OrderIntent",
    "OrderUpdate",
    "PositionSeen",
    "WriteOutcome",
    "fill_seen_from",
    "order_state",
    "order_update_from",
    "side_price",
]
