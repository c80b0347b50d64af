"""Session totals across every match: the status bar's P&L at a glance and the summary on quit (pure).

A trader wants two numbers without opening anything: what is already realised (locked pairs, fees
paid) and the worst case over outcomes if every match settled now. Both add up each match's exact
``Inventory`` figures; the quit summary repeats them with the fills and fees once the app is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo

from rich.text import Text

from kmm_tui.domain.prices import Count, Money, format_contracts, format_usd
from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.tui.format import clock, fee, zone_name
from kmm_tui.tui.outcomes import locked_sets, outcome_word, sets_word, worst_pnl


@dataclass(frozen=True, slots=True)
class SessionTotals:
    matches: int
    fills: int
    pairs: Count  # locked pairs / sets (one of every outcome)
    realised: Money  # locked pairs' (sets') profit minus every fee paid
    worst_case: Money  # sum over matches of their worst outcome's P&L ("if A" / "if draw" / …)
    fees: Money
    resting_orders: int


def session_totals(matches: Sequence[MatchView], resting_orders: int = 0) -> SessionTotals:
    return SessionTotals(
        matches=len(matches),
        fills=sum(len(m.fills) for m in matches),
        pairs=Count(sum(locked_sets(m) for m in matches)),
        realised=Money(sum(m.inventory.locked_set_profit(m.spec.outcomes) for m in matches)),
        worst_case=Money(sum(worst_pnl(m) for m in matches)),
        fees=Money(sum(m.inventory.fees for m in matches)),
        resting_orders=resting_orders,
    )


def quit_summary(
    view: EngineView | None, now_ms: int, tz: tzinfo | None = None, fills_seen: int | None = None
) -> Text:
    """What the terminal shows after the app closes: the session in a few lines.

    ``fills_seen`` is the app's count of fill events (the snapshot keeps only each match's latest
    fills, so its count stops growing in a long session)."""
    if view is None:
        return Text("kmm: no session summary (the engine had not started)")
    totals = session_totals(view.matches, view.resting_orders)
    if fills_seen is not None:
        totals = replace(totals, fills=max(fills_seen, totals.fills))
    stamp = f"{clock(now_ms, tz)} {zone_name(now_ms, tz)}"
    text = Text(f"kmm session ended {stamp} ({view.environment}): ", style="bold")
    text.append(f"{totals.matches} match(es), {totals.fills} fill(s), ")
    text.append(f"{format_contracts(totals.pairs)} pair(s) locked\n")
    text.append(f"  realised P&L {format_usd(totals.realised)} (fees {fee(totals.fees)} included), ")
    text.append(f"worst case {format_usd(totals.worst_case)}\n")
    for match in view.matches:
        inv = match.inventory
        if not match.fills and not any(inv.count_long(side) for side in match.spec.outcomes):
            continue
        name = match.spec.name or match.spec.match_id
        outcomes = " / ".join(
            f"if {outcome_word(match, side)} {format_usd(inv.pnl_if(side))}" for side in match.spec.outcomes
        )
        sets = f"{sets_word(match)} {format_contracts(locked_sets(match))}"
        text.append(f"  {name}: {len(match.fills)} fill(s), {sets}, {outcomes}\n")
    resting = view.resting_orders
    text.append(
        f"  {resting} order(s) still resting: check the exchange" if resting else "  0 orders resting",
        style="bold red" if resting else "",
    )
    return text
