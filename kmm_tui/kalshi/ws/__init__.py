"""The Kalshi WebSocket feed: live order books with sequence checking, private channels, reconnects.

One signed connection carries everything: ``orderbook_delta`` for the markets we watch (sent with an
explicit ``use_yes_price: false``, so NO levels are NO-leg prices), and ``fill``, ``user_orders``,
``market_positions``, ``order_group_updates`` and ``market_lifecycle_v2``.

Books are rebuilt from a snapshot plus signed deltas. ``seq`` is counted **per subscription id**
(shared by all markets of the subscription): on a gap or a repeat every book of that sid is marked
stale (a stale :class:`BookEvent` tells the engine to pull quotes), deltas for stale books are dropped,
and a fresh snapshot is requested with ``update_subscription``/``get_snapshot``; the snapshot's ``seq``
becomes the new baseline. Repeated gaps, terminal subscription errors (10/17/25) and silence (no frame
for ``watchdog_s``, and no answer to a ping) all lead to a reconnect with exponential back-off and
jitter; after a reconnect every book is stale until re-snapshotted and a :class:`Reconnected` event
asks the engine to back-fill fills and orders over REST (the private channels have no ``seq``).

Our own resting orders appear in these books (deltas carry our ``client_order_id``); they are left in
on purpose: the engine subtracts what it knows it has resting.

One job per module: ``events`` (what the consumer receives), ``livebook`` (one market's book, delta by
delta), ``messages`` (commands, ``seq`` checking, frame handling) and ``connection`` (:class:`KalshiFeed`:
public API and the reconnect loop). Import everything from here.
"""

from kmm_tui.kalshi.ws.connection import Backoff, KalshiFeed
from kmm_tui.kalshi.ws.events import (
    BookEvent,
    FeedEvent,
    FeedHealth,
    FeedProblem,
    FeeUpdateEvent,
    FillEvent,
    LifecycleEvent,
    OrderEvent,
    OrderGroupEvent,
    PositionEvent,
    Reconnected,
)
from kmm_tui.kalshi.ws.livebook import _LiveBook as _LiveBook  # tests reach into it
from kmm_tui.kalshi.ws.messages import BOOK_CHANNEL as BOOK_CHANNEL
from kmm_tui.kalshi.ws.messages import LIFECYCLE_CHANNEL as LIFECYCLE_CHANNEL
from kmm_tui.kalshi.ws.messages import PRIVATE_CHANNELS as PRIVATE_CHANNELS
from kmm_tui.kalshi.ws.messages import TERMINAL_ERROR_CODES as TERMINAL_ERROR_CODES

__all__ = [
    "Backoff",
    "BookEvent",
    "FeeUpdateEvent",
    "FeedEvent",
    "FeedHealth",
    "FeedProblem",
    "FillEvent",
    "KalshiFeed",
    "LifecycleEvent",
    "OrderEvent",
    "OrderGroupEvent",
    "PositionEvent",
    "Reconnected",
]
