"""Risk: every guard that may pull a match's quotes or halt it, evaluated with the inputs it needs.

The guards themselves are pure named checks in ``guards`` (each trip carries the guard's name and a
reason for the user). This component gathers their inputs for one match at one instant — market
statuses and staleness from market data, inventory and exchange positions from the portfolio, theo age —
and also keeps the one guard that counts over time: too many rejected writes in a minute.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping

from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.markouts import mid
from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.domain.quoting import SideInput
from kmm_tui.engine import guards
from kmm_tui.engine.account_risk import AccountRisk
from kmm_tui.engine.flow_guards import FlowGuards
from kmm_tui.engine.guards import GuardAction, GuardContext, GuardTrip
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.match import MAX_REJECTIONS, MatchRuntime
from kmm_tui.engine.model import MatchSpec, Shape
from kmm_tui.engine.portfolio import Portfolio
from kmm_tui.engine.theo_feed import TheoFeed

DRIFT_GRACE_MS = 3_000  # positions may lag fills briefly; only a persistent difference is drift
REJECTION_WINDOW_MS = 60_000
MANUAL_THEO_MAX_AGE_MS = 120_000  # without an odds feed no theo ages; the limit is then never reached
_status = operator.attrgetter("status")


class Risk:
    """Guards for one match at a time; the portfolio is read, never changed."""

    def __init__(
        self,
        portfolio: Portfolio,
        feed: TheoFeed | None,
        *,
        flow: FlowGuards | None = None,
        account: AccountRisk | None = None,
    ) -> None:
        self._portfolio = portfolio
        self.feed = feed
        self.flow = flow
        self.account = account

    def check(
        self,
        match: MatchRuntime,
        markets: tuple[MarketState, ...],
        now: int,
        visible: tuple[SideInput, SideInput, SideInput | None],
    ) -> GuardTrip | None:
        """The first guard that trips for this match now (HALT guards before PULL guards), or None.
        ``markets`` are the match's distinct markets in outcome order (``MatchSpec.tickers``);
        ``visible`` every outcome's pricing input as (A, B, tie): its book is the market's without
        our own orders, which the line-move guard watches."""
        trip = guards.check(self._context(match, markets, now))
        if trip is not None and trip.action is GuardAction.HALT:
            return trip
        account = self.account.check(now) if self.account is not None else None
        line_move = self._line_move(match, visible, now)  # always: it keeps the history
        return account or trip or line_move

    def _line_move(
        self, match: MatchRuntime, visible: tuple[SideInput, SideInput, SideInput | None], now: int
    ) -> GuardTrip | None:
        """The line-move guard (docs/guards.md) on theo, or on Kalshi's mid without our own bids."""
        if self.flow is None:
            return None
        spec = match.spec
        mids: tuple[Price | None, ...] = ()
        if not spec.theo.from_feed and spec.settings.line_move_mid is not None:
            mids = market_mids(spec, visible[0], visible[1], visible[2])
        return self.flow.line_move(match, mids, now)

    def side_pulls(self, match: MatchRuntime, now: int) -> Mapping[str, GuardTrip]:
        """Sides a fill burst pulls now ("a" / "b" / "t" -> trip)."""
        return self.flow.side_pulls(match, now) if self.flow is not None else {}

    def _context(self, match: MatchRuntime, markets: tuple[MarketState, ...], now: int) -> GuardContext:
        spec = match.spec
        settings = spec.settings
        held = held_positions(spec, match.inventory)
        priced = match.theo_priced_ms
        stale = False
        for market in markets:
            if market.stale or market.scale_suspect:
                stale = True
                break
        # Positional, in GuardContext's field order: 23 keywords cost 1.1 us a decision, positions 0.3 us.
        return GuardContext(
            now,  # now_ms
            match.start_ms,
            match.start_source,
            settings.start_margin_ms,
            tuple(map(_status, markets)),  # market_statuses
            stale,  # feed_stale
            0,  # feed_silent_ms
            (now - priced) if priced is not None else None,  # theo_age_ms
            self.feed.settings.max_age_ms if self.feed else MANUAL_THEO_MAX_AGE_MS,  # theo_max_age_ms
            match.inventory,
            self._persistent_drift(match, held, now),  # exchange_positions
            Count(0),  # drift_tolerance
            match.group_triggered,  # order_group_triggered
            match.theo_a,  # mark_a
            match.theo_b,  # mark_b
            settings.max_loss,  # max_loss_match
            Money(0),  # session_pnl
            None,  # max_loss_session
            match.corrected_ms is not None,  # corrected_by_hand
            settings.resume_after_pause,
            spec.market_labels,
            held,  # held_positions
            match.theo_t,  # mark_t
        )

    def _persistent_drift(
        self, match: MatchRuntime, held: tuple[Count, ...], now: int
    ) -> tuple[Count, ...] | None:
        """Exchange positions (``held``: what our inventory says they should be), once they have disagreed
        with our inventory for longer than the grace period (a position update may arrive just before or
        after its fill)."""
        positions = self._portfolio.positions
        found = tuple(map(positions.get, match.spec.tickers))
        if None in found:
            return None
        if found == held:
            match.drift_since_ms = match.corrected_ms = None
            return None
        if match.drift_since_ms is None:
            match.drift_since_ms = now
        if now - match.drift_since_ms < DRIFT_GRACE_MS:
            return None
        return tuple([Count(pos) for pos in found if pos is not None])

    @staticmethod
    def rejected(match: MatchRuntime, detail: str, now: int) -> str | None:
        """Count one rejected write; the halt reason once ``MAX_REJECTIONS`` fall within a minute."""
        match.rejections.append(now)
        if len(match.rejections) >= MAX_REJECTIONS and now - match.rejections[0] < REJECTION_WINDOW_MS:
            return f"{MAX_REJECTIONS} rejected orders within a minute: {detail}"
        return None


def market_mids(
    spec: MatchSpec, a: SideInput, b: SideInput, t: SideInput | None
) -> tuple[Price | None, ...]:
    """Kalshi's mid (YES terms) on each market of the match, in ``spec.tickers`` order, from the
    outcomes' visible books (a single market's B side sees the flipped book: its A side is the YES
    book)."""
    if spec.shape is Shape.YES_NO:
        return (mid(a.book),)
    if t is None:
        return (mid(a.book), mid(b.book))
    return (mid(a.book), mid(t.book), mid(b.book))


def held_positions(spec: MatchSpec, inventory: Inventory) -> tuple[Count, ...]:
    """What the exchange's position on each of the match's markets should be, by our inventory: YES held
    per market, and for a single market the net YES − NO (Kalshi nets the two: buying NO sells YES)."""
    if spec.shape is Shape.YES_NO:
        return (Count(inventory.count_long_a - inventory.count_long_b),)
    if spec.shape is Shape.TEAMS:
        return (inventory.count_long_a, inventory.count_long_b)
    return (inventory.count_long_a, inventory.count_long_t, inventory.count_long_b)
