"""``kmm run`` for every shape: --ticker (one YES/NO market), --tickers HOME,TIE,AWAY, --odds and
--theo in the same order (one theo may be left out), and one-line errors for wrong counts."""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest

from kmm_tui import cli
from kmm_tui.cli_parser import build_parser, validate_args
from kmm_tui.config import Settings
from kmm_tui.domain.inventory import Side
from kmm_tui.engine.model import Shape
from kmm_tui.headless import build_spec

EPL = "KXEPLGAME-26DEC06ARSCHE"


def _args(*argv: str) -> argparse.Namespace:
    args = build_parser().parse_args(["run", *argv])
    validate_args(args)
    return args


def test_tickers_and_odds_in_home_draw_away_order_make_a_three_way_spec() -> None:
    args = _args("--tickers", f"{EPL}-ARS,{EPL}-TIE,{EPL}-CHE", "--odds", "2.1,3.4,3.6")
    spec = build_spec(args, Settings())
    assert spec.shape is Shape.THREE_WAY
    assert (spec.ticker(Side.A), spec.ticker(Side.T), spec.ticker(Side.B)) == (
        f"{EPL}-ARS", f"{EPL}-TIE", f"{EPL}-CHE",
    )
    assert (spec.theo.odds_a, spec.theo.odds_draw, spec.theo.odds_b) == (
        Decimal("2.1"), Decimal("3.4"), Decimal("3.6"),
    )


def test_a_left_out_theo_is_implied_for_three_way() -> None:
    spec = build_spec(_args("--tickers", f"{EPL}-ARS,{EPL}-TIE,{EPL}-CHE", "--theo", "45,,26"), Settings())
    assert (spec.theo.theo_a, spec.theo.theo_tie, spec.theo.theo_b) == (4500, 2900, 2600)


def test_ticker_is_one_market_traded_on_yes_and_no() -> None:
    spec = build_spec(_args("--ticker", "kxnbatotal-x-220", "--odds", "1.95,1.87"), Settings())
    assert spec.shape is Shape.YES_NO and spec.tickers == ("KXNBATOTAL-X-220",)
    spec = build_spec(_args("--ticker", "KXNBATOTAL-X-220", "--theo", "52.5"), Settings())
    assert (spec.theo.theo_a, spec.theo.theo_b) == (5250, 4750)


def test_the_scanners_run_line_with_split_flags_works_for_every_shape() -> None:
    """`kmm scan` prints --ticker-a/--ticker-b, --tickers or --ticker with --theo-a/--theo-b(/--theo-tie)."""
    soccer = ("--tickers", f"{EPL}-ARS,{EPL}-TIE,{EPL}-CHE")
    three = build_spec(_args(*soccer, "--theo-a", "45", "--theo-b", "26", "--theo-tie", "29"), Settings())
    assert (three.theo.theo_a, three.theo.theo_tie, three.theo.theo_b) == (4500, 2900, 2600)
    implied = build_spec(_args(*soccer, "--theo-a", "45", "--theo-b", "26"), Settings())
    assert implied.theo.theo_tie == 2900
    odds = build_spec(
        _args("--tickers", "A,T,B", "--odds-a", "2.1", "--odds-draw", "3.4", "--odds-b", "3.6"), Settings()
    )
    assert odds.theo.odds_draw == Decimal("3.4")
    single = build_spec(_args("--ticker", "KXNBATOTAL-X-220", "--theo-a", "52", "--theo-b", "48"), Settings())
    assert single.shape is Shape.YES_NO and (single.theo.theo_a, single.theo.theo_b) == (5200, 4800)


def test_two_team_flags_still_work_and_tickers_with_two_is_two_teams() -> None:
    split = ("--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-a", "1.8", "--odds-b", "2.1")
    old = build_spec(_args(*split), Settings())
    new = build_spec(_args("--tickers", "KX-A,KX-B", "--odds", "1.8,2.1"), Settings())
    assert old.shape is new.shape is Shape.TEAMS
    assert (old.ticker_a, old.ticker_b, old.theo) == (new.ticker_a, new.ticker_b, new.theo)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--tickers", "A,T,B", "--odds", "2.1,3.6"], "--odds takes 3 comma-separated values (got 2"),
        (["--tickers", "A,T,B,C", "--odds", "2,3,4"], "--tickers takes 2 or 3 comma-separated values"),
        (["--ticker", "T", "--odds", "1.9,1.9,1.9"], "--odds takes 2 comma-separated values"),
        (["--tickers", "A,T,B", "--theo", "60,45,"], "leaves nothing for away"),
        (["--tickers", "A,T,B", "--theo", "45,,"], "only one outcome may be left empty"),
        (["--tickers", "A,T,B", "--odds", "2.1,x,3.6"], "--odds: odds 'x' is not a number"),
        (["--tickers", "A,A,B", "--odds", "2,3,4"], "names one market twice"),
        (["--ticker", "T", "--tickers", "A,B", "--odds", "2,2"], "both name the markets"),
        (["--odds", "2,2"], "no market given"),
        (["--tickers", "A,T,B", "--odds-a", "2", "--odds-b", "3"], "--odds-a, --odds-draw and --odds-b go"),
        (["--ticker-a", "A", "--ticker-b", "B", "--theo-tie", "20"], "--tickers HOME,TIE,AWAY"),
        (["--ticker", "T", "--odds", "2,2", "--odds-a", "2"], "use one style"),
        (["--ticker-a", "A", "--odds", "2,2"], "--ticker-a and --ticker-b go together"),
    ],
)
def test_wrong_counts_and_mixes_are_one_line_errors(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.count("\n") == 1 and "Traceback" not in err and err.count(" — ") == 1, err
