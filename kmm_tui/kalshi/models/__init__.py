"""Typed values of the Kalshi API in domain units, one module per resource, all re-exported here.

``markets`` (series, milestones, markets, events), ``books`` (order book snapshots and deltas),
``orders`` (orders, acks, batch results, order groups, and the bodies of our writes), ``portfolio``
(fills, positions, balance), ``account`` (exchange status, rate limits), ``websocket`` (payloads only
the feed sends); ``wire`` holds the field readers they share.

Everything comes out as ``Price``/``Count``/``Money`` integers and ``*_ms`` ints so no caller ever
touches a wire string or a float. Parsing is tolerant by design: unknown keys are ignored, optional keys
may be absent or null, and deprecated fields (``side``, ``action``, ``is_yes``, ``ts`` ...) are used
only as fall-backs. A missing *required* key or a malformed number raises
:class:`~kmm_tui.kalshi.errors.BadResponse`, naming the field, because acting on a half-understood order
or fill is worse than stopping.
"""

from kmm_tui.domain.prices import format_count, format_price, parse_count, parse_money, parse_price
from kmm_tui.kalshi.models.account import AccountLimits, ExchangeStatus, ShardStatus
from kmm_tui.kalshi.models.books import BookDelta, OrderBookSnapshot
from kmm_tui.kalshi.models.markets import Event, Market, Milestone, Series
from kmm_tui.kalshi.models.orders import (
    BatchItemResult,
    CreateOrderSpec,
    Order,
    OrderAck,
    OrderGroup,
    amend_body,
    check_client_order_id,
    check_expiration_ts,
    decrease_body,
)
from kmm_tui.kalshi.models.portfolio import Balance, Fill, Position
from kmm_tui.kalshi.models.websocket import EventFeeUpdate, Lifecycle, OrderGroupUpdate
from kmm_tui.kalshi.models.wire import BookSide, OrderStatus, SelfTradePrevention, TimeInForce, iso_to_ms

__all__ = [
    "AccountLimits",
    "Balance",
    "BatchItemResult",
    "BookDelta",
    "BookSide",
    "CreateOrderSpec",
    "Event",
    "EventFeeUpdate",
    "ExchangeStatus",
    "Fill",
    "Lifecycle",
    "Market",
    "Milestone",
    "Order",
    "OrderAck",
    "OrderBookSnapshot",
    "OrderGroup",
    "OrderGroupUpdate",
    "OrderStatus",
    "Position",
    "SelfTradePrevention",
    "Series",
    "ShardStatus",
    "TimeInForce",
    "amend_body",
    "check_client_order_id",
    "check_expiration_ts",
    "decrease_body",
    "format_count",
    "format_price",
    "iso_to_ms",
    "parse_count",
    "parse_money",
    "parse_price",
]
