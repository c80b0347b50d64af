"""Order writes over the V2 path: create, amend, decrease, cancel, batches, cancel-all.

Creates always carry a ``client_order_id``, so they are retried (see ``transport``); amend and decrease
are not (their outcome after a timeout must be read back). Batches are chunked to fit both Kalshi's
maximum and the write bucket. Create, amend and decrease name their market to the rate limiter, which
may drop them unsent while they wait for tokens (``RateLimiter.abandon``: they raise ``NotSent``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmm_tui.domain.prices import Count, Price
from kmm_tui.kalshi.errors import BadResponse
from kmm_tui.kalshi.models import BatchItemResult, CreateOrderSpec, OrderAck, amend_body, decrease_body
from kmm_tui.kalshi.ratelimit import (
    BATCH_CANCEL_COST_PER_ORDER,
    BATCH_CREATE_COST_PER_ORDER,
    BucketName,
    Priority,
)
from kmm_tui.kalshi.rest.transport import NO_RETRY, RestTransport, _seg

MAX_BATCH_ORDERS = 20  # Kalshi's documented batch maximum; larger lists are split


class OrderWrites(RestTransport):
    """``/portfolio/events/orders...``: the only write path used (the legacy one answers 410)."""

    async def create_order(
        self,
        ticker: str,
        side: str,
        price: Price,
        count: Count,
        client_order_id: str,
        *,
        time_in_force: str = "good_till_canceled",
        post_only: bool = False,
        self_trade_prevention_type: str = "taker_at_cross",
        order_group_id: str | None = None,
        cancel_order_on_pause: bool = True,
        expiration_ts: int | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Place one order. ``side`` bid = buy YES, ask = sell YES (buy NO at 1 - price); ``price`` is YES.

        ``priority`` orders this write against others waiting for rate-limit tokens (lower goes first).

        ``expiration_ts`` is Unix **seconds** (GTC only). Retried on 429/5xx/timeouts with the same
        ``client_order_id``; see :class:`DuplicateClientOrderId` for the retried-409 case. Check
        ``OrderAck.cancelled_on_arrival`` (post-only cross / STP / IOC with nothing to hit).
        """
        spec = CreateOrderSpec(
            ticker,
            side,  # type: ignore[arg-type]
            price,
            count,
            client_order_id,
            time_in_force=time_in_force,  # type: ignore[arg-type]
            post_only=post_only,
            self_trade_prevention_type=self_trade_prevention_type,  # type: ignore[arg-type]
            order_group_id=order_group_id,
            cancel_order_on_pause=cancel_order_on_pause,
            expiration_ts=expiration_ts,
        )
        return await self.create(spec, priority=priority)

    async def create(self, spec: CreateOrderSpec, *, priority: int = Priority.NORMAL) -> OrderAck:
        """:meth:`create_order` from a prepared spec."""
        data = await self._call(
            "POST",
            "/portfolio/events/orders",
            body=spec.to_wire(),
            private=True,
            is_create=True,
            priority=priority,
            market=spec.ticker,
        )
        return OrderAck.from_wire(data)

    async def amend_order(
        self,
        order_id: str,
        ticker: str,
        side: str,
        price: Price,
        count_total: Count,
        *,
        client_order_id: str | None = None,
        updated_client_order_id: str | None = None,
        expiration_ts: int | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Move price and/or size. ``count_total`` = already filled + desired remaining. Not retried."""
        body = amend_body(
            ticker,
            side,
            price,
            count_total,
            client_order_id=client_order_id,
            updated_client_order_id=updated_client_order_id,
            expiration_ts=expiration_ts,
        )
        data = await self._call(
            "POST",
            f"/portfolio/events/orders/{_seg(order_id)}/amend",
            body=body,
            private=True,
            retry=NO_RETRY,
            priority=priority,
            market=ticker,
        )
        return OrderAck.from_wire(data)

    async def decrease_order(
        self,
        order_id: str,
        *,
        market_ticker: str,
        reduce_to: Count | None = None,
        reduce_by: Count | None = None,
        priority: int = Priority.NORMAL,
    ) -> OrderAck:
        """Shrink a resting order, keeping its queue priority. Exactly one of reduce_to/reduce_by."""
        body = decrease_body(reduce_to=reduce_to, reduce_by=reduce_by, market_ticker=market_ticker)
        data = await self._call(
            "POST",
            f"/portfolio/events/orders/{_seg(order_id)}/decrease",
            body=body,
            private=True,
            retry=NO_RETRY,
            priority=priority,
            market=market_ticker,
        )
        return OrderAck.from_wire(data)

    async def cancel_order(self, order_id: str, market_ticker: str) -> OrderAck:
        """Cancel one order (cancels jump the local rate-limit queue). A 404 does not prove a cancel:
        unknown, cancelled and executed orders all answer it; reconcile with ``list_orders``."""
        data = await self._call(
            "DELETE",
            f"/portfolio/events/orders/{_seg(order_id)}",
            params={"market_ticker": market_ticker},
            private=True,
            priority=Priority.CANCEL,
        )
        return OrderAck.from_wire(data)

    async def batch_create(self, specs: Sequence[CreateOrderSpec]) -> list[BatchItemResult]:
        """Create many orders; one result per spec, in order (``index`` = position in ``specs``).

        Sent in chunks that fit both the batch maximum and the write bucket. A retried chunk whose items
        landed the first time reports them as ``DuplicateClientOrderId`` item errors.
        """
        results: list[BatchItemResult] = []
        per_chunk = self._batch_size(BATCH_CREATE_COST_PER_ORDER)
        for start in range(0, len(specs), per_chunk):
            chunk = specs[start : start + per_chunk]
            data = await self._call(
                "POST",
                "/portfolio/events/orders/batched",
                body={"orders": [spec.to_wire() for spec in chunk]},
                private=True,
                items=len(chunk),
            )
            results.extend(self._batch_items(data, start, len(chunk), "batch create"))
        return results

    async def batch_cancel(self, orders: Sequence[tuple[str, str]]) -> list[BatchItemResult]:
        """Cancel many ``(order_id, market_ticker)`` pairs; one result per pair, in order."""
        results: list[BatchItemResult] = []
        per_chunk = self._batch_size(BATCH_CANCEL_COST_PER_ORDER)
        for start in range(0, len(orders), per_chunk):
            chunk = orders[start : start + per_chunk]
            body = {"orders": [{"order_id": oid, "market_ticker": ticker} for oid, ticker in chunk]}
            data = await self._call(
                "DELETE",
                "/portfolio/events/orders/batched",
                body=body,
                private=True,
                priority=Priority.CANCEL,
                items=len(chunk),
            )
            results.extend(self._batch_items(data, start, len(chunk), "batch cancel"))
        return results

    def _batch_size(self, cost_per_item: int) -> int:
        capacity = int(self.limiter.capacity(BucketName.WRITE))
        return max(1, min(MAX_BATCH_ORDERS, capacity // max(1, cost_per_item)))

    @staticmethod
    def _batch_items(data: Any, offset: int, expected: int, what: str) -> list[BatchItemResult]:
        items = RestTransport._obj(data, "orders", what)
        if not isinstance(items, list) or len(items) != expected:
            got = len(items) if isinstance(items, list) else type(items).__name__
            raise BadResponse(
                f"{what}: expected {expected} results, got {got}; reconcile with list_orders",
                code="bad_response",
            )
        return [BatchItemResult.from_wire(offset + i, item) for i, item in enumerate(items)]

    async def cancel_all(self) -> None:
        """``DELETE /portfolio/events/orders`` (204). May not exist for ordinary accounts and may also
        cancel orders placed in the next minute; prefer list + :meth:`batch_cancel`."""
        await self._call("DELETE", "/portfolio/events/orders", private=True, priority=Priority.CANCEL)
