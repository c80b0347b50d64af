"""``kmm journal`` against a journal written by the engine's own ``Journal`` class."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui import cli
from kmm_tui.bootstrap import journal_path
from kmm_tui.config import Settings
from kmm_tui.domain.prices import Count, Money, Price, contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.journal import Journal, JournalFill, JournalOrder
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.journal_cli import JournalReader, main

BASE_MS = int(datetime(2025, 11, 28, 13, 30, 5, tzinfo=UTC).timestamp()) * 1000 + 123
VIT, FAZ = "KXCS2GAME-25NOV281330VITFAZ-VIT", "KXCS2GAME-25NOV281330VITFAZ-FAZ"
T1, GEN = "KXLOLGAME-25NOV281400T1GEN-T1", "KXLOLGAME-25NOV281400T1GEN-GEN"


def populate(state: Path, environment: str = "sim") -> None:
    journal = Journal(journal_path(state, environment))
    vit = MatchSpec(
        "vitfaz",
        VIT,
        FAZ,
        TheoInput(odds_a=Decimal("1.62"), odds_b=Decimal("2.42"), method=DevigMethod.POWER),
        MatchSettings(edge=Price(150), contracts=contracts(5)),
        name="VIT vs FAZ",
    )
    t1 = MatchSpec("t1gen", T1, GEN, TheoInput(theo_a=Price(6000), theo_b=Price(4000)), name="T1 vs GEN")
    journal.save_match(vit, "stopped", "stopped by user", "g1", BASE_MS)
    journal.save_match(t1, "quoting", "", None, BASE_MS)
    intent = JournalOrder("kmm-1", "vitfaz", "a", VIT, Price(5500), contracts(5), None, "pending")
    journal.order_intent(intent, BASE_MS)
    journal.order_update("kmm-1", "vitfaz", "placed", price=None, count=None, order_id="o1", state="resting",
                         detail="", ts_ms=BASE_MS + 10)
    journal.record_decision("vitfaz", BASE_MS + 5, "a", "quoting", "one tick above 54c", Price(5500))
    journal.record_fill(JournalFill("t1", "vitfaz", "o1", VIT, "a", Price(5500), contracts(5), Money(3_500),
                                    False, BASE_MS + 1_000))
    journal.record_fill(JournalFill("t2", "vitfaz", "o2", FAZ, "b", Price(3550), Count(250), Money(0), True,
                                    BASE_MS + 2_000))
    journal.record_guard_trip("vitfaz", "start", "event starts in 5 min", BASE_MS + 3_000)
    journal.record_fill(JournalFill("t3", "t1gen", "o3", T1, "a", Price(4210), contracts(1), Money(70_000),
                                    True, BASE_MS + 4_000))
    journal.record_fill(JournalFill("t4", "gone", "o4", T1, "b", Price(100), contracts(2), Money(0), False,
                                    BASE_MS + 5_000))
    journal.close()


def args(
    state: Path, match: str | None = None, csv_path: Path | None = None, env: str | None = None
) -> argparse.Namespace:
    return argparse.Namespace(state_dir=state, match=match, csv=csv_path, env=env)


def test_lists_every_match_with_tickers_status_and_fill_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    assert main(args(tmp_path), Settings()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "TICKERS", "STATUS", "FILLS"]
    vit = next(line for line in lines if line.startswith("vitfaz"))
    assert "VIT vs FAZ" in vit and f"{VIT} / {FAZ}" in vit and "stopped (stopped by user)" in vit
    assert vit.rstrip().endswith("2")
    t1 = next(line for line in lines if line.startswith("t1gen"))
    assert "quoting" in t1 and t1.rstrip().endswith("1")
    gone = next(line for line in lines if line.startswith("gone"))
    assert "deleted" in gone, "a deleted match that left fills is still listed"


def test_match_history_in_time_order_with_cents_and_utc_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    assert main(args(tmp_path, match="vit vs faz"), Settings()) == 0
    out = capsys.readouterr().out
    assert "Status   stopped: stopped by user" in out
    assert "Theo     odds 1.62 / 2.42 (power)" in out
    assert "edge 1.5c, 5 contracts, inventory max 50, start margin 5 min" in out
    # 5 @ 55c + 2.5 @ 35.5c cost $3.6375, fees $0.0035: A wins 5 - 3.641, B wins 2.5 - 3.641
    assert "Fills    2: long A 5 @ avg cost 55.07c, long B 2.5 @ avg cost 35.5c; fees $0.0035" in out
    assert "P&L if A wins $1.359, if B wins -$1.141" in out
    history = [line.strip() for line in out.splitlines() if line.startswith("  2025-")]
    kinds = [line.split()[2] for line in history]
    assert kinds == ["order", "decision", "order", "fill", "fill", "guard"]
    assert history[0].startswith("2025-11-28 13:30:05.123Z  order    intent")
    assert "A KXCS2GAME-25NOV281330VITFAZ-VIT 55c x5" in history[0] and "[kmm-1]" in history[0]
    assert history[1].endswith("A 55c quoting: one tick above 54c")
    assert "placed" in history[2] and "13:30:05.133Z" in history[2]
    assert "B KXCS2GAME-25NOV281330VITFAZ-FAZ 2.5 @ 35.5c fee $0.00 taker" in history[4]
    assert history[5].endswith("guard    start: event starts in 5 min")


def test_csv_export_has_exact_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path)
    target = tmp_path / "fills.csv"
    assert main(args(tmp_path, match="vitfaz", csv_path=target), Settings()) == 0
    assert "wrote 2 fill(s)" in capsys.readouterr().out
    rows = list(csv.DictReader(target.open(newline="")))
    assert [row["trade_id"] for row in rows] == ["t1", "t2"]
    second = rows[1]
    assert (second["price_cents"], second["price_dollars"], second["count"]) == ("35.5", "0.3550", "2.50")
    assert (second["cost_dollars"], second["fee_dollars"]) == ("0.887500", "0.000000")
    assert second["is_taker"] == "true"
    assert (second["match_name"], second["time_utc"]) == ("VIT vs FAZ", "2025-11-28 13:30:07.123Z")
    assert rows[0]["fee_dollars"] == "0.003500" and rows[0]["ts_ms"] == str(BASE_MS + 1_000)

    assert main(args(tmp_path, csv_path=Path("-")), Settings()) == 0
    every = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [row["trade_id"] for row in every] == ["t1", "t2", "t3", "t4"]
    assert every[3]["match_name"] == "" and every[3]["price_cents"] == "1"


def journal(state: Path, *flags: str) -> int:
    """``kmm journal`` through the CLI, which owns the failure contract (one line, exit 2)."""
    return cli.main(["journal", "--state-dir", str(state), *flags])


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("kmm journal: ") and "Traceback" not in err, err
    return err


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert journal(tmp_path / "empty") == 2
    err = one_line(capsys.readouterr().err)
    assert "no sim journal at" in err and "— pick another with --state-dir" in err

    populate(tmp_path)
    assert journal(tmp_path, "--match", "nobody") == 2
    err = one_line(capsys.readouterr().err)
    assert "no match 'nobody'" in err and "VIT vs FAZ" in err
    assert journal(tmp_path, "--match", "vs") == 2
    assert "several" in one_line(capsys.readouterr().err)
    assert journal(tmp_path, "--csv", str(tmp_path / "missing-dir" / "x.csv")) == 2
    assert "cannot write" in one_line(capsys.readouterr().err)
    assert journal(tmp_path, "--csv", "-", "--json") == 2
    assert "keep one of them" in one_line(capsys.readouterr().err)

    (tmp_path / "bad").mkdir()
    journal_path(tmp_path / "bad", "sim").write_text("not a database")
    assert journal(tmp_path / "bad") == 2
    assert "cannot read the journal" in one_line(capsys.readouterr().err)


def test_json_lists_matches_and_one_match_with_exact_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    assert journal(tmp_path, "--json") == 0
    listed = json.loads(capsys.readouterr().out)["matches"]
    assert {m["match_id"] for m in listed} >= {"vitfaz", "t1gen"}
    assert journal(tmp_path, "--json", "--match", "vitfaz") == 0
    one = json.loads(capsys.readouterr().out)
    assert one["match"]["name"] == "VIT vs FAZ" and [f["price"] for f in one["fills"]] == ["0.5500", "0.3550"]
    assert one["fills"][1]["count"] == "2.50" and one["fills"][0]["fee"] == "0.003500"
    assert one["position"]["long_a"] == "5.00" and one["position"]["long_b"] == "2.50"
    assert {line["kind"] for line in one["history"]} >= {"order", "decision", "fill", "guard"}


def test_reader_is_read_only_and_sees_a_live_writer(tmp_path: Path) -> None:
    populate(tmp_path)
    writer = Journal(journal_path(tmp_path, "sim"))
    reader = JournalReader(journal_path(tmp_path, "sim"))
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._db.execute("DELETE FROM fills")
        late_ms = BASE_MS + 6_000
        late = JournalFill("t5", "t1gen", "o5", T1, "a", Price(4300), contracts(1), Money(0), False, late_ms)
        writer.record_fill(late)
        assert [f.trade_id for f in reader.fills("t1gen")] == ["t3", "t5"]
    finally:
        reader.close()
        writer.close()


def test_kmm_journal_command_dispatches_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path)
    assert cli.main(["journal", "--env", "sim", "--state-dir", str(tmp_path), "--match", "t1gen"]) == 0
    out = capsys.readouterr().out
    assert "Match    T1 vs GEN  (id t1gen)" in out and "Theo     manual 60c / 40c" in out


def test_each_environment_reads_its_own_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path, "prod")
    assert journal(tmp_path) == 2, "the default (sim) journal does not exist"
    assert "no sim journal" in capsys.readouterr().err
    assert main(args(tmp_path, env="prod"), Settings()) == 0
    assert "vitfaz" in capsys.readouterr().out
