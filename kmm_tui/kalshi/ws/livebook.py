"""One market's live order book: per-leg sizes and the YES-terms :class:`Book`, updated delta by delta."""

from __future__ import annotations

from dataclasses import dataclass, field

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Price, no_price


@dataclass(slots=True)
class _LiveBook:
    """Per-leg sizes plus the YES-terms :class:`Book` kept up to date delta by delta.

    A delta replaces one level of one side's tuple instead of re-sorting both legs (the book used to be
    rebuilt from the dicts on every delta, the larger half of the feed's cost per frame).
    """

    yes: dict[Price, Count] = field(default_factory=dict)
    no: dict[Price, Count] = field(default_factory=dict)
    stale: bool = True
    seq: int | None = None
    book: Book = field(default_factory=Book)

    def reset(self, yes: dict[Price, Count], no: dict[Price, Count]) -> None:
        self.yes, self.no = yes, no
        self.book = Book.from_legs(yes, no)

    def apply(self, side: str, price: Price, delta: int) -> None:
        """One signed delta on one leg (NO prices are NO-leg, as on the wire)."""
        levels = self.yes if side == "yes" else self.no
        size = levels.get(price, 0) + delta
        if size > 0:
            levels[price] = Count(size)
        else:
            levels.pop(price, None)
            size = 0
        if side == "yes":
            self.book = Book(_with_level(self.book.bids, price, size, descending=True), self.book.asks)
        else:
            asks = _with_level(self.book.asks, no_price(price), size, descending=False)
            self.book = Book(self.book.bids, asks)


def _with_level(
    levels: tuple[tuple[Price, Count], ...], price: Price, size: int, *, descending: bool
) -> tuple[tuple[Price, Count], ...]:
    """``levels`` (best first) with the level at ``price`` set to ``size`` (0 removes it)."""
    for i, (at, _) in enumerate(levels):
        if at == price:
            if size > 0:
                return (*levels[:i], (price, Count(size)), *levels[i + 1 :])
            return levels[:i] + levels[i + 1 :]
        if (at < price) if descending else (at > price):
            return (*levels[:i], (price, Count(size)), *levels[i:]) if size > 0 else levels
    return (*levels, (price, Count(size))) if size > 0 else levels
