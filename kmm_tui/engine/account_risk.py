"""Account risk: limits across every match at once, and the latch that holds after a breach.

Each match's own guards see one match; a trader's money is lost across all of them. This component
sums the account (P&L marked to theo, P&L at every match's worst outcome, worst-case exposure, resting
notional), checks ``AccountLimits`` (``guards.account_limits``) and, on a breach, latches: every match
halts at its next decision (≤ 1 s; its orders are cancelled) and nothing starts again until the trader
resets the latch. The latch is journaled, so a restart does not clear it.
"""

from __future__ import annotations

from kmm_tui.domain.prices import Money
from kmm_tui.engine import guards
from kmm_tui.engine.guards import AccountTotals, GuardAction, GuardTrip
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.match import Matches, MatchRuntime
from kmm_tui.engine.model import AccountLimits
from kmm_tui.engine.state import AccountView

CHECK_EVERY_MS = 200  # account totals cost O(matches): not on every decision of every match
NO_LIMITS = AccountLimits()


def worst_outcome(match: MatchRuntime) -> Money:
    """The match's P&L at its worst settlement, over every outcome (a soccer draw included)."""
    return match.inventory.worst_pnl(match.outcomes)


def account_totals(matches: Matches, orders: OrderLedger) -> AccountTotals:
    marked = worst = exposure = 0
    for match in matches.values():
        pnl = guards.marked_pnl(match.inventory, match.theo_a, match.theo_b, match.theo_t)
        marked += pnl or 0
        outcome = worst_outcome(match)
        worst += outcome
        exposure += max(0, -outcome)
    resting = sum(o.price * o.remaining for o in orders.live())
    return AccountTotals(Money(marked), Money(worst), Money(exposure), Money(resting))


class AccountRisk:
    """Account-wide limits and their latch (engine loop only)."""

    def __init__(
        self, matches: Matches, orders: OrderLedger, journal: Journal | None, limits: AccountLimits
    ) -> None:
        self._matches = matches
        self._orders = orders
        self._journal = journal
        self.limits = limits
        self.latched: str | None = journal.account_latch() if journal is not None else None
        self._checked_ms = -CHECK_EVERY_MS

    def check(self, now_ms: int) -> GuardTrip | None:
        """HALT while latched; a breach now latches (journaled) and halts. The totals span every match,
        so they are summed at most every ``CHECK_EVERY_MS`` and never without a limit set."""
        if self.latched is None:
            if now_ms - self._checked_ms < CHECK_EVERY_MS:  # first: comparing the limits costs more
                return None
            self._checked_ms = now_ms
            if self.limits == NO_LIMITS:
                return None
            trip = guards.account_limits(account_totals(self._matches, self._orders), self.limits)
            if trip is None:
                return None
            self.latched = trip.reason
            if self._journal is not None:
                self._journal.set_account_latch(trip.reason, now_ms)
        return GuardTrip(
            "account_limit", GuardAction.HALT, f"{self.latched}: everything pulled; reset the account limits"
        )

    def reset(self, now_ms: int) -> bool:
        """The trader's reset; True when a latch was cleared."""
        was = self.latched
        self.latched = None
        if self._journal is not None:
            self._journal.set_account_latch(None, now_ms)
        return was is not None

    def view(self) -> AccountView:
        return AccountView(self.limits, account_totals(self._matches, self._orders), self.latched)
