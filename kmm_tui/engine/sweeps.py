"""Execution's REST backup: periodic reads that catch what the WebSocket did not tell us.

The feed can drop a ``user_order`` message, and a write can end without an answer or be rejected. Every
few seconds the engine's upkeep asks this module to look up orders whose state is unknown and to compare
the ledger with a REST read of our resting orders — an order of ours that stopped resting silently is
looked up, and a resting order with our prefix that the ledger does not own as live is cancelled.
"""

from __future__ import annotations

from collections import deque

from kmm_tui.domain.prices import format_cents
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Level
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.match import Matches
from kmm_tui.engine.orders import NOT_FOUND_AFTER_MS, OrderState
from kmm_tui.kalshi.errors import KalshiError

READ_LAG_MS = 5_000  # REST reads lag writes: the order backup judges only orders older than this


class Sweeps:
    """The REST backup of our orders' state (engine loop only)."""

    def __init__(self, bus: Bus, port: ExchangePort, matches: Matches, orders: OrderLedger) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self._orders = orders
        self.strays_cancelled = 0  # resting orders of ours the ledger did not own (should stay 0)
        # (client id, known to the ledger as finished) of the latest strays; bounded for long sessions
        self.strays: deque[tuple[str, bool]] = deque(maxlen=100)

    async def reconcile_orders(self) -> None:
        """Compare the ledger with one REST read of our resting orders (``OrderLedger.sweep``): cancel,
        verified, every resting order of ours the ledger does not own as live, and read back every live
        order the exchange no longer shows. Returns after one round; the upkeep repeats it."""
        try:
            found = await self._x.resting_orders_of_ours()
        except KalshiError as error:
            self._bus.log(Level.WARNING, f"resting orders not readable: {error.user_message}")
            return
        plan = self._orders.sweep(
            {o.order_id: o.client_order_id for o in found}, self._bus.clock() - READ_LAG_MS
        )
        for order in plan.look_up:
            order.busy = True
            try:
                await self._x.resolve(order)
            finally:
                order.busy = False
            self._orders.bind_read_back(order)
            if (match := self._matches.get(order.match_id)) is not None:
                match.wake.set()
        if plan.cancel:
            strays = [o for o in found if o.order_id in plan.cancel]
            self.strays_cancelled += len(strays)
            self.strays.extend(
                (o.client_order_id or "", self._orders.find(o.order_id, o.client_order_id) is not None)
                for o in strays
            )
            self._bus.log(
                Level.WARNING,
                f"{len(strays)} resting order(s) of ours that the ledger does not own as live: cancelling "
                + ", ".join(f"{o.ticker} @ {format_cents(o.price)}" for o in strays),
            )
            left = await self._x.cancel_resting(strays)
            if left:
                self._bus.log(Level.ERROR, f"{left} stray order(s) still resting after cancel")

    def forget_finished(self) -> None:
        """Drop old finished orders so the index does not grow without bound."""
        for match_id in self._matches:
            self._orders.forget_finished(match_id)

    async def resolve_unknown(self) -> None:
        """Look up every order whose last write got no answer and is not being looked up already."""
        unknown = [o for o in self._orders.live() if o.state is OrderState.UNKNOWN and not o.busy]
        settled_before = self._bus.clock() - NOT_FOUND_AFTER_MS
        for order in unknown:
            await self._x.resolve(order, conclusive=order.last_write_ms < settled_before)
            self._orders.bind_read_back(order)
            if (match := self._matches.get(order.match_id)) is not None:
                match.wake.set()
