"""Exchange objects: static definitions (frozen) and the mutable state the matching engine owns.

Units are the domain's: ``Price`` $0.0001, ``Count`` 1/100 contract, ``Money`` micro-dollars, times
in Unix milliseconds of the *market* clock. Orders, markets and accounts are mutable on purpose: the
engine updates them in place under a single asyncio thread and serialises snapshots for the wire.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from kmm_tui.domain.prices import PRICE_SCALE, Count, Money, Price, TickGrid

BookSide = Literal["bid", "ask"]
TimeInForce = Literal["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]
StpType = Literal["taker_at_cross", "maker"]
OrderStatus = Literal["resting", "canceled", "executed"]

NO_COUNT = Count(0)
NO_MONEY = Money(0)

TIME_IN_FORCE = ("good_till_canceled", "immediate_or_cancel", "fill_or_kill")
STP_TYPES = ("taker_at_cross", "maker")

# Market statuses as returned on the wire, and the query aliases that select them.
MARKET_STATUSES = ("initialized", "active", "inactive", "closed", "determined", "finalized")
STATUS_QUERY = {
    "unopened": ("initialized",),
    "open": ("active",),
    "paused": ("inactive",),
    "closed": ("closed", "determined"),
    "settled": ("finalized",),
}


@dataclass(frozen=True, slots=True)
class SeriesDef:
    """A series: the template that carries the fee schedule."""

    ticker: str
    title: str
    tags: tuple[str, ...]
    fee_type: str
    fee_multiplier: Decimal
    exchange_index: int = 0
    category: str = "Sports"


@dataclass(frozen=True, slots=True)
class EventDef:
    """One match. Fee overrides, when set, beat the series' schedule."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    competition: str
    exchange_index: int = 0
    mutually_exclusive: bool = True
    collateral_return_type: str = "MECNET"
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None


@dataclass(slots=True)
class Milestone:
    """A scheduled start: the only place the start time lives (markets have none)."""

    id: str
    title: str
    category: str
    type: str
    start_ms: int
    league: str
    event_tickers: tuple[str, ...]
    team_ids: tuple[str, ...]
    status: str = "scheduled"
    last_updated_ms: int = 0


@dataclass(slots=True)
class Market:
    """One binary market and its live state (book lives in ``OrderBook``)."""

    ticker: str
    event_ticker: str
    market_id: str
    title: str
    yes_sub_title: str
    price_ranges: list[dict[str, str]]
    price_level_structure: str
    grid: TickGrid
    open_ms: int
    close_ms: int
    expected_expiration_ms: int
    created_ms: int
    exchange_index: int = 0
    custom_strike: dict[str, Any] = field(default_factory=dict)
    status: str = "active"
    result: str = ""
    settlement_value: Price | None = None
    last_price: Price | None = None
    volume: Count = NO_COUNT
    dollar_volume: Money = NO_MONEY  # Σ YES price × count of every trade
    open_interest: Count = NO_COUNT
    last_trade_size: Count = NO_COUNT
    updated_ms: int = 0
    rules_primary: str = ""
    # "structured" (a team or the tie; ``custom_strike`` names it) or "greater" (YES = the total, or a
    # team's winning margin, is above ``floor_strike``: totals and spreads).
    strike_type: str = "structured"
    floor_strike: Decimal | None = None


@dataclass(slots=True)
class Order:
    """A V2 order. ``price`` is always the YES price; ``side`` bid buys YES, ask buys NO at 1 − price."""

    order_id: str
    account_id: str
    ticker: str
    side: BookSide
    price: Price
    initial_count: Count
    remaining: Count
    time_in_force: str
    stp: str
    client_order_id: str | None
    created_ms: int
    updated_ms: int
    priority: int
    post_only: bool = False
    expiration_ms: int | None = None
    cancel_on_pause: bool = False
    order_group_id: str | None = None
    subaccount: int = 0
    status: OrderStatus = "resting"
    fill_count: Count = NO_COUNT
    taker_fill_cost: Money = NO_MONEY
    maker_fill_cost: Money = NO_MONEY
    taker_fees: Money = NO_MONEY
    maker_fees: Money = NO_MONEY
    reserved: Money = NO_MONEY
    exchange_index: int = 0
    # Fidelity.rounding_fee: what the order's fills cost exactly, and what was taken from the balance.
    exact_debits: Money = NO_MONEY
    booked_debits: Money = NO_MONEY
    collateral_shard: int = 0  # the shard whose cash ``reserved`` is held on

    @property
    def leg_price(self) -> Price:
        """What one contract of this order costs its owner: YES price for bids, NO price for asks."""
        return self.price if self.side == "bid" else Price(PRICE_SCALE - self.price)

    @property
    def outcome_side(self) -> str:
        return "yes" if self.side == "bid" else "no"


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of one trade, as the owning account sees it."""

    trade_id: str
    order_id: str
    account_id: str
    ticker: str
    side: BookSide
    count: Count
    yes_price: Price
    is_taker: bool
    fee: Money
    created_ms: int
    client_order_id: str | None
    post_position: Count
    subaccount: int = 0
    exchange_index: int = 0

    @property
    def outcome_side(self) -> str:
        return "yes" if self.side == "bid" else "no"


@dataclass(frozen=True, slots=True)
class Trade:
    """A public print."""

    trade_id: str
    ticker: str
    count: Count
    yes_price: Price
    taker_side: BookSide
    created_ms: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """Payout of one market to one account."""

    ticker: str
    event_ticker: str
    result: str
    yes_count: Count
    no_count: Count
    yes_cost: Money
    no_cost: Money
    revenue: Money
    value: Price
    settled_ms: int
    exchange_index: int = 0


@dataclass(frozen=True, slots=True)
class SeriesFeeChange:
    """A scheduled change of a series' fee schedule (``GET /series/fee_changes``)."""

    id: str
    series_ticker: str
    fee_type: str
    fee_multiplier: Decimal
    scheduled_ms: int


@dataclass(slots=True)
class Position:
    """Signed position (+ YES, − NO) with the cost of what is held and P&L already realised."""

    position: Count = NO_COUNT
    cost: Money = NO_MONEY
    realized_pnl: Money = NO_MONEY
    fees_paid: Money = NO_MONEY
    total_traded: Money = NO_MONEY
    volume: Count = NO_COUNT
    last_updated_ms: int = 0
    settled: bool = False


@dataclass(slots=True)
class OrderGroup:
    """A kill switch: matched contracts over a rolling 15 s window above the limit cancel its orders."""

    group_id: str
    account_id: str
    limit: Count
    exchange_index: int
    subaccount: int = 0
    triggered: bool = False
    order_ids: list[str] = field(default_factory=list)
    matched: deque[tuple[int, int]] = field(default_factory=deque)


@dataclass(slots=True)
class Account:
    """One trader. ``cash`` includes ``reserved`` (collateral of resting orders); available = difference.

    Both are also kept per exchange shard (§5.8): ``shard_cash``/``shard_reserved`` always add up to the
    totals. Change them only through ``add_cash``/``add_reserved`` so the two views cannot drift.
    """

    account_id: str
    cash: Money
    tier: str = "basic"
    reserved: Money = NO_MONEY
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    client_order_ids: set[str] = field(default_factory=set)
    groups: dict[str, OrderGroup] = field(default_factory=dict)
    name: str = ""
    rounding_fees: Money = NO_MONEY  # whole-cent booking of fills (Fidelity.rounding_fee), net of refunds
    shard_cash: dict[int, Money] = field(default_factory=dict)
    shard_reserved: dict[int, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.shard_cash:
            self.shard_cash[0] = self.cash

    @property
    def available(self) -> Money:
        return Money(self.cash - self.reserved)

    def available_on(self, shard: int) -> Money:
        return Money(self.shard_cash.get(shard, 0) - self.shard_reserved.get(shard, 0))

    def add_cash(self, shard: int, amount: int) -> None:
        self.cash = Money(self.cash + amount)
        self.shard_cash[shard] = Money(self.shard_cash.get(shard, 0) + amount)

    def add_reserved(self, shard: int, amount: int) -> None:
        self.reserved = Money(self.reserved + amount)
        self.shard_reserved[shard] = Money(self.shard_reserved.get(shard, 0) + amount)

    def position(self, ticker: str) -> Position:
        pos = self.positions.get(ticker)
        if pos is None:
            pos = self.positions[ticker] = Position()
        return pos
