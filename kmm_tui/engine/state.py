"""Immutable snapshots of the engine's state, for front-ends that redraw at their own pace.

``Engine.snapshot()`` builds one of these on demand; nothing in here is live or shared with the
engine's internals, so a UI can hold on to it while the engine moves on.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.markouts import FillMarkout, MarkoutSummary
from kmm_tui.domain.prices import Count, Money, Price, no_price
from kmm_tui.domain.quoting import SideQuote
from kmm_tui.engine.events import Level
from kmm_tui.engine.guards import AccountTotals
from kmm_tui.engine.model import AccountLimits, MatchSpec, MatchStatus


@dataclass(frozen=True, slots=True)
class OrderView:
    """One live order of ours. ``price`` is what the outcome costs: a single market's NO bid (side B,
    ``book_side`` "ask") shows its NO price, 100c − the YES price it rests at on the exchange."""

    client_order_id: str
    order_id: str | None
    ticker: str
    side: str  # "a" | "b" | "t"
    price: Price
    remaining: Count
    filled: Count
    state: str  # pending | resting | cancelled | executed | unknown
    book_side: str = "bid"  # on the exchange's YES book: "ask" for a NO bid
    label: str = ""  # how the trader names the side: "A", "B", "tie", or "YES bid" / "NO bid"

    @property
    def yes_price(self) -> Price:
        """The price the order rests at on the exchange (YES terms)."""
        return no_price(self.price) if self.book_side == "ask" else self.price


@dataclass(frozen=True, slots=True)
class FillView:
    trade_id: str
    ticker: str
    side: str
    price: Price
    count: Count
    fee: Money
    is_taker: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class DecisionLogEntry:
    ts_ms: int
    side: str
    reason: str
    detail: str
    price: Price | None


@dataclass(frozen=True, slots=True)
class MarketView:
    ticker: str
    title: str  # the team name (yes_sub_title)
    book: Book  # full visible book, our orders included
    status: str  # exchange status: active, inactive, closed, ...
    stale: bool


@dataclass(frozen=True, slots=True)
class MatchView:
    spec: MatchSpec
    status: MatchStatus
    status_reason: str
    event_ticker: str
    market_a: MarketView | None
    market_b: MarketView | None
    theo_a: Price | None
    theo_b: Price | None
    quote_a: SideQuote | None
    quote_b: SideQuote | None
    inventory: Inventory
    orders: tuple[OrderView, ...]
    fills: tuple[FillView, ...]  # newest first
    decisions: tuple[DecisionLogEntry, ...]  # newest first, changes only
    history: tuple[tuple[int, Price | None, Price | None, Price | None, Price | None], ...]
    # (ts_ms, theo_a, best_bid_a, theo_b, best_bid_b), oldest first, for sparklines
    start_ms: int | None
    start_source: str  # "milestone", "odds feed", "ticker (guess)", "user", "unknown"
    theo_source: str = (
        ""  # "manual theo", "odds 1.62/2.42 (power)", "feed: pinnacle, fanduel (power), 8s old"
    )
    # The exchange's positions as last read; None until the first read. The inventory correction dialog
    # shows them live. Two teams: (YES held on A, on B); three-way: (A, B, tie); one market: the net
    # position as (YES held, NO held), one of them 0 (Kalshi nets YES against NO).
    exchange_positions: tuple[Count, ...] | None = None
    # Markouts (docs/guards.md): this match's summary, each fill's marks, the closing line once the
    # event started (mid else theo per side) and the advisory edge that would have covered them.
    markouts: MarkoutSummary | None = None
    fill_markouts: tuple[FillMarkout, ...] = ()
    closing: tuple[Price | None, Price | None] | None = None
    suggested_edge: Price | None = None
    # Three-way matches only: the TIE market, its theo and quote (None for two-outcome shapes).
    market_t: MarketView | None = None
    theo_t: Price | None = None
    quote_t: SideQuote | None = None


@dataclass(frozen=True, slots=True)
class LogLine:
    ts_ms: int
    level: Level
    text: str
    match_id: str | None


@dataclass(frozen=True, slots=True)
class AccountView:
    """Limits, where the account stands against them, and the latch (for a risk panel)."""

    limits: AccountLimits
    totals: AccountTotals
    latched: str | None  # the breach that stopped everything, until reset

    def headroom(self) -> tuple[tuple[str, Money | None], ...]:
        """(limit name, room left before it trips; None = no limit) for each limit."""
        t, lim = self.totals, self.limits
        return (
            ("loss", _room(-t.pnl_marked, lim.max_session_loss)),
            ("worst-case loss", _room(-t.pnl_worst_case, lim.max_session_loss_worst_case)),
            ("exposure", _room(t.exposure, lim.max_exposure)),
            ("resting", _room(t.resting_notional, lim.max_resting_notional)),
        )


def _room(value: int, limit: Money | None) -> Money | None:
    return Money(limit - value) if limit is not None else None


@dataclass(frozen=True, slots=True)
class EngineView:
    environment: str  # sim | demo | prod
    matches: tuple[MatchView, ...]
    balance: Money | None
    feed_connected: bool
    feed_detail: str
    read_headroom: float  # float-ok: display only
    write_headroom: float  # float-ok: display only
    resting_orders: int
    logs: tuple[LogLine, ...]  # newest last
    ts_ms: int
    odds_quota: tuple[tuple[str, int | None], ...] = ()  # odds sources' credits left (None: unknown)
    account: AccountView | None = None  # account-wide limits, headroom and latch
