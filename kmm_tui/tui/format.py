"""Pure text helpers that turn engine snapshots into table cells, colours and sparklines.

Kept free of Textual so the rules (what a trader sees for a reason, a position, a P&L) are unit
tested without an app. Colours are the 16 ANSI names so the app stays readable on a 16-colour
terminal over SSH; styles are plain Rich style strings.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from rich.text import Text

from kmm_tui.domain.prices import Money, Price, format_cents, format_contracts, format_money, format_usd
from kmm_tui.engine.events import Level
from kmm_tui.engine.model import MatchStatus

DASH = "—"

# Reason values are short snake_case strings owned by domain.quoting; match by fragment so a new
# reason still gets the colour of its family. Order matters: the first fragment found wins.
_REASON_STYLES: tuple[tuple[str, str], ...] = (
    ("halt", "bold white on red"),
    ("competitor_above", "magenta"),
    ("overexpos", "bold red"),
    ("rebalanc", "blue"),
    ("ceiling", "yellow"),
    ("outbid", "cyan"),
    ("join", "cyan"),
    ("retest", "cyan"),
    ("stale", "red"),
    ("burst", "red"),  # the flow guards (docs/guards.md)
    ("line_move", "red"),
    ("account", "bold red"),
    ("not_open", "red"),
    ("no_theo", "red"),
    ("cross", "yellow"),
    ("paused", "bright_black"),
    ("started", "bright_black"),
    ("stopped", "bright_black"),
    ("empty", "bright_black"),
    ("quot", "green"),
    ("best", "green"),
)

_REASON_SHORT: dict[str, str] = {
    "competitor_above_ceiling": "comp>ceil",
    "paused_before_start": "pre-start",
    "event_started": "started",
    "market_not_open": "not open",
    "theo_stale": "theo stale",
    "book_stale": "book stale",
    "rebalancing": "rebalance",
    "overexposed": "over limit",
    "at_ceiling": "at ceiling",
    "fill_burst": "burst",
    "account_limit": "acct limit",
}

_STATUS_STYLES: dict[MatchStatus, str] = {
    MatchStatus.NEW: "",
    MatchStatus.STARTING: "yellow",
    MatchStatus.QUOTING: "green",
    MatchStatus.DRY_RUN: "cyan",
    MatchStatus.STOPPING: "yellow",
    MatchStatus.STOPPED: "bright_black",
    MatchStatus.HALTED: "bold white on red",
}

_LEVEL_STYLES: dict[Level, str] = {
    Level.INFO: "",
    Level.WARNING: "yellow",
    Level.ERROR: "bold red",
}

_ENV_STYLES: dict[str, str] = {
    "sim": "bold black on green",
    "demo": "bold black on yellow",
    "prod": "bold white on red",
}

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


@functools.cache  # a few dozen reason values; called for every row's two reasons on every redraw
def reason_style(reason: str) -> str:
    """Colour family for a quote reason value (e.g. 'at_ceiling' → yellow)."""
    for fragment, style in _REASON_STYLES:
        if fragment in reason:
            return style
    return ""


def reason_label(reason: str) -> str:
    """A short human label for a reason value that fits a narrow table column."""
    return _REASON_SHORT.get(reason, reason.replace("_", " "))


def reason_text(reason: str | None, detail: str = "", *, long: bool = False) -> Text:
    """A coloured cell for one side's reason; ``long`` appends the detail line."""
    if reason is None:
        return Text(DASH, style="bright_black")
    label = reason.replace("_", " ") if long else reason_label(reason)
    text = label
    if long and detail:
        # the detail often names the reason itself ("rebalancing: …", "paused: event starts …"):
        # then it is shown alone, never as "rebalancing: rebalancing: …"
        lead = detail.split(":", 1)[0].split(" ", 1)[0].casefold()
        text = detail if lead and label.casefold().startswith(lead) else f"{label}: {detail}"
    return Text(text, style=reason_style(reason))


def status_text(status: MatchStatus) -> Text:
    return Text(status.value.replace("_", " "), style=_STATUS_STYLES.get(status, ""))


def level_text(level: Level) -> Text:
    return Text(level.value.upper(), style=_LEVEL_STYLES.get(level, ""))


def environment_text(environment: str) -> Text:
    """SIM / DEMO / LIVE: prod is shown as LIVE in a warning colour so real money is unmistakable."""
    label = "LIVE" if environment == "prod" else environment.upper()
    return Text(f" {label} ", style=_ENV_STYLES.get(environment, "reverse"))


def cents(price: Price | int | None) -> str:
    return DASH if price is None else format_cents(price)


def pair(a: Price | int | None, b: Price | int | None) -> str:
    """Two prices in one narrow cell: '55c/44.5c'; the 'c' is dropped to save width."""
    return f"{_bare(a)}/{_bare(b)}"


def _bare(price: Price | int | None) -> str:
    return DASH if price is None else format_cents(price).removesuffix("c")


def usd(amount: Money | int | None) -> Text:
    """Money with sign colour: losses red, gains green, zero plain."""
    if amount is None:
        return Text(DASH, style="bright_black")
    style = "red" if amount < 0 else "green" if amount > 0 else ""
    return Text(format_usd(amount), style=style)


def fee(amount: Money | int) -> str:
    """Fees are fractions of a cent per fill ($0.0014): show 4 decimals so they do not read as zero."""
    return f"${format_money(amount, 4)}"


def position(net_exposure: int) -> str:
    """Net exposure as '12A' (long team A), '3.5B' (long team B) or '0'."""
    if net_exposure > 0:
        return f"{format_contracts(net_exposure)}A"
    if net_exposure < 0:
        return f"{format_contracts(-net_exposure)}B"
    return "0"


def clock(ts_ms: int, tz: tzinfo | None = None, *, seconds: bool = True) -> str:
    """Wall-clock time of a timestamp ('14:03:22'); ``tz`` None means the machine's local zone."""
    moment = datetime.fromtimestamp(ts_ms / 1000, tz or UTC)
    if tz is None:
        moment = moment.astimezone()
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")


def zone_name(ts_ms: int, tz: tzinfo | None = None) -> str:
    """The abbreviation of the zone every time in the app is shown in ('EST', 'UTC')."""
    moment = datetime.fromtimestamp(ts_ms / 1000, tz or UTC)
    if tz is None:
        moment = moment.astimezone()
    return moment.strftime("%Z") or "local"


def start_in(start_ms: int | None, now_ms: int) -> str:
    """Time to a scheduled start: '2h05m', '4m', 'started 3m ago', or a dash."""
    if start_ms is None:
        return DASH
    delta_min = (start_ms - now_ms) // 60_000
    if delta_min < 0:
        return f"started {_duration(-delta_min)} ago"
    return _duration(delta_min)


def _duration(minutes: int) -> str:
    if minutes >= 24 * 60:
        return f"{minutes // (24 * 60)}d{minutes % (24 * 60) // 60:02d}h"
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes}m"


def sparkline(
    values: Sequence[int | None], width: int, low: int | None = None, high: int | None = None
) -> str:
    """Block-character sparkline of the last ``width`` values, scaled to [low, high].

    Missing values (no book yet) are blanks. Integer arithmetic only: prices stay exact ints.
    Pass the same low/high to several lines (theo and best bid) so they are comparable.
    """
    tail = list(values)[-width:] if width > 0 else []
    present = [v for v in tail if v is not None]
    if not present:
        return " " * len(tail)
    lo = min(present) if low is None else low
    hi = max(present) if high is None else high
    span = hi - lo
    top = len(SPARK_BLOCKS) - 1
    out = []
    for value in tail:
        if value is None:
            out.append(" ")
        elif span <= 0:
            out.append(SPARK_BLOCKS[top // 2])
        else:
            clamped = min(max(value, lo), hi)
            out.append(SPARK_BLOCKS[(clamped - lo) * top // span])
    return "".join(out)


def truncate(text: str, width: int) -> str:
    """Cut to ``width`` characters with an ellipsis so narrow columns stay aligned."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
