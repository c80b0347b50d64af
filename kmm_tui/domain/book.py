"""One market's order book as the quoting code sees it: YES bids and the YES asks implied by NO bids.

Kalshi books hold bids only: YES bids and NO bids. A NO bid at q is an offer to sell YES at 1 - q,
so the best YES ask is ``1 - best NO bid``. Levels here are kept in YES terms throughout, best first,
so nobody downstream has to remember which leg a number came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kmm_tui.domain.prices import Count, Price, no_price
from kmm_tui.domain.values import quick_init

Level = tuple[Price, Count]


@quick_init
@dataclass(frozen=True, slots=True)
class Book:
    """Visible YES-terms book: ``bids`` best (highest) first, ``asks`` best (lowest) first."""

    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()

    @classmethod
    def from_legs(cls, yes_bids: Mapping[int, int], no_bids: Mapping[int, int]) -> Book:
        """Build from per-leg bid maps ``{price: count}`` (NO prices are NO-leg, as on the wire)."""
        bids = tuple(sorted(((Price(p), Count(c)) for p, c in yes_bids.items() if c > 0), reverse=True))
        asks = tuple(sorted((no_price(p), Count(c)) for p, c in no_bids.items() if c > 0))
        return cls(bids, asks)

    @property
    def best_bid(self) -> Price | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Price | None:
        return self.asks[0][0] if self.asks else None

    @property
    def is_crossed(self) -> bool:
        bid, ask = self.best_bid, self.best_ask
        return bid is not None and ask is not None and bid >= ask

    def bid_size_at(self, price: int) -> Count:
        for level_price, size in self.bids:
            if level_price == price:
                return size
        return Count(0)

    def flipped(self) -> Book:
        """The same market seen by a NO bidder: its bids are the NO bids (a YES ask at p is a NO bid at
        100c − p), its asks the YES bids flipped. Best-first order is kept by the flip."""
        return Book(
            tuple((no_price(p), c) for p, c in self.asks), tuple((no_price(p), c) for p, c in self.bids)
        )

    def without(self, own_bids: Iterable[Level] = (), own_asks: Iterable[Level] = ()) -> Book:
        """The book minus our own resting orders (YES terms), so we never react to ourselves."""
        bids = _subtract(self.bids, own_bids)
        asks = _subtract(self.asks, own_asks)
        return Book(bids, asks)


def _subtract(levels: tuple[Level, ...], own: Iterable[Level]) -> tuple[Level, ...]:
    mine: dict[int, int] = {}
    for price, size in own:
        mine[price] = mine.get(price, 0) + size
    if not mine:
        return levels
    out = []
    for price, size in levels:
        left = size - mine.get(price, 0)
        if left > 0:
            out.append((price, Count(left)))
    return tuple(out)
