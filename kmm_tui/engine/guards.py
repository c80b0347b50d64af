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
from kmm_tui.engine.model import AccountLimits

PAUSED_STATUSES = frozenset({"inactive", "paused"})  # trading halted for now; it may resume
CLOSED_STATUSES = frozenset({"closed", "determined", "disputed", "amended", "finalized", "settled"})
_NOT_TRADING = PAUSED_STATUSES | CLOSED_STATUSES


class GuardAction(StrEnum):
    PULL = "pull"  # cancel quotes, keep the match running, resume when the condition clears
    HALT = "halt"  # cancel quotes and stop the match until a person restarts it


@dataclass(frozen=True, slots=True)
class GuardTrip:
    guard: str
    action: GuardAction
    reason: str


@dataclass(slots=True)
class GuardContext:
    """Everything the guards look at, gathered by the engine for one match at one instant.

    Not frozen, though the guards only read it: it is built on every decision, and a frozen
    dataclass's constructor costs four times as much (about 2 us of each decision at 25 fields)."""

    now_ms: int
    start_ms: int | None
    start_source: str
    start_margin_ms: int
    market_statuses: tuple[str, ...]  # one per market of the match, named by ``market_labels``
    feed_stale: bool
    feed_silent_ms: int
    theo_age_ms: int | None  # None = manual theo (never stale)
    theo_max_age_ms: int
    inventory: Inventory
    # The exchange's position per market (YES held − NO held) as last read, and what our inventory says
    # it should be (None: YES held on A and on B, the two-team case); both in ``market_labels`` order.
    exchange_positions: tuple[Count, ...] | None
    drift_tolerance: Count
    order_group_triggered: bool
    mark_a: Price | None  # theo used to mark the position to market
    mark_b: Price | None
    max_loss_match: Money | None
    session_pnl: Money
    max_loss_session: Money | None
    corrected_by_hand: bool = False  # the inventory was corrected by hand since it last matched
    resume_after_pause: bool = True  # a paused market pulls quotes and waits (False: halts the match)
    market_labels: tuple[str, ...] = ("A", "B")
    held_positions: tuple[Count, ...] | None = None
    mark_t: Price | None = None  # three-way only: the tie's theo


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
    if _NOT_TRADING.isdisjoint(ctx.market_statuses):  # the usual case, checked on every decision
        return None
    for label, status in zip(ctx.market_labels, ctx.market_statuses, strict=True):
        if status in CLOSED_STATUSES:
            return GuardTrip("market_status", GuardAction.HALT, f"market {label} is {status}")
    for label, status in zip(ctx.market_labels, ctx.market_statuses, strict=True):
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
    held = ctx.held_positions or (ctx.inventory.count_long_a, ctx.inventory.count_long_b)
    drift = max(abs(pos - ours) for pos, ours in zip(ctx.exchange_positions, held, strict=True))
    if drift > ctx.drift_tolerance:
        hint = (
            ": the inventory was corrected by hand to counts the exchange does not hold — correct it to "
            "the exchange's position"
            if ctx.corrected_by_hand
            else ""
        )
        return GuardTrip(
            "position_drift",
            GuardAction.HALT,
            f"exchange shows {_positions(ctx.market_labels, ctx.exchange_positions)}, journal "
            f"{_positions(ctx.market_labels, held)}{hint}",
        )
    return None


def order_group(ctx: GuardContext) -> GuardTrip | None:
    """The exchange-side kill switch fired: far more matched than we meant to trade in 15 s."""
    if ctx.order_group_triggered:
        return GuardTrip(
            "order_group", GuardAction.HALT, "order group triggered (matched-contracts limit hit)"
        )
    return None


def _positions(labels: tuple[str, ...], counts: tuple[Count, ...]) -> str:
    pairs = zip(labels, counts, strict=True)
    return " / ".join(f"{label} {format_contracts(count)}" for label, count in pairs)


def marked_pnl(
    inventory: Inventory, mark_a: Price | None, mark_b: Price | None, mark_t: Price | None = None
) -> Money | None:
    """P&L marked to theo: held contracts valued at their outcome's theo, minus cost and fees (None
    while an outcome held has no theo)."""
    if mark_a is None or mark_b is None or (mark_t is None and inventory.count_long_t):
        return None
    value = mark_a * inventory.count_long_a + mark_b * inventory.count_long_b
    if mark_t is not None:
        value += mark_t * inventory.count_long_t
    return Money(value - inventory.cost)


def max_loss(ctx: GuardContext) -> GuardTrip | None:
    """Loss limits per match and per session, marked to theo."""
    if ctx.max_loss_match is not None:
        pnl = marked_pnl(ctx.inventory, ctx.mark_a, ctx.mark_b, ctx.mark_t)
        if pnl is not None and pnl < -ctx.max_loss_match:
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


# --- flow and account guards (docs/guards.md): inputs kept by risk's FlowGuards and AccountRisk -------


def utc_clock(ms: int) -> str:
    """The time format of every guard reason (UTC, to the second)."""
    return _clock(ms)


@dataclass(frozen=True, slots=True)
class BurstRule:
    """``count`` fills on one side within ``window_ms`` pull that side for ``cooloff_ms`` (0 = off)."""

    count: int
    window_ms: int
    cooloff_ms: int


def burst_until(fill_times_ms: tuple[int, ...], rule: BurstRule) -> int | None:
    """When the latest burst's cooling-off ends (None if no burst): fill times oldest first."""
    if rule.count <= 0:
        return None
    until = None
    for last in range(rule.count - 1, len(fill_times_ms)):
        if fill_times_ms[last] - fill_times_ms[last - rule.count + 1] <= rule.window_ms:
            until = fill_times_ms[last] + rule.cooloff_ms
    return until


def fill_burst(
    side: str, fill_times_ms: tuple[int, ...], rule: BurstRule, now_ms: int
) -> GuardTrip | None:
    """Fills bunching on one side is what informed flow looks like: pull that side for a while."""
    until = burst_until(fill_times_ms, rule)
    if until is None or now_ms >= until:
        return None
    recent = [t for t in fill_times_ms if t > until - rule.cooloff_ms - rule.window_ms]
    return GuardTrip(
        "fill_burst",
        GuardAction.PULL,
        f"fill burst: {len(recent)} fills on {side.upper()} within {rule.window_ms // 1000}s; "
        f"side pulled until {utc_clock(until)}",
    )


def moved_beyond(old: Price | None, new: Price | None, threshold: Price | None) -> bool:
    """True when a price moved strictly more than ``threshold`` (None threshold = guard off)."""
    return threshold is not None and old is not None and new is not None and abs(new - old) > threshold


def mid_move(
    history: tuple[tuple[int, Price], ...], now_ms: int, window_ms: int, threshold: Price | None
) -> tuple[Price, Price, int] | None:
    """(from, to, since_ms) when the mid moved more than ``threshold`` within the window ending now."""
    if threshold is None or not history:
        return None
    _, latest = history[-1]
    for ts, price in history:
        if now_ms - ts <= window_ms and abs(latest - price) > threshold:
            return price, latest, ts
    return None


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """The whole account at one instant, across every match (Money, exact)."""

    pnl_marked: Money  # P&L marked to theo, summed over matches (matches without theo count 0)
    pnl_worst_case: Money  # P&L if every match settles on its worst outcome
    exposure: Money  # loss at each match's worst outcome, summed (profits do not offset)
    resting_notional: Money  # price x remaining of every live order


def account_limits(totals: AccountTotals, limits: AccountLimits) -> GuardTrip | None:
    """Account-wide limits: breach one and everything is pulled until a person resets them."""
    checks = (
        ("session loss (marked to theo)", -totals.pnl_marked, limits.max_session_loss),
        ("session loss (worst outcome)", -totals.pnl_worst_case, limits.max_session_loss_worst_case),
        ("worst-case exposure", totals.exposure, limits.max_exposure),
        ("resting notional", totals.resting_notional, limits.max_resting_notional),
    )
    for name, value, limit in checks:
        if limit is not None and value > limit:
            return GuardTrip(
                "account_limit",
                GuardAction.HALT,
                f"account {name} {format_usd(Money(value))} is past the limit {format_usd(limit)}",
            )
    return None

