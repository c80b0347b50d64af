"""Markout cells for the Fills & P&L tables and the account-limit line (pure, no Textual).

Kept apart from ``rows.py`` so the markout columns stay one small hook there. Markouts are against
Kalshi's mid, in cents per contract, + meaning the price moved in our favour (docs/guards.md).
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from kmm_tui.domain.markouts import FillMarkout, Mark, fill_clv
from kmm_tui.domain.prices import Price, format_cents, format_usd
from kmm_tui.engine.state import AccountView, EngineView, FillView, MatchView
from kmm_tui.tui.format import DASH
from kmm_tui.tui.widgets.table import Cell, Column

FILL_MARKOUT_COLUMNS = (
    Column("mo_first", "MO+1st", 7, min_width=125, priority=3),
    Column("mo_last", "MO+last", 7, min_width=125, priority=3),
    Column("clv", "CLV", 6, min_width=135, priority=4),
)
TOTAL_MARKOUT_COLUMNS = (
    Column("spread", "Spread", 7, min_width=125, priority=3),
    Column("markout", "Markout", 8, min_width=125, priority=3),
    Column("adverse", "Adv%", 5, min_width=125, priority=3),
    Column("suggest", "Edge→", 9, min_width=135, priority=4),
)


def _signed(value: Price | Decimal | None) -> Cell:
    if value is None:
        return DASH
    cents = value if isinstance(value, Decimal) else Decimal(value) / 100
    style = "red" if cents < 0 else "green" if cents > 0 else ""
    return Text(f"{cents:+}c", style=style)


def fill_markout_cells(match: MatchView, fill: FillView) -> dict[str, Cell]:
    record: FillMarkout | None = next((f for f in match.fill_markouts if f.trade_id == fill.trade_id), None)
    if record is None:
        return {"mo_first": DASH, "mo_last": DASH, "clv": DASH}
    horizons = [h for h, _ in record.later]
    closing = {}
    if match.closing is not None:
        closing = {match.spec.match_id: (Mark(None, match.closing[0]), Mark(None, match.closing[1]))}
    return {
        "mo_first": _signed(record.markout(horizons[0])) if horizons else DASH,
        "mo_last": _signed(record.markout(horizons[-1])) if horizons else DASH,
        "clv": _signed(fill_clv(record, closing)),
    }


def total_markout_cells(match: MatchView) -> dict[str, Cell]:
    summary = match.markouts
    measured = [h for h in summary.horizons if h.mean_markout_cents is not None] if summary else []
    last = measured[-1] if measured else None
    suggestion: Cell = DASH
    if match.suggested_edge is not None:
        suggestion = f"{format_cents(match.spec.settings.edge)}→{format_cents(match.suggested_edge)}"
    return {
        "spread": _signed(summary.mean_spread_cents) if summary else DASH,
        "markout": _signed(last.mean_markout_cents) if last else DASH,
        "adverse": f"{int((last.adverse_share or 0) * 100)}%" if last else DASH,
        "suggest": suggestion,
    }


def account_line(account: AccountView | None) -> Text:
    """Headroom under each account-wide limit, or the breach that stopped everything."""
    if account is None:
        return Text("")
    if account.latched is not None:
        return Text(f"ACCOUNT LIMIT: {account.latched} — press R to reset", style="bold red")
    parts = [f"{name} {format_usd(room)}" for name, room in account.headroom() if room is not None]
    return Text("account headroom: " + ("  ".join(parts) if parts else "no limits set"))


def edge_suggestion(view: EngineView, match_id: str) -> Text:
    """Beside the edge in the form: the edge that would have covered this match's adverse markouts."""
    match = next((m for m in view.matches if m.spec.match_id == match_id), None)
    if match is None or match.suggested_edge is None or match.markouts is None:
        return Text("edge suggestion: no markouts yet", style="bright_black")
    return Text(
        f"edge now {format_cents(match.spec.settings.edge)}; markouts of {match.markouts.fills} fill(s) "
        f"suggest {format_cents(match.suggested_edge)} (advisory)",
        style="bright_black",
    )
