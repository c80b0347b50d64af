"""The alert banner: a halt or guard trip stays on screen, on every screen, until acknowledged (``!``).

A toast disappears after a few seconds and is easy to miss while watching another match; a halted
match stops quoting and needs a person. The banner shows the newest unacknowledged alert and how
many more are waiting; each ``!`` acknowledges the newest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text

from kmm_tui.tui.format import clock
from kmm_tui.tui.widgets.text_line import TextLine

BANNER_STYLE = "bold white on red"


@dataclass(frozen=True, slots=True)
class Alert:
    ts_ms: int
    title: str  # "HALTED", "KILL ALL"
    text: str
    match_id: str | None = None


def banner_text(
    alerts: Sequence[Alert], names: Mapping[str, str], tz: tzinfo | None, ack_key: str = "!"
) -> Text:
    """One line for the newest alert; empty when there is none."""
    if not alerts:
        return Text()
    alert = alerts[-1]
    name = names.get(alert.match_id, alert.match_id or "") if alert.match_id else ""
    line = f" ⚠ {alert.title} {clock(alert.ts_ms, tz)}  {name + ': ' if name else ''}{alert.text}"
    more = f"  (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    text = Text(line, style=BANNER_STYLE)
    text.append(f"{more}  [{ack_key}: acknowledge] ", style=BANNER_STYLE)
    return text


class AlertBanner(TextLine):
    """Hidden while there is nothing to acknowledge."""

    FIXED_SIZE = True  # height: 1 in app.tcss

    def __init__(self) -> None:
        super().__init__("", classes="alert-banner")
        self.display = False

    def show_alerts(
        self, alerts: Sequence[Alert], names: Mapping[str, str], tz: tzinfo | None, ack_key: str
    ) -> None:
        self.display = bool(alerts)
        self.show(banner_text(alerts, names, tz, ack_key))
