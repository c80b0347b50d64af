"""A match's live view: one ladder per outcome (our orders marked, ceiling drawn), our orders, recent
fills, inventory and cost basis, theo/best-bid sparklines and the decision log. Esc goes back.

A soccer event shows three ladders (home, draw, away); one YES/NO market shows its YES book once,
with our YES bids among the bids and our NO bids at q as asks at 100c − q."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer

from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Price, format_contracts, format_usd, no_price
from kmm_tui.engine.model import Shape
from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.tui.format import cents, fee, reason_text, sparkline, start_in, usd
from kmm_tui.tui.outcomes import (
    locked_sets,
    outcome_market,
    outcome_name,
    outcome_position,
    outcome_quote,
    outcome_word,
)
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
    for outcome in match.spec.outcomes:
        quote = outcome_quote(match, outcome)
        text.append(f"{outcome_word(match, outcome)}: ", style="bold")
        if quote is None:
            text.append("no decision yet\n", style="bright_black")
            continue
        text.append_text(reason_text(quote.reason.value, quote.detail, long=True))
        bid = "no quote" if quote.price is None else f"{cents(quote.price)} x{format_contracts(quote.size)}"
        if quote.price is not None and match.spec.shape is Shape.YES_NO and outcome is Side.B:
            bid += f" (NO bid = YES ask {cents(no_price(quote.price))})"
        text.append(f"  → {bid}  ceiling {cents(quote.ceiling)}\n")
    return text


def inventory_text(match: MatchView) -> Text:
    """Held per outcome with cost, the locked pairs (sets of every outcome), and P&L per outcome."""
    inv: Inventory = match.inventory
    outcomes = match.spec.outcomes
    teams = match.spec.shape is Shape.TEAMS
    text = Text("Inventory\n", style="bold")
    pad = max(len(outcome_word(match, side)) for side in outcomes)
    for side in outcomes:
        text.append(
            f"{outcome_word(match, side):<{pad}} {outcome_name(match, side)[:14]:<14} "
            f"{format_contracts(inv.count_long(side)):>6} @ {cents(inv.avg_cost(side)):<7}"
            f" {format_usd(inv.cost_long(side))}\n"
        )
    sets = "pairs" if len(outcomes) == 2 else "sets"
    text.append(
        f"{sets} {format_contracts(locked_sets(match))}  net {outcome_position(match)}"
        f"  fees {fee(inv.fees)}\n"
    )
    text.append("locked ")
    text.append_text(usd(inv.locked_set_profit(outcomes)))
    for index, side in enumerate(outcomes):
        text.append("  " if index else "\n")
        text.append(f"if {outcome_word(match, side)}{' wins' if teams else ''} ")
        text.append_text(usd(inv.pnl_if(side)))
    return text


def history_text(match: MatchView, width: int = SPARK_WIDTH) -> Text:
    """Theo and best bid per side on a shared scale, so the gap between the lines is the edge."""
    rows = match.history[-width:]
    text = Text("History (theo / best bid)\n", style="bold")
    for outcome, theo_i, bid_i in ((Side.A, 1, 2), (Side.B, 3, 4)):
        side = outcome_word(match, outcome)
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


def our_levels(match: MatchView, side: Side) -> list[tuple[Price, Count]]:
    """Our live orders of one outcome as (price, remaining); a NO bid's price is its NO price."""
    return [(o.price, o.remaining) for o in match.orders if o.side == side.value and o.remaining > 0]


def yes_no_ladder(match: MatchView) -> tuple[str, list[tuple[Price, Count]], Price | None]:
    """One YES/NO market's ladder: its title, our NO bids as YES asks (100c − q), the NO ceiling flipped."""
    market = outcome_market(match, Side.A)
    title = market.title if market is not None and market.title else match.spec.ticker_a
    asks = [(o.yes_price, o.remaining) for o in match.orders if o.side == Side.B.value and o.remaining > 0]
    quote_no = match.quote_b
    floor = no_price(quote_no.ceiling) if quote_no is not None and quote_no.ceiling is not None else None
    return f"YES book · {title}", asks, floor


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
                yield Ladder(id="ladder-t")
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

    def show_ladders(self, match: MatchView) -> None:
        single = match.spec.shape is Shape.YES_NO
        self.query_one("#live-top").set_class(len(match.spec.outcomes) == 3, "-three")
        self.query_one("#live-top").set_class(single, "-one")
        for side in (Side.A, Side.T, Side.B):
            ladder = self.query_one(f"#ladder-{side.value}", Ladder)
            ladder.display = side in match.spec.outcomes and not (single and side is Side.B)
            if not ladder.display:
                continue
            market, quote = outcome_market(match, side), outcome_quote(match, side)
            ceiling = quote.ceiling if quote else None
            book = market.book if market else None
            if single:
                title, asks, floor = yes_no_ladder(match)
                ladder.show(title, book, our_levels(match, Side.A), ceiling, our_asks=asks, ask_floor=floor)
            else:
                title = f"{outcome_word(match, side)} {outcome_name(match, side)}"
                ladder.show(title, book, our_levels(match, side), ceiling)

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
        self.show_ladders(match)
        self.query_one("#live-inventory", TextLine).show(inventory_text(match))
        self.query_one("#live-history", TextLine).show(history_text(match))
        tz = self.kmm.tz
        self.query_one("#live-orders", SyncTable).sync([order_row(match, o) for o in match.orders])
        self.query_one("#live-fills", SyncTable).sync([fill_row(match, f, tz) for f in match.fills[:50]])
        seen: dict[str, int] = {}
        self.query_one("#live-decisions", SyncTable).sync(
            [decision_row(d, seen, tz) for d in match.decisions[:50]]
        )
