"""The fills line: the last few seconds of fills, aggregated per match, side and price, in the layout.

Fill toasts floated over forms and the decision log (6 of 24 lines at 80x24) and covered other
matches' rows. This line takes its place in the mode screens' layout instead, so it never covers
anything; it is hidden when nothing filled in the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.text import Text

from kmm_tui.domain.prices import Count, Price, format_cents, format_contracts
from kmm_tui.engine.events import Filled
from kmm_tui.tui.widgets.text_line import TextLine

FILL_WINDOW_MS = 5_000
MAX_SHOWN = 3


def fills_line(fills: Iterable[Filled], names: Mapping[str, str], now_ms: int) -> Text:
    """'fills, last 5s: Vitality v FaZe 3 A @ 46c · … (+2 more)'; empty when none is recent."""
    totals: dict[tuple[str, str, Price], Count] = {}
    for fill in fills:
        if now_ms - fill.ts_ms <= FILL_WINDOW_MS:
            key = (fill.match_id, fill.side, fill.price)
            totals[key] = Count(totals.get(key, 0) + fill.count)
    if not totals:
        return Text()
    items = list(totals.items())[-MAX_SHOWN:][::-1]  # newest first
    text = Text(f" fills, last {FILL_WINDOW_MS // 1000}s: ", style="bold")
    for index, ((match_id, side, price), count) in enumerate(items):
        if index:
            text.append(" · ", style="bright_black")
        text.append(f"{names.get(match_id, match_id)} {format_contracts(count)} {side.upper()} ")
        text.append(f"@ {format_cents(price)}", style="green")
    hidden = len(totals) - len(items)
    if hidden:
        text.append(f" (+{hidden} more)", style="bright_black")
    return text


class FillsLine(TextLine):
    FIXED_SIZE = True  # height: 1 in app.tcss

    def __init__(self) -> None:
        super().__init__("", classes="fills-line")
        self.display = False

    def show_fills(self, fills: Iterable[Filled], names: Mapping[str, str], now_ms: int) -> None:
        text = fills_line(fills, names, now_ms)
        self.display = bool(text.plain)
        self.show(text)
