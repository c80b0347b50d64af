"""Our own orders as the engine knows them: intent first, then the exchange's acknowledgements.

Every order is recorded here (with a fresh ``client_order_id``) *before* it is sent, so a timeout can
be resolved by looking the order up rather than by sending it again. The exchange stays the source of
truth: acks, WebSocket ``user_order``/``fill`` messages and periodic REST reads update these records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price


class OrderState(StrEnum):
    PENDING = "pending"  # intent recorded, create not yet acknowledged
    RESTING = "resting"
    CANCELLED = "cancelled"
    EXECUTED = "executed"
    UNKNOWN = "unknown"  # a write timed out; must be looked up before anything else is done


LIVE_STATES = frozenset({OrderState.PENDING, OrderState.RESTING, OrderState.UNKNOWN})

CLIENT_ID_PREFIX = "kmm-"
NO_COUNT = Count(0)


def new_client_order_id() -> str:
    """A fresh id for one create. Prefixed so restart recovery can recognise our orders."""
    return f"{CLIENT_ID_PREFIX}{uuid.uuid4()}"


@dataclass(slots=True)
class OwnOrder:
    """One YES bid of ours. Mutable: only the engine's loop touches it."""

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
    last_write_ms: int = 0  # when our last write for it was answered (REST reads lag behind writes)
    # What the public book may still show of this order after a write was acknowledged but before the
    # feed's delta for it arrived: (price, count, until_ms). Subtracted too, so we never mistake our own
    # old level for a competitor and outbid ourselves.
    shadow: tuple[Price, Count, int] | None = None

    @property
    def remaining(self) -> Count:
        return Count(max(0, self.initial - self.filled))

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class OrderBook:
    """Index of our orders by client id, exchange id and match (one per engine).

    ``live(match_id, side)`` runs several times per decision, so orders are also indexed per match:
    the cost stays proportional to one match's orders, not the whole session's.
    """

    def __init__(self) -> None:
        self._by_client: dict[str, OwnOrder] = {}
        self._by_order_id: dict[str, OwnOrder] = {}
        self._by_match: dict[str, dict[str, OwnOrder]] = {}

    def add(self, order: OwnOrder) -> None:
        self._by_client[order.client_order_id] = order
        self._by_match.setdefault(order.match_id, {})[order.client_order_id] = order
        if order.order_id:
            self._by_order_id[order.order_id] = order

    def bind(self, order: OwnOrder, order_id: str) -> None:
        order.order_id = order_id
        self._by_order_id[order_id] = order

    def by_client(self, client_order_id: str | None) -> OwnOrder | None:
        return self._by_client.get(client_order_id) if client_order_id else None

    def by_order_id(self, order_id: str | None) -> OwnOrder | None:
        return self._by_order_id.get(order_id) if order_id else None

    def live(self, match_id: str | None = None, side: Side | None = None) -> list[OwnOrder]:
        pool = self._by_client.values() if match_id is None else self._by_match.get(match_id, {}).values()
        return [o for o in pool if o.is_live and (side is None or o.side == side)]

    def all(self, match_id: str | None = None) -> list[OwnOrder]:
        if match_id is None:
            return list(self._by_client.values())
        return list(self._by_match.get(match_id, {}).values())

    def forget_finished(self, match_id: str, keep: int = 50) -> None:
        """Drop old finished orders of a match so the index does not grow without bound."""
        finished = [o for o in self.all(match_id) if not o.is_live]
        for order in finished[:-keep] if keep else finished:
            self._by_client.pop(order.client_order_id, None)
            self._by_match.get(match_id, {}).pop(order.client_order_id, None)
            if order.order_id:
                self._by_order_id.pop(order.order_id, None)
