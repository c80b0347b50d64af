"""Reading a Kalshi total/spread market's line, and the refusal when a book's number differs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.odds.lines import (
    LineError,
    LineKind,
    LineRef,
    line_ref,
    mismatch,
    no_book_has_line,
    teams_from_title,
)
from kmm_tui.odds.sports import line_kind_of, sport_for_series


@pytest.mark.parametrize(
    ("title", "teams"),
    [
        ("Boston at New York: Total Points", ("Boston", "New York")),
        ("Boston at New York", ("Boston", "New York")),
        ("Vitality vs. FaZe Clan", ("Vitality", "FaZe Clan")),
        ("Brighton vs Wolves: Total Goals", ("Brighton", "Wolves")),
        ("Milwaukee @ Los Angeles L Spread", ("Milwaukee", "Los Angeles L")),
    ],
)
def test_the_two_teams_come_from_the_event_title(title: str, teams: tuple[str, str]) -> None:
    assert teams_from_title(title) == teams


def test_a_title_without_two_teams_is_refused_with_the_title() -> None:
    with pytest.raises(LineError, match="Total points tonight"):
        teams_from_title("Total points tonight")


def test_a_total_takes_floor_strike_over_the_label() -> None:
    line, a, b = line_ref(LineKind.TOTAL, Decimal("220.5"), "Over 999 points scored", "Boston at New York")
    assert line == LineRef(LineKind.TOTAL, Decimal("220.5"))
    assert (a, b, line.book_point, line.describe()) == ("Boston", "New York", Decimal("220.5"), "total 220.5")


def test_without_floor_strike_the_label_number_is_the_strike() -> None:
    line, _, _ = line_ref(LineKind.TOTAL, None, "Over 220.5 points scored", "Boston at New York")
    assert line.strike == Decimal("220.5")


def test_a_spread_puts_the_team_yes_is_on_first_and_wants_its_handicap_at_minus_the_strike() -> None:
    label = "New York wins by over 5.5 Points"
    line, a, b = line_ref(LineKind.SPREAD, Decimal("5.5"), label, "Boston at New York: Spread")
    assert (a, b) == ("New York", "Boston")
    assert line.team == "New York" and line.book_point == Decimal("-5.5")
    assert line.describe() == "spread New York -5.5"


def test_a_spread_naming_neither_team_is_refused() -> None:
    with pytest.raises(LineError, match="names neither"):
        line_ref(LineKind.SPREAD, Decimal("5.5"), "Chicago wins by over 5.5 Points", "Boston at New York")


def test_a_whole_number_strike_is_refused_because_a_book_line_would_push() -> None:
    with pytest.raises(LineError, match=r"whole number.*push"):
        line_ref(LineKind.TOTAL, Decimal("220"), "Over 220 points", "Boston at New York")


def test_refusals_name_both_numbers() -> None:
    total = LineRef(LineKind.TOTAL, Decimal("220.5"))
    refusal = mismatch(LineKind.TOTAL, None, Decimal("221.50"), total)
    assert refusal == "sportsbook total 221.5 ≠ Kalshi strike 220.5"
    spread = LineRef(LineKind.SPREAD, Decimal("5.5"), "Boston")
    assert (
        mismatch(LineKind.SPREAD, "Boston Celtics", Decimal("-4.5"), spread)
        == "sportsbook spread Boston Celtics -4.5 ≠ Kalshi strike Boston -5.5"
    )
    assert (
        mismatch(LineKind.SPREAD, "Boston Celtics", Decimal("5.5"), spread)
        == "sportsbook spread Boston Celtics +5.5 ≠ Kalshi strike Boston -5.5"
    )
    grouped = no_book_has_line(
        [("pinnacle", "sportsbook total 221.5 ≠ Kalshi strike 220.5"),
         ("fanduel", "sportsbook total 221.5 ≠ Kalshi strike 220.5")],
        total,
    )
    assert grouped == "sportsbook total 221.5 ≠ Kalshi strike 220.5 (pinnacle, fanduel)"


def test_totals_and_spreads_series_belong_to_their_games_sport() -> None:
    assert line_kind_of("KXNBATOTAL") is LineKind.TOTAL
    assert line_kind_of("kxnhlspread") is LineKind.SPREAD
    assert line_kind_of("KXNBAGAME") is None
    assert sport_for_series("KXNBATOTAL") is sport_for_series("KXNBAGAME")
    assert sport_for_series("KXEPLTOTAL").title == "EPL"
