"""One order of ours as the engine knows it, and the states it moves through (``ledger`` owns them all).

The states are the ledger's lifecycle; ``UNKNOWN`` is where every write whose reply does not settle the
order's fate (no answer, or a rejection) leaves it until the exchange is read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, no_price


class OrderState(StrEnum):
    PENDING = "pending"  # intent recorded, create not yet acknowledged
    RESTING = "resting"
    CANCELLED = "cancelled"
    EXECUTED = "executed"
    UNKNOWN = "unknown"  # a write got no answer or was rejected: read the order before anything else


LIVE_STATES = frozenset({OrderState.PENDING, OrderState.RESTING, OrderState.UNKNOWN})

CLIENT_ID_PREFIX = "kmm-"
# A read this long after an unanswered write that does not show the order proves it never landed
# (Kalshi's REST reads lag writes by a few hundred ms).
NOT_FOUND_AFTER_MS = 2_000
NO_COUNT = Count(0)


def new_client_order_id() -> str:
    """A fresh id for one create. Prefixed so restart recovery can recognise our orders."""
    return f"{CLIENT_ID_PREFIX}{uuid.uuid4()}"


@dataclass(slots=True)
class OwnOrder:
    """One bid of ours for an outcome. Mutable: only the engine's loop touches it.

    ``price`` is in the outcome's own terms: a NO bid on a single market (``ask``) rests on the exchange
    as an ask at YES price 100c − ``price``; the port converts at the wire, nothing else needs to know.
    """

    client_order_id: str
    match_id: str
    side: Side
    ticker: str
    price: Price
    initial: Count  # total count of the order, as last sent (amend's count is a total)
    filled: Count = NO_COUNT
    order_id: str | None = None
    state: OrderState = OrderState.PENDING
    busy: bool = False  # a write for this order is in flight
    # When our last write for it was answered or the exchange last told us its state (REST reads lag
    # behind both, so the sweep judges only what is older than the read lag).
    last_write_ms: int = 0
    ask: bool = False  # a NO bid: on the wire an ask on the YES book at 100c − price

    @property
    def book_side(self) -> str:
        """The order's side on the exchange's YES book ("bid" or "ask")."""
        return "ask" if self.ask else "bid"

    @property
    def yes_price(self) -> Price:
        """The order's price on the exchange (YES terms)."""
        return no_price(self.price) if self.ask else self.price

    @property
    def remaining(self) -> Count:
        return Count(max(0, self.initial - self.filled))

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES
