"""Journal writes: matches, order intents and updates, fills, decisions, guard trips, markouts, latch.

Order intents, fills and match rows are durable (committed before the call returns); order updates,
decisions and guard trips ride the group commit (``commits``).
"""

from __future__ import annotations

from kmm_tui.domain.markouts import FillMarkout, Mark
from kmm_tui.domain.prices import Count, Price
from kmm_tui.engine.journal.commits import JournalBase
from kmm_tui.engine.journal.schema import JournalFill, JournalOrder
from kmm_tui.engine.journal.specs import spec_to_json
from kmm_tui.engine.model import MatchSpec


class JournalWrites(JournalBase):
    """Everything that adds or changes rows."""

    def save_match(
        self, spec: MatchSpec, status: str, reason: str, order_group_id: str | None, ts_ms: int
    ) -> None:
        self._durable(
            "INSERT INTO matches(match_id, spec_json, status, reason, order_group_id, updated_ms) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(match_id) DO UPDATE SET spec_json=excluded.spec_json, "
            "status=excluded.status, reason=excluded.reason, order_group_id=excluded.order_group_id, "
            "updated_ms=excluded.updated_ms",
            (spec.match_id, spec_to_json(spec), status, reason, order_group_id, ts_ms),
        )

    def delete_match(self, match_id: str) -> None:
        self._durable("DELETE FROM matches WHERE match_id = ?", (match_id,))

    def order_intent(self, order: JournalOrder, ts_ms: int) -> None:
        """Recorded before the create is sent, so a crash or timeout can be resolved by lookup.

        Committed (with the intent's event row and any pending window) before this returns.
        """
        with self._committed():
            self._insert_intent(order, ts_ms)

    def _insert_intent(self, order: JournalOrder, ts_ms: int) -> None:
        self._db.execute(
            "INSERT INTO orders(client_order_id, match_id, side, ticker, price, count, order_id, state, "
            "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.client_order_id,
                order.match_id,
                order.side,
                order.ticker,
                order.price,
                order.count,
                order.order_id,
                order.state,
                ts_ms,
                ts_ms,
            ),
        )
        self._order_event(
            order.client_order_id, order.match_id, "intent", order.price, order.count, "", ts_ms
        )

    def order_update(
        self,
        client_order_id: str,
        match_id: str,
        kind: str,
        *,
        price: Price | None,
        count: Count | None,
        order_id: str | None,
        state: str,
        detail: str,
        ts_ms: int,
    ) -> None:
        self._batched(
            "UPDATE orders SET price = COALESCE(?, price), count = COALESCE(?, count), "
            "order_id = COALESCE(?, order_id), state = ?, updated_ms = ? WHERE client_order_id = ?",
            (price, count, order_id, state, ts_ms, client_order_id),
        )
        self._order_event(client_order_id, match_id, kind, price, count, detail, ts_ms)

    def _order_event(
        self,
        client_order_id: str,
        match_id: str,
        kind: str,
        price: int | None,
        count: int | None,
        detail: str,
        ts_ms: int,
    ) -> None:
        self._batched(
            "INSERT INTO order_events(client_order_id, match_id, kind, price, count, detail, ts_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (client_order_id, match_id, kind, price, count, detail, ts_ms),
        )

    def record_fill(self, fill: JournalFill) -> bool:
        """Store a fill once, committed before this returns. False when the trade id was already journaled."""
        cursor = self._durable(
            "INSERT OR IGNORE INTO fills(trade_id, match_id, order_id, ticker, side, price, count, fee, "
            "is_taker, "
            "ts_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fill.trade_id,
                fill.match_id,
                fill.order_id,
                fill.ticker,
                fill.side,
                fill.price,
                fill.count,
                fill.fee,
                int(fill.is_taker),
                fill.ts_ms,
            ),
        )
        return cursor.rowcount == 1

    def record_decision(
        self, match_id: str, ts_ms: int, side: str, reason: str, detail: str, price: Price | None
    ) -> None:
        self._batched(
            "INSERT INTO decisions(match_id, ts_ms, side, reason, detail, price) VALUES (?, ?, ?, ?, ?, ?)",
            (match_id, ts_ms, side, reason, detail, price),
        )

    def record_guard_trip(self, match_id: str | None, guard: str, reason: str, ts_ms: int) -> None:
        self._batched(
            "INSERT INTO guard_trips(match_id, guard, reason, ts_ms) VALUES (?, ?, ?, ?)",
            (match_id, guard, reason, ts_ms),
        )

    def record_markout(self, fill: FillMarkout) -> None:
        """A fill's marks at fill time (its later samples follow with ``record_markout_sample``)."""
        self._db.execute(
            "INSERT OR IGNORE INTO markouts(trade_id, match_id, series, ticker, side, price, count, ts_ms, "
            "theo, mid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fill.trade_id,
                fill.match_id,
                fill.series,
                fill.ticker,
                fill.side,
                fill.price,
                fill.count,
                fill.ts_ms,
                fill.at_fill.theo,
                fill.at_fill.mid,
            ),
        )

    def record_markout_sample(self, trade_id: str, horizon_ms: int, mark: Mark, ts_ms: int) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO markout_samples(trade_id, horizon_ms, theo, mid, ts_ms) "
            "VALUES (?, ?, ?, ?, ?)",
            (trade_id, horizon_ms, mark.theo, mark.mid, ts_ms),
        )

    def record_closing_line(
        self,
        match_id: str,
        ts_ms: int,
        theo: tuple[Price | None, Price | None],
        mid: tuple[Price | None, Price | None],
    ) -> None:
        """The last fair values before the event started; the first record wins (later ones are in-play)."""
        self._db.execute(
            "INSERT OR IGNORE INTO closing_lines(match_id, ts_ms, theo_a, theo_b, mid_a, mid_b) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (match_id, ts_ms, theo[0], theo[1], mid[0], mid[1]),
        )

    def set_account_latch(self, reason: str | None, ts_ms: int) -> None:
        """Trip (reason) or reset (None) the account-limit latch; it survives restarts."""
        if reason is None:
            self._db.execute("DELETE FROM account_latch")
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO account_latch(id, reason, ts_ms) VALUES (1, ?, ?)", (reason, ts_ms)
            )
