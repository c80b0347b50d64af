"""The overview's card per running match: each outcome's best levels, our orders, ceilings, reasons
(pure).

A trader watching ten matches cannot open each live view in turn. A card is the name with status and
position, then per outcome one line of book (three bids with our size marked ◆, the ceiling, the
best asks) and one line of reason, then the P&L per outcome. A soccer card has three outcomes; one
YES/NO market shows its YES side and its NO side (the book a NO bidder sees).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, format_cents, format_contracts
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.state import MatchView
from kmm_tui.tui.format import reason_text, usd
from kmm_tui.tui.outcomes import (
    LETTERS,
    locked_sets,
    outcome_book,
    outcome_position,
    outcome_quote,
    sets_word,
)
from kmm_tui.tui.rows import RUNNING, drift_text, is_pre_start_pull, match_name, match_status, team
from kmm_tui.tui.widgets.ladder import OUR_MARK

CARD_WIDTH = 34  # text width (two cards across 80 columns); the card adds a border and padding
LEVELS = 3


def _bare(price: Price) -> str:
    return format_cents(price).removesuffix("c")


def book_line(match: MatchView, side: str, width: int = CARD_WIDTH) -> Text:
    """'A Vitality  54◆10 53 52 ┆54 │ 57 58' — bids best first, ceiling, then asks."""
    outcome = Side(side)
    book = outcome_book(match, outcome)
    quote = outcome_quote(match, outcome)
    ours: dict[int, Count] = {}
    for order in match.orders:
        if order.side == side and order.remaining > 0:
            ours[order.price] = Count(ours.get(order.price, 0) + order.remaining)
    text = Text(f"{LETTERS[match.spec.shape][outcome]} ", style="bold")
    text.append(f"{team(match, side)[:8]:<8} ")
    if book is None:
        text.append("no book yet", style="bright_black")
        return text
    for price, _size in book.bids[:LEVELS]:
        mine = ours.get(price)
        text.append(_bare(price), style="bold green" if mine else "green")
        if mine:
            text.append(f"{OUR_MARK}{format_contracts(mine)}", style="bold green")
        text.append(" ")
    missing = [p for p in ours if all(p != b for b, _ in book.bids[:LEVELS])]
    for price in missing:  # our bid deeper than the levels shown
        text.append(f"{_bare(Price(price))}{OUR_MARK}{format_contracts(ours[price])} ", style="bold green")
    if quote is not None and quote.ceiling is not None:
        text.append(f"┆{_bare(quote.ceiling)} ", style="yellow")
    text.append("│ ", style="bright_black")
    for price, _size in book.asks[:2]:
        text.append(f"{_bare(price)} ", style="red")
    text.truncate(width, overflow="ellipsis")
    return text


def reason_line(match: MatchView, side: str, width: int = CARD_WIDTH) -> Text:
    quote = outcome_quote(match, Side(side))
    text = Text("  ")
    if is_pre_start_pull(match):
        text.append_text(reason_text("paused_before_start"))
    elif match.status not in RUNNING or quote is None:
        text.append_text(Text(match.status_reason or match.status.value, style="bright_black"))
    else:
        text.append_text(reason_text(quote.reason.value, quote.detail, long=True))
    text.truncate(width, overflow="ellipsis")
    return text


def card_text(match: MatchView, width: int = CARD_WIDTH) -> Text:
    inv = match.inventory
    status = match_status(match)
    tail = f" {outcome_position(match)}"
    name = match_name(match)
    room = width - len(status.plain) - len(tail) - 1
    text = Text(name if len(name) <= room else name[: room - 1] + "…", style="bold")
    text.append(" ")
    text.append_text(status)
    text.append(f"{tail}\n")
    for outcome in match.spec.outcomes:
        text.append_text(book_line(match, outcome.value, width))
        text.append("\n")
        text.append_text(reason_line(match, outcome.value, width))
        text.append("\n")
    pnl = Text("if")
    for outcome in match.spec.outcomes:
        pnl.append(f" {LETTERS[match.spec.shape][outcome]} ")
        pnl.append_text(usd(inv.pnl_if(outcome)))
    pnl.append(f" · {format_contracts(locked_sets(match))} {sets_word(match)}")
    if drift_text(match):
        pnl.append(" ⚠theo", style="bold yellow")
    pnl.truncate(width, overflow="ellipsis")
    text.append_text(pnl)
    return text


def card_inputs(match: MatchView) -> tuple[object, ...]:
    """Everything :func:`card_text` reads, as one comparable value: equal inputs, equal card.

    The overview redraws up to ten times a second and most cards do not change (book depth moves,
    but a card shows prices, not sizes): comparing this is far cheaper than building the card's
    text. It must name every field ``card_text`` (and what it calls) reads, or a card goes stale.
    """

    def side(market: object, quote: object) -> tuple[object, ...] | None:
        if market is None:
            return (quote,)
        book = market.book  # type: ignore[attr-defined]
        bids = tuple(price for price, _ in book.bids[:LEVELS])
        asks = tuple(price for price, _ in book.asks[:2])
        return (market.title, bids, asks, book.best_bid, book.best_ask, quote)  # type: ignore[attr-defined]

    return (
        match.spec,
        match.status,
        match.status_reason,
        match.theo_a,
        match.theo_b,
        match.inventory,
        tuple((o.side, o.price, o.remaining) for o in match.orders),
        side(match.market_a, match.quote_a),
        side(match.market_b, match.quote_b),
    )


def overview_matches(matches: Sequence[MatchView]) -> tuple[list[MatchView], int]:
    """The cards to show (running or halted: both need eyes) and how many stopped ones are left out."""
    shown = [m for m in matches if m.status in RUNNING or m.status is MatchStatus.HALTED]
    return shown, len(matches) - len(shown)
