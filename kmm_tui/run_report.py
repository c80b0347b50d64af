"""What ``kmm run`` tells the trader besides decisions: a position/P&L line every N seconds, and a
session summary when it stops.

Why here and not in the engine: these are presentation of the engine's public state (``MatchView``
from ``Engine.snapshot()``) and of the ``Filled`` events it publishes. The session tally counts only
this run's fills, while the position comes from the engine's inventory (which includes a resumed
match's earlier fills), so the summary says both "what this session did" and "where you stand".

Everything is exact: counts and prices from integers, money with ``format_usd`` (text) or
``format_money`` (JSON strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import (
    Count,
    Money,
    Price,
    format_cents,
    format_contracts,
    format_count,
    format_money,
    format_price,
    format_usd,
)
from kmm_tui.engine.events import Event, Filled
from kmm_tui.engine.state import MatchView


def _signed_usd(amount: Money) -> str:
    return ("+" if amount > 0 else "") + format_usd(amount)


def _resting(view: MatchView) -> int:
    return sum(1 for order in view.orders if order.state in ("pending", "resting"))


def _side_text(label: str, count: Count, average: Price | None) -> str:
    held = f"long {format_contracts(count)}" if count else "flat"
    return f"{label} {held}" + (f" @ avg {format_cents(average)}" if count and average is not None else "")


def position_text(view: MatchView) -> str:
    """``A long 5 @ avg 52c | B flat | fees $0.01 | P&L if A wins +$2.39, if B wins -$2.61 | resting 2``."""
    inv = view.inventory
    return " | ".join(
        [
            _side_text("A", inv.count_long_a, inv.avg_cost_a),
            _side_text("B", inv.count_long_b, inv.avg_cost_b),
            f"fees {format_usd(inv.fees)}",
            f"P&L if A wins {_signed_usd(inv.pnl_if_a_wins)}, if B wins {_signed_usd(inv.pnl_if_b_wins)}",
            f"resting {_resting(view)}",
        ]
    )


def inventory_json(inv: Inventory) -> dict[str, Any]:
    """The position as exact strings (contracts ``"5.00"``, prices ``"0.5200"``, money ``"2.390000"``)."""

    def price(value: Price | None) -> str | None:
        return None if value is None else format_price(value)

    return {
        "long_a": format_count(inv.count_long_a),
        "avg_cost_a": price(inv.avg_cost_a),
        "long_b": format_count(inv.count_long_b),
        "avg_cost_b": price(inv.avg_cost_b),
        "fees": format_money(inv.fees),
        "locked_profit": format_money(inv.locked_profit),
        "pnl_if_a_wins": format_money(inv.pnl_if_a_wins),
        "pnl_if_b_wins": format_money(inv.pnl_if_b_wins),
    }


def position_json(view: MatchView) -> dict[str, Any]:
    return {"kind": "position", "match_id": view.spec.match_id, "status": view.status.value,
            **inventory_json(view.inventory), "resting_orders": _resting(view)}


@dataclass(slots=True)
class SessionTally:
    """This session's fills of one match, fed by ``Engine.listen`` (a resumed match's older fills are
    in the inventory but not here)."""

    match_id: str
    started_ms: int
    fills: int = 0
    bought: dict[str, Count] = field(default_factory=lambda: {"a": Count(0), "b": Count(0)})
    fees: int = 0  # Money

    def __call__(self, event: Event) -> None:
        if isinstance(event, Filled) and event.match_id == self.match_id:
            self.fills += 1
            self.bought[event.side] = Count(self.bought.get(event.side, 0) + event.count)
            self.fees += event.fee


def _duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def summary_lines(tally: SessionTally, view: MatchView | None, now_ms: int) -> list[str]:
    """Two lines: what this session did, then where the match stands."""
    fills = f"{tally.fills} fill{'s' if tally.fills != 1 else ''}"
    bought_a, bought_b = (format_contracts(tally.bought.get(side, 0)) for side in ("a", "b"))
    bought = f"bought A {bought_a}, B {bought_b}"
    lines = [
        f"session: {_duration(now_ms - tally.started_ms)}, {fills} ({bought}), fees {format_usd(tally.fees)}"
    ]
    if view is not None:
        locked = format_usd(view.inventory.locked_profit)
        lines.append(f"position: {position_text(view)} | locked {locked}")
    return lines


def summary_json(tally: SessionTally, view: MatchView | None, now_ms: int) -> dict[str, Any]:
    return {
        "kind": "summary",
        "match_id": tally.match_id,
        "duration_ms": now_ms - tally.started_ms,
        "fills": tally.fills,
        "bought_a": format_count(tally.bought.get("a", 0)),
        "bought_b": format_count(tally.bought.get("b", 0)),
        "session_fees": format_money(tally.fees),
        "position": None if view is None else inventory_json(view.inventory),
    }
