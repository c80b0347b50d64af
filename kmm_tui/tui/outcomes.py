"""A match's outcomes as the screens show them: the book, theo, quote and name of each (pure).

Two team markets have outcomes A and B; a soccer event home, draw and away (A, T, B); one YES/NO
market YES (A) and NO (B), both traded in the one market: the NO side's book is the YES book flipped
(a YES ask at p is a NO bid at 100c − p), and our NO bids (their price is the NO price) sit in the YES
book as asks at 100c − q.
"""

from __future__ import annotations

from rich.text import Text

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Money, Price, format_contracts
from kmm_tui.domain.quoting import SideQuote
from kmm_tui.engine.model import Shape
from kmm_tui.engine.state import MarketView, MatchView
from kmm_tui.outcome_input import OUTCOME_WORDS
from kmm_tui.tui.format import usd

# One letter per outcome, for narrow cells (positions): H/D/A for soccer, Y/N for one market.
LETTERS: dict[Shape, dict[Side, str]] = {
    Shape.TEAMS: {Side.A: "A", Side.B: "B"},
    Shape.THREE_WAY: {Side.A: "H", Side.T: "D", Side.B: "A"},
    Shape.YES_NO: {Side.A: "Y", Side.B: "N"},
}


def outcome_market(match: MatchView, side: Side) -> MarketView | None:
    """The market an outcome is bought in (for one YES/NO market: that market for both sides)."""
    if side is Side.T:
        return match.market_t
    if match.spec.shape is Shape.YES_NO:
        return match.market_a or match.market_b
    return match.market_a if side is Side.A else match.market_b


def outcome_book(match: MatchView, side: Side) -> Book | None:
    """The book as a bidder for this outcome sees it (the NO side of one market: the flipped book)."""
    market = outcome_market(match, side)
    if market is None:
        return None
    if match.spec.shape is Shape.YES_NO and side is Side.B:
        return market.book.flipped()
    return market.book


def outcome_theo(match: MatchView, side: Side) -> Price | None:
    return {Side.A: match.theo_a, Side.B: match.theo_b, Side.T: match.theo_t}[side]


def outcome_quote(match: MatchView, side: Side) -> SideQuote | None:
    return {Side.A: match.quote_a, Side.B: match.quote_b, Side.T: match.quote_t}[side]


def outcome_word(match: MatchView, side: Side) -> str:
    """'A', 'home', 'draw', 'over'…: what P&L lines call the outcome ("if draw")."""
    return OUTCOME_WORDS[match.spec.shape][side]


def outcome_name(match: MatchView, side: Side) -> str:
    """The team as the exchange names it (the ticker until known); YES / NO of one market."""
    if match.spec.shape is Shape.YES_NO:
        return "YES" if side is Side.A else "NO"
    market = outcome_market(match, side)
    title = market.title if market is not None and market.title else match.spec.ticker(side)
    if side is Side.T and not (market is not None and market.title):
        return "Tie"
    return title


def outcome_position(match: MatchView) -> str:
    """Exposure in one narrow cell: two outcomes '12A' / '3.5B' (long minus the other), three-way the
    most-held outcome over the least-held ('12H'); '0' when flat."""
    inv, shape = match.inventory, match.spec.shape
    letters = LETTERS[shape]
    outcomes = match.spec.outcomes
    counts = {side: inv.count_long(side) for side in outcomes}
    spread = max(counts.values()) - min(counts.values())
    if spread == 0:
        return "0"
    top = max(outcomes, key=lambda side: counts[side])
    return f"{format_contracts(Count(spread))}{letters[top]}"


def locked_sets(match: MatchView) -> Count:
    """Pairs (two outcomes) or sets (home + draw + away) held: each pays exactly $1."""
    return match.inventory.locked_sets(match.spec.outcomes)


def sets_word(match: MatchView) -> str:
    return "pairs" if len(match.spec.outcomes) == 2 else "sets"


def worst_pnl(match: MatchView) -> Money:
    return match.inventory.worst_pnl(match.spec.outcomes)


def pnl_line(match: MatchView, inv: Inventory | None = None, *, sep: str = "  ") -> Text:
    """'if home +$1.20  if draw −$3.40  if away +$0.50': settlement P&L per outcome."""
    inv = inv if inv is not None else match.inventory
    text = Text()
    for index, side in enumerate(match.spec.outcomes):
        text.append(f"{sep if index else ''}if {outcome_word(match, side)} ")
        text.append_text(usd(inv.pnl_if(side)))
    return text
