"""Order writes through the REST client: create, amend, decrease, cancel, look-ups and verified cancels.

Every write answers with a ``WriteOutcome`` (classified in ``outcomes``); a 404 is never taken at its
word (cancelled, executed and unknown all answer it), so the order is read back. ``cancel_and_verify``
and ``cancel_all_ours`` list resting orders again until ours are gone: Kalshi has no cancel-on-disconnect,
so a pull is only done when the exchange confirms it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, no_price
from kmm_tui.engine.exchange.outcomes import after_ack, failed, not_sent
from kmm_tui.engine.exchange.values import OrderIntent, WriteOutcome, order_state, side_price
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, OrderState, OwnOrder
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.models import Order
from kmm_tui.kalshi.ratelimit import Priority
from kmm_tui.kalshi.rest import KalshiRest

log = logging.getLogger(__name__)

CANCEL_DEADLINE_S = 15.0
PER_MARKET_READS_MAX = 3  # a verified cancel on more markets than one match has reads the whole account


class OrderWrites:
    """Writes of our bids (a NO bid is an ask on the YES book) and the reads that settle their outcome."""

    def __init__(self, rest: KalshiRest) -> None:
        self.rest = rest

    async def create(self, intent: OrderIntent) -> WriteOutcome:
        """Place one bid (a NO bid as an ask at 100c − its price). A timeout leaves the order UNKNOWN, to
        be looked up, never resent blindly."""
        try:
            ack = await self.rest.create_order(
                intent.ticker,
                "ask" if intent.ask else "bid",
                no_price(intent.price) if intent.ask else intent.price,
                intent.count,
                intent.client_order_id,
                post_only=intent.post_only,
                order_group_id=intent.order_group_id,
                cancel_order_on_pause=True,
                expiration_ts=intent.expiration_s,
                priority=Priority.LOW,  # new quotes wait behind cancels and moves toward safety
            )
        except kx.NotSent:  # dropped before its first attempt: the order never existed
            return not_sent(OrderState.CANCELLED)
        except kx.DuplicateClientOrderId:  # a retry found the first attempt landed: it exists, read it back
            return WriteOutcome(
                ok=True, state=OrderState.UNKNOWN, detail="created on an earlier attempt", answered=False
            )
        except kx.KalshiError as error:
            return failed(error)
        remaining = ack.remaining_count if ack.remaining_count is not None else intent.count
        if ack.cancelled_on_arrival:
            return WriteOutcome(
                ok=False,
                order_id=ack.order_id,
                filled=Count(0),
                state=OrderState.CANCELLED,
                detail="cancelled on arrival (post-only cross or self-trade)",
            )
        state = OrderState.RESTING if remaining > 0 else OrderState.EXECUTED
        return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=state)

    async def amend(
        self, order: OwnOrder, price: Price, remaining: Count, *, safer: bool = False
    ) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        try:
            ack = await self.rest.amend_order(
                order.order_id,
                order.ticker,
                order.book_side,
                no_price(price) if order.ask else price,
                Count(order.filled + remaining),
                priority=Priority.NORMAL if safer else Priority.LOW,
            )
        except kx.NotSent:  # the order rests on unchanged
            return not_sent()
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return failed(error)
        return after_ack(ack)

    async def decrease(self, order: OwnOrder, reduce_to: Count) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        reduce_by = Count(order.remaining - reduce_to)
        if reduce_by <= 0:
            return WriteOutcome(ok=True, state=order.state)
        try:
            ack = await self.rest.decrease_order(
                order.order_id, market_ticker=order.ticker, reduce_by=reduce_by, priority=Priority.NORMAL
            )
        except kx.NotSent:
            return not_sent()
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return failed(error)
        return after_ack(ack)

    def abandon_queued(self, tickers: Collection[str]) -> int:
        """Drop the creates, amends and decreases for these markets still waiting for write tokens (their
        match is stopping; its cancels follow and go first). Each answers ``not_sent``. Returns how many."""
        return self.rest.limiter.abandon(tickers)

    async def cancel(self, order: OwnOrder) -> WriteOutcome:
        if order.order_id is None:
            return WriteOutcome(ok=False, detail="order has no exchange id yet")
        try:
            await self.rest.cancel_order(order.order_id, order.ticker)
        except kx.NotFoundError:
            return await self._gone(order)
        except kx.KalshiError as error:
            return failed(error)
        return WriteOutcome(ok=True, state=OrderState.CANCELLED)

    async def _gone(self, order: OwnOrder) -> WriteOutcome:
        """A 404 proves nothing (cancelled, executed and unknown all answer it): read the order."""
        state = await self._lookup_state(order)
        return WriteOutcome(ok=state is OrderState.CANCELLED, state=state, detail="order no longer resting")

    async def _lookup_state(self, order: OwnOrder, *, conclusive: bool = True) -> OrderState:
        """Read one order by id. "Not found" means gone only when ``conclusive``: a read taken soon after
        a write may predate it (REST reads lag writes), so it then leaves the order UNKNOWN."""
        if order.order_id is None:
            return OrderState.UNKNOWN
        try:
            found = await self.rest.get_order(order.order_id)
        except kx.NotFoundError:
            return OrderState.CANCELLED if conclusive else OrderState.UNKNOWN
        except kx.KalshiError:
            return OrderState.UNKNOWN
        order.filled = max(order.filled, found.fill_count)
        state = order_state(found.status, found.remaining_count)
        if state is OrderState.RESTING:  # a write that timed out may have moved it: take its real terms
            order.price = side_price(found.book_side, found.price)
            order.initial = Count(found.fill_count + found.remaining_count)
        return state

    async def resolve(self, order: OwnOrder, *, conclusive: bool = True) -> None:
        """Settle an UNKNOWN order: find it by client id among the market's orders (no lookup by client id
        exists), or by order id. Not found means the create never landed — when ``conclusive``; a read
        soon after an unanswered write may not show it yet, so the order then stays UNKNOWN."""
        if order.order_id is not None:
            order.state = await self._lookup_state(order, conclusive=conclusive)
            return
        try:
            found = await self._listed(order)
        except kx.KalshiError as error:
            log.warning("could not resolve order %s: %s", order.client_order_id, error)
            return
        if found is None:
            order.state = OrderState.CANCELLED if conclusive else OrderState.UNKNOWN
            return
        order.order_id = found.order_id
        order.filled = max(order.filled, found.fill_count)
        order.price = side_price(found.book_side, found.price)
        order.initial = found.initial_count
        order.state = order_state(found.status, found.remaining_count)

    async def find_by_client_id(self, order: OwnOrder) -> Order | None:
        """The exchange's copy of an order by its client id (None when not listed or not readable)."""
        try:
            return await self._listed(order)
        except kx.KalshiError as error:
            log.info("could not look for order %s: %s", order.client_order_id, error)
            return None

    async def _listed(self, order: OwnOrder) -> Order | None:
        """Our order among its market's orders, matched by client id (no lookup by client id exists)."""
        candidates = await self.rest.list_orders(ticker=order.ticker)
        return next((o for o in candidates if o.client_order_id == order.client_order_id), None)

    async def cancel_and_verify(
        self, orders: list[OwnOrder], deadline_s: float = CANCEL_DEADLINE_S
    ) -> set[str]:
        """Batch-cancel these orders until each is confirmed gone (or the deadline). Returns the exchange
        ids not confirmed.

        Gone means both: the exchange answered our cancel with success or "not found" (not resting), and
        a listing of resting orders no longer shows it. A listing alone proves nothing — REST reads lag
        writes, so an order placed a moment ago may be missing from it — and an answer alone may be
        followed by a listing that still shows the order (a lagging read): then the next round cancels
        it again and looks again. Orders whose create is unresolved are resolved first so an order that
        landed during a timeout is not forgotten.
        """
        for order in orders:
            if order.order_id is None:
                await self.resolve(order)
        targets = {
            o.order_id: o for o in orders if o.order_id is not None and o.state is not OrderState.CANCELLED
        }
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        attempt = 0
        while targets:
            if attempt:
                await asyncio.sleep(min(0.2 * attempt, 1.0))
            attempt += 1
            try:
                asked = [(oid, o.ticker) for oid, o in targets.items()]
                results = await self.rest.batch_cancel(asked)
                answered = set()
                for (order_id, _), result in zip(asked, results, strict=True):
                    if result.error is None or isinstance(result.error, kx.NotFoundError):
                        answered.add(order_id)
                    else:
                        log.warning("cancel of %s failed: %s", order_id, result.error)
                resting = {o.order_id for o in await self._resting({o.ticker for o in targets.values()})}
            except kx.KalshiError as error:
                log.warning("cancel round %d failed: %s", attempt, error)
                if loop.time() > end:
                    break
                continue
            for order_id in list(targets):
                if order_id in answered and order_id not in resting:
                    targets.pop(order_id).state = OrderState.CANCELLED
            if loop.time() > end:
                break
        return set(targets)

    async def _resting(self, tickers: set[str] | None) -> list[Order]:
        """Resting orders on these markets (None: all), read ahead of other reads waiting for tokens: a
        pull is done only when this read confirms it, and at the Basic tier the look-ups of creates still
        queued for write tokens (``Execution._look_for``) kept the read bucket full.

        One match's few markets are read one by one (a small answer); more are read as the account's
        whole list, a page per 1,000 orders: a read costs 10 tokens either way, and one per market had a
        kill at 400 markets spend 20 s of the Basic read bucket (docs/benchmarks.md)."""
        first = Priority.CANCEL
        if tickers is None or len(tickers) > PER_MARKET_READS_MAX:
            return await self.rest.list_orders(status="resting", priority=first)
        return [
            o
            for ticker in sorted(tickers)
            for o in await self.rest.list_orders(status="resting", ticker=ticker, priority=first)
        ]

    async def cancel_all_ours(self, keep: frozenset[str | None] = frozenset()) -> tuple[int, int]:
        """Cancel every resting order on the account that carries our client id prefix, verified,
        except the order ids in ``keep``.

        Returns (how many were resting, how many still rest). Orders of other tools are left alone.
        """
        try:
            resting = await self._resting(None)
        except kx.KalshiError as error:
            log.error("could not list resting orders: %s", error)
            raise
        ours = [
            o
            for o in resting
            if (o.client_order_id or "").startswith(CLIENT_ID_PREFIX) and o.order_id not in keep
        ]
        return len(ours), await self.cancel_resting(ours)

    async def cancel_resting(self, found: list[Order]) -> int:
        """Cancel these orders, as a read of the exchange listed them, verified. Returns how many rest."""
        if not found:
            return 0
        stand_ins = [
            OwnOrder(
                o.client_order_id or "",
                "",
                Side.A,
                o.ticker,
                o.price,
                o.initial_count,
                o.fill_count,
                o.order_id,
                OrderState.RESTING,
            )
            for o in found
        ]
        return len(await self.cancel_and_verify(stand_ins))
