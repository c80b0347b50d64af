"""The one-line status bar: environment, balance, feed health, rate-limit headroom, orders, clock.

The environment badge comes first and LIVE is white on red so nobody mistakes real money for the
simulator. At narrow widths the labels shorten instead of wrapping.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import Static

from kmm_tui.domain.prices import format_usd
from kmm_tui.engine.state import EngineView
from kmm_tui.tui.format import clock, environment_text


def _percent(fraction: float) -> int:  # float-ok: headroom is a display-only fraction
    return max(0, min(100, round(fraction * 100)))


def status_text(view: EngineView | None, now_ms: int, width: int, tz: tzinfo | None = None) -> Text:
    """The bar's content for a snapshot; ``view`` None means the engine is still starting."""
    wide = width >= 100
    sep = Text(" │ ", style="bright_black")
    if view is None:
        text = Text(" … ", style="reverse")
        text.append("  starting the engine…")
        return text
    parts: list[Text] = []
    balance = format_usd(view.balance) if view.balance is not None else "—"
    parts.append(Text(f"{'Balance ' if wide else ''}{balance}"))
    feed_style = "green" if view.feed_connected else "bold red"
    feed = "feed ok" if view.feed_connected else f"feed DOWN{': ' + view.feed_detail if wide else ''}"
    parts.append(Text(feed, style=feed_style))
    read, write = _percent(view.read_headroom), _percent(view.write_headroom)
    rate_style = "red" if min(read, write) < 20 else "yellow" if min(read, write) < 50 else ""
    parts.append(Text(f"{'rate ' if wide else ''}r{read}% w{write}%", style=rate_style))
    parts.append(Text(f"{view.resting_orders} {'resting orders' if wide else 'ord'}"))
    if view.odds_quota and wide:  # odds credits are scarce (500/month on The Odds API's free plan)
        credits = " ".join(f"{source} {'?' if left is None else left}" for source, left in view.odds_quota)
        parts.append(
            Text(
                f"odds {credits}",
                style="yellow" if any(q is not None and q < 50 for _, q in view.odds_quota) else "",
            )
        )
    text = environment_text(view.environment)
    text.append(" ")
    for index, part in enumerate(parts):
        if index:
            text.append_text(sep)
        text.append_text(part)
    stamp = clock(now_ms, tz)
    padding = width - len(text.plain) - len(stamp) - 1
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
            self.update(text)
