"""Parse what the user typed into the setup and inventory forms: text in, exact values or errors out.

This is the front-end edge where strings become ``Price``/``Count``/``Decimal``; nothing here talks to
the exchange (ticker checks happen in ``Engine.describe_pair``). Every error is keyed by the field's
name so the form can mark that field and keep everything the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from kmm_tui.domain.prices import (
    CENT,
    PRICE_SCALE,
    Count,
    Price,
    WireFormatError,
    format_contracts,
    parse_count,
    price_from_cents,
    price_to_cents,
)
from kmm_tui.domain.quoting import MIN_EDGE
from kmm_tui.domain.theo import DevigMethod, OddsError, american_to_decimal, parse_decimal_odds
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput

MATCH_FIELDS = (
    "name",
    "ticker_a",
    "ticker_b",
    "odds_a",
    "odds_b",
    "theo_a",
    "theo_b",
    "edge",
    "contracts",
    "inventory_max",
    "start_margin",
)
INVENTORY_FIELDS = ("count_long_a", "count_long_b", "avg_cost_a", "avg_cost_b")


@dataclass(frozen=True, slots=True)
class MatchForm:
    """A fully parsed setup form (tickers are not yet checked against the exchange)."""

    name: str
    ticker_a: str
    ticker_b: str
    theo: TheoInput
    settings: MatchSettings

    def spec(self, match_id: str) -> MatchSpec:
        return MatchSpec(match_id, self.ticker_a, self.ticker_b, self.theo, self.settings, name=self.name)


@dataclass(frozen=True, slots=True)
class InventoryForm:
    count_long_a: Count
    count_long_b: Count
    avg_cost_a: Price | None
    avg_cost_b: Price | None


def match_id_for(ticker_a: str, ticker_b: str) -> str:
    """Stable id of a match: its two tickers (the journal keys on it across restarts)."""
    return f"{ticker_a.strip().upper()}+{ticker_b.strip().upper()}"


def form_values(spec: MatchSpec) -> dict[str, str]:
    """A saved spec back into form text, for the edit form (exact: no rounding on the way back)."""
    theo, s = spec.theo, spec.settings
    values = dict.fromkeys(MATCH_FIELDS, "")
    values.update(
        name=spec.name,
        ticker_a=spec.ticker_a,
        ticker_b=spec.ticker_b,
        edge=cents_text(s.edge),
        contracts=format_contracts(s.contracts),
        inventory_max=format_contracts(s.inventory_max),
        start_margin=_decimal_text(Decimal(s.start_margin_ms) / 60_000),
    )
    if theo.is_manual:
        values["theo_a"] = cents_text(theo.theo_a)
        values["theo_b"] = cents_text(theo.theo_b) if theo.theo_b is not None else ""
    else:
        values["odds_a"] = _decimal_text(theo.odds_a)
        values["odds_b"] = _decimal_text(theo.odds_b)
    return values


def default_values(settings: MatchSettings) -> dict[str, str]:
    """An empty form pre-filled with the configured defaults."""
    values = dict.fromkeys(MATCH_FIELDS, "")
    values.update(
        edge=cents_text(settings.edge),
        contracts=format_contracts(settings.contracts),
        inventory_max=format_contracts(settings.inventory_max),
        start_margin=_decimal_text(Decimal(settings.start_margin_ms) / 60_000),
    )
    return values


def parse_match_form(
    values: Mapping[str, str],
    base: MatchSettings,
    *,
    method: DevigMethod = DevigMethod.MULTIPLICATIVE,
    from_feed: bool = False,
) -> tuple[MatchForm | None, dict[str, str]]:
    """Parse every field; returns the form or the error per field (all of them, not just the first).

    ``method`` is the de-vig method for odds (settings ``[odds] devig``). With ``from_feed`` the odds
    feed prices the match while it runs; odds or a theo are then optional (a starting value)."""
    errors: dict[str, str] = {}
    text = {name: values.get(name, "").strip() for name in MATCH_FIELDS}
    ticker_a, ticker_b = text["ticker_a"].upper(), text["ticker_b"].upper()
    if not ticker_a:
        errors["ticker_a"] = "enter the market ticker for team A"
    if not ticker_b:
        errors["ticker_b"] = "enter the market ticker for team B"
    elif ticker_b == ticker_a:
        errors["ticker_b"] = "team B must be a different market from team A"

    if from_feed and not any(text[k] for k in ("odds_a", "odds_b", "theo_a", "theo_b")):
        theo: TheoInput | None = TheoInput(method=method, from_feed=True)
    else:
        theo = _parse_theo(text, errors)
        if theo is not None:
            theo = replace(theo, method=method, from_feed=from_feed)
    edge = _cents(text["edge"], "edge", errors)
    if edge is not None and edge < MIN_EDGE:
        errors["edge"] = "at least one tick (0.1c): a zero edge completes pairs that lose after fees"
        edge = None
    size = _contracts(text["contracts"], "contracts", errors)
    inventory_max = _contracts(text["inventory_max"], "inventory_max", errors)
    margin_ms = _minutes(text["start_margin"], "start_margin", errors)
    if size is not None and inventory_max is not None and inventory_max < size:
        errors["inventory_max"] = f"must be at least the order size ({format_contracts(size)} contracts)"
    if errors or theo is None or edge is None or size is None or inventory_max is None or margin_ms is None:
        return None, errors
    settings = replace(
        base, edge=edge, contracts=size, inventory_max=inventory_max, start_margin_ms=margin_ms
    )
    return MatchForm(text["name"], ticker_a, ticker_b, theo, settings), {}


def parse_inventory_form(values: Mapping[str, str]) -> tuple[InventoryForm | None, dict[str, str]]:
    errors: dict[str, str] = {}
    text = {name: values.get(name, "").strip() for name in INVENTORY_FIELDS}
    count_a = _contracts(text["count_long_a"], "count_long_a", errors, allow_zero=True)
    count_b = _contracts(text["count_long_b"], "count_long_b", errors, allow_zero=True)
    avg_a = _cents(text["avg_cost_a"], "avg_cost_a", errors) if text["avg_cost_a"] else None
    avg_b = _cents(text["avg_cost_b"], "avg_cost_b", errors) if text["avg_cost_b"] else None
    if errors or count_a is None or count_b is None:
        return None, errors
    return InventoryForm(count_a, count_b, avg_a, avg_b), {}


# --- field parsers: each records its own error and returns None on failure ------------------------


def _parse_theo(text: Mapping[str, str], errors: dict[str, str]) -> TheoInput | None:
    has_odds = bool(text["odds_a"] or text["odds_b"])
    has_theo = bool(text["theo_a"] or text["theo_b"])
    if has_odds and has_theo:
        errors["theo_a"] = "enter odds or a theo, not both (clear one pair)"
        return None
    if has_theo:
        if not text["theo_a"]:
            errors["theo_a"] = "enter team A's theo in cents (team B defaults to 100 minus A)"
            return None
        theo_a = _theo_cents(text["theo_a"], "theo_a", errors)
        theo_b = _theo_cents(text["theo_b"], "theo_b", errors) if text["theo_b"] else None
        if theo_a is None or (text["theo_b"] and theo_b is None):
            return None
        if theo_b is None:
            theo_b = Price(PRICE_SCALE - theo_a)
        return TheoInput(theo_a=theo_a, theo_b=theo_b)
    if not has_odds:
        errors["odds_a"] = "enter decimal odds for both teams (e.g. 1.85), or a theo in cents"
        return None
    odds_a = _odds(text["odds_a"], "odds_a", errors)
    odds_b = _odds(text["odds_b"], "odds_b", errors)
    if odds_a is None or odds_b is None:
        return None
    return TheoInput(odds_a=odds_a, odds_b=odds_b)


def _odds(text: str, name: str, errors: dict[str, str]) -> Decimal | None:
    if not text:
        errors[name] = "enter decimal odds (e.g. 1.85)"
        return None
    try:
        if text[0] in "+-":
            return american_to_decimal(text)
        return parse_decimal_odds(text)
    except OddsError as error:
        errors[name] = str(error)
        return None


def _theo_cents(text: str, name: str, errors: dict[str, str]) -> Price | None:
    price = _cents(text, name, errors)
    if price is not None and not 0 < price < PRICE_SCALE:
        errors[name] = "theo must be between 0 and 100 cents (exclusive)"
        return None
    return price


def _cents(text: str, name: str, errors: dict[str, str], *, allow_zero: bool = False) -> Price | None:
    if not text:
        errors[name] = "enter a price in cents (e.g. 2 or 1.5)"
        return None
    try:
        price = price_from_cents(text.removesuffix("c"))
    except WireFormatError as error:
        errors[name] = f"{error}; enter cents such as 2 or 1.5"
        return None
    if price == 0 and not allow_zero:
        errors[name] = "must be more than 0 cents"
        return None
    return price


def _contracts(text: str, name: str, errors: dict[str, str], *, allow_zero: bool = False) -> Count | None:
    if not text:
        errors[name] = "enter a number of contracts"
        return None
    try:
        count = parse_count(text)
    except WireFormatError:
        errors[name] = f"{text!r} is not a number of contracts (whole, or with up to 2 decimals)"
        return None
    if count < 0 or (count == 0 and not allow_zero):
        errors[name] = "must be more than 0 contracts" if not allow_zero else "cannot be negative"
        return None
    return count


def _minutes(text: str, name: str, errors: dict[str, str]) -> int | None:
    if not text:
        errors[name] = "enter minutes before the start to pull orders (0 = at the start)"
        return None
    try:
        minutes = Decimal(text)
    except InvalidOperation:
        errors[name] = f"{text!r} is not a number of minutes"
        return None
    if not minutes.is_finite() or minutes < 0:
        errors[name] = "minutes must be 0 or more"
        return None
    millis = minutes * 60_000
    if millis != millis.to_integral_value():
        errors[name] = "use at most 3 decimals of a minute"
        return None
    return int(millis)


def cents_text(price: int | None) -> str:
    if price is None:
        return ""
    return _decimal_text(price_to_cents(price)) if price % CENT else str(price // CENT)


def _decimal_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text
