"""Exact numbers on the wire and request parsing, without a server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kmm_tui.control_api import (
    ApiError,
    cents_text,
    contracts_text,
    dollars_text,
    parse_body,
    parse_settings,
    parse_theo,
)
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.model import MatchSettings, TheoInput


def test_prices_counts_and_money_are_exact_strings() -> None:
    prices = (5500, 5550, 5555, 1, 0, 10_000)
    assert [cents_text(p) for p in prices] == ["55", "55.5", "55.55", "0.01", "0", "100"]
    assert [contracts_text(c) for c in (1000, 1050, 1, -250)] == ["10", "10.5", "0.01", "-2.5"]
    assert [dollars_text(m) for m in (12_340_000, 3_500, 0, -50_000, 1)] == [
        "12.34", "0.0035", "0.00", "-0.05", "0.000001"
    ]


def test_json_numbers_are_parsed_as_decimals_never_floats() -> None:
    body = parse_body(b'{"odds_a": 1.62, "contracts": 10, "x": 0.1}')
    assert body == {"odds_a": Decimal("1.62"), "contracts": 10, "x": Decimal("0.1")}
    assert parse_body(b"  ") == {}
    for bad in (b'{"a": NaN}', b'{"a": Infinity}', b"{", b'"text"'):
        with pytest.raises(ApiError) as error:
            parse_body(bad)
        assert error.value.status in (400, 422)


def test_theo_from_odds_or_cents_and_method_alone_reprices_current_odds() -> None:
    odds = parse_theo({"odds_a": Decimal("1.62"), "odds_b": "2.42"}, None, DevigMethod.POWER)
    assert odds == TheoInput(odds_a=Decimal("1.62"), odds_b=Decimal("2.42"), method=DevigMethod.POWER)
    manual = parse_theo({"theo_a": "55.5"}, None, DevigMethod.MULTIPLICATIVE)
    assert manual is not None and manual.theo_a == Price(5550) and manual.theo_b is None
    assert parse_theo({"edge": "2"}, odds, DevigMethod.MULTIPLICATIVE) is None
    shin = parse_theo({"method": "shin"}, odds, DevigMethod.MULTIPLICATIVE)
    assert shin is not None and shin.method is DevigMethod.SHIN and shin.odds_a == Decimal("1.62")
    with pytest.raises(ApiError) as error:
        parse_theo({"theo_a": "55.555"}, None, DevigMethod.MULTIPLICATIVE)
    assert error.value.field == "theo_a"


def test_partial_settings_keep_everything_not_given() -> None:
    base = MatchSettings(Price(200), contracts(5), contracts(50), max_loss=Money(10))
    changed = parse_settings({"edge": "1.5", "start_margin_minutes": "2.5", "max_loss": None}, base)
    assert changed.edge == Price(150) and changed.start_margin_ms == 150_000
    assert changed.max_loss is None  # null clears the loss limit
    assert (changed.contracts, changed.inventory_max) == (contracts(5), contracts(50))
    assert parse_settings({}, base) == base
    assert parse_settings({"contracts": "2.5"}, base).contracts == 250
    for body, field in (
        ({"backoff_ticks": "1.5"}, "backoff_ticks"),
        ({"fee_aware": "yes"}, "fee_aware"),
        ({"start_margin_minutes": "1", "start_margin_ms": 5}, "start_margin_minutes"),
        ({"edge": "100"}, "edge"),
        ({"contracts": "0.001"}, "contracts"),
    ):
        with pytest.raises(ApiError) as error:
            parse_settings(body, base)
        assert (error.value.status, error.value.field) == (422, field), body
