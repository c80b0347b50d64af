"""Portfolio: what we hold. Fills in, inventory per match out; exchange positions and the balance.

Every fill of ours becomes exactly one inventory change (deduplicated by trade id, journaled first), in
the domain's ``Inventory`` (count and cost per outcome, fees). A single market's NO side fills as an ask
on the YES book: it is outcome B at 100c − the YES price, and is journaled so. Positions read from the
exchange are kept beside it for the drift guard (``risk``, which compares a single market's net position
YES − NO with count A − count B); the account balance for the front-ends.
"""

from __future__ import annotations

from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Money, format_cents, format_contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import BalanceChanged, Filled, InventoryChanged, Level
from kmm_tui.engine.exchange import ExchangePort, FillSeen, PositionSeen, side_price
from kmm_tui.engine.journal import Journal, JournalFill
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.match import Matches, MatchRuntime
from kmm_tui.engine.orders import OrderState, OwnOrder
from kmm_tui.engine.state import FillView


def inventory_from_fills(fills: list[JournalFill]) -> Inventory:
    """A match's inventory is a pure function of its journaled fills, oldest first."""
    inventory = Inventory()
    for fill in sorted(fills, key=lambda f: (f.ts_ms, f.trade_id)):
        inventory = inventory.apply_fill(Side(fill.side), fill.price, fill.count, fill.fee)
    return inventory


class Portfolio:
    """Inventory per match, exchange positions and balance (engine loop only)."""

    def __init__(
        self, bus: Bus, port: ExchangePort, matches: Matches, orders: OrderLedger, journal: Journal | None
    ) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self._orders = orders
        self._journal = journal
        self.positions: dict[str, Count] = {}
        self.balance: Money | None = None

    def on_fill(self, fill: FillSeen) -> None:
        owner = self._fill_owner(fill)
        if owner is None:
            return  # not ours (another tool on the same account); drift shows in positions
        match, side, order = owner
        if fill.trade_id in match.seen_trades:
            return
        match.seen_trades.add(fill.trade_id)
        if fill.book_side != ("ask" if match.spec.is_no(side) else "bid"):
            self._bus.log(Level.WARNING, f"unexpected {fill.book_side} fill on {fill.ticker}", match.match_id)
            return
        price = side_price(fill.book_side, fill.price)  # what the outcome cost: a NO bid's NO price
        view = FillView(
            fill.trade_id,
            fill.ticker,
            side.value,
            price,
            fill.count,
            fill.fee,
            fill.is_taker,
            fill.ts_ms,
        )
        if not self._bus.rec.fill(match.match_id, fill.order_id, view):
            return  # journaled before (seen by an earlier run): already in the inventory
        if order is not None:
            order.filled = Count(min(order.initial, order.filled + fill.count))
            if order.filled >= order.initial:
                order.state = OrderState.EXECUTED
        match.inventory = match.inventory.apply_fill(side, price, fill.count, fill.fee)
        now = self._bus.clock()
        match.fills.appendleft(view)
        self._bus.emit(
            Filled(
                match.match_id,
                fill.ticker,
                side.value,
                fill.trade_id,
                fill.order_id,
                price,
                fill.count,
                fill.fee,
                fill.is_taker,
                fill.ts_ms,
            )
        )
        self._bus.emit(InventoryChanged(match.match_id, match.inventory, now))
        self._bus.log(
            Level.INFO,
            f"filled {format_contracts(fill.count)} {match.spec.label(side)} @ {format_cents(price)}",
            match.match_id,
        )
        match.wake.set()

    def _fill_owner(self, fill: FillSeen) -> tuple[MatchRuntime, Side, OwnOrder | None] | None:
        """Which match and side a fill belongs to: our live orders first, then the journal's history."""
        order = self._orders.by_order_id(fill.order_id) or self._orders.by_client(fill.client_order_id)
        if order is not None:
            match = self._matches.get(order.match_id)
            return (match, order.side, order) if match is not None else None
        if self._journal is None:
            return None
        record = self._journal.order_by_order_id(fill.order_id)
        if record is None and fill.client_order_id:
            record = self._journal.order_by_client_id(fill.client_order_id)
        match = self._matches.get(record.match_id) if record is not None else None
        if record is None or match is None:
            return None
        return match, Side(record.side), None

    def on_position(self, event: PositionSeen) -> None:
        self.positions[event.ticker] = event.position

    def correct(self, correction: cmd.CorrectInventory) -> None:
        """A person's count of what is held replaces ours (fees so far are kept)."""
        match = self._matches.get(correction.match_id)
        if match is None:
            raise EngineError(f"there is no match {correction.match_id!r}")
        try:
            match.inventory = match.inventory.corrected(
                correction.count_long_a,
                correction.count_long_b,
                correction.avg_cost_a,
                correction.avg_cost_b,
                correction.count_long_t if match.three_way else None,
                correction.avg_cost_t,
            )
        except ValueError as error:
            raise EngineError(str(error), field="count_long_a") from None
        match.corrected_ms = self._bus.clock()
        self._bus.log(
            Level.WARNING,
            "inventory corrected by hand: "
            + ", ".join(f"{side.name} {format_contracts(match.inventory.count_long(side))}"
                        for side in match.outcomes),
            match.match_id,
        )
        self._bus.emit(InventoryChanged(match.match_id, match.inventory, self._bus.clock()))
        match.wake.set()

    async def sync_positions(self) -> None:
        """Read the exchange's positions on every market we trade (feeds the drift guard)."""
        tickers = sorted({t for m in self._matches.values() for t in m.spec.tickers})
        if not tickers:
            return
        positions = await self._x.positions(tickers)
        if positions is not None:
            self.positions.update(positions)

    async def refresh_balance(self) -> None:
        balance = await self._x.balance()
        if balance is not None and balance != self.balance:
            self.balance = balance
            self._bus.emit(BalanceChanged(balance, self._bus.clock()))
