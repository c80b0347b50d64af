"""Odds -> fair probability: parsing, de-vig methods against the reference cases, consensus, manual theo."""

from datetime import datetime
from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kmm_tui.domain.theo import (
    BookOdds,
    DevigMethod,
    OddsError,
    american_to_decimal,
    consensus,
    devig,
    implied,
    manual_theo,
    overround,
    parse_decimal_odds,
    prob_to_price,
)
from tests.support import load_fixture

CASES = load_fixture("odds/devig_cases.json")["cases"]
TOL = Decimal("1e-9")
SUMMING = [m for m in DevigMethod if m is not DevigMethod.WORST_CASE]


def d(values: list[float]) -> list[Decimal]:
    return [Decimal(str(x)) for x in values]


# --- parsing -----------------------------------------------------------------------------------


def test_parses_decimal_odds_text() -> None:
    assert parse_decimal_odds(" 1.85 ") == Decimal("1.85")
    assert parse_decimal_odds(Decimal("2.5")) == Decimal("2.5")


@pytest.mark.parametrize(("text", "message"), [
    ("0.95", "odds must be greater than 1.0 (got 0.95)"),
    ("1", "greater than 1.0"),
    ("abc", "'abc' is not a number"),
    ("inf", "odds must be finite"),
    ("NaN", "odds must be finite"),
    ("", "empty"),
])
def test_bad_odds_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(OddsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_decimal_odds(text)


def test_float_odds_are_refused() -> None:
    with pytest.raises(OddsError, match="float"):
        parse_decimal_odds(1.85)  # type: ignore[arg-type]


def test_american_odds_convert_exactly() -> None:
    assert american_to_decimal("+150") == Decimal("2.5")
    assert american_to_decimal(-200) == Decimal("1.5")
    assert american_to_decimal(100) == Decimal(2)
    assert american_to_decimal("-110").quantize(Decimal("1e-12")) == Decimal("1.909090909091")


@pytest.mark.parametrize("value", [50, "-99", 0, "x"])
def test_american_odds_between_minus_100_and_100_are_rejected(value: object) -> None:
    with pytest.raises(OddsError):
        american_to_decimal(value)  # type: ignore[arg-type]


def test_implied_and_overround() -> None:
    odds = d([1.8, 2.0])
    q = implied(odds)
    with localcontext() as ctx:
        ctx.prec = 60
        assert abs(q[0] - Decimal(5) / 9) < Decimal("1e-38")
        assert abs(overround(odds) - Decimal(1) / 18) < Decimal("1e-38")


# --- de-vig against the reference cases ---------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
@pytest.mark.parametrize("method", SUMMING, ids=[m.value for m in SUMMING])
def test_devig_matches_reference_cases(case: dict, method: DevigMethod) -> None:
    expected = d(case["methods"][method.value]["probabilities"])
    got = devig(d(case["decimal_odds"]), method)
    assert len(got) == len(expected)
    assert all(abs(g - e) < TOL for g, e in zip(got, expected, strict=True))
    assert abs(sum(got) - 1) < Decimal("1e-30")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_worst_case_is_the_lower_end_of_the_band_and_does_not_sum_to_one(case: dict) -> None:
    got = devig(d(case["decimal_odds"]), DevigMethod.WORST_CASE)
    lows = d([band[0] for band in case["worst_case"]])
    assert all(abs(g - e) < TOL for g, e in zip(got, lows, strict=True))
    assert sum(got) < 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_overround_and_raw_implied_match_reference(case: dict) -> None:
    odds = d(case["decimal_odds"])
    assert abs(overround(odds) - Decimal(str(case["overround"]))) < TOL
    assert all(abs(a - b) < TOL for a, b in zip(implied(odds), d(case["raw_implied"]), strict=True))


def test_soccer_is_devigged_over_all_three_outcomes() -> None:
    home, _draw, away = devig(d([2.10, 3.40, 3.60]), DevigMethod.MULTIPLICATIVE)
    assert abs(home - Decimal("0.4543")) < Decimal("0.0001")
    assert abs(away - Decimal("0.2650")) < Decimal("0.0001")  # not .368 (home/away alone)


def test_shin_equals_additive_for_two_outcomes() -> None:
    odds = d([1.37, 3.25])
    shin = devig(odds, DevigMethod.SHIN)
    additive = devig(odds, DevigMethod.ADDITIVE)
    assert all(abs(a - b) < Decimal("1e-25") for a, b in zip(shin, additive, strict=True))


def test_odds_ratio_matches_closed_form_for_two_outcomes() -> None:
    odds = d([1.5, 2.7])
    q1, q2 = implied(odds)
    c = (q1 * q2 / ((1 - q1) * (1 - q2))).sqrt()
    p1, _ = devig(odds, DevigMethod.ODDS_RATIO)
    assert abs(p1 - q1 / (c + q1 - c * q1)) < Decimal("1e-25")


def test_additive_refuses_a_long_shot_it_would_make_non_positive() -> None:
    # 3-way: margin/3 = 3.75 % is more than the 1 % long shot
    with pytest.raises(OddsError, match="additive"):
        devig(d([1.3, 3.0, 100.0]), DevigMethod.ADDITIVE)


def test_odds_implying_less_than_100_percent_are_refused() -> None:
    with pytest.raises(OddsError, match="less than 100"):
        devig(d([2.05, 2.05]), DevigMethod.POWER)


def test_zero_margin_returns_raw_implied_for_every_method() -> None:
    for method in DevigMethod:
        assert devig(d([2.0, 2.0]), method) == (Decimal("0.5"), Decimal("0.5"))


@pytest.mark.parametrize("count", [1, 4])
def test_devig_needs_two_or_three_outcomes(count: int) -> None:
    with pytest.raises(OddsError, match="2 outcomes"):
        devig([Decimal(3)] * count, DevigMethod.MULTIPLICATIVE)


def test_prob_to_price_floors_to_a_hundredth_cent() -> None:
    assert prob_to_price(Decimal("0.53565")) == 5356
    assert prob_to_price(Decimal("0.53575")) == 5357
    assert prob_to_price(Decimal("0.535659")) == 5356
    assert prob_to_price(Decimal(1)) == 10_000
    with pytest.raises(OddsError):
        prob_to_price(Decimal("1.01"))


# --- properties -------------------------------------------------------------------------------


@st.composite
def booked_odds(draw: st.DrawFn) -> list[Decimal]:
    n = draw(st.sampled_from([2, 3]))
    weights = [draw(st.integers(3, 97)) for _ in range(n)]
    margin = draw(st.integers(0, 12))
    total = sum(weights)
    odds = [
        max(Decimal("1.01"), (Decimal(total) / (w * (1 + Decimal(margin) / 100))).quantize(Decimal("0.01")))
        for w in weights
    ]
    assume(sum(1 / o for o in odds) >= 1)
    return odds


@settings(max_examples=40, deadline=None)
@given(odds=booked_odds())
def test_devig_properties_sum_order_and_worst_case_band(odds: list[Decimal]) -> None:
    q = implied(odds)
    low = devig(odds, DevigMethod.WORST_CASE)
    for method in SUMMING:
        try:
            p = devig(odds, method)
        except OddsError:
            assert method is DevigMethod.ADDITIVE
            continue
        _check_probabilities(p, q, low)


def _check_probabilities(p: tuple[Decimal, ...], q: tuple[Decimal, ...], low: tuple[Decimal, ...]) -> None:
    with localcontext() as ctx:
        ctx.prec = 60  # compare at more precision than the 40 digits computed
        assert abs(sum(p) - 1) < Decimal("1e-30")
        slack = Decimal("1e-30")
        for i in range(len(p)):
            assert low[i] - slack <= p[i] <= q[i] + slack  # inside the worst-case band
            for j in range(len(p)):
                if q[i] > q[j]:
                    assert p[i] >= p[j] - slack  # the favourite stays the favourite


# --- consensus ---------------------------------------------------------------------------------


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def nba_books() -> list[BookOdds]:
    """Boston (away) first, New York second, from the Odds API fixture."""
    event = load_fixture("odds/theoddsapi/odds_basketball_nba_h2h.json")[0]
    books = []
    for book in event["bookmakers"]:
        prices = {o["name"]: Decimal(str(o["price"])) for o in book["markets"][0]["outcomes"]}
        books.append(BookOdds(book["key"], (prices["Boston Celtics"], prices["New York Knicks"]),
                              _ms(book["markets"][0]["last_update"])))
    return books


NOW = _ms("2026-11-28T16:05:00Z")


def test_consensus_reproduces_the_nba_worked_example_weighted_mean() -> None:
    result = consensus(nba_books(), DevigMethod.POWER, NOW, 300_000, weights={"pinnacle": Decimal(3)})
    assert result.books_used == ("pinnacle", "draftkings", "fanduel")
    assert [book for book, _ in result.books_dropped] == ["betonlineag"]
    assert "stale" in result.books_dropped[0][1]
    assert abs(result.probabilities[0] - Decimal("0.5357")) < Decimal("0.00005")
    assert abs(sum(result.probabilities) - 1) < Decimal("1e-30")
    assert result.newest_ms == _ms("2026-11-28T16:04:48Z")


def test_consensus_median_of_the_nba_example() -> None:
    result = consensus(nba_books(), DevigMethod.POWER, NOW, 300_000, aggregate="median")
    assert abs(result.probabilities[0] - Decimal("0.5380")) < Decimal("0.00005")


def test_consensus_each_book_matches_its_own_devig() -> None:
    books = nba_books()
    result = consensus(books[:1], DevigMethod.POWER, NOW, 300_000)
    assert result.probabilities == devig(books[0].odds, DevigMethod.POWER)


def test_consensus_drops_books_with_silly_overround() -> None:
    books = [
        BookOdds("sharp", (Decimal("1.90"), Decimal("1.95")), NOW),
        BookOdds("greedy", (Decimal("1.50"), Decimal("1.60")), NOW),  # 29 % margin
        BookOdds("arb", (Decimal("2.10"), Decimal("2.10")), NOW),  # negative margin
    ]
    result = consensus(books, DevigMethod.MULTIPLICATIVE, NOW, 60_000)
    assert result.books_used == ("sharp",)
    reasons = dict(result.books_dropped)
    assert "above 15" in reasons["greedy"] and "negative" in reasons["arb"]


def test_consensus_drops_mismatched_outcome_counts_and_zero_weights() -> None:
    books = [
        BookOdds("two", (Decimal("1.90"), Decimal("1.95")), NOW),
        BookOdds("three", (Decimal("2.1"), Decimal("3.4"), Decimal("3.6")), NOW),
        BookOdds("muted", (Decimal("1.90"), Decimal("1.95")), NOW),
    ]
    result = consensus(books, DevigMethod.MULTIPLICATIVE, NOW, 60_000, weights={"muted": Decimal(0)})
    assert result.books_used == ("two",)
    assert dict(result.books_dropped)["muted"] == "weight 0"
    assert "expected 2" in dict(result.books_dropped)["three"]


def test_consensus_without_a_fresh_book_raises_and_explains() -> None:
    with pytest.raises(OddsError, match="no fresh book"):
        consensus(nba_books(), DevigMethod.POWER, NOW + 3_600_000, 300_000)
    with pytest.raises(OddsError, match="no fresh book"):
        consensus([], DevigMethod.POWER, NOW, 300_000)


def test_consensus_rejects_an_unknown_aggregate() -> None:
    with pytest.raises(ValueError, match="aggregate"):
        consensus(nba_books(), DevigMethod.POWER, NOW, 300_000, aggregate="mode")  # type: ignore[arg-type]


# --- manual theo -------------------------------------------------------------------------------


def test_manual_theo_defaults_b_to_the_complement() -> None:
    assert manual_theo("55", None) == (5500, 4500)
    assert manual_theo("54.5", " ") == (5450, 4550)
    assert manual_theo("40", "35") == (4000, 3500)


@pytest.mark.parametrize(("a", "b", "message"), [
    ("0", None, "between 0 and 100"),
    ("100", None, "between 0 and 100"),
    ("abc", None, "not a price in cents"),
    ("55.555", None, "not a price in cents"),
    ("", None, "empty"),
    ("60", "45", "more than 100c"),
])
def test_manual_theo_errors_tell_the_user_what_to_enter(a: str, b: str | None, message: str) -> None:
    with pytest.raises(OddsError, match=message):
        manual_theo(a, b)
