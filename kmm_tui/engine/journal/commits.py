"""The journal: a SQLite (WAL) record of what we intended, what the exchange acknowledged, and why.

The exchange is the source of truth for orders, fills and positions; the journal is the source of
truth for our *intent*: matches and their settings, every order intent written before it is sent,
every acknowledgement, every fill (deduplicated by trade id), every decision with its reason (only
when it changes) and every guard trip. Restart recovery reads it to know which orders are ours and
from when to back-fill fills.

One connection, one writer (the engine's loop). WAL with ``synchronous=NORMAL`` survives a crash of
the process (``kill -9``) without an fsync per write; schema changes are numbered migrations keyed on
``PRAGMA user_version``.

Group commits: one WAL commit per statement cost 2 MB/s of disk writes at 50 matches, so the rows
that recovery can do without (order acknowledgements and their events, decisions, guard trips) are
gathered in one open transaction and committed once per ``commit_window_ms`` (a timer on the running
loop; without a loop every write commits at once). Order intents, fills and match rows are committed
at once, and take whatever is pending with them: ``kill -9`` loses at most the last commit window of
the batched rows, never an intent or a fill (docs/benchmarks.md, "Journal").

Checkpoints: SQLite copies the WAL back into the database file every 1,000 pages, inside whichever
commit crosses the mark, with an fsync: 8 to 24 ms on the engine's loop at 200 matches. Automatic
checkpoints are off on the writer; every ``CHECKPOINT_EVERY`` commits a passive checkpoint runs on a
worker thread with its own connection (readers and the writer carry on meanwhile).

Retention: decisions are the bulk of the file (about 50 MB an hour at 50 matches), so rows older than
``decision_retention_ms`` and beyond the newest ``decision_max_rows`` are deleted at most once a
minute; SQLite reuses the freed pages, so the file stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kmm_tui.domain.markouts import FillMarkout, Mark
from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE matches (
        match_id TEXT PRIMARY KEY,
        spec_json TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        order_group_id TEXT,
        updated_ms INTEGER NOT NULL
    );
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        match_id TEXT NOT NULL,
        side TEXT NOT NULL,
        ticker TEXT NOT NULL,
        price INTEGER NOT NULL,
        count INTEGER NOT NULL,
        order_id TEXT,
        state TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX orders_by_match ON orders(match_id);
    CREATE INDEX orders_by_order_id ON orders(order_id);
    CREATE TABLE order_events (
        id INTEGER PRIMARY KEY,
        client_order_id TEXT NOT NULL,
        match_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        price INTEGER,
        count INTEGER,
        detail TEXT NOT NULL DEFAULT '',
        ts_ms INTEGER NOT NULL
    );
    CREATE INDEX order_events_by_match ON order_events(match_id, ts_ms);
    CREATE TABLE fills (
        trade_id TEXT PRIMARY KEY,
        match_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        ticker TEXT NOT NULL,
        side TEXT NOT NULL,
        price INTEGER NOT NULL,
        count INTEGER NOT NULL,
        fee INTEGER NOT NULL,
        is_taker INTEGER NOT NULL,
        ts_ms INTEGER NOT NULL
    );
    CREATE INDEX fills_by_match ON fills(match_id, ts_ms);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        match_id TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        side TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        price INTEGER
    );
    CREATE INDEX decisions_by_match ON decisions(match_id, ts_ms);
    CREATE TABLE guard_trips (
        id INTEGER PRIMARY KEY,
        match_id TEXT,
        guard TEXT NOT NULL,
        reason TEXT NOT NULL,
        ts_ms INTEGER NOT NULL
    );
    """,
    # markouts, closing lines and the account-limit latch (docs/guards.md, "Markouts")
    """
    CREATE TABLE markouts (
        trade_id TEXT PRIMARY KEY,
        match_id TEXT NOT NULL,
        series TEXT NOT NULL,
        ticker TEXT NOT NULL,
        side TEXT NOT NULL,
        price INTEGER NOT NULL,
        count INTEGER NOT NULL,
        ts_ms INTEGER NOT NULL,
        theo INTEGER,
        mid INTEGER
    );
    CREATE INDEX markouts_by_match ON markouts(match_id, ts_ms);
    CREATE TABLE markout_samples (
        trade_id TEXT NOT NULL,
        horizon_ms INTEGER NOT NULL,
        theo INTEGER,
        mid INTEGER,
        ts_ms INTEGER NOT NULL,
        PRIMARY KEY (trade_id, horizon_ms)
    );
    CREATE TABLE closing_lines (
        match_id TEXT PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        theo_a INTEGER,
        theo_b INTEGER,
        mid_a INTEGER,
        mid_b INTEGER
    );
    CREATE TABLE account_latch (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        reason TEXT NOT NULL,
        ts_ms INTEGER NOT NULL
    );
    """,
)


@dataclass(frozen=True, slots=True)
class JournalFill:
    trade_id: str
    match_id: str
    order_id: str
    ticker: str
    side: str
    price: Price
    count: Count
    fee: Money
    is_taker: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class JournalOrder:
    client_order_id: str
    match_id: str
    side: str
    ticker: str
    price: Price
    count: Count
    order_id: str | None
    state: str


@dataclass(frozen=True, slots=True)
class JournalMatch:
    spec: MatchSpec
    status: str
    reason: str
    order_group_id: str | None


log = logging.getLogger(__name__)

COMMIT_WINDOW_MS = 200
DECISION_RETENTION_MS = 6 * 3_600_000
DECISION_MAX_ROWS = 500_000
PRUNE_EVERY_S = 60.0
CHECKPOINT_EVERY = 50  # commits (about 10 s at one commit per window)


class Journal:
    """The engine's single writer to the journal database."""

    def __init__(
        self,
        path: Path,
        *,
        commit_window_ms: int = COMMIT_WINDOW_MS,
        decision_retention_ms: int = DECISION_RETENTION_MS,
        decision_max_rows: int = DECISION_MAX_ROWS,
    ) -> None:
        self.path = path
        self.commit_window_ms = commit_window_ms
        self.decision_retention_ms = decision_retention_ms
        self.decision_max_rows = decision_max_rows
        self.commits = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on a worker thread instead
        self._migrate()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._pruned_at = time.monotonic()
        self.checkpoints = 0
        self._commits_since_checkpoint = 0
        self._checkpointing = threading.Lock()
        self._checkpointer: sqlite3.Connection | None = None
        self._closed = False

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"journal {self.path} was written by a newer kmm (schema {version}); "
                "upgrade kmm or move the file"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.commit()
        with self._checkpointing:  # a checkpoint in flight finishes first
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        self._db.close()  # the last connection to close checkpoints what is left

    # --- commits ----------------------------------------------------------------------------------

    def commit(self) -> None:
        """Commit whatever is pending now (and prune decisions when a minute has passed)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            self.prune_decisions(int(time.time() * 1000))
        if self._db.in_transaction:
            self._db.execute("COMMIT")
            self.commits += 1
            self._commits_since_checkpoint += 1
            if self._commits_since_checkpoint >= CHECKPOINT_EVERY:
                self._commits_since_checkpoint = 0
                self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """A passive checkpoint on a worker thread (inline without a loop: CLI, scripts, tests)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.checkpoint()
            return
        loop.run_in_executor(None, self.checkpoint)

    def checkpoint(self) -> None:
        """Copy committed WAL frames into the database file (PASSIVE: never waits for the writer)."""
        if not self._checkpointing.acquire(blocking=False):
            return  # one is running already
        try:
            if self._closed:
                return
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.checkpoints += 1
        except sqlite3.Error as error:  # the next one retries; the WAL only grows meanwhile
            log.warning("journal checkpoint failed: %s", error)
        finally:
            self._checkpointing.release()

    def _batched(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        """A row recovery can do without: committed with the next window (or a durable write)."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        if self._flush_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (CLI, scripts): nothing would flush later
                cursor = self._db.execute(sql, params)
                self.commit()
                return cursor
            self._flush_timer = loop.call_later(self.commit_window_ms / 1000, self._flush)
        return self._db.execute(sql, params)

    def _durable(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        """A row that must survive ``kill -9`` once this returns: committed at once, with the window."""
        with self._committed():
            return self._db.execute(sql, params)

    @contextlib.contextmanager
    def _committed(self) -> Iterator[None]:
        """Statements that must survive ``kill -9`` once the block ends (a failed one is not applied)."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        try:
            yield
        finally:
            self.commit()

    def _flush(self) -> None:
        self._flush_timer = None
        try:
            self.commit()
        except sqlite3.Error as error:  # a full disk must not stop the engine; the next commit retries
            log.error("journal commit failed: %s", error)

    def prune_decisions(self, now_ms: int) -> int:
        """Delete decisions older than the retention and beyond the row cap; returns how many."""
        before = self._db.total_changes
        cutoff = now_ms - self.decision_retention_ms
        self._db.execute(
            "DELETE FROM decisions WHERE id < IFNULL((SELECT id FROM decisions WHERE ts_ms >= ? "
            "ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM decisions))",
            (cutoff,),
        )
        self._db.execute(
            "DELETE FROM decisions WHERE id <= (SELECT MAX(id) FROM decisions) - ?",
            (self.decision_max_rows,),
        )
        return self._db.total_changes - before

    # --- writes -----------------------------------------------------------------------------------

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

    # --- reads ------------------------------------------------------------------------------------

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

    # --- markouts, closing lines, account latch (docs/guards.md) ------------------------------------

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

    def markouts(self, match_id: str | None = None) -> list[FillMarkout]:
        """Every journaled fill markout (oldest first) with the samples taken so far."""
        return read_markouts(self._db, match_id)

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

    def closing_lines(self) -> dict[str, tuple[Mark, Mark]]:
        return read_closing_lines(self._db)

    def set_account_latch(self, reason: str | None, ts_ms: int) -> None:
        """Trip (reason) or reset (None) the account-limit latch; it survives restarts."""
        if reason is None:
            self._db.execute("DELETE FROM account_latch")
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO account_latch(id, reason, ts_ms) VALUES (1, ?, ?)", (reason, ts_ms)
            )

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


# --- match specs as JSON (Decimals and Prices kept exact) -------------------------------------------


def spec_to_json(spec: MatchSpec) -> str:
    data = asdict(spec)
    theo = data["theo"]
    for key in ("odds_a", "odds_b", "odds_draw"):
        if theo[key] is not None:
            theo[key] = str(theo[key])
    theo["method"] = spec.theo.method.value
    theo["max_margin"] = str(spec.theo.max_margin)
    return json.dumps(data, sort_keys=True)


def spec_from_json(text: str) -> MatchSpec:
    data = json.loads(text)
    theo = data["theo"]
    odds = {
        k: (Decimal(theo[k]) if theo.get(k) is not None else None) for k in ("odds_a", "odds_b", "odds_draw")
    }
    theo_input = TheoInput(
        **odds,
        theo_a=theo.get("theo_a"),
        theo_b=theo.get("theo_b"),
        method=DevigMethod(theo.get("method", DevigMethod.MULTIPLICATIVE.value)),
        from_feed=bool(theo.get("from_feed", False)),
        margin_confirmed=bool(theo.get("margin_confirmed", False)),
        **({"max_margin": Decimal(theo["max_margin"])} if theo.get("max_margin") else {}),
    )
    known = MatchSettings.__dataclass_fields__
    settings = MatchSettings(**{k: v for k, v in data.get("settings", {}).items() if k in known})
    return MatchSpec(
        match_id=data["match_id"],
        ticker_a=data["ticker_a"],
        ticker_b=data["ticker_b"],
        theo=theo_input,
        settings=settings,
        name=data.get("name", ""),
        start_ms=data.get("start_ms"),
    )
