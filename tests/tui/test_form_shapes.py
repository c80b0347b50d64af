"""The setup form's parsing for every shape: three-way (home, draw, away) and one YES/NO market."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.engine.model import MatchSettings, Shape
from kmm_tui.outcome_input import TheoSumError, complete_theos, match_id_for, split_list
from kmm_tui.tui.forms import default_values, form_values, parse_match_form


def _three_way(**changes: str) -> dict[str, str]:
    values = default_values(MatchSettings())
    values.update(ticker_a="kxepl-ars", ticker_tie="kxepl-tie", ticker_b="kxepl-che")
    values.update(changes)
    return values


def test_three_odds_make_a_three_way_match_in_home_draw_away_order() -> None:
    form, errors = parse_match_form(
        _three_way(odds_a="2.1", odds_draw="3.4", odds_b="3.6"), MatchSettings()
    )
    assert errors == {} and form is not None
    assert form.shape is Shape.THREE_WAY
    spec = form.spec(match_id_for(form.ticker_a, form.ticker_b, form.ticker_tie))
    assert spec.ticker(Side.T) == "KXEPL-TIE" and spec.outcomes == (Side.A, Side.T, Side.B)
    assert (spec.theo.odds_a, spec.theo.odds_draw, spec.theo.odds_b) == (
        Decimal("2.1"), Decimal("3.4"), Decimal("3.6"),
    )
    assert spec.match_id == "KXEPL-ARS+KXEPL-TIE+KXEPL-CHE"


def test_the_draw_odds_are_required_for_a_three_way_event() -> None:
    form, errors = parse_match_form(_three_way(odds_a="2.1", odds_b="3.6"), MatchSettings())
    assert form is None and set(errors) == {"odds_draw"}


@pytest.mark.parametrize(
    ("typed", "implied"),
    [
        ({"theo_a": "45", "theo_tie": "29"}, ("theo_b", 2600)),
        ({"theo_a": "45", "theo_b": "26"}, ("theo_tie", 2900)),
        ({"theo_tie": "29", "theo_b": "26"}, ("theo_a", 4500)),
    ],
)
def test_any_one_theo_may_be_left_out_and_is_implied(typed: dict[str, str], implied: tuple[str, int]) -> None:
    form, errors = parse_match_form(_three_way(**typed), MatchSettings())
    assert errors == {} and form is not None
    theos = {"theo_a": form.theo.theo_a, "theo_tie": form.theo.theo_tie, "theo_b": form.theo.theo_b}
    assert theos[implied[0]] == implied[1]
    assert sum(v for v in theos.values() if v is not None) == 10_000


def test_typed_theos_above_100c_are_refused_on_the_last_typed_field() -> None:
    form, errors = parse_match_form(_three_way(theo_a="60", theo_tie="45"), MatchSettings())
    assert form is None
    assert "theo_tie" in errors and "leaves nothing for away" in errors["theo_tie"]
    _, errors = parse_match_form(_three_way(theo_a="40", theo_tie="30", theo_b="31"), MatchSettings())
    assert "above 100c" in errors["theo_b"]


def test_two_left_out_theos_ask_for_one_more() -> None:
    _, errors = parse_match_form(_three_way(theo_a="45"), MatchSettings())
    assert "draw" in errors["theo_tie"] and "only one outcome may be left empty" in errors["theo_tie"]


def test_the_draw_market_must_be_its_own_market() -> None:
    _, errors = parse_match_form(
        _three_way(ticker_tie="kxepl-ars", odds_a="2.1", odds_draw="3.4", odds_b="3.6"), MatchSettings()
    )
    assert "differ" in errors["ticker_tie"]


def test_one_ticker_twice_is_a_yes_no_market_with_yes_and_no_theo() -> None:
    values = default_values(MatchSettings())
    values.update(ticker_a="kxnbatotal-x-220", ticker_b="KXNBATOTAL-X-220", theo_a="52")
    form, errors = parse_match_form(values, MatchSettings())
    assert errors == {} and form is not None
    assert form.shape is Shape.YES_NO and form.ticker_tie is None
    assert (form.theo.theo_a, form.theo.theo_b) == (5200, 4800)
    assert match_id_for(form.ticker_a, form.ticker_b) == "KXNBATOTAL-X-220"


def test_three_way_edit_form_round_trips() -> None:
    form, _ = parse_match_form(_three_way(theo_a="45", theo_tie="29.5"), MatchSettings())
    assert form is not None
    again, errors = parse_match_form(form_values(form.spec("x")), MatchSettings())
    assert errors == {} and again == form


def test_complete_theos_for_two_outcomes_implies_the_second() -> None:
    assert complete_theos(Shape.YES_NO, {Side.A: 5500, Side.B: None}) == {Side.A: 5500, Side.B: 4500}
    with pytest.raises(TheoSumError, match="above 100c") as caught:
        complete_theos(Shape.TEAMS, {Side.A: 6000, Side.B: 5000})
    assert caught.value.side is Side.B


def test_split_list_names_the_allowed_counts() -> None:
    assert split_list("a, b ,c", "--tickers", (2, 3)) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2 or 3 comma-separated values"):
        split_list("a,b,c,d", "--tickers", (2, 3))
    assert split_list("45,,26", "--theo", (3,), allow_empty=True) == ["45", "", "26"]
