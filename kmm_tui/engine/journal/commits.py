"""The journal's connection and its commits: WAL set-up, group commits, checkpoints, retention.

One connection, one writer (the engine's loop). WAL with ``synchronous=NORMAL`` survives a crash of
the process (``kill -9``) without an fsync per write.

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

Restarting the WAL: SQLite writes the WAL from its start again only when a write transaction begins
while every frame is already in the database file. Under load the writer never lets that happen: the
next group of rows begins a transaction within a millisecond of each commit, while the worker's
checkpoint takes tens of milliseconds, so frames committed meanwhile are always left over. The WAL file
then grew by every byte ever written (1.3 MB/s at 200 matches: 4.6 GB an hour) and its index, the
``-shm`` file SQLite maps into memory, by 32 KiB per 16 MB (0.27 MB/min of RSS; docs/benchmarks.md,
"Soak"). So after each worker checkpoint, the first commit on the loop copies the tail the worker left
(the frames of those tens of milliseconds) with a passive checkpoint of its own, between the commit and
the next transaction: the next write then restarts the WAL, which stays about ``CHECKPOINT_EVERY``
windows long.

Retention: decisions (about 50 MB an hour at 50 matches) and order events (one row per write: about
50 MB an hour at 200 matches) are the bulk of the file, so rows of either older than
``decision_retention_ms`` and beyond the newest ``decision_max_rows`` / ``order_event_max_rows`` are
deleted at most once a minute; SQLite reuses the freed pages, so the file stays bounded. Orders' last
states and fills, which recovery reads, are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kmm_tui.engine.journal.schema import migrate

log = logging.getLogger(__package__)  # "kmm_tui.engine.journal", as before the split

COMMIT_WINDOW_MS = 200
DECISION_RETENTION_MS = 6 * 3_600_000
DECISION_MAX_ROWS = 500_000
ORDER_EVENT_MAX_ROWS = 1_000_000  # one per write: ~1.4 h of 200 matches amending 195 times a second
PRUNE_EVERY_S = 60.0
CHECKPOINT_EVERY = 50  # commits (about 10 s at one commit per window)


class JournalBase:
    """The connection and the commit machinery that the :class:`Journal` writes through."""

    def __init__(
        self,
        path: Path,
        *,
        commit_window_ms: int = COMMIT_WINDOW_MS,
        decision_retention_ms: int = DECISION_RETENTION_MS,
        decision_max_rows: int = DECISION_MAX_ROWS,
        order_event_max_rows: int = ORDER_EVENT_MAX_ROWS,
    ) -> None:
        self.path = path
        self.commit_window_ms = commit_window_ms
        self.decision_retention_ms = decision_retention_ms
        self.decision_max_rows = decision_max_rows
        self.order_event_max_rows = order_event_max_rows
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
        self._tail_due = False  # a worker checkpoint finished: copy its tail at the next commit
        self._closed = False

    def _migrate(self) -> None:
        migrate(self._db, self.path)

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
        """Commit whatever is pending now (and prune the history when a minute has passed)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            self.prune_history(int(time.time() * 1000))
        if self._db.in_transaction:
            self._db.execute("COMMIT")
            self.commits += 1
            self._commits_since_checkpoint += 1
            if self._tail_due:
                self._copy_tail()
            if self._commits_since_checkpoint >= CHECKPOINT_EVERY:
                self._commits_since_checkpoint = 0
                self._checkpoint_soon()

    def _copy_tail(self) -> None:
        """Between a commit and the next transaction: copy what the worker's checkpoint left, so that
        every frame is in the database file and the next write restarts the WAL from its start."""
        if not self._checkpointing.acquire(blocking=False):
            return  # the worker is checkpointing again: its tail is copied after it
        try:
            self._tail_due = False
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            log.warning("journal checkpoint failed: %s", error)
        finally:
            self._checkpointing.release()

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
            self._tail_due = True
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

    def prune_history(self, now_ms: int) -> int:
        """Delete decisions and order events older than the retention and beyond their row caps;
        returns how many rows went. Neither is read to recover: the ``orders`` table holds each
        order's last state and ``fills`` every fill, and neither is pruned."""
        cutoff = now_ms - self.decision_retention_ms
        return self._prune("decisions", cutoff, self.decision_max_rows) + self._prune(
            "order_events", cutoff, self.order_event_max_rows
        )

    def _prune(self, table: str, cutoff_ms: int, max_rows: int) -> int:
        before = self._db.total_changes
        self._db.execute(
            f"DELETE FROM {table} WHERE id < IFNULL((SELECT id FROM {table} WHERE ts_ms >= ? "
            f"ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM {table}))",
            (cutoff_ms,),
        )
        self._db.execute(f"DELETE FROM {table} WHERE id <= (SELECT MAX(id) FROM {table}) - ?", (max_rows,))
        return self._db.total_changes - before
