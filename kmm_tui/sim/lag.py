"""Reads that lag writes: the REST view of orders, fills and positions as it stood a moment ago.

Kalshi serves ``GET /portfolio/orders|fills|positions`` from replicas that trail the matching engine
(one capture showed an order ``resting`` 360 ms after its cancel was acknowledged, §5.3, §11.7). While
``Fidelity.read_lag_ms`` is on, this listener keeps a short history of every order and position
version and of when each fill arrived, stamped with the real monotonic clock; a read then asks for
the state at ``now − lag``. History older than the lag window is pruned as it is recorded.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from kmm_tui.sim.events import FillEvent, OrderEvent, PositionEvent, SimEvent
from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.model import Account, Fill, Order, Position

T = TypeVar("T")


class ReadHistory:
    """Versions of orders and positions, and fill arrival times, for lagged reads."""

    def __init__(self, exchange: Exchange, mono_ms: Callable[[], int]) -> None:
        self.exchange = exchange
        self.mono_ms = mono_ms
        self._orders: dict[str, list[tuple[int, Order]]] = {}
        self._positions: dict[tuple[str, str], list[tuple[int, Position]]] = {}
        # per account: (arrival ms, number of fills the account had right after it)
        self._fills: dict[str, list[tuple[int, int]]] = {}
        exchange.listeners.append(self.on_event)

    def on_event(self, event: SimEvent) -> None:
        window = self.exchange.fidelity.read_lag_ms
        if window <= 0:
            return
        now = self.mono_ms()
        if isinstance(event, OrderEvent):
            _record(self._orders.setdefault(event.order.order_id, []), now, replace(event.order), window)
        elif isinstance(event, PositionEvent):
            account = self.exchange.accounts[event.account_id]
            key = (event.account_id, event.ticker)
            _record(self._positions.setdefault(key, []), now, replace(account.position(event.ticker)), window)
        elif isinstance(event, FillEvent):
            account_id = event.fill.account_id
            marks = self._fills.setdefault(account_id, [])
            marks.append((now, len(self.exchange.accounts[account_id].fills)))
            while len(marks) > 1 and marks[1][0] <= now - window:
                marks.pop(0)

    def as_of(self, lag_ms: int) -> int:
        """The monotonic time a read with this lag looks at."""
        return self.mono_ms() - lag_ms

    def orders(self, account: Account, at: int | None) -> list[Order]:
        """The account's orders as seen at ``at`` (None = live): newer orders are not there yet."""
        if at is None:
            return list(account.orders.values())
        out = []
        for order in account.orders.values():
            seen = self.order(order, at)
            if seen is not None:
                out.append(seen)
        return out

    def order(self, order: Order, at: int | None) -> Order | None:
        versions = self._orders.get(order.order_id)
        if at is None or not versions:
            return order
        return _version_at(versions, at)

    def fills(self, account: Account, at: int | None) -> list[Fill]:
        marks = self._fills.get(account.account_id)
        if at is None or not marks:
            return account.fills
        i = bisect_right([t for t, _ in marks], at)
        visible = marks[i - 1][1] if i > 0 else marks[0][1] - 1
        return account.fills[:visible]

    def positions(self, account: Account, at: int | None) -> dict[str, Position]:
        out: dict[str, Position] = {}
        for ticker, pos in account.positions.items():
            versions = self._positions.get((account.account_id, ticker))
            seen = pos if at is None or not versions else _version_at(versions, at)
            if seen is not None:
                out[ticker] = seen
        return out


def _record(versions: list[tuple[int, T]], now: int, value: T, window: int) -> None:
    versions.append((now, value))
    while len(versions) > 1 and versions[1][0] <= now - window:
        versions.pop(0)


def _version_at(versions: list[tuple[int, T]], at: int) -> T | None:
    """The newest version recorded at or before ``at``; None if the thing did not exist yet."""
    found = None
    for stamp, value in versions:
        if stamp > at:
            break
        found = value
    return found
