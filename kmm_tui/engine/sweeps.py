"""Execution's REST backup: periodic reads that catch what the WebSocket did not tell us.

The feed can drop a ``user_order`` message, and a write can end without an answer. Every few seconds
the engine's upkeep asks this module to look up orders whose state is unknown; every 15 s it compares
our resting orders with a REST read — an order of ours that stopped resting silently is looked up, and
a resting order with our prefix that this session does not know is cancelled.
"""

from __future__ import annotations

from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Level
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.engine.match import Matches
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, OrderBook, OrderState

READ_LAG_MS = 5_000  # REST reads lag writes: the order backup judges only orders older than this


class Sweeps:
    """The REST backup of our orders' state (engine loop only)."""

    def __init__(self, bus: Bus, port: ExchangePort, matches: Matches, orders: OrderBook) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self._orders = orders

    async def reconcile_orders(self) -> None:
        """Back up the WebSocket with a REST read: our orders that stopped resting without us hearing,
        and resting orders with our prefix that we do not know (cancelled at once)."""
        resting = await self._x.resting_order_ids()
        if resting is None:
            return
        settled_before = self._bus.clock() - READ_LAG_MS  # REST reads lag writes: judge only older orders
        for order in self._orders.live():
            if (
                order.state is OrderState.RESTING
                and not order.busy
                and order.last_write_ms < settled_before
                and order.order_id not in resting
            ):
                order.busy = True
                try:
                    await self._x.resolve(order)
                finally:
                    order.busy = False
                if (match := self._matches.get(order.match_id)) is not None:
                    match.wake.set()
        known = {o.order_id for o in self._orders.all()}
        stray = [
            oid
            for oid, cid in resting.items()
            if oid not in known and (cid or "").startswith(CLIENT_ID_PREFIX)
        ]
        if stray:
            self._bus.log(
                Level.WARNING,
                f"{len(stray)} resting order(s) of ours not tracked by this session: cancelling",
            )
            await self._x.cancel_all_ours(keep=frozenset(known))

    def forget_finished(self) -> None:
        """Drop old finished orders so the index does not grow without bound."""
        for match_id in self._matches:
            self._orders.forget_finished(match_id)

    async def resolve_unknown(self) -> None:
        """Look up every order whose last write got no answer and is not being looked up already."""
        unknown = [o for o in self._orders.live() if o.state is OrderState.UNKNOWN and not o.busy]
        for order in unknown:
            await self._x.resolve(order)
            if (match := self._matches.get(order.match_id)) is not None:
                match.wake.set()
