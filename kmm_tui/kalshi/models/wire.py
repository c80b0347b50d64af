"""Field readers: the one place wire strings, numbers and times become domain integers.

Wire prices are dollar strings (``"0.5500"``), counts fixed-point strings (``"10.00"``), money dollar
strings (``"2.200000"``) or, on a few old fields, integer cents; times are ISO strings, Unix seconds or
Unix ms depending on the field. A missing *required* key or a malformed number raises
:class:`~kmm_tui.kalshi.errors.BadResponse` naming the field; optional keys may be absent or null.
The readers are private to the ``models`` package: its resource modules import them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from kmm_tui.domain.prices import (
    PRICE_SCALE,
    Count,
    Money,
    Price,
    WireFormatError,
    no_price,
    parse_count,
    parse_money,
    parse_price,
)
from kmm_tui.kalshi.errors import BadResponse

BookSide = Literal["bid", "ask"]
OrderStatus = Literal["resting", "canceled", "executed"]
TimeInForce = Literal["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_\-:+=/]{1,64}$")


def _bad(what: str, field_name: str, problem: str) -> BadResponse:
    return BadResponse(f"{what}: field {field_name!r} {problem}", code="bad_response")


def _req(data: Mapping[str, Any], key: str, what: str) -> Any:
    value = data.get(key)
    if value is None:
        raise _bad(what, key, "is missing")
    return value


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _req(data, key, what)
    if not isinstance(value, str) or not value:
        raise _bad(what, key, f"is not a non-empty string: {value!r}")
    return value


def _opt_text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _opt_nonempty(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _int(value: Any, what: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(what, key, f"is not an integer: {value!r}")
    return value


def _opt_int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _wire(parse: Any, value: Any, what: str, key: str) -> Any:
    if isinstance(value, (float, bool)):
        raise _bad(what, key, f"is a JSON number {value!r}, expected a decimal string")
    try:
        return parse(value)
    except WireFormatError as exc:
        raise _bad(what, key, str(exc)) from None


def _fixed(value: Any, places: int) -> int | None:
    """Plain ASCII ``[-]digits[.digits]`` with at most ``places`` decimals -> exact scaled int, else None.

    The book feed sends thousands of prices and counts a second; this integer-only reading is ~5x
    cheaper than the ``Decimal`` path, which still handles (and rejects, with its message) anything else.
    """
    if type(value) is not str or not value.isascii():
        return None
    whole, _, frac = value.partition(".")
    negative = whole[:1] == "-"
    digits = whole[1:] if negative else whole
    if not digits.isdigit() or len(frac) > places or (frac and not frac.isdigit()):
        return None
    scaled = int(digits) * 10**places + (int(frac) * 10 ** (places - len(frac)) if frac else 0)
    return -scaled if negative else scaled


def _price(data: Mapping[str, Any], key: str, what: str) -> Price:
    value = _req(data, key, what)
    fast = _fixed(value, 4)
    if fast is not None and 0 <= fast <= PRICE_SCALE:
        return Price(fast)
    return _wire(parse_price, value, what, key)


def _opt_price(data: Mapping[str, Any], key: str, what: str) -> Price | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_price, value, what, key)


def _count(data: Mapping[str, Any], key: str, what: str) -> Count:
    value = _req(data, key, what)
    fast = _fixed(value, 2)
    return Count(fast) if fast is not None else _wire(parse_count, value, what, key)


def _opt_count(data: Mapping[str, Any], key: str, what: str) -> Count | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_count, value, what, key)


def _money(data: Mapping[str, Any], key: str, what: str, default: Money | None = None) -> Money:
    value = data.get(key)
    if value is None or value == "":
        if default is not None:
            return default
        raise _bad(what, key, "is missing")
    return _wire(parse_money, value, what, key)


def _opt_money(data: Mapping[str, Any], key: str, what: str) -> Money | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_money, value, what, key)


def _decimal(value: Any, what: str, key: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _bad(what, key, f"is not a number: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        raise _bad(what, key, f"is not a number: {value!r}")
    return result


def iso_to_ms(text: str) -> int:
    """``"2026-11-28T16:05:00.412377Z"`` -> Unix ms (truncated). Raises ValueError on junk."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def _time_ms(
    data: Mapping[str, Any],
    what: str,
    *,
    ms: Sequence[str] = (),
    iso: Sequence[str] = (),
    seconds: Sequence[str] = (),
) -> int | None:
    """First present of: integer-ms keys, ISO keys, integer-second keys (in that order of trust)."""
    for key in ms:
        value = data.get(key)
        if value is not None:
            return _int(value, what, key)
    for key in iso:
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                return iso_to_ms(value)
            except ValueError:
                raise _bad(what, key, f"is not an ISO time: {value!r}") from None
    for key in seconds:
        value = data.get(key)
        if value is not None:
            return _int(value, what, key) * 1000
    return None


def _as_dict(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadResponse(f"{what}: expected a JSON object, got {type(data).__name__}", code="bad_response")
    return data


def _list(data: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        if value is None:
            raise _bad(what, key, "is missing")
        raise _bad(what, key, f"is not a list: {type(value).__name__}")
    return value


def _book_side(data: Mapping[str, Any], what: str) -> BookSide:
    """``book_side`` if present, else derived from the deprecated ``side``/``action`` (or ``is_yes``)."""
    value = data.get("book_side")
    if value in ("bid", "ask"):
        return value  # type: ignore[return-value]
    side = data.get("outcome_side") or data.get("side") or data.get("purchased_side")
    if side is None and isinstance(data.get("is_yes"), bool):
        side = "yes" if data["is_yes"] else "no"
    action = data.get("action") or "buy"
    if side in ("yes", "no") and action in ("buy", "sell"):
        return "bid" if (side == "yes") == (action == "buy") else "ask"
    raise _bad(what, "book_side", f"is missing or unknown: {value!r}")


def _yes_price(data: Mapping[str, Any], what: str, key: str = "yes_price_dollars") -> Price:
    if data.get(key) is not None:
        return _price(data, key, what)
    if data.get("no_price_dollars") is not None:
        return no_price(_price(data, "no_price_dollars", what))
    raise _bad(what, key, "is missing")


def _tickers(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))
