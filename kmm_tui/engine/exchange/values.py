"""What crosses the exchange port, in the engine's terms: feed events in, order intents and write
outcomes, and the translation of the client's ``Order``/``Fill`` into them.

Plain frozen values: the components that receive them (market data, portfolio, execution) never see a
wire format.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Money, Price, TickGrid, no_price
from kmm_tui.engine.orders import OrderState
from kmm_tui.kalshi.models import Fill, Order


@dataclass(frozen=True, slots=True)
class BookChange:
    """A market's book changed. ``delta`` is the change itself when it was one delta (YES-bid side,
    price, signed count) and ``client_order_id`` is set when the exchange attributed it to one of our
    orders; a snapshot (``snapshot``) carries no attribution at all."""

    ticker: str
    book: Book
    stale: bool
    client_order_id: str | None = None
    delta: tuple[Price, int] | None = None  # a YES-bid delta: (price, signed count)
    snapshot: bool = False
    no_delta: tuple[Price, int] | None = None  # a NO-bid delta: (NO price, signed count)


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


@dataclass(frozen=True, slots=True)
class MarketGrid:
    """The exchange changed a market's tick structure (``price_level_structure_updated``)."""

    ticker: str
    grid: TickGrid


ExchangeEvent = (
    BookChange
    | FillSeen
    | OrderUpdate
    | MarketStatus
    | MarketGrid
    | FeedStatus
    | GroupTriggered
    | PositionSeen
)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    ticker: str
    price: Price  # in the outcome's terms: a NO bid's NO price when ``ask``
    count: Count
    client_order_id: str
    order_group_id: str | None
    post_only: bool = True
    expiration_s: int | None = None  # Unix seconds: the exchange cancels it then even if we are gone
    ask: bool = False  # a NO bid: sent as an ask at YES price 100c − price


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
    answered: bool = True  # False: no reply at all (the write may still land: look it up after a pause)
    market_paused: bool = False  # refused because the market is paused: the news reaches market data
    sent: bool = True  # False: dropped before it was sent (its match stopped): certainly never happened


def side_price(book_side: str, yes_price: Price) -> Price:
    """An exchange price (YES terms) in the terms of the outcome we bought: an ask sells YES at p, which
    is buying NO at 100c − p."""
    return no_price(yes_price) if book_side == "ask" else yes_price


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
