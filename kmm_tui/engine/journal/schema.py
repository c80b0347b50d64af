"""The journal's schema: numbered migrations keyed on ``PRAGMA user_version``, and its row types."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.engine.model import MatchSpec

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


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring ``db`` up to the newest schema; refuse a file written by a newer kmm."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"journal {path} was written by a newer kmm (schema {version}); upgrade kmm or move the file"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
