"""Request bodies -> engine commands: JSON parsed with ``Decimal`` (never float), unknown fields
refused, every value checked with the field it came from named in the error.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from kmm_tui.control_api.errors import ApiError
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import (
    PRICE_SCALE,
    Count,
    Money,
    Price,
    WireFormatError,
    parse_count,
    parse_money,
    price_from_cents,
)
from kmm_tui.domain.theo import DevigMethod, OddsError, parse_decimal_odds
from kmm_tui.engine.model import MatchSettings, Shape, TheoInput
from kmm_tui.engine.pricing_inputs import outcome_theos
from kmm_tui.outcome_input import TheoSumError, complete_theos, outcomes_of

_TICKER = re.compile(r"[A-Z0-9][A-Z0-9._-]*")

THEO_FIELDS = ("odds_a", "odds_b", "odds_draw", "theo_a", "theo_b", "theo_tie", "method")
SETTING_FIELDS = (
    "edge",
    "contracts",
    "inventory_max",
    "start_margin_minutes",
    "start_margin_ms",
    "retest_interval_ms",
    "backoff_ticks",
    "fee_aware",
    "post_only",
    "max_loss",
    *("burst_fills", "burst_window_ms", "burst_cooloff_ms"),  # fill-burst guard (docs/guards.md)
    *("line_move_theo", "line_move_mid", "line_move_window_ms", "line_move_hold_ms", "line_move_confirm"),
)
TICKER_FIELDS = ("ticker", "ticker_a", "ticker_b", "ticker_tie")
ADD_FIELDS = frozenset(
    {"name", *TICKER_FIELDS, "start", "dry_run", "start_ms", *THEO_FIELDS, *SETTING_FIELDS}
)
UPDATE_FIELDS = frozenset({*THEO_FIELDS, *SETTING_FIELDS})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_body(body: bytes) -> dict[str, Any]:
    """Request body -> dict with every JSON number as an int or an exact Decimal (never a float)."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(422, "the request body must be a JSON object")
    return data


def reject_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError(422, f"unknown field {key!r}; allowed: {', '.join(sorted(allowed))}", key)


def _number(body: dict[str, Any], key: str) -> Decimal | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(422, f"{key} must be a number, not {str(value).lower()}", key)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ApiError(422, f"{key} {value!r} is not a number", key) from None
    else:
        raise ApiError(422, f"{key} must be a number or a numeric string", key)
    if not number.is_finite():
        raise ApiError(422, f"{key} must be a finite number", key)
    return number


def _cents(body: dict[str, Any], key: str) -> Price | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        return price_from_cents(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"{key}: {error}", key) from None


def _contracts(body: dict[str, Any], key: str) -> Count | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        count = parse_count(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"{key}: {error}", key) from None
    if count <= 0:
        raise ApiError(422, f"{key} must be more than 0 contracts", key)
    return count


def _odds(body: dict[str, Any], key: str) -> Decimal | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        return parse_decimal_odds(number)
    except OddsError as error:
        raise ApiError(422, f"{key}: {error}", key) from None


def whole_field(body: dict[str, Any], key: str, minimum: int) -> int | None:
    number = _number(body, key)
    if number is None:
        return None
    if number != number.to_integral_value() or number < minimum:
        raise ApiError(422, f"{key} must be a whole number >= {minimum}", key)
    return int(number)


def flag_field(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(422, f"{key} must be true or false", key)


def text_field(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(422, f"{key} must be a string", key)


def ticker_field(body: dict[str, Any], key: str) -> str:
    value = (text_field(body, key) or "").strip().upper()
    if not value:
        raise ApiError(
            422,
            f"{key} is required: the market ticker of team {key[-1].upper()} (or \"ticker\" alone for one "
            "YES/NO market)",
            key,
        )
    if not _TICKER.fullmatch(value):
        raise ApiError(422, f"{key} {value!r} is not a market ticker", key)
    return value


def match_tickers(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """``ticker`` (one market's YES and NO), or ``ticker_a``/``ticker_b`` with ``ticker_tie`` for a
    soccer event's draw: (A, B, tie)."""
    if body.get("ticker") is not None:
        for key in ("ticker_a", "ticker_b", "ticker_tie"):
            if body.get(key) is not None:
                raise ApiError(
                    422, f"give ticker (one YES/NO market) or ticker_a/ticker_b, not both ({key})", key
                )
        ticker = ticker_field(body, "ticker")
        return ticker, ticker, None
    ticker_a, ticker_b = ticker_field(body, "ticker_a"), ticker_field(body, "ticker_b")
    if ticker_a == ticker_b:
        raise ApiError(
            422, "ticker_a and ticker_b are the same market: send \"ticker\" alone to trade its YES and NO",
            "ticker_b",
        )
    ticker_tie = ticker_field(body, "ticker_tie") if body.get("ticker_tie") is not None else None
    if ticker_tie in (ticker_a, ticker_b):
        raise ApiError(422, "ticker_tie must be the draw's own market, not home's or away's", "ticker_tie")
    return ticker_a, ticker_b, ticker_tie


def parse_theo(
    body: dict[str, Any],
    current: TheoInput | None,
    default_method: DevigMethod,
    shape: Shape = Shape.TEAMS,
) -> TheoInput | None:
    """Theo from ``odds_a``/``odds_b`` (+``odds_draw``) or ``theo_a``/``theo_b`` (+``theo_tie``); None
    when absent. A three-way match needs the draw's odds; its theos, like one YES/NO market's, may leave
    one outcome out (100 minus the others).

    ``current`` (settings updates) lets ``method`` alone re-price the odds already in use.
    """
    if all(body.get(key) is None for key in THEO_FIELDS):
        return None
    method = current.method if current is not None else default_method
    if body.get("method") is not None:
        try:
            method = DevigMethod(body["method"])
        except ValueError:
            choices = ", ".join(m.value for m in DevigMethod)
            raise ApiError(422, f"method must be one of {choices}", "method") from None
    odds_a, odds_b, odds_draw = _odds(body, "odds_a"), _odds(body, "odds_b"), _odds(body, "odds_draw")
    theo_a, theo_b, theo_tie = _cents(body, "theo_a"), _cents(body, "theo_b"), _cents(body, "theo_tie")
    has_odds = any(v is not None for v in (odds_a, odds_b, odds_draw))
    has_theo = any(v is not None for v in (theo_a, theo_b, theo_tie))
    if has_odds and has_theo:
        raise ApiError(422, "give either odds (odds_a/odds_b) or theo (theo_a/theo_b), not both", "theo_a")
    if theo_tie is not None and shape is not Shape.THREE_WAY:
        reason = "theo_tie is the draw's theo: only a three-way match (ticker_tie) has one"
        raise ApiError(422, reason, "theo_tie")
    if has_theo and shape is not Shape.TEAMS:
        theo = TheoInput(**_complete(shape, theo_a, theo_b, theo_tie), method=method)
    elif has_theo:
        if theo_a is None:
            raise ApiError(422, "theo_a is required with theo_b (cents)", "theo_a")
        if theo_b is not None and theo_a + theo_b > PRICE_SCALE:
            raise ApiError(422, "theo_a + theo_b must not exceed 100 cents", "theo_b")
        theo = TheoInput(theo_a=theo_a, theo_b=theo_b, method=method)
    elif has_odds:
        if odds_a is None or odds_b is None:
            missing = "odds_a" if odds_a is None else "odds_b"
            raise ApiError(422, "odds_a and odds_b go together (decimal odds, e.g. 1.85)", missing)
        if shape is Shape.THREE_WAY and odds_draw is None:
            raise ApiError(422, "a three-way match needs odds_draw too (home, draw and away)", "odds_draw")
        theo = TheoInput(odds_a=odds_a, odds_b=odds_b, odds_draw=odds_draw, method=method)
    elif current is not None and not current.is_manual:
        theo = replace(current, method=method)
    else:
        raise ApiError(422, "method applies to odds: give odds_a and odds_b too", "method")
    outcome_theos(theo, shape is Shape.THREE_WAY)  # EngineError(field=...) for odds that cannot be de-vigged
    return theo


def _complete(
    shape: Shape, theo_a: Price | None, theo_b: Price | None, theo_tie: Price | None
) -> dict[str, Any]:
    """Typed theos with the one left out implied (100c minus the others), or a 422 on the field."""
    typed = {Side.A: theo_a, Side.B: theo_b, Side.T: theo_tie}
    try:
        theos = complete_theos(shape, {side: typed[side] for side in outcomes_of(shape)})
    except TheoSumError as error:
        field = {Side.A: "theo_a", Side.B: "theo_b", Side.T: "theo_tie"}[error.side]
        raise ApiError(422, f"{field}: {error}", field) from None
    return {"theo_a": theos[Side.A], "theo_b": theos[Side.B], "theo_tie": theos.get(Side.T)}


def parse_settings(body: dict[str, Any], base: MatchSettings) -> MatchSettings:
    """``base`` with the settings present in ``body`` applied (absent or null fields keep theirs;
    ``"max_loss": null`` clears the loss limit)."""
    changes: dict[str, Any] = {}
    edge = _cents(body, "edge")
    if edge is not None:
        if edge >= PRICE_SCALE:
            raise ApiError(422, "edge must be less than 100 cents", "edge")
        changes["edge"] = edge
    for key in ("contracts", "inventory_max"):
        count = _contracts(body, key)
        if count is not None:
            changes[key] = count
    minutes = _number(body, "start_margin_minutes")
    margin_ms = whole_field(body, "start_margin_ms", 0)
    if minutes is not None and margin_ms is not None:
        raise ApiError(422, "give start_margin_minutes or start_margin_ms, not both", "start_margin_minutes")
    if minutes is not None:
        exact = minutes * 60_000
        if minutes < 0 or exact != exact.to_integral_value():
            reason = "start_margin_minutes must be >= 0 (in whole milliseconds)"
            raise ApiError(422, reason, "start_margin_minutes")
        margin_ms = int(exact)
    if margin_ms is not None:
        changes["start_margin_ms"] = margin_ms
    for key, minimum in (("retest_interval_ms", 1), ("backoff_ticks", 0)):
        value = whole_field(body, key, minimum)
        if value is not None:
            changes[key] = value
    for key in ("fee_aware", "post_only"):
        flag = flag_field(body, key)
        if flag is not None:
            changes[key] = flag
    if "max_loss" in body:
        changes["max_loss"] = _max_loss(body)
    changes.update(_flow_guard_settings(body))
    settings = replace(base, **changes)
    if settings.inventory_max < settings.contracts:
        field = "inventory_max" if "inventory_max" in changes else "contracts"
        raise ApiError(422, "inventory_max must be at least contracts", field)
    return settings


def _flow_guard_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The fill-burst and line-move guards' knobs; a line-move threshold of null switches it off."""
    changes: dict[str, Any] = {}
    for key, minimum in (
        ("burst_fills", 0),
        ("burst_window_ms", 1),
        ("burst_cooloff_ms", 0),
        ("line_move_window_ms", 1),
        ("line_move_hold_ms", 0),
    ):
        value = whole_field(body, key, minimum)
        if value is not None:
            changes[key] = value
    for key in ("line_move_theo", "line_move_mid"):
        if key in body:
            changes[key] = _cents(body, key)
    flag = flag_field(body, "line_move_confirm")
    if flag is not None:
        changes["line_move_confirm"] = flag
    return changes


def _max_loss(body: dict[str, Any]) -> Money | None:
    number = _number(body, "max_loss")
    if number is None:
        return None
    try:
        amount = parse_money(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"max_loss (dollars): {error}", "max_loss") from None
    if amount <= 0:
        raise ApiError(422, "max_loss must be more than $0 (or null for no limit)", "max_loss")
    return amount
