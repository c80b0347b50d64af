"""Async Kalshi REST client: typed calls, signing, local rate limiting, and safe retries.

Only the V2 write paths (``/portfolio/events/orders...``) are used; the legacy ones answer 410.

One job per module: ``transport`` (``_call``: signing, rate-limit gate, retries, error mapping, paging;
host constants, :class:`RetryPolicy`), ``market_data`` (public reads), ``portfolio`` (signed account
and portfolio reads), ``orders`` (order writes, batches), ``order_groups`` (the kill switch) and
``client`` (:class:`KalshiRest`, composing them). Import everything from here.
"""

from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.rest.client import KalshiRest
from kmm_tui.kalshi.rest.market_data import MAX_ORDERBOOKS_PER_CALL as MAX_ORDERBOOKS_PER_CALL
from kmm_tui.kalshi.rest.orders import MAX_BATCH_ORDERS as MAX_BATCH_ORDERS
from kmm_tui.kalshi.rest.transport import COMMON_HEADERS as COMMON_HEADERS
from kmm_tui.kalshi.rest.transport import (
    DEFAULT_BASE_URL,
    DEMO_REST,
    DEMO_WS,
    NO_RETRY,
    PROD_REST,
    PROD_WS,
    RetryPolicy,
    sim_rest_url,
)
from kmm_tui.kalshi.rest.transport import MAX_CONNECTIONS as MAX_CONNECTIONS
from kmm_tui.kalshi.rest.transport import ORDER_WRITES as ORDER_WRITES
from kmm_tui.kalshi.rest.transport import SIM_DEFAULT_PORT as SIM_DEFAULT_PORT

__all__ = [
    "DEFAULT_BASE_URL",
    "DEMO_REST",
    "DEMO_WS",
    "NO_RETRY",
    "PROD_REST",
    "PROD_WS",
    "KalshiError",
    "KalshiRest",
    "RetryPolicy",
    "sim_rest_url",
]
