"""A match's live view: both ladders (our orders marked, ceiling drawn), our orders, recent fills,
inventory and cost basis, theo/best-bid sparklines and the decision log. Esc goes back."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer

from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import format_contracts, format_usd
from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.tui.format import cents, fee, position, reason_text, sparkline, start_in, usd
from kmm_tui.tui.rows import (
    DECISION_COLUMNS,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    decision_row,
    drift_text,
    fill_row,
    match_name,
    match_status,
    order_row,
    team,
)
from kmm_tui.tui.screens.base import ViewScreen
from kmm_tui.tui.widgets.banner import AlertBanner
from kmm_tui.tui.widgets.ladder import Ladder
from kmm_tui.tui.widgets.status_bar import StatusBar
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine

SPARK_WIDTH = 30
LIVE_FILL_COLUMNS = tuple(c for c in FILL_COLUMNS if c.key not in ("match", "cost", "team"))


def header_text(match: MatchView, now_ms: int) -> Text:
    text = Text(match_name(match), style="bold")
    text.append(f"  {match.event_ticker}  ")
    text.append_text(match_status(match))
    if match.status_reason and match.status_reason != match.status.value:  # not "quoting (quoting)"
        text.append(f" ({match.status_reason})", style="bright_black")
    text.append(f"  start {start_in(match.start_ms, now_ms)} [{match.start_source}]")
    if match.theo_source:
        text.append(f"  theo: {match.theo_source}", style="cyan")
    if drift := drift_text(match):
        text.append(f"\n⚠ {drift}", style="bold yellow")
    return text


def reasons_text(match: MatchView) -> Text:
    text = Text()
    for side, quote in (("A", match.quote_a), ("B", match.quote_b)):
        text.append(f"{side}: ", style="bold")
        if quote is None:
            text.append("no decision yet\n", style="bright_black")
            continue
        text.append_text(reason_text(quote.reason.value, quote.detail, long=True))
        bid = "no quote" if quote.price is None else f"{cents(quote.price)} x{format_contracts(quote.size)}"
        text.append(f"  → {bid}  ceiling {cents(quote.ceiling)}\n")
    return text


def inventory_text(match: MatchView) -> Text:
    inv: Inventory = match.inventory
    text = Text("Inventory\n", style="bold")
    for side, count, spent, avg in (
        ("A", inv.count_long_a, inv.cost_long_a, inv.avg_cost_a),
        ("B", inv.count_long_b, inv.cost_long_b, inv.avg_cost_b),
    ):
        text.append(
            f"{side} {team(match, side.lower())[:14]:<14} {format_contracts(count):>6} @ {cents(avg):<7}"
            f" {format_usd(spent)}\n"
        )
    text.append(
        f"pairs {format_contracts(inv.locked_pairs)}  net {position(inv.net_exposure)}"
        f"  fees {fee(inv.fees)}\n"
    )
    text.append("locked ")
    text.append_text(usd(inv.locked_profit))
    text.append("\nif A wins ")
    text.append_text(usd(inv.pnl_if_a_wins))
    text.append("  if B wins ")
    text.append_text(usd(inv.pnl_if_b_wins))
    return text


def history_text(match: MatchView, width: int = SPARK_WIDTH) -> Text:
    """Theo and best bid per side on a shared scale, so the gap between the lines is the edge."""
    rows = match.history[-width:]
    text = Text("History (theo / best bid)\n", style="bold")
    for side, theo_i, bid_i in (("A", 1, 2), ("B", 3, 4)):
        theos = [r[theo_i] for r in rows]
        bids = [r[bid_i] for r in rows]
        values = [v for v in (*theos, *bids) if v is not None]
        low, high = (min(values), max(values)) if values else (None, None)
        last_theo = next((v for v in reversed(theos) if v is not None), None)
        last_bid = next((v for v in reversed(bids) if v is not None), None)
        text.append(
            f"{side} theo {sparkline(theos, width, low, high):<{width}} {cents(last_theo)}\n", style="cyan"
        )
        text.append(
            f"{side} bid  {sparkline(bids, width, low, high):<{width}} {cents(last_bid)}\n", style="green"
        )
    return text


class LiveScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, match_id: str) -> None:
        super().__init__()
        self.match_id = match_id

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield AlertBanner()
        with VerticalScroll(id="live"):
            yield TextLine(id="live-header", classes="mode-title")
            yield TextLine(id="live-reasons")
            with Horizontal(id="live-top"):
                yield Ladder(id="ladder-a")
                yield Ladder(id="ladder-b")
                with Vertical(id="live-side"):
                    yield TextLine(id="live-inventory")
                    yield TextLine(id="live-history")
            with Horizontal(id="live-tables"):
                yield SyncTable(ORDER_COLUMNS, id="live-orders")
                yield SyncTable(LIVE_FILL_COLUMNS, id="live-fills")
            yield SyncTable(DECISION_COLUMNS, id="live-decisions")
        yield Footer()

    def selected_match_id(self) -> str | None:
        return self.match_id

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        match = next((m for m in view.matches if m.spec.match_id == self.match_id), None) if view else None
        header = self.query_one("#live-header", TextLine)
        if match is None:
            header.show(
                Text(f"{self.match_id}: this match no longer exists — Esc to go back", style="yellow")
            )
            return
        header.show(header_text(match, now_ms))
        self.query_one("#live-reasons", TextLine).show(reasons_text(match))
        for side, market, quote in (
            ("a", match.market_a, match.quote_a),
            ("b", match.market_b, match.quote_b),
        ):
            ours = [(o.price, o.remaining) for o in match.orders if o.side == side and o.remaining > 0]
            title = f"{side.upper()} {team(match, side)}"
            self.query_one(f"#ladder-{side}", Ladder).show(
                title, market.book if market else None, ours, quote.ceiling if quote else None
            )
        self.query_one("#live-inventory", TextLine).show(inventory_text(match))
        self.query_one("#live-history", TextLine).show(history_text(match))
        tz = self.kmm.tz
        self.query_one("#live-orders", SyncTable).sync([order_row(match, o) for o in match.orders])
        self.query_one("#live-fills", SyncTable).sync([fill_row(match, f, tz) for f in match.fills[:50]])
        seen: dict[str, int] = {}
        self.query_one("#live-decisions", SyncTable).sync(
            [decision_row(d, seen, tz) for d in match.decisions[:50]]
        )
