"""What the engine writes to the journal, in the engine's own terms (a no-op without a journal).

Keeps the components free of SQL-shaped calls and ``if journal`` checks: the engine says what happened,
the recorder turns it into journal rows.
"""

from __future__ import annotations

import logging
import sqlite3

from kmm_tui.engine.journal import Journal, JournalFill, JournalOrder
from kmm_tui.engine.model import MatchSpec
from kmm_tui.engine.orders import OwnOrder
from kmm_tui.engine.state import FillView

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, journal: Journal | None) -> None:
        self.journal = journal

    def _safely(self, what: str, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except sqlite3.Error as error:  # a full disk must not stop the pulling of orders
            log.error("journal write failed (%s): %s", what, error)

    def match(
        self, spec: MatchSpec, status: str, reason: str, order_group_id: str | None, ts_ms: int
    ) -> None:
        if self.journal is not None:
            j = self.journal
            self._safely("match", lambda: j.save_match(spec, status, reason, order_group_id, ts_ms))

    def match_deleted(self, match_id: str) -> None:
        if self.journal is not None:
            j = self.journal
            self._safely("delete", lambda: j.delete_match(match_id))

    def intent(self, order: OwnOrder, ts_ms: int) -> None:
        """Must happen before the create is sent; raising here stops the send."""
        if self.journal is not None:
            self.journal.order_intent(
                JournalOrder(
                    order.client_order_id,
                    order.match_id,
                    order.side.value,
                    order.ticker,
                    order.price,
                    order.initial,
                    order.order_id,
                    order.state.value,
                ),
                ts_ms,
            )

    def order(self, order: OwnOrder, kind: str, detail: str, ts_ms: int) -> None:
        if self.journal is not None:
            j = self.journal
            self._safely(
                "order",
                lambda: j.order_update(
                    order.client_order_id,
                    order.match_id,
                    kind,
                    price=order.price,
                    count=order.initial,
                    order_id=order.order_id,
                    state=order.state.value,
                    detail=detail,
                    ts_ms=ts_ms,
                ),
            )

    def fill(self, match_id: str, order_id: str, fill: FillView) -> bool:
        """True when the fill is new (not journaled before)."""
        if self.journal is None:
            return True
        try:
            return self.journal.record_fill(
                JournalFill(
                    fill.trade_id,
                    match_id,
                    order_id,
                    fill.ticker,
                    fill.side,
                    fill.price,
                    fill.count,
                    fill.fee,
                    fill.is_taker,
                    fill.ts_ms,
                )
            )
        except sqlite3.Error as error:
            log.error("journal write failed (fill %s): %s", fill.trade_id, error)
            return True

    def decision(
        self, match_id: str, ts_ms: int, side: str, reason: str, detail: str, price: int | None
    ) -> None:
        if self.journal is not None:
            j = self.journal
            self._safely("decision", lambda: j.record_decision(match_id, ts_ms, side, reason, detail, price))

    def guard_trip(self, match_id: str | None, guard: str, reason: str, ts_ms: int) -> None:
        if self.journal is not None:
            j = self.journal
            self._safely("guard", lambda: j.record_guard_trip(match_id, guard, reason, ts_ms))
