"""``kmm journal`` for a soccer match (fills on the draw, P&L if home / draw / away) and for one YES/NO
market, against a journal written by the engine's own ``Journal``."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.bootstrap import journal_path
from kmm_tui.config import Settings
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.engine.journal import Journal, JournalFill
from kmm_tui.engine.model import MatchSpec, TheoInput
from kmm_tui.journal_cli import main

BASE_MS = 1_764_336_605_123
EPL = "KXEPLGAME-25NOV28ARSCHE"
HOME, TIE, AWAY = f"{EPL}-ARS", f"{EPL}-TIE", f"{EPL}-CHE"
TOTAL = "KXNBATOTAL-25NOV28LALBOS-220"


def populate(state: Path) -> None:
    journal = Journal(journal_path(state, "sim"))
    soccer = MatchSpec(
        "epl", HOME, AWAY,
        TheoInput(odds_a=Decimal("2.1"), odds_b=Decimal("3.6"), odds_draw=Decimal("3.4")),
        name="Arsenal v Chelsea", ticker_tie=TIE,
    )
    total = MatchSpec("total", TOTAL, TOTAL, TheoInput(theo_a=Price(5200)), name="LAL/BOS over 220.5")
    journal.save_match(soccer, "stopped", "", None, BASE_MS)
    journal.save_match(total, "stopped", "", None, BASE_MS)
    for trade, ticker, side, cents in (("s1", HOME, "a", 45), ("s2", TIE, "t", 26), ("s3", AWAY, "b", 25)):
        journal.record_fill(JournalFill(trade, "epl", f"o-{trade}", ticker, side, Price(cents * 100),
                                        contracts(10), Money(0), False, BASE_MS + 1_000))
    journal.record_fill(JournalFill("y1", "total", "o-y1", TOTAL, "a", Price(4800), contracts(5), Money(0),
                                    False, BASE_MS + 2_000))
    journal.close()


def _args(state: Path, match: str | None = None, *, as_json: bool = False) -> argparse.Namespace:
    return argparse.Namespace(state_dir=state, match=match, csv=None, env=None, json=as_json)


def test_a_soccer_match_shows_its_three_markets_the_draw_fills_and_pnl_per_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    assert main(_args(tmp_path), Settings()) == 0
    listing = capsys.readouterr().out
    assert f"{HOME} / {TIE} / {AWAY}" in listing
    assert main(_args(tmp_path, "epl"), Settings()) == 0
    out = capsys.readouterr().out
    assert f"home {HOME}  draw {TIE}  away {AWAY}" in out
    assert "odds 2.1 / 3.6 draw 3.4" in out
    # 10 of each outcome at 45 + 26 + 25 = 96c: a set pays $1 whatever happens, +$0.40 on each
    assert "long home 10 @ avg cost 45c, long draw 10 @ avg cost 26c, long away 10 @ avg cost 25c" in out
    assert "P&L if home $0.40, if draw $0.40, if away $0.40" in out
    assert f"T {TIE} 10 @ 26c" in out  # the draw's fill in the history


def test_json_has_the_tie_and_pnl_by_outcome(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path)
    assert main(_args(tmp_path, "epl", as_json=True), Settings()) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["match"]["ticker_tie"] == TIE and document["match"]["shape"] == "three_way"
    position = document["position"]
    assert position["long_t"] == "10.00"
    assert position["pnl_if"] == {"a": "0.400000", "t": "0.400000", "b": "0.400000"}


def test_a_yes_no_market_shows_over_and_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(tmp_path)
    assert main(_args(tmp_path, "total"), Settings()) == 0
    out = capsys.readouterr().out
    assert f"Tickers  {TOTAL} (A = YES / over, B = NO / under)" in out
    assert "Theo     manual 52c / implied" in out
    assert "P&L if over $2.60, if under -$2.40" in out
