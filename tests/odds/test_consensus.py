"""Theo per match from source results: the odds-api.md §4 worked example, exclusions, overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.domain.prices import Price
from kmm_tui.domain.theo import BookOdds, DevigMethod, OddsError
from kmm_tui.odds.consensus import divergence_warning, theo_for_match
from kmm_tui.odds.lines import LineKind, LineRef
from kmm_tui.odds.matching import Side
from kmm_tui.odds.models import QuotaInfo, SourceResult
from kmm_tui.odds.theoddsapi import h2h_quotes, line_quotes, parse_events
from tests.odds.fakes import NOW_MS, load_decimal

WEIGHTS = {"pinnacle": Decimal(3)}


def nba_result() -> SourceResult:
    event = parse_events(load_decimal("odds/theoddsapi/odds_basketball_nba_h2h.json"))[0]
    quotes, excluded = h2h_quotes(event, Side.SIDE2, three_way=False)  # A = Boston = away = side2
    return SourceResult(
        "theoddsapi",
        quotes,
        event.commence_ms,
        tuple(q.book for q in quotes),
        QuotaInfo(),
        Decimal(1),
        event.id,
        excluded=excluded,
    )


def test_worked_example_weighted_mean_drops_stale_betonline() -> None:
    theo = theo_for_match([nba_result()], DevigMethod.POWER, NOW_MS, 300_000, WEIGHTS)
    assert theo.theo_a == 5356 and theo.theo_b == 4643  # 53.5657c and 46.4343c, floored
    assert theo.theo_draw is None
    assert set(theo.books_used) == {"pinnacle", "draftkings", "fanduel"}
    assert [b for b, _ in theo.books_dropped] == ["betonlineag"]
    assert "stale" in theo.books_dropped[0][1]
    assert theo.age_ms == 12_000  # Pinnacle, the newest price used, is 12 s old
    assert theo.method is DevigMethod.POWER


def test_worked_example_median() -> None:
    theo = theo_for_match([nba_result()], DevigMethod.POWER, NOW_MS, 300_000, aggregate="median")
    assert theo.theo_a == 5380


def test_naive_mean_with_stale_book_differs() -> None:
    theo = theo_for_match([nba_result()], DevigMethod.POWER, NOW_MS, 3_600_000)
    assert theo.theo_a == 5220


def test_soccer_draw_is_priced_from_all_three_outcomes() -> None:
    event = parse_events(load_decimal("odds/theoddsapi/odds_soccer_epl_h2h.json"))[0]
    quotes, _ = h2h_quotes(event, Side.SIDE1, three_way=True)
    pinnacle = tuple(q for q in quotes if q.book == "pinnacle")
    result = SourceResult("theoddsapi", pinnacle, None, ("pinnacle",), QuotaInfo(), Decimal(1))
    theo = theo_for_match([result], DevigMethod.MULTIPLICATIVE, NOW_MS, 300_000)
    # case D multiplicative: .4543 / .2650 (away) / .2806 (draw)
    assert (theo.theo_a, theo.theo_b, theo.theo_draw) == (4543, 2650, 2806)


def test_exchanges_and_clone_families_count_once() -> None:
    fresh = NOW_MS - 5_000
    papi = SourceResult(
        "oddspapi",
        (
            BookOdds("pinnacle", (Decimal("1.62"), Decimal("2.42")), fresh - 1000),
            BookOdds("ps3838", (Decimal("1.62"), Decimal("2.42")), fresh),
            BookOdds("kalshi", (Decimal("1.724"), Decimal("2.273")), fresh),
        ),
        None,
        ("pinnacle", "ps3838", "kalshi"),
        QuotaInfo(),
        Decimal(1),
        families=(("ps3838", "pinnacle"),),
    )
    other = SourceResult(
        "theoddsapi",
        (BookOdds("pinnacle", (Decimal("1.62"), Decimal("2.42")), fresh - 2000),),
        None,
        ("pinnacle",),
        QuotaInfo(),
        Decimal(1),
    )
    theo = theo_for_match([papi, other], DevigMethod.MULTIPLICATIVE, NOW_MS, 300_000)
    assert theo.books_used == ("ps3838",)  # one Pinnacle family member (the freshest), no Kalshi
    dropped = dict(theo.books_dropped)
    assert "exchange" in dropped["kalshi"]
    assert theo.theo_a == 5990  # CS2 Pinnacle multiplicative .5990


def test_manual_theo_overrides_books() -> None:
    manual = SourceResult(
        "manual",
        (),
        None,
        ("manual",),
        QuotaInfo(),
        Decimal(1),
        fixed_theo=(Price(5500), Price(4500)),
        fetched_ms=NOW_MS - 1000,
    )
    theo = theo_for_match([nba_result(), manual], DevigMethod.POWER, NOW_MS, 300_000)
    assert (theo.theo_a, theo.theo_b, theo.books_used, theo.age_ms) == (5500, 4500, ("manual",), 1000)


def test_nothing_fresh_raises_the_domain_error() -> None:
    with pytest.raises(OddsError, match="no fresh book"):
        theo_for_match([nba_result()], DevigMethod.POWER, NOW_MS + 3_600_000, 300_000)
    with pytest.raises(OddsError, match="by hand"):
        theo_for_match([], DevigMethod.POWER, NOW_MS, 300_000)


def test_divergence_warning() -> None:
    assert divergence_warning(Price(6200), Price(4500), Price(1500)) == (
        "theo 62c vs Kalshi mid 45c differs by 17c — check the team mapping or a stale line"
    )
    assert divergence_warning(Price(6000), Price(4500), Price(1500)) is None  # exactly at the threshold
    assert divergence_warning(Price(6200), None, Price(1500)) is None
    assert divergence_warning(Price(3000), Price(4550), Price(1500)) is not None


def _shape_quotes(shape: str) -> tuple[BookOdds, ...]:
    """Every book's quotes for one shape of match, from the fixtures (two-way, 1X2, total, spread)."""
    if shape == "teams":
        event = parse_events(load_decimal("odds/theoddsapi/odds_basketball_nba_h2h.json"))[0]
        return h2h_quotes(event, Side.SIDE2, three_way=False)[0]
    if shape == "three_way":
        event = parse_events(load_decimal("odds/theoddsapi/odds_soccer_epl_h2h.json"))[0]
        return h2h_quotes(event, Side.SIDE1, three_way=True)[0]
    kind = LineKind.TOTAL if shape == "total" else LineKind.SPREAD
    event = parse_events(load_decimal(f"odds/theoddsapi/odds_basketball_nba_{shape}s.json"))[0]
    strike, team = (Decimal("220.5"), None) if kind is LineKind.TOTAL else (Decimal("2.5"), "Boston")
    line = LineRef(kind, strike, team)
    return line_quotes(event, Side.SIDE2, line)[0]


@pytest.mark.parametrize("shape", ["teams", "three_way", "total", "spread"])
@pytest.mark.parametrize("method", list(DevigMethod))
def test_outcome_theos_sum_to_100c_for_every_method_and_shape(shape: str, method: DevigMethod) -> None:
    quotes = _shape_quotes(shape)
    assert quotes, "the fixture prices this shape"
    result = SourceResult("theoddsapi", quotes, None, tuple(q.book for q in quotes), QuotaInfo(), Decimal(1))
    theo = theo_for_match([result], method, NOW_MS, 3_600_000, WEIGHTS)
    theos = [theo.theo_a, theo.theo_b] + ([theo.theo_draw] if theo.theo_draw is not None else [])
    assert len(theos) == (3 if shape == "three_way" else 2)
    assert all(0 < t < 10_000 for t in theos)
    if method is DevigMethod.WORST_CASE:
        # each outcome's lower bound (the whole margin charged to it): together below 100c by design
        multiplicative = theo_for_match([result], DevigMethod.MULTIPLICATIVE, NOW_MS, 3_600_000, WEIGHTS)
        assert sum(theos) < 10_000 and theo.theo_a <= multiplicative.theo_a
    else:
        # each theo floored to $0.0001: at most one unit per outcome below 100c, never above
        assert 10_000 - len(theos) <= sum(theos) <= 10_000
