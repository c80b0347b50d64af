"""Totals and spreads priced from one line, and which markets a final score settles YES (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.sim.lines import (
    GAME,
    SPREAD,
    TOTAL,
    centre_for,
    line_fair,
    line_fairs,
    outcomes,
    over_probability,
    yes_outcomes,
)

D = Decimal


def test_the_over_falls_as_the_strike_rises_and_is_even_at_the_line() -> None:
    strikes = [D("210.5") + 4 * i for i in range(6)]
    fairs = [over_probability(D("222.5"), k, D(7)) for k in strikes]
    assert fairs == sorted(fairs, reverse=True) and len(set(fairs)) == len(fairs)
    assert over_probability(D("222.5"), D("222.5"), D(7)) == 5000
    assert over_probability(D(0), D(1000), D(1)) == 300  # clamped to 3c..97c: makers still quote it
    assert over_probability(D(1000), D(0), D(1)) == 9700


def test_a_spread_prices_each_team_from_the_first_teams_margin() -> None:
    markets = outcomes(SPREAD, ["BOS", "NYK"], [D("1.5"), D("4.5")])
    assert [m.code for m in markets] == ["BOS1.5", "BOS4.5", "NYK1.5", "NYK4.5"]
    fair = line_fairs(SPREAD, markets, D("-3.6"), D(7))  # New York by 3.6 expected
    bos15, bos45, nyk15, nyk45 = fair
    assert bos15 > bos45 and nyk15 > nyk45 and nyk15 > bos15
    # "Boston by over 1.5" and "New York by over 1.5" leave room for a margin within ±1.5.
    assert bos15 + nyk15 < 10_000


@pytest.mark.parametrize("kind", [TOTAL, SPREAD])
def test_pinning_one_strike_moves_the_line_so_that_strike_is_worth_the_price(kind: str) -> None:
    markets = outcomes(kind, ["BOS", "NYK"], [D("4.5"), D("7.5")])
    for market in markets:
        centre = centre_for(kind, market, 6100, D(7))
        assert abs(line_fair(kind, market, centre, D(7)) - 6100) <= 1


def test_a_final_score_settles_every_shape() -> None:
    game = outcomes(GAME, ["ARS", "CHE", "TIE"], [])
    assert yes_outcomes(GAME, game, (2, 1)) == [True, False, False]
    assert yes_outcomes(GAME, game, (0, 3)) == [False, True, False]
    assert yes_outcomes(GAME, game, (1, 1)) == [False, False, True]
    with pytest.raises(ValueError, match="no TIE market"):
        yes_outcomes(GAME, outcomes(GAME, ["BOS", "NYK"], []), (100, 100))
    totals = outcomes(TOTAL, ["BOS", "NYK"], [D("214.5"), D("218.5"), D("222.5")])
    assert yes_outcomes(TOTAL, totals, (112, 108)) == [True, True, False]  # 220 points
    spreads = outcomes(SPREAD, ["BOS", "NYK"], [D("1.5"), D("4.5")])
    assert yes_outcomes(SPREAD, spreads, (112, 108)) == [True, False, False, False]  # Boston by 4
    assert yes_outcomes(SPREAD, spreads, (99, 105)) == [False, False, True, True]  # New York by 6
