"""The SQLite journal: migrations, intent-before-send, fill dedupe, match round-trip."""

from decimal import Decimal
from pathlib import Path

from kmm_tui.domain.prices import Count, Money, Price, contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.journal import MIGRATIONS, Journal, JournalFill, JournalOrder
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
