"""The one-line status bar: environment, session P&L, feed health, rate headroom, orders, clock.

The environment badge comes first and LIVE is white on red so nobody mistakes real money for the
simulator. The session totals (realised P&L, worst case over outcomes, locked pairs, resting orders)
are on every screen. Parts have priorities: on a narrow terminal the least important ones go first
(odds credits, balance, healthy rate headroom), never the P&L, the feed or the clock. The clock names
its time zone once; every other time in the app is in the same zone.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from kmm_tui.domain.prices import format_contracts, format_usd
from kmm_tui.engine.state import EngineView
from kmm_tui.tui.format import clock, environment_text, usd, zone_name
from kmm_tui.tui.summary import session_totals

SEPARATOR = " │ "


def _percent(fraction: float) -> int:  # float-ok: headroom is a display-only fraction
    return max(0, min(100, round(fraction * 100)))


def _labelled(label: str, value: Text) -> Text:
    text = Text(label)
    text.append_text(value)
    return text


def status_parts(view: EngineView, wide: bool) -> list[tuple[int, Text]]:
    """(priority, text) per part in display order; 0 is never dropped, higher is dropped first."""
    totals = session_totals(view.matches, view.resting_orders)
    parts: list[tuple[int, Text]] = []
    feed_style = "green" if view.feed_connected else "bold red"
    feed = "feed ok" if view.feed_connected else f"feed DOWN{': ' + view.feed_detail if wide else ''}"
    parts.append((0, Text(feed, style=feed_style)))
    parts.append((0, _labelled("P&L ", usd(totals.realised))))
    parts.append((0, _labelled("worst ", usd(totals.worst_case))))
    parts.append((1, Text(f"{format_contracts(totals.pairs)} pairs")))
    parts.append((0, Text(f"{view.resting_orders} {'resting' if wide else 'ord'}")))
    read, write = _percent(view.read_headroom), _percent(view.write_headroom)
    low = min(read, write)
    rate_style = "red" if low < 20 else "yellow" if low < 50 else ""
    parts.append(
        (0 if rate_style else 3, Text(f"{'rate ' if wide else ''}r{read}% w{write}%", style=rate_style))
    )
    balance = format_usd(view.balance) if view.balance is not None else "—"
    parts.append((2, Text(f"{'Balance ' if wide else ''}{balance}")))
    if view.odds_quota:  # odds credits are scarce (500/month on The Odds API's free plan)
        credits = " ".join(f"{source} {'?' if left is None else left}" for source, left in view.odds_quota)
        short = any(q is not None and q < 50 for _, q in view.odds_quota)
        parts.append((1 if short else 4, Text(f"odds {credits}", style="yellow" if short else "")))
    return parts


def status_text(view: EngineView | None, now_ms: int, width: int, tz: tzinfo | None = None) -> Text:
    """The bar's content for a snapshot; ``view`` None means the engine is still starting."""
    if view is None:
        text = Text(" … ", style="reverse")
        text.append("  starting the engine…")
        return text
    stamp = f"{clock(now_ms, tz)} {zone_name(now_ms, tz)}"
    badge = environment_text(view.environment)
    parts = status_parts(view, width >= 100)
    budget = width - cell_len(badge.plain) - 1 - cell_len(stamp) - 2
    while parts and sum(cell_len(t.plain) for _, t in parts) + len(SEPARATOR) * (len(parts) - 1) > budget:
        worst = max(range(len(parts)), key=lambda i: (parts[i][0], i))
        if parts[worst][0] == 0:
            break
        del parts[worst]
    text = badge
    text.append(" ")
    for index, (_, part) in enumerate(parts):
        if index:
            text.append(SEPARATOR, style="bright_black")
        text.append_text(part)
    padding = width - cell_len(text.plain) - cell_len(stamp) - 1
    text.append(" " * max(padding, 1))
    text.append(stamp, style="bold")
    return text


class StatusBar(Static):
    """Docked at the top of every mode; redrawn only when its text changes."""

    def __init__(self) -> None:
        super().__init__("", classes="status-bar")
        self._last = ""

    def show(self, view: EngineView | None, now_ms: int, tz: tzinfo | None) -> None:
        text = status_text(view, now_ms, self.app.size.width, tz)
        key = text.plain + repr(text.spans)
        if key != self._last:
            self._last = key
            self.update(text, layout=False)  # height 1, full width: no layout pass (a full repaint)
