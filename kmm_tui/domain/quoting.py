"""The quoting decision: where to rest a bid on each outcome of a match, how big, and why.

``decide`` is a pure function of the theo, the visible books (WITHOUT our own orders), our resting
orders, the inventory, the clock and a small memo it returns for next time; it reads no clock and
keeps no state. A match has two outcomes (A, B) or three (A, T, B: a soccer draw); each side's input is
already in that outcome's own terms (a single market's NO side sees the flipped book), so one rule
prices them all. ``docs/pricing.md`` and ``docs/shapes.md`` explain every rule for traders. Per side:

1. No quote at all when the event has started or is inside the start margin, the market is not open,
   the theo is stale or missing, or the side would add exposure beyond ``inventory_max`` (the outcome
   held most, minus the one held least, after the whole bid fills).
2. Ceiling = the highest grid price ``p`` with ``p + planned maker fee(p) ≤ theo − edge`` (the fee term
   when fee-aware, the default; planned as the exchange charges it: the order's fee rounded up to the
   cent). ``theo`` is floored to $0.0001, so the ceiling is the floor of the exact value, never rounded
   up. At the exposure limit the reducing side may use the rebalance ceiling (breakeven of a completed
   set against the other outcomes' cost bases, fees included, minus this leg's planned fee) when that
   is higher.
3. Price: one tick above the best competing bid, never above the ceiling; a competitor above the
   ceiling → sit ``backoff_ticks`` below it; empty book → ``max_join_depth`` ticks below the ceiling
   (or the grid minimum). Once at the ceiling, stay (sticky) and retest lower every
   ``retest_interval_ms``. Never at or above the best ask (that would cross).

Hot path: plain ints only (no Decimal); the fee rate is pre-reduced to integers in QuoteSettings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeError, FeeType, maker_rate, multiplier_fraction, planned_fee_per_contract
from kmm_tui.domain.inventory import THREE_WAY, TWO_WAY, Inventory, Side
from kmm_tui.domain.prices import (
    COUNT_SCALE,
    Count,
    Price,
    TickGrid,
    format_cents,
    format_contracts,
)
from kmm_tui.domain.values import quick_init

MIN_EDGE = Price(10)  # one tick of Kalshi's finest grid (0.1c)


class Reason(StrEnum):
    """Why a side is quoted where it is (or not at all). Values are what the UI colours by."""

    # quoting
    QUOTING = "quoting"  # new bid, one tick above the best competitor
    BEST_BID = "best_bid"  # our bid already is the best bid, one tick above the next
    OUTBID = "outbid"  # a competitor matched or passed us: raise one tick above them
    STEP_DOWN = "step_down"  # the competitor below us left or lowered: follow them down
    AT_CEILING = "at_ceiling"  # at the ceiling (reached it, joined it, or holding it sticky)
    COMPETITOR_ABOVE_CEILING = "competitor_above_ceiling"  # sitting backoff_ticks under our ceiling
    RETESTING = "retesting"  # sticky ceiling expired: stepping down to test a lower price
    EMPTY_BOOK = "empty_book"  # no competing bid: lowest sensible level
    THIN_BOOK = "thin_book"  # competitors far below: max_join_depth keeps us near the ceiling
    WOULD_CROSS = "would_cross"  # capped one tick under the best ask (or no room below it)
    REBALANCING = "rebalancing"  # the rebalance ceiling is what allows this quote
    # not quoting
    OVEREXPOSED = "overexposed"
    NO_SIZE = "no_size"
    PAUSED_BEFORE_START = "paused_before_start"
    EVENT_STARTED = "event_started"
    MARKET_NOT_OPEN = "market_not_open"
    THEO_STALE = "theo_stale"
    BOOK_STALE = "book_stale"  # set by the engine when the stale-feed guard pulls the quotes
    NO_THEO = "no_theo"
    CEILING_BELOW_MIN = "ceiling_below_min"
    FEE_UNSUPPORTED = "fee_unsupported"
    # set by the engine, never by decide()
    STOPPED = "stopped"
    HALTED = "halted"
    FILL_BURST = "fill_burst"  # the fill-burst guard pulled this side for a cooling-off period
    LINE_MOVE = "line_move"  # the line-move guard pulled the match's quotes
    ACCOUNT_LIMIT = "account_limit"  # an account-wide limit was breached


@dataclass(frozen=True, slots=True)
class QuoteSettings:
    """Per-match quoting parameters (Price/Count units, see CONVENTIONS.md)."""

    edge: Price  # below theo, e.g. 200 = 2c; at least MIN_EDGE (a zero edge pays away the whole spread)
    contracts: Count  # size per side
    inventory_max: Count  # most-held minus least-held outcome, which our own quotes may never push past
    retest_interval_ms: int = 30_000
    backoff_ticks: int = 0  # ticks under the ceiling to sit when a competitor is above it
    max_join_depth: int | None = None  # deepest we sit under the ceiling in an empty/thin book
    fee_aware: bool = True
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: Decimal = Decimal(1)
    start_margin_ms: int = 0
    # maker fee rate × multiplier as (numerator, denominator); None when the schedule is unsupported.
    fee_rate: tuple[int, int] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("edge", "contracts", "inventory_max", "retest_interval_ms", "backoff_ticks",
                     "start_margin_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number >= 0 (got {value!r})")
        if self.edge < MIN_EDGE:
            raise ValueError(f"edge must be at least one tick ({format_cents(MIN_EDGE)}), got "
                             f"{format_cents(self.edge)}: a zero edge completes pairs that lose after fees")
        if self.max_join_depth is not None and self.max_join_depth < 0:
            raise ValueError(f"max join depth must be >= 0 ticks or unset (got {self.max_join_depth})")
        fee_type = FeeType(self.fee_type)
        object.__setattr__(self, "fee_type", fee_type)
        multiplier = multiplier_fraction(self.fee_multiplier)
        try:
            rate = maker_rate(fee_type) * multiplier
        except FeeError:
            object.__setattr__(self, "fee_rate", None)
        else:
            object.__setattr__(self, "fee_rate", (rate.numerator, rate.denominator))


@quick_init
@dataclass(frozen=True, slots=True)
class SideInput:
    """What decide() needs about one outcome: its book in that outcome's terms (bids = bids for it)."""

    theo: Price | None
    book: Book  # visible book WITHOUT our own orders
    resting_price: Price | None
    resting_size: Count
    grid: TickGrid
    market_open: bool = True


@quick_init
@dataclass(frozen=True, slots=True)
class SideQuote:
    """The desired bid for one side (price None = no order) and the reason in words."""

    price: Price | None
    size: Count
    reason: Reason
    detail: str
    ceiling: Price | None


@quick_init
@dataclass(frozen=True, slots=True)
class SideMemo:
    """Sticky-ceiling state of one side: the price we hold and when we reached it or last retested."""

    sticky_price: Price | None = None
    since_ms: int = 0


_NO_MEMO = SideMemo()


@quick_init
@dataclass(frozen=True, slots=True)
class QuoteMemo:
    """What decide() remembers between calls; ``QuoteMemo()`` is the initial value."""

    a: SideMemo = _NO_MEMO
    b: SideMemo = _NO_MEMO
    t: SideMemo = _NO_MEMO

    def side(self, side: Side) -> SideMemo:
        return self.t if side is Side.T else self.a if side is Side.A else self.b


_EMPTY_MEMO = QuoteMemo()


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """Every outcome's desired quote (``t`` only for a three-way match) and the memo for next time."""

    a: SideQuote
    b: SideQuote
    memo: QuoteMemo
    t: SideQuote | None = None

    def quote(self, side: Side) -> SideQuote:
        """One outcome's quote (a two-outcome decision has no tie: ValueError)."""
        if side is Side.T:
            if self.t is None:
                raise ValueError("a two-outcome decision has no tie quote")
            return self.t
        return self.a if side is Side.A else self.b

    @property
    def quotes(self) -> tuple[tuple[Side, SideQuote], ...]:
        """(outcome, quote) in display order: A, T (three-way only), B."""
        if self.t is None:
            return ((Side.A, self.a), (Side.B, self.b))
        return ((Side.A, self.a), (Side.T, self.t), (Side.B, self.b))

    @classmethod
    def uniform(cls, quote: SideQuote, memo: QuoteMemo, three_way: bool = False) -> Decision:
        """The same quote on every outcome (a pull, a halt, a pause)."""
        return cls(quote, quote, memo, quote if three_way else None)


# --- the decision --------------------------------------------------------------------------------


def decide(
    a: SideInput,
    b: SideInput,
    settings: QuoteSettings,
    inventory: Inventory,
    memo: QuoteMemo,
    now_ms: int,
    start_ms: int | None,
    theo_stale: bool = False,
    t: SideInput | None = None,
) -> Decision:
    """Every outcome's desired quote with reasons, and the memo to pass to the next call.

    ``a`` and ``b`` are the two outcomes of a two-outcome match; a three-way match adds its tie as
    ``t`` (the decision then carries a ``t`` quote too).
    """
    three_way = t is not None
    if start_ms is not None:
        if now_ms >= start_ms:
            quote = SideQuote(None, Count(0), Reason.EVENT_STARTED,
                              f"event started {_duration(now_ms - start_ms)} ago: not quoting", None)
            return Decision.uniform(quote, _EMPTY_MEMO, three_way)
        if now_ms >= start_ms - settings.start_margin_ms:
            quote = SideQuote(None, Count(0), Reason.PAUSED_BEFORE_START,
                              f"paused: event starts in {_duration(start_ms - now_ms)}", None)
            return Decision.uniform(quote, _EMPTY_MEMO, three_way)
    if three_way:
        outcomes = THREE_WAY
        exposure_a, exposure_b = inventory.exposure(Side.A, outcomes), inventory.exposure(Side.B, outcomes)
    else:  # the hot path: plain ints
        outcomes = TWO_WAY
        exposure_a = inventory.count_long_a - inventory.count_long_b
        exposure_b = -exposure_a
    quote_a, memo_a = _side(Side.A, outcomes, a, settings, inventory, exposure_a, memo.a, now_ms, theo_stale)
    quote_b, memo_b = _side(Side.B, outcomes, b, settings, inventory, exposure_b, memo.b, now_ms, theo_stale)
    quote_t, memo_t = (None, _NO_MEMO) if t is None else _side(
        Side.T, outcomes, t, settings, inventory, inventory.exposure(Side.T, outcomes), memo.t, now_ms,
        theo_stale)
    if memo_a is not memo.a or memo_b is not memo.b or memo_t is not memo.t:
        empty = memo_a is _NO_MEMO and memo_b is _NO_MEMO and memo_t is _NO_MEMO
        memo = _EMPTY_MEMO if empty else QuoteMemo(memo_a, memo_b, memo_t)
    return Decision(quote_a, quote_b, memo, quote_t)


def _none(reason: Reason, detail: str, ceiling: Price | None = None) -> tuple[SideQuote, SideMemo]:
    return SideQuote(None, Count(0), reason, detail, ceiling), _NO_MEMO


def _side(
    side: Side,
    outcomes: tuple[Side, ...],
    inp: SideInput,
    s: QuoteSettings,
    inventory: Inventory,
    exposure: int,  # this outcome held minus the least-held other (``Inventory.exposure``)
    memo: SideMemo,
    now_ms: int,
    theo_stale: bool,
) -> tuple[SideQuote, SideMemo]:
    if not inp.market_open:
        return _none(Reason.MARKET_NOT_OPEN, "market is not open for trading")
    if theo_stale:
        return _none(Reason.THEO_STALE, "theo is stale (odds not refreshed): not quoting")
    theo = inp.theo
    if theo is None:
        return _none(Reason.NO_THEO, "no theo: enter odds or a theo in cents")
    fee_rate = s.fee_rate if s.fee_aware else None
    if s.fee_aware and fee_rate is None:
        return _none(Reason.FEE_UNSUPPORTED,
                     f"fee-aware quoting cannot price the {s.fee_type.value!r} fee schedule; turn it off")
    grid = inp.grid
    min_price = grid.min_price

    # Exposure: quoting this side may never take (this outcome − the least-held other) past inventory_max
    # (for two outcomes: |A − B|); room floored to contracts.
    room = s.inventory_max - exposure
    room -= room % COUNT_SCALE
    size = s.contracts if s.contracts < room else room
    ceiling = _ceiling(theo - s.edge, grid, fee_rate, size if size > 0 else s.contracts)
    if size <= 0:
        if s.contracts <= 0:
            return _none(Reason.NO_SIZE, "size is 0 contracts: set contracts per side", ceiling)
        least = min((o for o in outcomes if o is not side), key=inventory.count_long)
        return _none(Reason.OVEREXPOSED,
                     f"not quoting {side.name}: long {format_contracts(exposure)} more {side.name} than "
                     f"{least.name}, limit {format_contracts(s.inventory_max)}", ceiling)

    # At the limit — every other outcome held at least inventory_max more than this one, so none of them
    # is quoted — this side may pay up to breakeven of a completed set against the other outcomes' cost
    # bases (fees included). This leg's own planned fee always comes off, fee-aware or not: a rebalance
    # must never complete a set that loses after fees, so an unpriceable fee schedule never rebalances.
    rebalance: Price | None = None
    if s.fee_rate is not None and exposure < 0 and -exposure >= s.inventory_max:
        raw = inventory.rebalance_ceiling(side, outcomes)
        if raw is not None:
            surplus = -exposure
            rebalance = _ceiling(raw, grid, s.fee_rate, size if size < surplus else surplus)
            if rebalance is not None and ceiling is not None and rebalance <= ceiling:
                rebalance = None
    top = rebalance if rebalance is not None else ceiling
    if top is None:
        fees = " after fees" if fee_rate else ""
        return _none(Reason.CEILING_BELOW_MIN,
                     f"ceiling{fees} under the lowest price {format_cents(min_price)}: theo "
                     f"{format_cents(theo)} − edge {format_cents(s.edge)} = {format_cents(theo - s.edge)}")

    # Never cross: stay strictly below the best ask.
    asks = inp.book.asks
    cap = top
    if asks:
        ask = asks[0][0]
        if ask <= top:
            if ask <= min_price:
                return _none(Reason.WOULD_CROSS,
                             f"best ask {format_cents(ask)}: no price below it to bid", top)
            cap = grid.down(ask)

    bids = inp.book.bids
    best = bids[0][0] if bids else None
    resting = inp.resting_price
    new_memo = _NO_MEMO
    if best is not None and best > top:
        price: int | None = top
        for _ in range(s.backoff_ticks):
            if price <= min_price:
                price = None
                break
            price = grid.down(price)
        if price is None:
            return _none(Reason.COMPETITOR_ABOVE_CEILING,
                         f"competitor above ceiling at {format_cents(best)}; backing off "
                         f"{s.backoff_ticks} ticks leaves no price", top)
        reason = Reason.COMPETITOR_ABOVE_CEILING
        detail = f"competitor above ceiling at {format_cents(best)}"
        if price != top:
            detail += f": sitting at {format_cents(price)}, ceiling {format_cents(top)}"
        elif memo.sticky_price == top:
            new_memo = memo
        else:
            new_memo = SideMemo(top, now_ms)
    else:
        thin = False
        if best is None:
            base = _below(grid, top, s.max_join_depth)
        else:
            base = grid.up(best) if best < top else top
            if s.max_join_depth is not None and base < top:
                floor = _below(grid, top, s.max_join_depth)
                if base < floor:
                    base, thin = floor, True
        held = memo.sticky_price
        if held is not None and held > top:
            held = top
        if held is not None and base < held:
            if now_ms - memo.since_ms >= s.retest_interval_ms:
                price = base
                reason = Reason.RETESTING
                competitor = "no competing bid" if best is None else f"best competitor {format_cents(best)}"
                detail = f"retesting: {format_cents(held)} → {format_cents(base)} ({competitor})"
            else:
                price = held
                reason = Reason.AT_CEILING
                left = s.retest_interval_ms - (now_ms - memo.since_ms)
                detail = f"holding ceiling {format_cents(held)} (sticky), retest in {_duration(left)}"
                new_memo = memo
        else:
            price = base
            reason, detail = _classify(price, top, best, resting, thin)
            if price == top:
                new_memo = memo if memo.sticky_price == top else SideMemo(top, now_ms)

    if price > cap:
        detail = f"best ask {format_cents(asks[0][0])}: bidding {format_cents(cap)} to stay below it"
        reason = Reason.WOULD_CROSS
        price = cap
    if rebalance is not None and (ceiling is None or price > ceiling):
        reason = Reason.REBALANCING
        surplus = -exposure
        size = size if size < surplus else surplus
        others = [o for o in outcomes if o is not side]
        avg = format_cents(sum(inventory.avg_cost(o) or 0 for o in others))
        detail = (f"rebalancing: long {format_contracts(surplus)} {'+'.join(o.name for o in others)} "
                  f"@ {avg}, ceiling {format_cents(top)}; {detail}")
    return SideQuote(Price(price), Count(size), reason, detail, top), new_memo


def _classify(price: int, top: int, best: int | None, resting: int | None, thin: bool) -> tuple[Reason, str]:
    """Name what a normal (non-sticky) price means relative to the competitor and our resting bid."""
    if price == top:
        if best == top:
            return Reason.AT_CEILING, f"competitor at ceiling {format_cents(top)}: joining"
        if resting is not None and resting < top:
            if best is not None and best >= resting:
                return Reason.AT_CEILING, f"outbid at {format_cents(best)} → {format_cents(top)} (ceiling)"
            return Reason.AT_CEILING, f"raising {format_cents(resting)} → ceiling {format_cents(top)}"
        return Reason.AT_CEILING, f"at ceiling {format_cents(top)}"
    if best is None:
        return Reason.EMPTY_BOOK, (f"no competing bid: quoting {format_cents(price)}, "
                                   f"ceiling {format_cents(top)}")
    if thin:
        return Reason.THIN_BOOK, (f"best competitor {format_cents(best)} is far below: quoting "
                                  f"{format_cents(price)}, ceiling {format_cents(top)}")
    if resting is None:
        return Reason.QUOTING, f"bidding {format_cents(price)}, one tick above {format_cents(best)}"
    if resting == price:
        return Reason.BEST_BID, f"best bid at {format_cents(price)}, next {format_cents(best)}"
    if resting < price:
        return Reason.OUTBID, f"outbid at {format_cents(best)} → {format_cents(price)}"
    return Reason.STEP_DOWN, (f"stepping down {format_cents(resting)} → {format_cents(price)}, "
                              f"one tick above {format_cents(best)}")


def _ceiling(limit: int, grid: TickGrid, fee_rate: tuple[int, int] | None, size: int) -> Price | None:
    """Highest quotable grid price p with p (+ its planned maker fee per contract for an order of
    ``size``, if a rate is given) ≤ limit. ``limit`` is exact (theo is floored, never rounded up), and
    p only ever moves down from its floor: the ceiling never rounds up."""
    min_price = grid.min_price
    if limit < min_price:
        return None
    max_price = grid.max_price
    price = grid.floor(limit if limit < max_price else max_price)
    if fee_rate is not None:
        while price + planned_fee_per_contract(price, size, fee_rate) > limit:
            if price <= min_price:
                return None
            price = grid.down(price)
    return price


def _below(grid: TickGrid, price: int, ticks: int | None) -> int:
    """``ticks`` grid steps under ``price``, never under the grid minimum (None = the minimum)."""
    min_price = grid.min_price
    if ticks is None:
        return min_price
    for _ in range(ticks):
        if price <= min_price:
            return min_price
        price = grid.down(price)
    return price if price > min_price else min_price


def _duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
