"""Signed account and portfolio reads: limits, balance, positions, fills, orders.

``sync_rate_limits``/``sync_endpoint_costs`` adopt the account's live limits in the local rate limiter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from kmm_tui.kalshi.models import AccountLimits, Balance, Fill, Order, Position
from kmm_tui.kalshi.ratelimit import Priority, TierLimits
from kmm_tui.kalshi.rest.transport import RestTransport, _list_param, _secs, _seg


class Portfolio(RestTransport):
    """The signed ``/account`` and ``/portfolio`` reads (all pages)."""

    async def account_limits(self) -> AccountLimits:
        return AccountLimits.from_wire(await self._call("GET", "/account/limits", private=True))

    async def sync_rate_limits(self) -> AccountLimits:
        """Read the live bucket sizes and adopt them in the local limiter (call at start-up)."""
        limits = await self.account_limits()
        self.limiter.configure(
            TierLimits(limits.read_rate, limits.read_capacity, limits.write_rate, limits.write_capacity)
        )
        return limits

    async def sync_endpoint_costs(self) -> None:
        """Adopt ``GET /account/endpoint_costs`` in the local limiter's cost table."""
        data = await self._call("GET", "/account/endpoint_costs", private=True)
        if isinstance(data, dict):
            self.limiter.costs.update_from_endpoint_costs(data)

    async def get_balance(self, *, exchange_index: int | None = None) -> Balance:
        data = await self._call(
            "GET", "/portfolio/balance", params={"exchange_index": exchange_index}, private=True
        )
        return Balance.from_wire(data)

    async def get_positions(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        count_filter: str | None = None,
        settlement_status: str | None = None,
        limit: int = 1000,
    ) -> list[Position]:
        """Market positions (``position`` > 0 YES, < 0 NO), all pages."""
        params = [
            ("ticker", ticker),
            ("event_ticker", event_ticker),
            ("count_filter", count_filter),
            ("settlement_status", settlement_status),
            ("limit", limit),
        ]
        out: list[Position] = []
        async for _, items in self._pages("/portfolio/positions", "market_positions", params, private=True):
            out.extend(Position.from_wire(item) for item in items)
        return out

    async def iter_fills(
        self,
        *,
        ticker: str | Sequence[str] | None = None,
        order_id: str | None = None,
        min_ts_ms: int | None = None,
        max_ts_ms: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Fill]:
        """Our fills, newest first, all pages. Times are ms here (the wire wants seconds; floored)."""
        tickers = ticker if isinstance(ticker, str) or ticker is None else _list_param(ticker)
        params = [
            ("ticker", tickers),
            ("order_id", order_id),
            ("min_ts", _secs(min_ts_ms)),
            ("max_ts", _secs(max_ts_ms)),
            ("limit", limit),
        ]
        async for _, items in self._pages("/portfolio/fills", "fills", params, private=True):
            for item in items:
                yield Fill.from_wire(item)

    async def list_fills(self, **filters: Any) -> list[Fill]:
        return [fill async for fill in self.iter_fills(**filters)]

    async def iter_orders(
        self,
        *,
        status: str | None = None,
        ticker: str | None = None,
        event_ticker: str | Sequence[str] | None = None,
        min_ts_ms: int | None = None,
        max_ts_ms: int | None = None,
        exchange_index: int | None = None,
        limit: int = 1000,
        priority: int = Priority.NORMAL,
    ) -> AsyncIterator[Order]:
        """Our orders (status resting/canceled/executed), all pages. Reads lag writes by up to ~1 s.
        ``priority`` orders the reads among others waiting for read tokens (a cancel's check first)."""
        events = (
            event_ticker
            if isinstance(event_ticker, str) or event_ticker is None
            else _list_param(event_ticker)
        )
        params = [
            ("status", status),
            ("ticker", ticker),
            ("event_ticker", events),
            ("min_ts", _secs(min_ts_ms)),
            ("max_ts", _secs(max_ts_ms)),
            ("exchange_index", exchange_index),
            ("limit", limit),
        ]
        pages = self._pages("/portfolio/orders", "orders", params, private=True, priority=priority)
        async for _, items in pages:
            for item in items:
                yield Order.from_wire(item)

    async def list_orders(self, **filters: Any) -> list[Order]:
        return [order async for order in self.iter_orders(**filters)]

    async def get_order(self, order_id: str) -> Order:
        data = await self._call("GET", f"/portfolio/orders/{_seg(order_id)}", private=True)
        return Order.from_wire(self._obj(data, "order", f"order {order_id}"))
