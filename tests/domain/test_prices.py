"""TickGrid: snapping bids onto a market's legal prices, including the tapered (finer edges) grid."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.prices import PRICE_SCALE, TickGrid, WireFormatError
from tests.support import load_fixture


def tapered() -> TickGrid:
    market = load_fixture("kalshi/rest/market_get_tennis_shard3_tapered.json")["market"]
    return TickGrid.from_price_ranges(market["price_ranges"])


def linear() -> TickGrid:
    return TickGrid.from_price_ranges(load_fixture("kalshi/rest/market_get.json")["market"]["price_ranges"])


def test_linear_cent_grid_from_market_fixture_matches_builtin() -> None:
    assert linear() == TickGrid.linear_cent()


def test_linear_grid_quotable_range_is_one_cent_to_ninety_nine() -> None:
    grid = linear()
    assert (grid.min_price, grid.max_price) == (100, 9900)


def test_linear_grid_floor_ceil_up_down() -> None:
    grid = linear()
    assert grid.floor(5350) == 5300
    assert grid.floor(5300) == 5300
    assert grid.ceil(5301) == 5400
    assert grid.ceil(5300) == 5300
    assert grid.up(5300) == 5400
    assert grid.up(5350) == 5400
    assert grid.down(5300) == 5200
    assert grid.down(5350) == 5300


def test_tapered_grid_has_half_cent_edges() -> None:
    grid = tapered()
    assert (grid.min_price, grid.max_price) == (50, 9950)
    assert grid.is_valid(950) and grid.is_valid(9050) and grid.is_valid(5500)
    assert not grid.is_valid(1050) and not grid.is_valid(8950) and not grid.is_valid(5550)


def test_tapered_grid_steps_across_band_boundaries() -> None:
    grid = tapered()
    assert grid.up(950) == 1000
    assert grid.up(1000) == 1100
    assert grid.down(1000) == 950
    assert grid.down(1100) == 1000
    assert grid.up(8900) == 9000
    assert grid.up(9000) == 9050
    assert grid.down(9050) == 9000
    assert grid.down(9000) == 8900


def test_tapered_grid_floor_and_ceil_inside_bands() -> None:
    grid = tapered()
    assert grid.floor(1099) == 1000
    assert grid.floor(999) == 950
    assert grid.ceil(1001) == 1100
    assert grid.floor(9949) == 9900
    assert grid.ceil(9901) == 9950
    assert grid.floor(74) == 50


def test_clamp_quote_keeps_bids_inside_the_quotable_range() -> None:
    grid = tapered()
    assert grid.clamp_quote(49) is None
    assert grid.clamp_quote(10_000) == 9950
    assert grid.clamp_quote(5555) == 5500


def test_price_ranges_must_be_present_and_sane() -> None:
    with pytest.raises(WireFormatError):
        TickGrid.from_price_ranges([])
    with pytest.raises(WireFormatError):
        TickGrid.from_price_ranges([{"start": "0.5000", "end": "0.4000", "step": "0.0100"}])
    with pytest.raises(WireFormatError):
        TickGrid.from_price_ranges([{"start": "0.0000", "end": "1.0000"}])


GRIDS = [TickGrid.linear_cent(), tapered(), TickGrid.from_price_ranges(
    [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}]), TickGrid.from_price_ranges(
    [{"start": "0.0000", "end": "1.0000", "step": "0.0500"}])]
SPLIT_CENT = TickGrid.from_price_ranges([{"start": "0.0000", "end": "0.4700", "step": "0.0100"},
                                         {"start": "0.4700", "end": "1.0000", "step": "0.0100"}])


@given(price=st.integers(0, PRICE_SCALE))
def test_a_one_band_grid_rounds_like_the_same_prices_split_in_two_bands(price: int) -> None:
    """One-band grids take a shortcut past the band loop; the prices it gives are the loop's."""
    one = TickGrid.linear_cent()
    assert (one.floor(price), one.ceil(price)) == (SPLIT_CENT.floor(price), SPLIT_CENT.ceil(price))
    if 0 < price < PRICE_SCALE:
        assert (one.up(price), one.down(price)) == (SPLIT_CENT.up(price), SPLIT_CENT.down(price))


@given(grid=st.sampled_from(GRIDS), price=st.integers(0, PRICE_SCALE))
def test_floor_is_the_highest_legal_price_not_above(grid: TickGrid, price: int) -> None:
    floor = grid.floor(price)
    assert floor <= price and grid.is_valid(floor)
    assert not any(grid.is_valid(p) for p in range(floor + 1, price + 1))


@given(grid=st.sampled_from(GRIDS), price=st.integers(0, PRICE_SCALE))
def test_ceil_is_the_lowest_legal_price_not_below(grid: TickGrid, price: int) -> None:
    ceil = grid.ceil(price)
    assert ceil >= price and grid.is_valid(ceil)
    assert not any(grid.is_valid(p) for p in range(price, ceil))


@given(grid=st.sampled_from(GRIDS), price=st.integers(1, PRICE_SCALE - 1))
def test_up_and_down_move_exactly_one_tick(grid: TickGrid, price: int) -> None:
    up, down = grid.up(price), grid.down(price)
    assert down < price < up
    assert grid.is_valid(up) and grid.is_valid(down)
    assert not any(grid.is_valid(p) for p in range(price + 1, up))
    assert not any(grid.is_valid(p) for p in range(down + 1, price))
