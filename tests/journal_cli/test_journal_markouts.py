"""``kmm journal --markouts`` over markouts the engine's ``Journal`` recorded: tables and CSV."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from kmm_tui import cli
from kmm_tui.bootstrap import journal_path
from kmm_tui.config import Settings
from kmm_tui.domain.markouts import FillMarkout, Mark
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.journal_cli import main

VIT, FAZ = "KXCS2GAME-25NOV281330VITFAZ-VIT", "KXCS2GAME-25NOV281330VITFAZ-FAZ"
MS = 1_764_336_605_000


def populate(state: Path) -> None:
    journal = Journal(journal_path(state, "sim"))
    spec = MatchSpec(
        "vitfaz",
        VIT,
        FAZ,
        TheoInput(theo_a=Price(6000), theo_b=Price(4000)),
        MatchSettings(edge=Price(200)),
        name="VIT vs FAZ",
    )
    journal.save_match(spec, "halted", "event starts", None, MS)
    # an informed sale: bought 1 at 58c with the mid at 60c, the mid then fell to 50c
    journal.record_markout(
        FillMarkout(
            "t1",
            "vitfaz",
            "KXCS2GAME",
            VIT,
            "a",
            Price(5800),
            contracts(1),
            MS,
            Mark(Price(6000), Price(6000)),
        )
    )
    journal.record_markout_sample("t1", 5_000, Mark(Price(6000), Price(5000)), MS + 5_000)
    journal.record_markout_sample("t1", 60_000, Mark(Price(6000), Price(5000)), MS + 60_000)
    # an uninformed one: bought 3 at 38c on B with the mid at 40c, unchanged after
    journal.record_markout(
        FillMarkout(
            "t2",
            "vitfaz",
            "KXCS2GAME",
            FAZ,
            "b",
            Price(3800),
            contracts(3),
            MS,
            Mark(Price(4000), Price(4000)),
        )
    )
    journal.record_markout_sample("t2", 5_000, Mark(Price(4000), Price(4000)), MS + 5_000)
    journal.record_closing_line("vitfaz", MS + 90_000, (Price(5200), Price(4800)), (Price(5100), Price(4900)))
    journal.record_closing_line("vitfaz", MS + 99_000, (Price(1), Price(1)), (Price(1), Price(1)))  # ignored
    journal.close()


def args(state: Path, csv_path: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(state_dir=state, match=None, csv=csv_path, env=None, markouts=True)


def test_markout_tables_per_match_and_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path)
    assert main(args(tmp_path), Settings()) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[1].split()
    assert header[:4] == ["MATCH", "FILLS", "CONTRACTS", "SPREAD"] and "MARKOUT+5s" in header
    row = dict(zip(header, lines[2].split(), strict=True))
    assert row["FILLS"] == "2" and row["SPREAD"] == "+2.00c"
    assert row["MARKOUT+5s"] == "-2.50c"  # (-10 x 1 + 0 x 3) / 4
    assert row["ADVERSE+5s"] == "50%" and row["MARKOUT+1m"] == "-10.00c"
    assert row["CLV"] == "+6.50c"  # A closed at 51c (bought 58c: -7c x 1), B at 49c (38c: +11c x 3)
    assert row["EDGE"] == "2c" and row["SUGGESTED"] == "10c"
    assert any(line.startswith("KXCS2GAME") for line in lines)


def test_markout_csv_one_row_per_fill(tmp_path: Path) -> None:
    populate(tmp_path)
    target = tmp_path / "markouts.csv"
    assert main(args(tmp_path, target), Settings()) == 0
    rows = list(csv.DictReader(target.open(newline="")))
    assert [r["trade_id"] for r in rows] == ["t1", "t2"]
    assert rows[0]["markout_mid_5000ms_cents"] == "-10" and rows[0]["markout_theo_5000ms_cents"] == "0"
    assert rows[0]["clv_cents"] == "-7" and rows[1]["markout_mid_60000ms_cents"] == ""


def test_the_flag_is_parsed_by_kmm_journal() -> None:
    parsed = cli.build_parser().parse_args(["journal", "--markouts"])
    assert parsed.markouts is True
