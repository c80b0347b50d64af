"""Guards: named, documented conditions that pull our quotes or halt a match (see docs/guards.md).

Kalshi has no cancel-on-disconnect, and sports markets trade in-play: nothing on the exchange side
protects resting bids when a game starts or our view of the world goes stale. Each guard here is a pure
check over a ``GuardContext``; the engine evaluates them before every decision and acts on the first
that trips. ``PULL`` guards cancel quotes until the condition clears by itself; ``HALT`` guards stop the
match and wait for a person to look (start it again to reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Money, Price, format_contracts, format_usd

PAUSED_STATUSES = frozenset({"inactive", "paused"})  # trading halted for now; it may resume
CLOSED_STATUSES = frozenset({"closed", "determined", "disputed", "amended", "finalized", "settled"})


class GuardAction(StrEnum):
    PULL = "pull"  # cancel quotes, keep the match running, resume when the condition clears
    HALT = "halt"  # cancel quotes and stop the match until a person restarts it


@dataclass(frozen=True, slots=True)
class GuardTrip:
    guard: str
    action: GuardAction
    reason: str


@dataclass(frozen=True, slots=True)
class GuardContext:
    """Everything the guards look at, gathered by the engine for one match at one instant."""

    now_ms: int
    start_ms: int | None
    start_source: str
    start_margin_ms: int
    market_statuses: tuple[str, str]
    feed_stale: bool
    feed_silent_ms: int
    theo_age_ms: int | None  # None = manual theo (never stale)
    theo_max_age_ms: int
    inventory: Inventory
    exchange_positions: tuple[Count, Count] | None  # (YES held on A, YES held on B) as last read
    drift_tolerance: Count
    order_group_triggered: bool
    mark_a: Price | None  # theo used to mark the position to market
    mark_b: Price | None
    max_loss_match: Money | None
    session_pnl: Money
    max_loss_session: Money | None
    corrected_by_hand: bool = False  # the inventory was corrected by hand since it last matched
    resume_after_pause: bool = True  # a paused market pulls quotes and waits (False: halts the match)


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).astimezone().strftime("%H:%M:%S")  # the user's zone


def event_start(ctx: GuardContext) -> GuardTrip | None:
    """Pull everything a margin before the scheduled start and stop the match: books reprice in-play."""
    if ctx.start_ms is None:
        return None
    pull_at = ctx.start_ms - ctx.start_margin_ms
    if ctx.now_ms < pull_at:
        return None
    minutes = ctx.start_margin_ms // 60_000
    return GuardTrip(
        "event_start",
        GuardAction.HALT,
        f"event starts {_clock(ctx.start_ms)} ({ctx.start_source}); orders pulled {minutes}m before",
    )


def market_status(ctx: GuardContext) -> GuardTrip | None:
    """Any market of the match closed or determined: stop the match. Paused: pull and wait for it to
    reopen (a pause→resume cancels every resting order on Kalshi), unless the match halts on pauses."""
    for label, status in zip("AB", ctx.market_statuses, strict=True):
        if status in CLOSED_STATUSES:
            return GuardTrip("market_status", GuardAction.HALT, f"market {label} is {status}")
    for label, status in zip("AB", ctx.market_statuses, strict=True):
        if status in PAUSED_STATUSES:
            if not ctx.resume_after_pause:
                return GuardTrip("market_status", GuardAction.HALT, f"market {label} is paused")
            return GuardTrip(
                "market_status",
                GuardAction.PULL,
                f"market {label} is paused: quotes pulled; quoting resumes when it reopens",
            )
    return None


def stale_feed(ctx: GuardContext) -> GuardTrip | None:
    """No trustworthy book (gap being resynced, socket down, silence): quotes could be picked off."""
    if ctx.feed_stale:
        return GuardTrip("stale_feed", GuardAction.PULL, "order book is stale; waiting for a fresh snapshot")
    return None


def stale_theo(ctx: GuardContext) -> GuardTrip | None:
    """Odds older than the limit: the line may have moved under us."""
    if ctx.theo_age_ms is not None and ctx.theo_age_ms > ctx.theo_max_age_ms:
        return GuardTrip("stale_theo", GuardAction.PULL, f"theo is {ctx.theo_age_ms // 1000}s old")
    return None


def position_drift(ctx: GuardContext) -> GuardTrip | None:
    """The exchange's positions and ours disagree: some fill was missed or double-counted."""
    if ctx.exchange_positions is None:
        return None
    pos_a, pos_b = ctx.exchange_positions
    drift_a = abs(pos_a - ctx.inventory.count_long_a)
    drift_b = abs(pos_b - ctx.inventory.count_long_b)
    if max(drift_a, drift_b) > ctx.drift_tolerance:
        hint = (
            ": the inventory was corrected by hand to counts the exchange does not hold — correct it to "
            "the exchange's position"
            if ctx.corrected_by_hand
            else ""
        )
        return GuardTrip(
            "position_drift",
            GuardAction.HALT,
            f"exchange shows A {format_contracts(pos_a)} / B {format_contracts(pos_b)}, journal "
            f"A {format_contracts(ctx.inventory.count_long_a)} / "
            f"B {format_contracts(ctx.inventory.count_long_b)}{hint}",
        )
    return None


def order_group(ctx: GuardContext) -> GuardTrip | None:
    """The exchange-side kill switch fired: far more matched than we meant to trade in 15 s."""
    if ctx.order_group_triggered:
        return GuardTrip(
            "order_group", GuardAction.HALT, "order group triggered (matched-contracts limit hit)"
        )
    return None


def marked_pnl(inventory: Inventory, mark_a: Price | None, mark_b: Price | None) -> Money | None:
    """P&L marked to theo: held contracts valued at their team's theo, minus cost and fees."""
    if mark_a is None or mark_b is None:
        return None
    value = mark_a * inventory.count_long_a + mark_b * inventory.count_long_b
    return Money(value - inventory.cost_long_a - inventory.cost_long_b - inventory.fees)


def max_loss(ctx: GuardContext) -> GuardTrip | None:
    """Loss limits per match and per session, marked to theo."""
    pnl = marked_pnl(ctx.inventory, ctx.mark_a, ctx.mark_b)
    if ctx.max_loss_match is not None and pnl is not None and pnl < -ctx.max_loss_match:
        return GuardTrip(
            "max_loss",
            GuardAction.HALT,
            f"match P&L {format_usd(pnl)} is past the limit {format_usd(-ctx.max_loss_match)}",
        )
    if ctx.max_loss_session is not None and ctx.session_pnl < -ctx.max_loss_session:
        return GuardTrip(
            "max_loss_session",
            GuardAction.HALT,
            f"session P&L {format_usd(ctx.session_pnl)} is past the limit "
            f"{format_usd(-ctx.max_loss_session)}",
        )
    return None


GUARDS = (order_group, market_status, event_start, position_drift, max_loss, stale_feed, stale_theo)


def check(ctx: GuardContext) -> GuardTrip | None:
    """The first guard that trips, HALT guards before PULL guards."""
    for guard in GUARDS:
        trip = guard(ctx)
        if trip is not None:
            return trip
    return None
