"""``KalshiRest``: the transport composed with one mixin per group of endpoints."""

from __future__ import annotations

from kmm_tui.kalshi.rest.market_data import MarketData
from kmm_tui.kalshi.rest.order_groups import OrderGroups
from kmm_tui.kalshi.rest.orders import OrderWrites
from kmm_tui.kalshi.rest.portfolio import Portfolio


class KalshiRest(MarketData, Portfolio, OrderWrites, OrderGroups):
    """The Kalshi REST API. Use ``async with KalshiRest(url, signer=...) as api:`` or call :meth:`aclose`.

    ``signer`` is optional: public market data works without one; private calls without one raise
    :class:`~kmm_tui.kalshi.errors.AuthError` saying a key is needed. ``transport`` (e.g.
    ``httpx.ASGITransport``), ``clock_ms``, ``sleep`` and ``rng`` exist for tests.
    """
