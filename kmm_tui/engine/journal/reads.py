"""Journal reads: matches, orders, fills, a match's history, markouts, closing lines, the latch.

``read_markouts``/``read_closing_lines`` take a bare connection, for ``kmm journal`` and reports.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from kmm_tui.domain.markouts import FillMarkout, Mark
from kmm_tui.engine.journal.commits import JournalBase
from kmm_tui.engine.journal.schema import JournalFill, JournalMatch, JournalOrder
from kmm_tui.engine.journal.specs import spec_from_json


class JournalReads(JournalBase):
    """Queries on the writer's connection (they see its uncommitted rows)."""

    def matches(self) -> list[JournalMatch]:
        rows = self._db.execute(
            "SELECT spec_json, status, reason, order_group_id FROM matches ORDER BY rowid"
        )
        return [JournalMatch(spec_from_json(row[0]), row[1], row[2], row[3]) for row in rows]

    def orders(
        self, match_id: str | None = None, states: tuple[str, ...] | None = None
    ) -> list[JournalOrder]:
        query = "SELECT client_order_id, match_id, side, ticker, price, count, order_id, state FROM orders"
        clauses, params = [], []
        if match_id is not None:
            clauses.append("match_id = ?")
            params.append(match_id)
        if states:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        return [JournalOrder(*row) for row in self._db.execute(query + " ORDER BY created_ms", params)]

    def order_by_client_id(self, client_order_id: str) -> JournalOrder | None:
        row = self._db.execute(
            "SELECT client_order_id, match_id, side, ticker, price, count, order_id, state FROM orders "
            "WHERE client_order_id = ?",
            (client_order_id,),
        ).fetchone()
        return JournalOrder(*row) if row else None

    def order_created_ms(self, client_order_id: str) -> int:
        """When this order's intent was recorded (0 when unknown)."""
        row = self._db.execute(
            "SELECT created_ms FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def order_by_order_id(self, order_id: str) -> JournalOrder | None:
        row = self._db.execute(
            "SELECT client_order_id, match_id, side, ticker, price, count, order_id, state FROM orders "
            "WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        return JournalOrder(*row) if row else None

    def fills(self, match_id: str | None = None) -> list[JournalFill]:
        query = (
            "SELECT trade_id, match_id, order_id, ticker, side, price, count, fee, is_taker, ts_ms FROM fills"
        )
        params: tuple[Any, ...] = ()
        if match_id is not None:
            query += " WHERE match_id = ?"
            params = (match_id,)
        rows = self._db.execute(query + " ORDER BY ts_ms, trade_id", params)
        return [JournalFill(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9]) for r in rows]

    def earliest_open_intent_ms(self) -> int | None:
        """Creation time of the oldest order that may still be live (or whose fate we never learned)."""
        row = self._db.execute(
            "SELECT MIN(created_ms) FROM orders WHERE state IN ('pending', 'resting', 'unknown')"
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    def last_order_activity_ms(self) -> int | None:
        """When an order of ours was last sent or heard of: a crash this recent may have left writes
        that land, or show in the exchange's (lagging) reads, only after restart recovery first looks."""
        row = self._db.execute("SELECT MAX(updated_ms) FROM orders").fetchone()
        return row[0] if row and row[0] is not None else None

    def has_fill(self, trade_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM fills WHERE trade_id = ?", (trade_id,)).fetchone() is not None

    def last_fill_ms(self) -> int | None:
        row = self._db.execute("SELECT MAX(ts_ms) FROM fills").fetchone()
        return row[0] if row and row[0] is not None else None

    def history(self, match_id: str) -> Iterator[tuple[int, str, str]]:
        """(ts_ms, kind, text) for one match, oldest first: orders, fills, decisions, guard trips."""
        rows = self._db.execute(
            """
            SELECT ts_ms, 'order', kind || ' ' || client_order_id || ' price=' || IFNULL(price, '') ||
                   ' count=' || IFNULL(count, '') || CASE WHEN detail != '' THEN ' ' || detail ELSE '' END
              FROM order_events WHERE match_id = :m
            UNION ALL
            SELECT ts_ms, 'fill', side || ' ' || ticker || ' price=' || price || ' count=' || count ||
                   ' fee=' || fee || ' trade=' || trade_id FROM fills WHERE match_id = :m
            UNION ALL
            SELECT ts_ms, 'decision', side || ' ' || reason || ': ' || detail
              FROM decisions WHERE match_id = :m
            UNION ALL
            SELECT ts_ms, 'guard', guard || ': ' || reason FROM guard_trips WHERE match_id = :m
            ORDER BY 1
            """,
            {"m": match_id},
        )
        yield from rows

    def markouts(self, match_id: str | None = None) -> list[FillMarkout]:
        """Every journaled fill markout (oldest first) with the samples taken so far."""
        return read_markouts(self._db, match_id)

    def closing_lines(self) -> dict[str, tuple[Mark, Mark]]:
        return read_closing_lines(self._db)

    def account_latch(self) -> str | None:
        row = self._db.execute("SELECT reason FROM account_latch").fetchone()
        return row[0] if row else None


def read_markouts(db: sqlite3.Connection, match_id: str | None = None) -> list[FillMarkout]:
    """Fill markouts with their samples, oldest first (also used by ``kmm journal --markouts``)."""
    query = "SELECT trade_id, match_id, series, ticker, side, price, count, ts_ms, theo, mid FROM markouts"
    params: tuple[Any, ...] = ()
    if match_id is not None:
        query += " WHERE match_id = ?"
        params = (match_id,)
    samples: dict[str, list[tuple[int, Mark]]] = {}
    for trade_id, horizon, theo, mid in db.execute(
        "SELECT trade_id, horizon_ms, theo, mid FROM markout_samples ORDER BY horizon_ms"
    ):
        samples.setdefault(trade_id, []).append((horizon, Mark(theo, mid)))
    return [
        FillMarkout(*r[:8], Mark(r[8], r[9]), tuple(samples.get(r[0], ())))
        for r in db.execute(query + " ORDER BY ts_ms, trade_id", params)
    ]


def read_closing_lines(db: sqlite3.Connection) -> dict[str, tuple[Mark, Mark]]:
    """match id -> (closing mark of A, of B): the last fair values before the event started."""
    rows = db.execute("SELECT match_id, theo_a, theo_b, mid_a, mid_b FROM closing_lines")
    return {r[0]: (Mark(r[1], r[3]), Mark(r[2], r[4])) for r in rows}
