"""The order ledger: every order of ours, its lifecycle, and how it is reconciled with the exchange.

An order is recorded here (with a fresh ``client_order_id``) *before* it is sent, then moves through

    PENDING (create sent) → RESTING (acked or seen resting) → CANCELLED | EXECUTED

driven by write outcomes, WebSocket ``user_order``/``fill`` messages and REST reads. The exchange is the
truth: a write's reply never decides an order's fate alone. A write that got no answer *or* was rejected
leaves the order UNKNOWN — a rejected amend usually means the order still rests at its old price, a
rejected create usually means it never landed, but both are read back (by id, or by client id) before
the side quotes again. The periodic sweep compares the ledger with the exchange's resting orders of our
key: a resting order of ours that the ledger does not own as live is cancelled, and a live order the
exchange no longer shows is looked up. ``live_ids`` is the invariant's left side: after the sweep, the
set of our orders resting on the exchange equals the ledger's live set. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kmm_tui.domain.inventory import Side
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, LIVE_STATES, OrderState, OwnOrder


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """What one comparison with the exchange's resting orders calls for."""

    cancel: tuple[str, ...]  # exchange order ids: resting, ours by prefix, not owned as live
    look_up: tuple[OwnOrder, ...]  # owned as resting, settled, but not among the exchange's resting orders


class OrderLedger:
    """Our orders by client id, exchange id and match (one per engine; engine loop only).

    ``live(match_id, side)`` runs several times per decision, so orders are also indexed per match: the
    cost stays proportional to one match's orders, not the whole session's.
    """

    def __init__(self) -> None:
        self._by_client: dict[str, OwnOrder] = {}
        self._by_order_id: dict[str, OwnOrder] = {}
        self._by_match: dict[str, dict[str, OwnOrder]] = {}

    # --- membership -------------------------------------------------------------------------------

    def add(self, order: OwnOrder) -> None:
        self._by_client[order.client_order_id] = order
        self._by_match.setdefault(order.match_id, {})[order.client_order_id] = order
        if order.order_id:
            self._by_order_id[order.order_id] = order

    def bind(self, order: OwnOrder, order_id: str) -> None:
        """The exchange's id for an order (from a reply, the feed or a read-back that already set it on
        the order: it is indexed either way); an amend that answers with a new id moves the order to it."""
        if order.order_id is not None and order.order_id != order_id:
            self._by_order_id.pop(order.order_id, None)
        order.order_id = order_id
        self._by_order_id[order_id] = order

    def bind_read_back(self, order: OwnOrder) -> None:
        """Index the id a read-back (``resolve``) found for an order whose write got no answer."""
        if order.order_id is not None:
            self.bind(order, order.order_id)

    def by_client(self, client_order_id: str | None) -> OwnOrder | None:
        return self._by_client.get(client_order_id) if client_order_id else None

    def by_order_id(self, order_id: str | None) -> OwnOrder | None:
        return self._by_order_id.get(order_id) if order_id else None

    def find(self, order_id: str | None, client_order_id: str | None) -> OwnOrder | None:
        return self.by_order_id(order_id) or self.by_client(client_order_id)

    def live(self, match_id: str | None = None, side: Side | None = None) -> list[OwnOrder]:
        pool = self._by_client.values() if match_id is None else self._by_match.get(match_id, {}).values()
        return [o for o in pool if o.state in LIVE_STATES and (side is None or o.side == side)]

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

    # --- the invariant and the sweep --------------------------------------------------------------

    def live_ids(self) -> set[str]:
        """Exchange ids of the orders the ledger owns as live (those with an id yet)."""
        return {o.order_id for o in self.live() if o.order_id is not None}

    def sweep(self, resting: Mapping[str, str | None], settled_before_ms: int) -> SweepPlan:
        """Compare with the exchange's resting orders (``order_id -> client_order_id``, from one read).

        Cancel every resting order of ours (by prefix) that no live ledger entry owns — matched by id,
        or by client id for a create whose reply has not come back yet — except one the exchange told
        us finished within the read lag (the read may predate that). Look up every order the ledger
        holds as resting that the read does not show, once its last write is older than the read lag.
        """
        owned_ids = self.live_ids()
        owned_clients = {o.client_order_id for o in self.live()}
        cancel = tuple(
            order_id
            for order_id, client_id in resting.items()
            if (client_id or "").startswith(CLIENT_ID_PREFIX)
            and order_id not in owned_ids
            and client_id not in owned_clients
            and not self._just_finished(order_id, client_id, settled_before_ms)
        )
        look_up = tuple(
            o
            for o in self.live()
            if o.state is OrderState.RESTING
            and not o.busy
            and o.last_write_ms < settled_before_ms
            and o.order_id not in resting
        )
        return SweepPlan(cancel, look_up)

    def _just_finished(self, order_id: str, client_id: str | None, settled_before_ms: int) -> bool:
        """An order the exchange told us is finished, so recently that a lagging read may still list it."""
        order = self.find(order_id, client_id)
        return order is not None and not order.is_live and order.last_write_ms >= settled_before_ms
