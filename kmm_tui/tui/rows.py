"""Table columns and the row cells each mode shows, built from snapshot values (pure, no Textual).

Every table in the app is described here: which columns exist, which appear only on wide terminals,
and how a ``MatchView`` / ``FillView`` / ``LogLine`` becomes coloured cells (the Scanner's rows are
in ``screens/scanner.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo

from rich.text import Text

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import CENT, Money, Price, format_cents, format_contracts, format_usd
from kmm_tui.engine.events import Level
from kmm_tui.engine.model import MatchStatus, Shape
from kmm_tui.engine.state import DecisionLogEntry, FillView, LogLine, MatchView, OrderView
from kmm_tui.tui.format import (
    DASH,
    cents,
    clock,
    fee,
    level_text,
    reason_text,
    status_text,
    usd,
)
from kmm_tui.tui.markout_cells import (
    FILL_MARKOUT_COLUMNS,
    TOTAL_MARKOUT_COLUMNS,
    fill_markout_cells,
    total_markout_cells,
)
from kmm_tui.tui.outcomes import (
    LETTERS,
    locked_sets,
    outcome_book,
    outcome_name,
    outcome_position,
    outcome_quote,
    outcome_theo,
    outcome_word,
    worst_pnl,
)
from kmm_tui.tui.widgets.table import Cell, Column, Fit

Row = tuple[str, dict[str, Cell]]

# Home: at 80 columns match, status, theo, our bid, best bid, position and P&L stay (priority 0–1);
# the reasons and locked pairs come next; wider terminals give the rest to names and reasons (flex).
MATCH_COLUMNS = (
    Column("match", "Match", 12, priority=0, flex=True),
    Column("status", "Status", 8, priority=0),
    Column("theo", "Theo", 9, priority=1),
    Column("bid", "Our bid", 9, priority=1),
    Column("best", "Best", 9, priority=1),
    Column("pos", "Pos", 6, priority=1),
    Column("locked", "Lck", 5, priority=3),
    Column("pnl_a", "If A", 9, priority=1, group="pnl"),
    Column("pnl_b", "If B", 9, priority=1, group="pnl"),
    Column("pnl_t", "If draw", 9, priority=2, optional=True),  # only while a three-way match is listed
    Column("reason_a", "Reason A", 10, priority=2, flex=True, group="reasons"),
    Column("reason_b", "Reason B", 10, priority=2, flex=True, group="reasons"),
    Column("reason_t", "Reason draw", 10, priority=3, flex=True, optional=True),  # three-way only
)

FILL_COLUMNS = (
    Column("time", "Time", 8),
    Column("match", "Match", 12, flex=True),
    Column("team", "Team", 12, priority=2),
    Column("side", "Side", 4),
    Column("price", "Price", 7),
    Column("count", "Qty", 6),
    Column("fee", "Fee", 7),
    Column("role", "Role", 5, priority=1),
    Column("cost", "Cost", 9, priority=2),
    *FILL_MARKOUT_COLUMNS,
)

TOTAL_COLUMNS = (
    Column("match", "Match", 12, flex=True),
    Column("pos", "Pos", 6),
    Column("locked", "Pairs", 5),
    Column("cost", "Cost A/B", 17, priority=2),
    Column("fees", "Fees", 8, priority=1),
    Column("realized", "Locked P&L", 10),
    Column("unrealized", "MTM", 8, priority=1),
    Column("pnl_a", "If A", 9, priority=1, group="pnl"),
    Column("pnl_b", "If B", 9, priority=1, group="pnl"),
    Column("pnl_t", "If draw", 9, priority=2, optional=True),  # only while a three-way match is listed
    *TOTAL_MARKOUT_COLUMNS,
)

LOG_COLUMNS = (
    Column("time", "Time", 8),
    Column("level", "Level", 7, priority=1),
    Column("match", "Match", 12, flex=True, priority=1),  # the message grows first, then the name
    Column("text", "Message", 20, flex=True),
)

ORDER_COLUMNS = (
    Column("team", "Team", 12),
    Column("price", "Price", 7),
    Column("remaining", "Left", 6),
    Column("filled", "Filled", 6),
    Column("state", "State", 9),
    Column("order_id", "Order", 10, priority=1),
)

DECISION_COLUMNS = (
    Column("time", "Time", 8),
    Column("side", "Side", 4),
    Column("price", "Price", 7),
    Column("reason", "Reason / detail"),
)

RUNNING = frozenset({MatchStatus.QUOTING, MatchStatus.DRY_RUN, MatchStatus.STARTING})


def match_name(match: MatchView) -> str:
    if match.spec.name:
        return match.spec.name
    if match.spec.shape is Shape.YES_NO:
        market = match.market_a or match.market_b
        return market.title if market is not None and market.title else match.spec.ticker_a
    a = match.market_a.title if match.market_a else match.spec.ticker_a
    b = match.market_b.title if match.market_b else match.spec.ticker_b
    return f"{a} v {b}"


def team(match: MatchView, side: str) -> str:
    """The name of an outcome ("a", "b", "t"): the team, the tie, or YES / NO of one market."""
    return outcome_name(match, Side(side))


def our_bid(orders: Iterable[OrderView], side: str) -> Price | None:
    """Our best live bid on one side (the price that sits in the book; a NO bid's NO price)."""
    prices = [o.price for o in orders if o.side == side and o.remaining > 0]
    return max(prices) if prices else None


def best_bid(match: MatchView, side: str) -> Price | None:
    book = outcome_book(match, Side(side))
    return book.best_bid if book is not None else None


def outcome_cell(match: MatchView, value: Callable[[Side], Price | None]) -> str:
    """One price per outcome in a narrow cell, home/draw/away order: '45/29/26'."""
    prices = [value(side) for side in match.spec.outcomes]
    return "/".join(DASH if price is None else format_cents(price).removesuffix("c") for price in prices)


PRE_START_PREFIX = "event starts"  # the event_start guard's reason (engine/guards.py)


def is_pre_start_pull(match: MatchView) -> bool:
    """The planned pull before the scheduled start: the engine halts the match, but it is not a fault."""
    return match.status is MatchStatus.HALTED and match.status_reason.startswith(PRE_START_PREFIX)


def match_status(match: MatchView) -> Text:
    """The Status cell: the pre-start pull reads as a grey 'paused', not a red 'halted'."""
    if is_pre_start_pull(match):
        return Text("paused", style="bright_black")
    return status_text(match.status)


def _side_reason(match: MatchView, side: str) -> Cell:
    """The short reason label; wide terminals show the detail (the long form) instead."""
    if is_pre_start_pull(match):
        return Fit(
            reason_text("paused_before_start"),
            reason_text("paused_before_start", match.status_reason, long=True),
        )
    if match.status is MatchStatus.HALTED:
        return Fit(reason_text("halted"), reason_text("halted", match.status_reason, long=True))
    if match.status not in RUNNING:
        return Text(DASH, style="bright_black")
    quote = outcome_quote(match, Side(side))
    if quote is None:
        return Text("deciding…", style="bright_black")
    return Fit(
        reason_text(quote.reason.value, quote.detail),
        reason_text(quote.reason.value, quote.detail, long=True),
    )


DRIFT_WARN = Price(10 * CENT)  # a typed theo this far from the market's mid is probably out of date


def market_mid(match: MatchView, side: str) -> Price | None:
    book = outcome_book(match, Side(side))
    if book is None or book.best_bid is None or book.best_ask is None:
        return None
    return Price((book.best_bid + book.best_ask) // 2)


def theo_drift(match: MatchView) -> tuple[str, Price, Price] | None:
    """The side whose market mid moved furthest from a typed theo while quoting (side, mid, theo).

    A feed theo follows the line by itself; a typed one does not, and the quotes keep sitting
    under an old price while the market moves away (the demo's 20–35c drifts)."""
    if match.spec.theo.from_feed or match.status not in RUNNING:
        return None
    worst: tuple[int, str, Price, Price] | None = None
    for outcome in match.spec.outcomes:
        side, theo = outcome.value, outcome_theo(match, outcome)
        mid = market_mid(match, side)
        if mid is None or theo is None:
            continue
        gap = abs(mid - theo)
        if gap >= DRIFT_WARN and (worst is None or gap > worst[0]):
            worst = (gap, side, mid, theo)
    return None if worst is None else worst[1:]


def drift_text(match: MatchView) -> str:
    drift = theo_drift(match)
    if drift is None:
        return ""
    side, mid, theo = drift
    return (
        f"market {outcome_word(match, Side(side))} moved to {format_cents(mid)} (mid), "
        f"{format_cents(abs(mid - theo))} from your theo {format_cents(theo)}: "
        "update the theo (e) or stop (x)"
    )


def _theo_cell(match: MatchView) -> Cell:
    """Exact theos ('47.13/25.65/27.22'); a column too narrow for them shows them to the nearest cent,
    marked '≈' (the live view and the wide table keep the exact figures)."""
    exact = outcome_cell(match, lambda side: outcome_theo(match, side))
    near = outcome_cell(match, lambda side: _nearest_cent(outcome_theo(match, side)))
    drift = theo_drift(match) is not None

    def styled(text: str) -> Text | str:
        return Text(f"{text}⚠", style="bold yellow") if drift else text

    if near == exact:
        return styled(exact)
    return Fit(short=styled(f"≈{near}"), long=styled(exact))


def _nearest_cent(price: Price | None) -> Price | None:
    return None if price is None else Price((price + CENT // 2) // CENT * CENT)


def match_row(match: MatchView) -> Row:
    inv = match.inventory
    cells: dict[str, Cell] = {
        "match": match_name(match),
        "status": match_status(match),
        "theo": _theo_cell(match),
        "bid": outcome_cell(match, lambda side: our_bid(match.orders, side.value)),
        "best": outcome_cell(match, lambda side: best_bid(match, side.value)),
        "pos": outcome_position(match),
        "locked": format_contracts(locked_sets(match)),
        "pnl_a": usd(inv.pnl_if(Side.A)),
        "pnl_b": usd(inv.pnl_if(Side.B)),
        **_tie_pnl(match),
        "reason_a": _side_reason(match, "a"),
        "reason_b": _side_reason(match, "b"),
        **_tie_reason(match),
    }
    return match.spec.match_id, cells


def _tie_pnl(match: MatchView) -> dict[str, Cell]:
    """'If draw' is a three-way match's third outcome; other shapes have no such cell (the column
    shows only while some row has one)."""
    if Side.T not in match.spec.outcomes:
        return {}
    return {"pnl_t": usd(match.inventory.pnl_if(Side.T))}


def _tie_reason(match: MatchView) -> dict[str, Cell]:
    """The draw's reason, a three-way match's only (its column shows only while some row has one)."""
    return {"reason_t": _side_reason(match, "t")} if Side.T in match.spec.outcomes else {}


def all_fills(matches: Sequence[MatchView]) -> list[tuple[MatchView, FillView]]:
    """Every fill of every match, newest first."""
    rows = [(m, f) for m in matches for f in m.fills]
    rows.sort(key=lambda mf: (mf[1].ts_ms, mf[1].trade_id), reverse=True)
    return rows


def fill_row(match: MatchView, fill: FillView, tz: tzinfo | None) -> Row:
    cells: dict[str, Cell] = {
        "time": clock(fill.ts_ms, tz),
        "match": match_name(match),
        "team": team(match, fill.side),
        "side": LETTERS[match.spec.shape][Side(fill.side)],
        "price": format_cents(fill.price),
        "count": format_contracts(fill.count),
        "fee": fee(fill.fee),
        "role": Text("taker", style="yellow") if fill.is_taker else "maker",
        "cost": format_usd(Money(fill.price * fill.count)),
        **fill_markout_cells(match, fill),
    }
    return f"{match.spec.match_id}|{fill.trade_id}", cells


def unrealized(
    inv: Inventory,
    book_a: Book | None,
    book_b: Book | None,
    book_t: Book | None = None,
    outcomes: tuple[Side, ...] = (Side.A, Side.B),
) -> Money | None:
    """Mark-to-market of the contracts outside locked sets: best bid value minus their share of cost
    (display only). ``book_b`` is the book a bidder for B sees (for one YES/NO market: the NO side).

    Locked sets (pairs) are worth exactly $1 and count as realized (``locked_set_profit``); only the
    excess of each outcome over the least-held one is exposed. Its cost share is pro rata of that
    outcome's cost, floored.
    """
    books = {Side.A: book_a, Side.B: book_b, Side.T: book_t}
    sets = inv.locked_sets(outcomes)
    total = 0
    for side in outcomes:
        count = inv.count_long(side)
        excess = count - sets
        if excess == 0:
            continue
        book = books[side]
        bid = book.best_bid if book is not None else None
        if bid is None:
            return None
        total += bid * excess - inv.cost_long(side) * excess // count
    return Money(total)


def match_unrealized(match: MatchView) -> Money | None:
    return unrealized(
        match.inventory,
        outcome_book(match, Side.A),
        outcome_book(match, Side.B),
        outcome_book(match, Side.T) if Side.T in match.spec.outcomes else None,
        match.spec.outcomes,
    )


def total_row(match: MatchView) -> Row:
    inv = match.inventory
    cells: dict[str, Cell] = {
        "match": match_name(match),
        "pos": outcome_position(match),
        "locked": format_contracts(locked_sets(match)),
        "cost": "/".join(format_usd(inv.cost_long(side)) for side in match.spec.outcomes),
        "fees": fee(inv.fees),
        "realized": usd(inv.locked_set_profit(match.spec.outcomes)),
        "unrealized": usd(match_unrealized(match)),
        "pnl_a": usd(inv.pnl_if(Side.A)),
        "pnl_b": usd(inv.pnl_if(Side.B)),
        **_tie_pnl(match),
        **total_markout_cells(match),
    }
    return match.spec.match_id, cells


def totals_summary(matches: Sequence[MatchView]) -> Text:
    """One line across all matches: fees, locked P&L, MTM, worst-case outcome P&L."""
    fees = sum(m.inventory.fees for m in matches)
    locked = sum(m.inventory.locked_set_profit(m.spec.outcomes) for m in matches)
    worst = sum(worst_pnl(m) for m in matches)
    marks = [match_unrealized(m) for m in matches]
    known = [v for v in marks if v is not None]
    text = Text(f"{len(matches)} matches  fees {fee(Money(fees))}  locked ")
    text.append_text(usd(Money(locked)))
    text.append("  MTM ")
    text.append_text(usd(Money(sum(known))) if len(known) == len(marks) else Text("partial", style="yellow"))
    text.append("  worst case ")
    text.append_text(usd(Money(worst)))
    return text


def log_key(line: LogLine, seen: dict[str, int]) -> str:
    base = f"{line.ts_ms}|{line.match_id}|{line.text}"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return f"{base}|{n}"


def log_rows(
    lines: Sequence[LogLine], names: dict[str, str], tz: tzinfo | None, *, include_info: bool
) -> list[Row]:
    seen: dict[str, int] = {}
    rows: list[Row] = []
    for line in lines:
        key = log_key(line, seen)
        if line.level is Level.INFO and not include_info:
            continue
        cells: dict[str, Cell] = {
            "time": clock(line.ts_ms, tz),
            "level": level_text(line.level),
            "match": names.get(line.match_id, line.match_id) if line.match_id else DASH,
            "text": Text(line.text, style="yellow" if line.level is Level.WARNING else ""),
        }
        rows.append((key, cells))
    return rows


def order_row(match: MatchView, order: OrderView) -> Row:
    cells: dict[str, Cell] = {
        "team": team(match, order.side),
        "price": format_cents(order.price),
        "remaining": format_contracts(order.remaining),
        "filled": format_contracts(order.filled),
        "state": order.state,
        "order_id": (order.order_id or "pending")[:10],
    }
    return order.client_order_id, cells


def decision_row(entry: DecisionLogEntry, seen: dict[str, int], tz: tzinfo | None) -> Row:
    cells: dict[str, Cell] = {
        "time": clock(entry.ts_ms, tz),
        "side": entry.side.upper(),
        "price": cents(entry.price),
        "reason": reason_text(entry.reason, entry.detail, long=True),
    }
    base = f"{entry.ts_ms}|{entry.side}|{entry.reason}|{entry.price}"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return f"{base}|{n}", cells
