"""Execution: desired quotes in, order writes out, and every answer folded back into our orders.

Owns our orders' lifecycle after the strategy has decided: ``reconciler.plan_side`` turns a desired
quote into the fewest writes; this module sends them through the exchange port (create / amend /
decrease / cancel), applies each ``WriteOutcome`` and each WebSocket ``user_order`` to the ``OrderLedger``,
looks up writes that got no answer, and pulls a match's orders when it halts. Order groups (the
exchange-side kill switch) are opened and closed here too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, no_price
from kmm_tui.domain.quoting import Decision
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import Level, OrderAction, OrderChanged
from kmm_tui.engine.exchange import (
    ExchangePort,
    GroupTriggered,
    OrderIntent,
    OrderUpdate,
    WriteOutcome,
    side_price,
)
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.match import RUNNING, Matches, MatchRuntime, join_runner, set_status
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.orders import NOT_FOUND_AFTER_MS, OrderState, OwnOrder, new_client_order_id
from kmm_tui.engine.reconciler import (
    Action,
    Amend,
    Cancel,
    Create,
    Decrease,
    Priority,
    order_actions,
    plan_side,
)
from kmm_tui.engine.risk import Risk
from kmm_tui.engine.write_gate import WriteGate
from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.models import Order

EXPIRY_AFTER_PULL_S = 60  # orders expire on the exchange this long after the planned pre-start pull
IN_FLIGHT_LOOKUP_S = 1.0  # a create unanswered this long is looked for on the exchange meanwhile


class Execution:
    """Writes of every match and their outcomes (engine loop only)."""

    def __init__(
        self, bus: Bus, port: ExchangePort, matches: Matches, orders: OrderLedger, risk: Risk
    ) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self.orders = orders
        self._risk = risk
        self.gate = WriteGate.for_port(port)  # writes wait for tokens before they are planned

    # --- desired quotes -> writes -------------------------------------------------------------------

    async def pursue(self, match: MatchRuntime, decision: Decision) -> None:
        """Make the match's resting orders what ``decision`` wants, in one round of writes."""
        actions: list[Action] = []
        for side, quote in decision.quotes:
            orders = self.orders.live(match.match_id, side)
            actions.extend(plan_side(side, quote.price, quote.size, orders))
        if not actions:
            return
        ordered = order_actions(actions)
        if self.gate is not None and not await self.gate.admit(match.match_id, ordered):
            match.wake.set()  # the tokens are here now: decide again on the current book (write_gate.py)
            return
        if len(ordered) == 1:  # the usual round (one amend): no task, so no wait for the loop's next turn
            await self._apply(match, ordered[0])
        else:
            await asyncio.gather(*(self._apply(match, action) for action in ordered))

    async def _apply(self, match: MatchRuntime, action: Action) -> None:
        if match.status not in RUNNING and not isinstance(action, Cancel):
            return  # stopping: its orders are about to be cancelled (drop_unsent)
        if isinstance(action, Create):
            await self._create(match, action)
        elif isinstance(action, Amend):
            await self._write(
                match,
                action.order,
                OrderAction.AMENDED,
                action.price,
                action.remaining,
                self._x.amend(
                    action.order, action.price, action.remaining, safer=action.priority is Priority.SAFER
                ),
            )
        elif isinstance(action, Decrease):
            await self._write(
                match,
                action.order,
                OrderAction.DECREASED,
                action.order.price,
                action.reduce_to,
                self._x.decrease(action.order, action.reduce_to),
            )
        elif isinstance(action, Cancel):
            await self._write(
                match,
                action.order,
                OrderAction.CANCELLED,
                action.order.price,
                Count(0),
                self._x.cancel(action.order),
            )

    async def _create(self, match: MatchRuntime, action: Create) -> None:
        order = OwnOrder(
            client_order_id=new_client_order_id(),
            match_id=match.match_id,
            side=action.side,
            ticker=match.ticker(action.side),
            price=action.price,
            initial=action.count,
            busy=True,
            ask=match.spec.is_no(action.side),
        )
        self.orders.add(order)
        self._bus.rec.intent(
            order, self._bus.clock()
        )  # recorded before sending: a timeout is resolved by lookup
        intent = OrderIntent(
            order.ticker,
            order.price,
            order.initial,
            order.client_order_id,
            match.order_group_id,
            post_only=match.spec.settings.post_only,
            expiration_s=self._expiration_s(match),
            ask=order.ask,
        )
        lookup = asyncio.get_running_loop().call_later(IN_FLIGHT_LOOKUP_S, self._look_for, order)
        try:
            outcome = await self._x.create(intent)
        except asyncio.CancelledError:  # a runner cancelled after 10 s (join_runner): sent or not, unknown
            order.busy, order.state = False, OrderState.UNKNOWN  # read back (no endless look-up)
            raise
        finally:
            lookup.cancel()
        order.busy = False
        self._after_write(match, order, OrderAction.PLACED, outcome)

    def _look_for(self, order: OwnOrder) -> None:
        if order.busy and order.order_id is None:
            self._bus.spawn(self._find_in_flight(order), f"find-{order.client_order_id}")

    async def _find_in_flight(self, order: OwnOrder) -> None:
        """A create unanswered for a second: look for it by client id among the market's orders, every
        second until the reply or the feed (``_note_landed``) brings its id, so a reply that hangs for
        the REST timeout does not hide an order that landed, even when the feed is late as well."""
        while order.busy and order.order_id is None:
            found = await self._x.find_by_client_id(order)
            if found is not None:
                self._bind_landed(order, found.order_id, found.fill_count)
                return
            await asyncio.sleep(IN_FLIGHT_LOOKUP_S)

    def _expiration_s(self, match: MatchRuntime) -> int | None:
        """Orders expire on the exchange a minute after the planned pull, so even ``kill -9`` is safe."""
        if match.start_ms is None:
            return None
        pull_ms = match.start_ms - match.spec.settings.start_margin_ms
        if pull_ms - self._bus.clock() < 10_000:
            return None
        return pull_ms // 1000 + EXPIRY_AFTER_PULL_S

    async def _write(
        self,
        match: MatchRuntime,
        order: OwnOrder,
        kind: OrderAction,
        price: Price,
        remaining: Count,
        call: Awaitable[WriteOutcome],
    ) -> None:
        order.busy = True
        try:
            outcome = await call
        finally:
            order.busy = False
        if outcome.ok and kind is not OrderAction.CANCELLED:
            order.price = price
            order.initial = Count(order.filled + remaining)
        self._after_write(match, order, kind, outcome)

    def _after_write(
        self, match: MatchRuntime, order: OwnOrder, kind: OrderAction, outcome: WriteOutcome
    ) -> None:
        """Fold one write's outcome into the ledger. Only an acknowledgement, or a state the exchange was
        read for, decides the order's state; a rejection or no answer leaves it UNKNOWN and reads it back
        (at once after a rejection, after a pause when the write may still be landing)."""
        now = self._bus.clock()
        order.last_write_ms = now
        if outcome.order_id:  # an amend may answer with a new id: the order lives on under it
            self.orders.bind(order, outcome.order_id)
        if outcome.filled is not None and outcome.filled > order.filled:
            order.filled = outcome.filled
        if outcome.state is not None:
            order.state = outcome.state
        if order.state is OrderState.UNKNOWN and not order.busy:
            self._bus.spawn(
                self._resolve_soon(match, order, at_once=outcome.answered), f"resolve-{order.client_order_id}"
            )
        action = kind if outcome.ok else OrderAction.REJECTED if outcome.sent else OrderAction.NOT_SENT
        self._bus.rec.order(order, action.value, outcome.detail, now)
        self._bus.emit(
            OrderChanged(
                match.match_id,
                order.ticker,
                action,
                order.order_id,
                order.client_order_id,
                order.price,
                order.remaining,
                now,
                outcome.detail,
                order.side.value,
            )
        )
        if outcome.market_paused:  # market data learns it now, not at the next lifecycle message
            self._x.report_status(order.ticker, "inactive", f"{kind.value} refused: {outcome.detail}")
        if not outcome.ok and outcome.sent:
            self._bus.log(Level.WARNING, f"{kind.value} rejected: {outcome.detail}", match.match_id)
            if outcome.counts_as_rejection and (reason := self._risk.rejected(match, outcome.detail, now)):
                self.halt_soon(match, reason)
            if outcome.halt_reason:
                self.halt_soon(match, outcome.halt_reason)
        match.wake.set()

    async def _resolve_soon(self, match: MatchRuntime, order: OwnOrder, *, at_once: bool) -> None:
        """An order whose write did not settle its fate: read it (with back-off) before anything else is
        done on its side. "Not found" settles it as gone only when the read is conclusive: for a rejected
        create at once, otherwise once the write is older than the read lag. The upkeep's sweep keeps
        trying if these attempts all fail."""
        for attempt in range(6):
            await asyncio.sleep(0 if at_once and attempt == 0 else min(0.25 * 2**attempt, 4.0))
            if order.state is not OrderState.UNKNOWN or order.busy:
                return
            # A rejected create that a read does not show never landed. An order the exchange once
            # acknowledged (it has an id) that a read does not find is too new for the lagging read.
            settled = self._bus.clock() - order.last_write_ms >= NOT_FOUND_AFTER_MS
            conclusive = settled or (at_once and order.order_id is None)
            order.busy = True
            try:
                await self._x.resolve(order, conclusive=conclusive)
            finally:
                order.busy = False
            self.orders.bind_read_back(order)
            if order.state is not OrderState.UNKNOWN:
                self._bus.log(
                    Level.INFO, f"order {order.client_order_id} resolved: {order.state.value}", match.match_id
                )
                match.wake.set()
                return

    # --- what the exchange tells us -----------------------------------------------------------------

    def on_order_update(self, update: OrderUpdate) -> None:
        order = self.orders.by_order_id(update.order_id) or self.orders.by_client(update.client_order_id)
        if order is None:
            return
        if order.busy:  # the write in flight settles the state when it answers (the feed lags its reply)
            self._note_landed(order, update)
            return
        before = _terms(order)
        if order.order_id is None and update.order_id:
            self.orders.bind(order, update.order_id)
        order.last_write_ms = self._bus.clock()
        order.filled = max(order.filled, update.filled)
        if update.state is not OrderState.RESTING or order.state is OrderState.PENDING:
            order.state = update.state
        if update.state is OrderState.RESTING:
            order.price = no_price(update.price) if order.ask else update.price
            order.initial = Count(update.filled + update.remaining)
        match = self._matches.get(order.match_id)
        # The feed's echo of a write whose reply we already applied changes nothing a decision reads: a
        # pass on it would decide the same (a third of all passes at 200 matches, each queued before
        # the next competitor's move).
        if match is not None and _terms(order) != before:
            match.wake.set()

    def _note_landed(self, order: OwnOrder, update: OrderUpdate) -> None:
        """The feed shows a create whose reply has not come back: the order exists on the exchange, so
        the ledger owns it under the exchange's id at once. A reply that hangs (a stalled connection)
        would otherwise hide it for the whole REST timeout and a retry's read-back, ten seconds or more
        in which a halt could only find it by listing the market."""
        if update.order_id:
            self._bind_landed(order, update.order_id, update.filled)

    def _bind_landed(self, order: OwnOrder, order_id: str, filled: Count) -> None:
        """Own a create that landed under the exchange's id (its state waits for the reply or a read)."""
        if order.order_id is None:
            self.orders.bind(order, order_id)
            order.filled = max(order.filled, filled)

    def on_group_triggered(self, event: GroupTriggered) -> None:
        """The exchange triggered a match's order group: it rejects every new order from now on. The
        match forgets the group at once — in memory and in the journal, so a restart, like the next
        start, opens a fresh one — and the order-group guard halts it."""
        for match in self._matches.values():
            if match.order_group_id == event.order_group_id:
                now = self._bus.clock()
                match.group_triggered = True
                match.order_group_id = None
                self._bus.rec.guard_trip(
                    match.match_id, "order_group", f"order group {event.order_group_id} triggered", now
                )
                self._bus.rec.match(match.spec, match.status.value, match.reason, None, now)
                self._bus.spawn(self._delete_group(event.order_group_id), f"group-{event.order_group_id}")
                match.wake.set()

    def adopt(self, match_id: str, side: Side, order: Order) -> None:
        """Take over a resting order found at restart instead of cancelling it (``adopt`` recovery)."""
        own = OwnOrder(
            client_order_id=order.client_order_id or "",
            match_id=match_id,
            side=side,
            ticker=order.ticker,
            price=side_price(order.book_side, order.price),
            initial=order.initial_count,
            filled=order.fill_count,
            order_id=order.order_id,
            state=OrderState.RESTING,
            ask=order.book_side == "ask",
        )
        self.orders.add(own)
        self._bus.rec.order(own, "adopted", "kept at restart", self._bus.clock())

    # --- order groups -------------------------------------------------------------------------------

    async def open_group(self, match: MatchRuntime, exchange_index: int, *, dry_run: bool) -> None:
        """Give a match a fresh order group unless it has a usable one (a triggered one rejects orders);
        a dry run sends nothing, so it needs none."""
        if match.group_triggered:
            match.order_group_id, match.group_triggered = None, False
        if not dry_run and match.order_group_id is None:
            limit = Count(4 * max(match.spec.settings.inventory_max, match.spec.settings.contracts))
            match.order_group_id = await self._x.create_order_group(limit, exchange_index)

    async def _delete_group(self, order_group_id: str) -> None:
        """Best effort: a triggered group is useless, and the exchange keeps groups until deleted."""
        with contextlib.suppress(EngineError):
            await self._x.delete_order_group(order_group_id)

    async def close_group(self, match: MatchRuntime) -> None:
        if match.order_group_id:
            with contextlib.suppress(EngineError):
                await self._x.delete_order_group(match.order_group_id)

    # --- pulling orders -----------------------------------------------------------------------------

    def drop_unsent(self, matches: list[MatchRuntime]) -> None:
        """These matches are stopping (their status says so): end every write of theirs that has not
        been sent. Rounds waiting in the write gate end with no write; creates, amends and decreases
        waiting in the rate limiter are dropped and answer "not sent" (a create never existed, an amend
        or decrease left its order as it was); ``_apply`` sends none from now on. Writes already on
        the wire are left to answer: their fate is the exchange's to tell, and the cancels that follow
        (served first by the limiter) read it back. Without this a kill at the Basic tier waited for
        every queued write at 10 a second before its first cancel (docs/guards.md, "Kill all")."""
        if not matches:
            return
        gated = self.gate.drop({m.match_id for m in matches}) if self.gate is not None else 0
        queued = self._x.abandon_queued({t for m in matches for t in m.spec.tickers})
        if gated or queued:
            where = matches[0].match_id if len(matches) == 1 else None
            self._bus.log(
                Level.INFO,
                f"stopping: {gated} round(s) waiting for tokens and {queued} queued write(s) dropped unsent",
                where,
            )

    def halt_soon(self, match: MatchRuntime, reason: str) -> None:
        """Halt a match from inside its own runner (cannot await the runner from itself)."""
        if match.status in RUNNING:
            match.status = MatchStatus.STOPPING
            self.drop_unsent([match])
            self._bus.spawn(self._finish_halt(match, reason), f"halt-{match.match_id}")

    async def _finish_halt(self, match: MatchRuntime, reason: str) -> None:
        await join_runner(match)
        await self.cancel_orders(self.orders.live(match.match_id))
        set_status(self._bus, match, MatchStatus.HALTED, reason)

    async def cancel_orders(self, orders: list[OwnOrder]) -> int:
        """Cancel these orders and verify with the exchange. Returns how many are still resting."""
        if not orders:
            return 0
        left = await self._x.cancel_and_verify(orders)
        now = self._bus.clock()
        for order in orders:
            if order.order_id not in left:
                order.last_write_ms = now
                if order.state is not OrderState.EXECUTED:
                    order.state = OrderState.CANCELLED
                self._bus.rec.order(order, "cancelled", "pulled", now)
                self._bus.emit(
                    OrderChanged(
                        order.match_id,
                        order.ticker,
                        OrderAction.CANCELLED,
                        order.order_id,
                        order.client_order_id,
                        order.price,
                        Count(0),
                        now,
                        "pulled",
                        order.side.value,
                    )
                )
        return len(left)

    async def cancel_everything(self) -> int:
        """Cancel every order we know of plus any resting order the exchange shows as ours."""
        left = await self.cancel_orders(self.orders.live())
        try:
            _, stray = await self._x.cancel_all_ours()
        except KalshiError as error:
            self._bus.log(Level.ERROR, f"could not verify that no orders rest: {error.user_message}")
            return left + 1
        if stray:
            self._bus.log(Level.ERROR, f"{stray} order(s) still resting after cancel — check the exchange")
        return left + stray


def _terms(order: OwnOrder) -> tuple[str | None, OrderState, Price, Count, Count]:
    """What a decision reads of one of our orders."""
    return order.order_id, order.state, order.price, order.initial, order.filled
