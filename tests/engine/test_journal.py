"""The SQLite journal: migrations, intent-before-send, fill dedupe, match round-trip."""

import asyncio
import signal
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from kmm_tui.domain.prices import Count, Money, Price, contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.journal import CHECKPOINT_EVERY, MIGRATIONS, Journal, JournalFill, JournalOrder
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput


def spec() -> MatchSpec:
    return MatchSpec(
        "m1",
        "KXCS2GAME-26NOV281330VITFAZ-VIT",
        "KXCS2GAME-26NOV281330VITFAZ-FAZ",
        TheoInput(odds_a=Decimal("1.62"), odds_b=Decimal("2.42"), method=DevigMethod.POWER),
        MatchSettings(edge=Price(150), contracts=contracts(5)),
        name="VIT vs FAZ",
    )


def test_fresh_journal_is_at_the_latest_schema(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    assert journal.schema_version == len(MIGRATIONS)
    mode = journal._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_match_spec_round_trips_exactly(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.save_match(spec(), "quoting", "quoting", "g1", 1)
    journal.close()
    [loaded] = Journal(tmp_path / "j.sqlite").matches()
    assert loaded.spec == spec()
    assert (loaded.status, loaded.order_group_id) == ("quoting", "g1")


def test_fills_are_deduplicated_by_trade_id(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    fill = JournalFill("t1", "m1", "o1", "T-A", "a", Price(5500), contracts(2), Money(0), False, 10)
    assert journal.record_fill(fill) is True
    assert journal.record_fill(fill) is False
    assert journal.fills("m1") == [fill]
    assert journal.last_fill_ms() == 10


def test_order_intent_then_ack_is_one_order_with_history(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.order_intent(
        JournalOrder("kmm-1", "m1", "a", "T-A", Price(5500), Count(1000), None, "pending"), 1
    )
    journal.order_update(
        "kmm-1", "m1", "placed", price=None, count=None, order_id="o1", state="resting", detail="", ts_ms=2
    )
    [order] = journal.orders("m1")
    assert (order.order_id, order.state, order.price) == ("o1", "resting", 5500)
    assert journal.order_by_order_id("o1") == order
    kinds = [row[2].split()[0] for row in journal.history("m1")]
    assert kinds == ["intent", "placed"]


def other_connection_sees(path: Path, table: str) -> int:
    """Rows another process would find after a crash: only what was committed."""
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_decisions_are_group_committed_once_per_window(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, commit_window_ms=50)
    for i in range(100):
        journal.record_decision("m1", i, "a", "best_bid", "outbid 54c", Price(5500))
    assert other_connection_sees(path, "decisions") == 0, "still in the open window"
    await asyncio.sleep(0.2)
    assert other_connection_sees(path, "decisions") == 100
    assert journal.commits == 1, "one commit for the whole window, not one per row"


async def test_intents_and_fills_are_committed_at_once_with_the_window(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, commit_window_ms=60_000)
    journal.record_decision("m1", 1, "a", "best_bid", "", Price(5500))
    journal.order_intent(JournalOrder("kmm-1", "m1", "a", "T-A", Price(5500), Count(500), None, "pending"), 2)
    assert other_connection_sees(path, "orders") == 1
    assert other_connection_sees(path, "decisions") == 1, "the pending window went with the intent"
    journal.record_fill(
        JournalFill("t1", "m1", "o1", "T-A", "a", Price(5500), Count(100), Money(0), False, 3)
    )
    assert other_connection_sees(path, "fills") == 1
    journal.close()


KILLED_WRITER = """
import asyncio, os, signal, sys
from pathlib import Path
from kmm_tui.domain.prices import Count, Money, Price
from kmm_tui.engine.journal import Journal, JournalFill, JournalOrder

async def main():
    journal = Journal(Path(sys.argv[1]), commit_window_ms=60_000)
    journal.record_decision("m1", 1, "a", "best_bid", "before", Price(5500))
    journal.order_intent(JournalOrder("kmm-1", "m1", "a", "T-A", Price(5500), Count(500), None, "pending"), 2)
    journal.record_fill(
        JournalFill("t1", "m1", "o1", "T-A", "a", Price(5500), Count(100), Money(0), False, 3)
    )
    journal.record_decision("m1", 4, "a", "best_bid", "in the window", Price(5600))
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def test_kill_9_loses_only_the_open_window_never_an_intent_or_a_fill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL
    journal = Journal(path)
    assert [o.client_order_id for o in journal.orders()] == ["kmm-1"]
    assert [f.trade_id for f in journal.fills()] == ["t1"]
    assert [row[2] for row in journal.history("m1") if row[1] == "decision"] == ["a best_bid: before"]


def test_old_decisions_and_those_beyond_the_cap_are_pruned(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", decision_retention_ms=1_000, decision_max_rows=5)
    for ts in (100, 200, 5_000, 5_100, 5_200, 5_300, 5_400, 5_500, 5_600):
        journal.record_decision("m1", ts, "a", "best_bid", str(ts), Price(5500))
    assert journal.prune_history(now_ms=5_800) == 4, "two too old, then two beyond the cap of five"
    kept = [row[2] for row in journal.history("m1") if row[1] == "decision"]
    assert kept == [f"a best_bid: {ts}" for ts in (5_200, 5_300, 5_400, 5_500, 5_600)]


def test_old_order_events_are_pruned_but_never_the_orders_and_fills_recovery_reads(tmp_path: Path) -> None:
    """One order event per write (~195 a second at 200 matches): without retention the journal grew
    ~50 MB an hour. The order's own row (its last state) and the fills stay."""
    journal = Journal(tmp_path / "j.sqlite", decision_retention_ms=1_000, order_event_max_rows=3)
    journal.order_intent(JournalOrder("c1", "m1", "a", "T-A", Price(5000), Count(500), None, "pending"), 100)
    for ts in (200, 5_000, 5_100, 5_200, 5_300):
        journal.order_update(
            "c1", "m1", "amended", price=Price(5000 + ts // 100), count=Count(500), order_id="o1",
            state="resting", detail=str(ts), ts_ms=ts,
        )
    fill = JournalFill("t1", "m1", "o1", "T-A", "a", Price(5000), Count(100), Money(0), False, 150)
    journal.record_fill(fill)
    assert journal.prune_history(now_ms=5_800) == 3, "the intent and an amend too old, one beyond the cap"
    events = [row[2] for row in journal.history("m1") if row[1] == "order"]
    assert [e.rsplit(" ", 1)[-1] for e in events] == ["5100", "5200", "5300"]
    assert journal.order_by_client_id("c1") is not None
    assert [f.trade_id for f in journal.fills("m1")] == ["t1"]


async def test_the_wal_is_checkpointed_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    before = path.stat().st_size
    for i in range(CHECKPOINT_EVERY):
        journal.record_fill(
            JournalFill(f"t{i}", "m1", "o1", "T-A", "a", Price(5500), Count(100), Money(0), False, i)
        )
    for _ in range(100):  # the worker thread's passive checkpoint
        if journal.checkpoints:
            break
        await asyncio.sleep(0.01)
    assert journal.checkpoints == 1
    assert path.stat().st_size > before, "the rows were copied from the WAL into the database file"
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0, "never inside a commit"
    journal.close()


def _wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence: SQLite adds one each time it writes the WAL from its start."""
    header = Path(f"{path}-wal").read_bytes()[:16]
    return int.from_bytes(header[12:16], "big")


async def test_the_wal_restarts_while_the_writer_never_pauses(tmp_path: Path) -> None:
    # Rows arrive without a pause (as decisions do at 200 matches): the next transaction begins right
    # after each commit, before a worker checkpoint can finish. The WAL must still be written from its
    # start again after the checkpoints, not grow with every byte ever written (and its mapped index).
    path = tmp_path / "j.sqlite"
    journal = Journal(path, commit_window_ms=5)
    began = asyncio.get_running_loop().time()
    while journal.checkpoints < 4 and asyncio.get_running_loop().time() - began < 20:
        journal.record_decision("m1", 1, "a", "best_bid", "x" * 40, Price(5500))
        await asyncio.sleep(0)
    assert journal.checkpoints >= 4
    assert _wal_restarts(path) >= 2, "the WAL was restarted after the checkpoints"
    journal.close()
