"""Parse what the user typed into the setup and inventory forms: text in, exact values or errors out.

This is the front-end edge where strings become ``Price``/``Count``/``Decimal``; nothing here talks to
the exchange (ticker checks happen in ``Engine.describe_pair``). Every error is keyed by the field's
name so the form can mark that field and keep everything the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from kmm_tui.domain.inventory import Side
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
from kmm_tui.engine.model import MatchSettings, MatchSpec, Shape, TheoInput
from kmm_tui.outcome_input import TheoSumError, complete_theos, shape_of

# Home, draw, away order; the draw's fields (ticker_tie, odds_draw, theo_tie) are for three-way events.
MATCH_FIELDS = (
    "name",
    "ticker_a",
    "ticker_tie",
    "ticker_b",
    "odds_a",
    "odds_draw",
    "odds_b",
    "theo_a",
    "theo_tie",
    "theo_b",
    "edge",
    "contracts",
    "inventory_max",
    "start_margin",
)
# The tie's fields (count_long_t, avg_cost_t) are for three-way matches; blank leaves the tie as it is.
INVENTORY_FIELDS = ("count_long_a", "count_long_b", "count_long_t", "avg_cost_a", "avg_cost_b", "avg_cost_t")


@dataclass(frozen=True, slots=True)
class MatchForm:
    """A fully parsed setup form (tickers are not yet checked against the exchange)."""

    name: str
    ticker_a: str
    ticker_b: str
    theo: TheoInput
    settings: MatchSettings
    ticker_tie: str | None = None

    @property
    def shape(self) -> Shape:
        return shape_of(self.ticker_a, self.ticker_b, self.ticker_tie)

    def spec(self, match_id: str) -> MatchSpec:
        return MatchSpec(
            match_id,
            self.ticker_a,
            self.ticker_b,
            self.theo,
            self.settings,
            name=self.name,
            ticker_tie=self.ticker_tie,
        )


@dataclass(frozen=True, slots=True)
class InventoryForm:
    count_long_a: Count
    count_long_b: Count
    avg_cost_a: Price | None
    avg_cost_b: Price | None
    count_long_t: Count | None = None
    avg_cost_t: Price | None = None


def form_values(spec: MatchSpec) -> dict[str, str]:
    """A saved spec back into form text, for the edit form (exact: no rounding on the way back)."""
    theo, s = spec.theo, spec.settings
    values = dict.fromkeys(MATCH_FIELDS, "")
    values.update(
        name=spec.name,
        ticker_a=spec.ticker_a,
        ticker_b=spec.ticker_b,
        ticker_tie=spec.ticker_tie or "",
        edge=cents_text(s.edge),
        contracts=format_contracts(s.contracts),
        inventory_max=format_contracts(s.inventory_max),
        start_margin=_decimal_text(Decimal(s.start_margin_ms) / 60_000),
    )
    if theo.is_manual:
        values["theo_a"] = cents_text(theo.theo_a)
        values["theo_b"] = cents_text(theo.theo_b)
        values["theo_tie"] = cents_text(theo.theo_tie)
    else:
        values["odds_a"] = _decimal_text(theo.odds_a)
        values["odds_b"] = _decimal_text(theo.odds_b)
        values["odds_draw"] = _decimal_text(theo.odds_draw)
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
    ticker_a, ticker_b, ticker_tie = _tickers(text, errors)
    shape = shape_of(ticker_a, ticker_b, ticker_tie)
    theo_fields = THEO_FIELDS[shape]
    if from_feed and not any(text[k] for k in theo_fields):
        theo: TheoInput | None = TheoInput(method=method, from_feed=True)
    else:
        theo = _parse_theo(shape, text, errors)
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
    return MatchForm(text["name"], ticker_a, ticker_b, theo, settings, ticker_tie), {}


def parse_inventory_form(values: Mapping[str, str]) -> tuple[InventoryForm | None, dict[str, str]]:
    errors: dict[str, str] = {}
    text = {name: values.get(name, "").strip() for name in INVENTORY_FIELDS}
    count_a = _contracts(text["count_long_a"], "count_long_a", errors, allow_zero=True)
    count_b = _contracts(text["count_long_b"], "count_long_b", errors, allow_zero=True)
    tie = text["count_long_t"]  # blank: the tie as it is (and a two-outcome match has none)
    count_t = _contracts(tie, "count_long_t", errors, allow_zero=True) if tie else None
    avg_a, avg_b, avg_t = (
        _cents(text[name], name, errors) if text[name] else None
        for name in ("avg_cost_a", "avg_cost_b", "avg_cost_t")
    )
    if errors or count_a is None or count_b is None:
        return None, errors
    return InventoryForm(count_a, count_b, avg_a, avg_b, count_t, avg_t), {}


# --- field parsers: each records its own error and returns None on failure ------------------------


def _tickers(text: Mapping[str, str], errors: dict[str, str]) -> tuple[str, str, str | None]:
    """The tickers typed: a draw ticker makes a three-way event; team B equal to A is one YES/NO market."""
    ticker_a, ticker_b = text["ticker_a"].upper(), text["ticker_b"].upper()
    ticker_tie = text["ticker_tie"].upper() or None
    home = "home" if ticker_tie else "team A"
    if not ticker_a:
        errors["ticker_a"] = f"enter the market ticker for {home}"
    if not ticker_b:
        errors["ticker_b"] = "enter the market ticker for away" if ticker_tie else (
            "enter the market ticker for team B (the same ticker as A: one YES/NO market)"
        )
    if ticker_tie and ticker_tie in (ticker_a, ticker_b):
        errors["ticker_tie"] = "the draw (TIE) market must differ from the home and away markets"
    elif ticker_tie and ticker_a and ticker_a == ticker_b:
        errors["ticker_b"] = "home and away must be different markets"
    return ticker_a, ticker_b, ticker_tie


# The odds and theo fields of each shape, in outcome order (home, draw, away).
ODDS_FIELDS: dict[Shape, tuple[str, ...]] = {
    Shape.TEAMS: ("odds_a", "odds_b"),
    Shape.YES_NO: ("odds_a", "odds_b"),
    Shape.THREE_WAY: ("odds_a", "odds_draw", "odds_b"),
}
THEO_SIDES: dict[Shape, tuple[tuple[str, Side], ...]] = {
    Shape.TEAMS: (("theo_a", Side.A), ("theo_b", Side.B)),
    Shape.YES_NO: (("theo_a", Side.A), ("theo_b", Side.B)),
    Shape.THREE_WAY: (("theo_a", Side.A), ("theo_tie", Side.T), ("theo_b", Side.B)),
}
THEO_FIELDS: dict[Shape, tuple[str, ...]] = {
    shape: ODDS_FIELDS[shape] + tuple(name for name, _ in THEO_SIDES[shape]) for shape in Shape
}


def _parse_theo(shape: Shape, text: Mapping[str, str], errors: dict[str, str]) -> TheoInput | None:
    odds_fields = ODDS_FIELDS[shape]
    theo_sides = THEO_SIDES[shape]
    has_odds = any(text[k] for k in odds_fields)
    has_theo = any(text[k] for k, _ in theo_sides)
    if has_odds and has_theo:
        errors["theo_a"] = "enter odds or a theo, not both (clear one set)"
        return None
    if has_theo:
        return _parse_manual_theo(shape, text, errors)
    if not has_odds:
        if shape is Shape.THREE_WAY:
            errors["odds_a"] = "enter decimal odds for home, draw and away (e.g. 2.1), or theos in cents"
        elif shape is Shape.YES_NO:
            errors["odds_a"] = "enter decimal odds for YES (over) and NO (under), or a theo in cents"
        else:
            errors["odds_a"] = "enter decimal odds for both teams (e.g. 1.85), or a theo in cents"
        return None
    odds = {name: _odds(text[name], name, errors) for name in odds_fields}
    if any(value is None for value in odds.values()):
        return None
    return TheoInput(odds_a=odds["odds_a"], odds_b=odds["odds_b"], odds_draw=odds.get("odds_draw"))


def _parse_manual_theo(shape: Shape, text: Mapping[str, str], errors: dict[str, str]) -> TheoInput | None:
    """Typed theos; one outcome may be left empty (100c minus the others)."""
    theo_sides = THEO_SIDES[shape]
    if shape is not Shape.THREE_WAY and not text["theo_a"]:
        first = "YES's" if shape is Shape.YES_NO else "team A's"
        errors["theo_a"] = f"enter {first} theo in cents (the other side defaults to 100 minus it)"
        return None
    typed: dict[Side, Price | None] = {}
    for name, side in theo_sides:
        typed[side] = _theo_cents(text[name], name, errors) if text[name] else None
        if text[name] and typed[side] is None:
            return None
    try:
        theos = complete_theos(shape, typed)
    except TheoSumError as error:
        field = next(name for name, side in theo_sides if side is error.side)
        errors[field] = str(error)
        return None
    return TheoInput(theo_a=theos[Side.A], theo_b=theos[Side.B], theo_tie=theos.get(Side.T))


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
