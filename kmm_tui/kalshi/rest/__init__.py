"""Async Kalshi REST client: typed calls, signing, local rate limiting, and safe retries.

Only the V2 write paths (``/portfolio/events/orders...``) are used; the legacy ones answer 410.

One job per module: ``transport`` (``_call``: signing, rate-limit gate, retries, error mapping, paging;
host constants, :class:`RetryPolicy`), ``market_data`` (public reads), ``portfolio`` (signed account
and portfolio reads), ``orders`` (order writes, batches), ``order_groups`` (the kill switch) and
``client`` (:class:`KalshiRest`, composing them). Import everything from here.
"""

from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.rest.client import KalshiRest
from kmm_tui.kalshi.rest.market_data import MAX_ORDERBOOKS_PER_CALL
from kmm_tui.kalshi.rest.orders import MAX_BATCH_ORDERS
from kmm_tui.kalshi.rest.transport import (
    COMMON_HEADERS,
    DEFAULT_BASE_URL,
    DEMO_REST,
    DEMO_WS,
    MAX_CONNECTIONS,
    NO_RETRY,
    ORDER_WRITES,
    PROD_REST,
    PROD_WS,
    SIM_DEFAULT_PORT,
    RetryPolicy,
    sim_rest_url,
)

__all__ = [
    "COMMON_HEADERS",
    "DEFAULT_BASE_URL",
    "DEMO_REST",
    "DEMO_WS",
    "MAX_BATCH_ORDERS",
    "MAX_CONNECTIONS",
    "MAX_ORDERBOOKS_PER_CALL",
    "NO_RETRY",
    "ORDER_WRITES",
    "PROD_REST",
    "PROD_WS",
    "SIM_DEFAULT_PORT",
    "KalshiError",
    "KalshiRest",
    "RetryPolicy",
    "sim_rest_url",
]
