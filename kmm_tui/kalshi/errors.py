"""One exception hierarchy for everything the Kalshi client can fail with.

Callers branch on the class (what kind of failure: retry? look the order up? stop quoting?) and on
``code`` (the exchange's own error code, e.g. ``invalid_price``). Every error also carries a
``user_message`` written for the trader: what happened and what to do next.

Kalshi answers errors in four body shapes (see ``docs``/``kalshi-api.md`` §8): nested
``{"error": {"code", "message", "details"}}``, flat ``{"code", "message", "details"}``, bare
``{"msg": "..."}`` and the 429 string ``{"error": "too many requests"}``. :func:`error_from_response`
understands all of them and never raises while parsing: a body it cannot read still becomes an error
of the right class for its HTTP status.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_BODY_TEXT = 300


class KalshiError(Exception):
    """Base of every client error. ``status`` is the HTTP status (None when no response arrived)."""

    default_advice = "check the log for details"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        details: str = "",
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.user_message = user_message or self._default_user_message()

    def _default_user_message(self) -> str:
        what = self.message or self.code or "request failed"
        if self.details and self.details not in what:
            what = f"{what} ({self.details})"
        prefix = f"Kalshi HTTP {self.status}: " if self.status else "Kalshi: "
        return f"{prefix}{what}; {self.default_advice}"

    def __str__(self) -> str:
        parts = [self.message or self.code or type(self).__name__]
        if self.code and self.code != self.message:
            parts.append(f"code={self.code}")
        if self.details:
            parts.append(f"details={self.details}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"

    @property
    def retryable(self) -> bool:
        """True when sending the identical request again may succeed (429, 5xx, timeouts)."""
        return False


class AuthError(KalshiError):
    """401/403, or a private call without a key: the key, its signature, clock or scope is wrong."""

    default_advice = "check the API key id, the key file and the computer's clock (NTP)"


class KeyFileError(AuthError):
    """The private key file cannot be used (missing, unreadable, not a PEM private key, encrypted)."""


class NotFoundError(KalshiError):
    """404: unknown market/order, or an order that is already cancelled or executed."""

    default_advice = "the ticker or order no longer exists; refresh orders with GET /portfolio/orders"


class OrderRejected(KalshiError):
    """400/409 (and other 4xx): the exchange refused the request as sent; ``code`` says why."""

    default_advice = "fix the request and try again"


class DuplicateClientOrderId(OrderRejected):
    """409 ``order_already_exists``: an order with this ``client_order_id`` already exists.

    After a retried create this means the first attempt landed (``first_attempt_landed``): look the order
    up with ``list_orders(ticker=...)`` instead of creating another one.
    """

    first_attempt_landed: bool = False


class RateLimited(KalshiError):
    """429: the exchange's token bucket was empty. Safe to retry after a back-off."""

    default_advice = "kmm is sending too fast; it backs off automatically, slow down quoting if it persists"

    @property
    def retryable(self) -> bool:
        return True


class Unavailable(KalshiError):
    """5xx, timeout or connection failure: the exchange did not answer usefully. Retry, then reconcile."""

    default_advice = (
        "the exchange or network is having trouble; kmm retries, check the connection if it persists"
    )

    @property
    def retryable(self) -> bool:
        return True


class BadResponse(KalshiError):
    """A success status with a body the client cannot understand (or an unexpected status)."""

    default_advice = "the exchange answered something kmm does not understand; report it with the log"


class NotSent(KalshiError):
    """The request was dropped while it waited for rate-limit tokens: it never reached the exchange.

    Raised by :meth:`~kmm_tui.kalshi.ratelimit.RateLimiter.abandon` (a match stopping drops the writes
    it had queued). Unlike every other error, the outcome is certain: nothing happened on the exchange.
    """

    default_advice = "nothing was sent to the exchange"


class DeprecatedEndpoint(KalshiError):
    """410: a legacy (V1) order endpoint was used. Only the V2 ``/portfolio/events/orders`` paths work."""

    default_advice = "this kmm build uses a retired Kalshi endpoint; update kmm"


# What a trader should do for the codes the exchange is known to send (kalshi-api.md §8).
_CODE_ADVICE: dict[str, str] = {
    "invalid_price": "the price is not on this market's tick grid; re-snap it to the market's price_ranges",
    "insufficient_balance": "not enough cash on this market's exchange shard; shrink the order or add funds",
    "available_balance_too_low": "not enough cash on this market's shard; shrink the order or add funds",
    "invalid_order": "the exchange rejected the order as specified",
    "invalid_order_size": "the order size is not allowed; use a count of at least 0.01 contracts",
    "invalid_parameters": "a request parameter was invalid; this is a kmm bug, report it with the log",
    "bad_request": "the request was malformed; this is a kmm bug, report it with the log",
    "order_side_mismatch": "the amend/cancel does not match the order's side; refresh the order and retry",
    "order_ticker_mismatch": "the amend/cancel does not match the order's market; refresh the order",
    "order_id_and_client_order_id_mismatch": "order id and client order id disagree; refresh the order",
    "order_already_exists": "an order with this client_order_id exists already; look it up before retrying",
    "market_closed": "the market is closed; stop quoting it",
    "market_inactive": "the market is paused or inactive; stop quoting it until it reopens",
    "not_found": "not found (an unknown, cancelled or executed order, or an unknown market); refresh state",
    "authentication_error": "authentication failed; check the API key id and key file belong together",
    "signature_is_missing_from_headers": "the request was not signed; configure the API key",
    "header_timestamp_expired": "the request timestamp was rejected; sync the computer's clock (NTP)",
    "deprecated_v1_order_endpoint": "a retired V1 order endpoint was used; update kmm",
}
_AUTH_DETAIL_ADVICE: dict[str, str] = {
    "INCORRECT_API_KEY_SIGNATURE": "the signature did not verify: the key file does not match the key id, "
    "or the clock is off; check both",
    "NOT_FOUND": "the API key id is unknown on this exchange (demo and prod keys are separate); "
    "check key_id and the environment",
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _parse_body(body: bytes | str | None) -> tuple[str, str, str]:
    """-> (code, message, details) from any of the four shapes; never raises."""
    if not body:
        return "", "", ""
    try:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
    except Exception:  # pragma: no cover - defensive: decode with errors=replace does not raise
        return "", "", ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "", text.strip()[:_MAX_BODY_TEXT], ""
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict):  # nested shape
            return _as_text(inner.get("code")), _as_text(inner.get("message")), _as_text(inner.get("details"))
        if isinstance(inner, str):  # 429 string shape
            return "", inner, _as_text(data.get("details"))
        if "code" in data or "message" in data:  # flat shape
            return _as_text(data.get("code")), _as_text(data.get("message")), _as_text(data.get("details"))
        if "msg" in data:  # bare validation shape
            return "", _as_text(data.get("msg")), ""
    return "", text.strip()[:_MAX_BODY_TEXT], ""


def _class_for(status: int, code: str) -> type[KalshiError]:
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status == 410:
        return DeprecatedEndpoint
    if status == 429:
        return RateLimited
    if status >= 500:
        return Unavailable
    if code == "order_already_exists":
        return DuplicateClientOrderId
    if 400 <= status < 500:
        return OrderRejected
    return BadResponse


def _user_message(status: int, code: str, message: str, details: str) -> str:
    if status == 403:
        return (
            "Kalshi refused access (403): the API key lacks the needed scope (read/write/trade), is "
            "restricted to another subaccount, or its location attestation lapsed; check the key on Kalshi"
        )
    if status == 401 and details in _AUTH_DETAIL_ADVICE:
        return f"Kalshi rejected the API key (401): {_AUTH_DETAIL_ADVICE[details]}"
    if status == 429:
        return f"Kalshi rate limit hit (429); {RateLimited.default_advice}"
    if status >= 500:
        return f"Kalshi is unavailable (HTTP {status}); {Unavailable.default_advice}"
    if code == "invalid_order" and "post only" in details.lower():
        return (
            "post-only order would have crossed the book: the book view was stale; "
            "refresh it before re-quoting"
        )
    advice = _CODE_ADVICE.get(code)
    reason = message or code or "no reason given"
    if details and details not in reason:
        reason = f"{reason} ({details})"
    if advice:
        return f"Kalshi HTTP {status}: {reason}; {advice}"
    return f"Kalshi HTTP {status}: {reason}; {_class_for(status, code).default_advice}"


def error_from_response(status: int, body: bytes | str | None) -> KalshiError:
    """Build the right :class:`KalshiError` for an HTTP error response. Never raises."""
    code, message, details = _parse_body(body)
    cls = _class_for(status, code)
    if not message:
        message = code or f"HTTP {status}"
    return cls(
        message,
        status=status,
        code=code,
        details=details,
        user_message=_user_message(status, code, message, details),
    )


def error_from_item(item_error: Any, *, status: int | None = None) -> KalshiError:
    """A per-item ``error`` object of a batch reply -> the error class its code implies."""
    if not isinstance(item_error, dict):
        return BadResponse(
            f"batch item error is not an object: {_as_text(item_error)[:_MAX_BODY_TEXT]}", status=status
        )
    code = _as_text(item_error.get("code"))
    message = _as_text(item_error.get("message")) or code or "batch item failed"
    details = _as_text(item_error.get("details"))
    if code == "not_found":
        cls: type[KalshiError] = NotFoundError
        implied = 404
    elif code == "order_already_exists":
        cls, implied = DuplicateClientOrderId, 409
    elif code in ("market_closed", "market_inactive"):
        cls, implied = OrderRejected, 409
    else:
        cls, implied = OrderRejected, 400
    return cls(
        message,
        status=status,
        code=code,
        details=details,
        user_message=_user_message(implied, code, message, details),
    )


def unavailable_from_exception(exc: BaseException, *, what: str) -> Unavailable:
    """A transport failure (timeout, refused connection, reset) -> :class:`Unavailable`."""
    name = type(exc).__name__
    is_timeout = "Timeout" in name
    code = "timeout" if is_timeout else "connection_error"
    reason = "timed out" if is_timeout else f"failed ({name}: {exc})" if str(exc) else f"failed ({name})"
    return Unavailable(
        f"{what} {reason}",
        code=code,
        user_message=f"Kalshi request {what} {reason}; {Unavailable.default_advice}",
    )


__all__ = [
    "AuthError",
    "BadResponse",
    "DeprecatedEndpoint",
    "DuplicateClientOrderId",
    "KalshiError",
    "KeyFileError",
    "NotFoundError",
    "NotSent",
    "OrderRejected",
    "RateLimited",
    "Unavailable",
    "error_from_item",
    "error_from_response",
    "unavailable_from_exception",
]
