"""One market's resting orders with price-time priority.

Both queues are keyed by the YES price: ``bids`` hold ``side == "bid"`` (buy YES) orders, ``asks`` hold
``side == "ask"`` (buy NO at 1 − price) orders. Keeping one price axis makes crossing a plain
comparison; the NO-leg view Kalshi publishes is derived only when serialising.
"""

from __future__ import annotations

from kmm_tui.domain.prices import PRICE_SCALE
from kmm_tui.sim.model import Order


class OrderBook:
    """Price levels of FIFO queues. Small books (tens of levels) make linear best-price scans cheap."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, list[Order]] = {}
        self.asks: dict[int, list[Order]] = {}

    def _side(self, side: str) -> dict[int, list[Order]]:
        return self.bids if side == "bid" else self.asks

    def add(self, order: Order) -> None:
        """Append at the back of its level (time priority is arrival order within a price)."""
        self._side(order.side).setdefault(order.price, []).append(order)

    def remove(self, order: Order) -> None:
        levels = self._side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            return
        for i, resting in enumerate(queue):
            if resting is order:
                del queue[i]
                break
        if not queue:
            del levels[order.price]

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def best_opposite(self, side: str, limit: int) -> int | None:
        """Best resting price an incoming order on ``side`` with YES ``limit`` would trade at, if any."""
        if side == "bid":
            ask = self.best_ask()
            return ask if ask is not None and ask <= limit else None
        bid = self.best_bid()
        return bid if bid is not None and bid >= limit else None

    def crossing_orders(self, side: str, limit: int) -> list[Order]:
        """Resting orders an incoming ``side`` order at ``limit`` could hit, in priority order."""
        if side == "bid":
            prices = sorted(p for p in self.asks if p <= limit)
            return [o for p in prices for o in self.asks[p]]
        prices = sorted((p for p in self.bids if p >= limit), reverse=True)
        return [o for p in prices for o in self.bids[p]]

    def level(self, side: str, price: int) -> list[Order]:
        return self._side(side).get(price, [])

    def yes_levels(self) -> dict[int, int]:
        """YES bids: {YES price: total count}."""
        return {p: sum(o.remaining for o in q) for p, q in self.bids.items()}

    def no_levels(self) -> dict[int, int]:
        """NO bids on the NO leg: {NO price: total count} (an ask at YES p is a NO bid at 1 − p)."""
        return {PRICE_SCALE - p: sum(o.remaining for o in q) for p, q in self.asks.items()}

    def orders(self) -> list[Order]:
        return [o for q in self.bids.values() for o in q] + [o for q in self.asks.values() for o in q]
