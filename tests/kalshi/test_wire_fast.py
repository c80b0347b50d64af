"""The integer fast path for wire prices and counts reads exactly what the Decimal parser reads, and
leaves everything it does not recognise (and every error message) to that parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.prices import WireFormatError, parse_count, parse_price
from kmm_tui.kalshi.errors import BadResponse
from kmm_tui.kalshi.models.wire import _count, _price


def _expected(parse, text: str):  # type: ignore[no-untyped-def]
    try:
        return parse(text)
    except WireFormatError:
        return BadResponse


def _read(reader, text: str):  # type: ignore[no-untyped-def]
    try:
        return reader({"k": text}, "k", "delta")
    except BadResponse:
        return BadResponse


wire_numbers = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,3}(\.[0-9]{0,6})?\Z"),
    st.text(alphabet="0123456789.-+ e٣", max_size=8),
)


@given(wire_numbers)
def test_fast_price_agrees_with_the_decimal_parser(text: str) -> None:
    assert _read(_price, text) == _expected(parse_price, text)


@given(wire_numbers)
def test_fast_count_agrees_with_the_decimal_parser(text: str) -> None:
    assert _read(_count, text) == _expected(parse_count, text)


@pytest.mark.parametrize(("text", "price"), [("0.5500", 5500), ("1.0000", 10000), ("0.55", 5500), ("0", 0)])
def test_common_prices(text: str, price: int) -> None:
    assert _price({"p": text}, "p", "delta") == price
