"""Every error fixture maps to the right exception, code and an actionable message; parsing never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.kalshi.errors import (
    AuthError,
    BadResponse,
    DeprecatedEndpoint,
    DuplicateClientOrderId,
    KalshiError,
    NotFoundError,
    OrderRejected,
    RateLimited,
    Unavailable,
    error_from_item,
    error_from_response,
)
from tests.support import FIXTURES

ERRORS = FIXTURES / "kalshi" / "errors"

# file -> (class, code, words the trader's message must contain)
EXPECTED: dict[str, tuple[type[KalshiError], str, tuple[str, ...]]] = {
    "auth_bad_signature_401.json": (AuthError, "authentication_error", ("key file", "clock")),
    "auth_missing_signature_401.json": (AuthError, "signature_is_missing_from_headers", ("not signed",)),
    "auth_timestamp_expired_401.json": (AuthError, "header_timestamp_expired", ("clock", "NTP")),
    "auth_unknown_key_401.json": (AuthError, "authentication_error", ("key id is unknown",)),
    "bad_request_flat_400.json": (OrderRejected, "bad_request", ("cannot unmarshal",)),
    "duplicate_client_order_id_409.json": (DuplicateClientOrderId, "order_already_exists", ("look it up",)),
    "insufficient_balance_400.json": (OrderRejected, "insufficient_balance", ("shard",)),
    "invalid_price_400.json": (OrderRejected, "invalid_price", ("price_ranges",)),
    "legacy_endpoint_410.json": (DeprecatedEndpoint, "deprecated_v1_order_endpoint", ("V2",)),
    "market_closed_409.json": (OrderRejected, "market_closed", ("stop quoting",)),
    "not_found_404.json": (NotFoundError, "not_found", ("refresh",)),
    "order_side_mismatch_400.json": (OrderRejected, "order_side_mismatch", ("side",)),
    "param_validation_bare_400.json": (OrderRejected, "", ("Parameter validation failed",)),
    "post_only_cross_400.json": (OrderRejected, "invalid_order", ("post-only", "refresh")),
    "rate_limited_429.json": (RateLimited, "", ("rate limit",)),
}


def status_of(name: str) -> int:
    return int(name.rsplit("_", 1)[1].split(".")[0])


def test_every_error_fixture_is_covered() -> None:
    assert sorted(p.name for p in ERRORS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_error_fixture_maps_to_class_code_and_message(name: str) -> None:
    cls, code, words = EXPECTED[name]
    body = (ERRORS / name).read_bytes()
    error = error_from_response(status_of(name), body)
    assert type(error) is cls
    assert error.status == status_of(name)
    assert error.code == code
    assert error.message
    for word in words:
        assert word in error.user_message, (word, error.user_message)


def test_nested_details_are_kept() -> None:
    body = (ERRORS / "auth_bad_signature_401.json").read_bytes()
    error = error_from_response(401, body)
    assert error.details == "INCORRECT_API_KEY_SIGNATURE"
    flat = error_from_response(400, (ERRORS / "bad_request_flat_400.json").read_bytes())
    assert "CreateOrderV2Request.count" in flat.details
    post_only = error_from_response(400, (ERRORS / "post_only_cross_400.json").read_bytes())
    assert post_only.details == "post only cross"


def test_429_string_shape_message() -> None:
    error = error_from_response(429, b'{"error":"too many requests"}')
    assert error.message == "too many requests"
    assert error.retryable


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (500, Unavailable, True),
        (502, Unavailable, True),
        (503, Unavailable, True),
        (403, AuthError, False),
        (422, OrderRejected, False),
        (302, BadResponse, False),
    ],
)
def test_status_classes(status: int, cls: type[KalshiError], retryable: bool) -> None:
    error = error_from_response(status, b"<html>Bad Gateway</html>")
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.user_message


def test_403_explains_scope() -> None:
    assert "scope" in error_from_response(403, b"").user_message


@given(st.binary(max_size=200), st.integers(min_value=100, max_value=599))
def test_parsing_never_raises_on_random_bytes(body: bytes, status: int) -> None:
    error = error_from_response(status, body)
    assert isinstance(error, KalshiError)
    assert error.user_message


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=10,
    ),
    st.sampled_from([400, 401, 404, 409, 410, 429, 500]),
)
def test_parsing_never_raises_on_any_json(value: object, status: int) -> None:
    for body in (json.dumps(value), json.dumps({"error": value}), json.dumps({"code": value, "msg": value})):
        assert isinstance(error_from_response(status, body.encode()), KalshiError)


def test_batch_item_errors() -> None:
    assert type(error_from_item({"code": "not_found", "message": "not found"})) is NotFoundError
    assert type(error_from_item({"code": "order_already_exists"})) is DuplicateClientOrderId
    invalid = error_from_item({"code": "invalid_price", "message": "invalid price"})
    assert type(invalid) is OrderRejected and "price_ranges" in invalid.user_message
    assert type(error_from_item("oops")) is BadResponse
