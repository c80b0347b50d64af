"""One market's order-book ladder: asks above, bids below, our orders marked, the ceiling drawn.

For one YES/NO market the YES book carries both our orders: our YES bids among the bids, and our NO
bids at q as asks at 100c − q (with the NO ceiling drawn among the asks as its YES price, a floor).

The lines are built by a pure function (``ladder_text``) so the layout rules — where the ceiling
line goes, how our size is shown inside a level — are tested without a running app.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Price, format_cents, format_contracts, no_price
from kmm_tui.tui.format import truncate

OUR_MARK = "◆"


DEFAULT_WIDTH = 34
MIN_WIDTH = 24  # "bid    44c  1,500 ◆1,000": a level with our marker still fits


def _level(kind: str, price: Price, size: Count, ours: int, width: int, style: str) -> Text:
    mine = f"{OUR_MARK}{format_contracts(ours)}" if ours else ""
    line = f"{kind} {format_cents(price):>7} {format_contracts(size):>8} {mine:<7}"
    if len(line.rstrip()) > width:  # a narrow column: close the gaps before cutting anything
        line = f"{kind} {format_cents(price):>6} {format_contracts(size):>6} {mine}"
    return Text(line[:width].ljust(width), style=style + (" bold" if ours else ""))


def ladder_text(
    title: str,
    book: Book | None,
    ours: Iterable[tuple[Price, Count]] = (),
    ceiling: Price | None = None,
    *,
    our_asks: Iterable[tuple[Price, Count]] = (),
    ask_floor: Price | None = None,
    depth: int = 5,
    width: int = DEFAULT_WIDTH,
) -> Text:
    """Render ``depth`` levels each side. ``ours`` are our resting bids (price, remaining);
    ``our_asks`` our resting asks in YES prices and ``ask_floor`` the lowest YES price we may ask at
    (a NO bid's ceiling, flipped)."""
    mine = _by_price(ours)
    mine_asks = _by_price(our_asks)
    out = Text(truncate(title, width).ljust(width) + "\n", style="bold")
    if book is None:
        out.append("no book yet".ljust(width) + "\n", style="bright_black")
        return out
    asks = list(book.asks[:depth])
    lines: list[Text] = []
    floor_drawn = ask_floor is None
    for price, size in reversed(asks):
        if not floor_drawn and ask_floor is not None and price < ask_floor:
            lines.append(_floor_line(ask_floor, width))
            floor_drawn = True
        lines.append(_level("ask", price, size, mine_asks.get(price, 0), width, "red") + "\n")
    if not floor_drawn and ask_floor is not None:
        lines.append(_floor_line(ask_floor, width))
    for line in lines:
        out.append_text(line)
    for _ in range(depth + (ask_floor is not None) - len(lines)):
        out.append(" " * width + "\n")
    bid, ask = book.best_bid, book.best_ask
    spread = f" spread {format_cents(ask - bid)} " if bid is not None and ask is not None else " one-sided "
    out.append(spread.center(width, "─") + "\n", style="bright_black")
    ceiling_drawn = ceiling is None
    rows = 0
    for price, size in book.bids[:depth]:
        if not ceiling_drawn and ceiling is not None and price < ceiling:
            out.append(_ceiling_line(ceiling, width))
            ceiling_drawn, rows = True, rows + 1
        out.append_text(_level("bid", price, size, mine.get(price, 0), width, "green"))
        out.append("\n")
        rows += 1
    if not ceiling_drawn and ceiling is not None:
        out.append(_ceiling_line(ceiling, width))
        rows += 1
    for _ in range(depth + 1 - rows):
        out.append(" " * width + "\n")
    return out


def _ceiling_line(ceiling: Price, width: int) -> Text:
    return Text(f" ceiling {format_cents(ceiling)} ".center(width, "┄") + "\n", style="yellow")


def _floor_line(floor: Price, width: int) -> Text:
    """A NO bid's ceiling q drawn where it sits on the YES book: at the ask 100c − q."""
    label = f" NO ceiling {format_cents(no_price(floor))} "
    return Text(label.center(width, "┄") + "\n", style="yellow")


def _by_price(levels: Iterable[tuple[Price, Count]]) -> dict[int, int]:
    mine: dict[int, int] = {}
    for price, remaining in levels:
        mine[price] = mine.get(price, 0) + remaining
    return mine


class Ladder(Static):
    """Shows one ladder; ``show`` is cheap to call on every refresh (it skips identical frames)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="ladder")
        self._last: str | None = None

    def show(
        self,
        title: str,
        book: Book | None,
        ours: Iterable[tuple[Price, Count]],
        ceiling: Price | None,
        *,
        our_asks: Iterable[tuple[Price, Count]] = (),
        ask_floor: Price | None = None,
    ) -> None:
        # Lines fill the column the layout gave the ladder (three side by side are narrower than one);
        # before the first layout the content width is 0 and the default width is used.
        fit = self.content_size.width
        width = max(MIN_WIDTH, fit) if fit else DEFAULT_WIDTH
        text = ladder_text(
            title, book, ours, ceiling, width=width, our_asks=our_asks, ask_floor=ask_floor
        )
        key = text.plain + repr(text.spans)
        if key != self._last:
            self._last = key
            self.update(text)
