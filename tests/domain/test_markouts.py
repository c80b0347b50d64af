"""Markout arithmetic: signs, weighting, adverse share, the advisory edge and CLV (pure)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.book import Book
from kmm_tui.domain.markouts import (
    Basis,
    FillMarkout,
    Mark,
    clv,
    mid,
    series_of,
    suggest_edge,
    summarize,
)
from kmm_tui.domain.prices import Count, Price, contracts

H = (5_000, 60_000)


def fill(price: int, at: int, later: tuple[int, ...], count: int = 5, trade: str = "t") -> FillMarkout:
    return FillMarkout(
        trade,
        "m1",
        "KXCS2GAME",
        "T-A",
        "a",
        Price(price),
        contracts(count),
        0,
        Mark(None, Price(at)),
        tuple((h, Mark(None, Price(p))) for h, p in zip(H, later, strict=False)),
    )


def test_a_price_drop_after_we_bought_is_a_negative_markout() -> None:
    f = fill(5800, 6000, (5500, 5000))
    assert f.spread() == 200  # bought 2c under the mid
    assert f.markout(5_000) == -500 and f.markout(60_000) == -1000
    assert f.earned(60_000) == -800  # the 2c edge did not pay for the 10c move


def test_missing_samples_and_one_sided_books_give_no_markout() -> None:
    f = fill(5800, 6000, ())
    assert f.markout(5_000) is None and f.earned(5_000) is None
    assert mid(Book(((Price(5000), Count(100)),), ())) is None
    assert mid(Book(((Price(5000), Count(100)),), ((Price(5300), Count(100)),))) == 5150


def test_summary_is_contract_weighted_with_the_share_of_adverse_fills() -> None:
    fills = [
        fill(5800, 6000, (5000, 5000), count=1, trade="x"),
        fill(5800, 6000, (6300, 6300), count=3, trade="y"),
    ]
    summary = summarize(fills, H)
    assert summary.fills == 2 and summary.contracts == contracts(4)
    assert summary.mean_spread_cents == Decimal("2.00")
    at5 = summary.at(5_000)
    assert at5 is not None
    assert at5.mean_markout_cents == Decimal("-0.25")  # (-10 * 1 + 3 * 3) / 4
    assert at5.adverse_share == Decimal("0.50")
    assert at5.mean_earned_cents == Decimal("1.75")


def test_suggested_edge_covers_the_mean_adverse_move_rounded_up_to_a_cent() -> None:
    adverse = summarize([fill(5800, 6000, (5750, 5650))], H)
    assert suggest_edge(adverse) == 400  # -3.5c at the longest horizon -> 4c
    favourable = summarize([fill(5800, 6000, (6100, 6200))], H)
    assert suggest_edge(favourable) == 100
    assert suggest_edge(summarize([], H)) is None


def test_theo_basis_and_closing_line_value() -> None:
    f = FillMarkout(
        "t",
        "m1",
        "S",
        "T",
        "a",
        Price(5800),
        contracts(1),
        0,
        Mark(Price(6000), None),
        ((5_000, Mark(Price(6100), None)),),
    )
    assert f.markout(5_000, Basis.THEO) == 100 and f.markout(5_000) is None
    assert clv(Price(5800), Price(6200)) == 400 and clv(Price(5800), None) is None
    assert series_of("KXCS2GAME-26DEC06VITFAZ") == "KXCS2GAME"


prices = st.integers(min_value=100, max_value=9900)


@given(prices, prices, prices, st.integers(min_value=1, max_value=100))
def test_spread_plus_markout_is_what_was_earned(price: int, at: int, later: int, count: int) -> None:
    f = fill(price, at, (later,), count=count)
    assert f.spread() + f.markout(5_000) == f.earned(5_000)
    summary = summarize([f], H)
    stats = summary.at(5_000)
    assert stats is not None and stats.mean_markout_cents == Decimal(later - at) / 100
    assert stats.adverse_share == (Decimal(1) if later < at else Decimal(0))
