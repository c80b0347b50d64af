"""Validation: the raw TOML document -> :class:`~kmm_tui.config.schema.Settings`, or a
:class:`SettingsError` naming the line, what is wrong and how to fix it. Strict on purpose: a typo or a
rounding float must stop kmm instead of trading on a default.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kmm_tui.config.lineindex import LineIndex
from kmm_tui.config.schema import (
    _ACTION,
    _BOOKMAKER,
    _TICKER,
    DEFAULT_FIELDS,
    DEFAULT_MARKOUT_HORIZONS_S,
    DEVIG_METHODS,
    ODDS_KEY_ENV_VARS,
    ODDS_REGIONS,
    PEM_MARK,
    Defaults,
    EnvName,
    KalshiSettings,
    Loc,
    OddsSettings,
    RecordingSettings,
    RiskSettings,
    SavedMatch,
    ScannerSettings,
    Settings,
    SettingsError,
    Tier,
)
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, MONEY_SCALE, Money, Price, price_from_cents
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.model import Shape
from kmm_tui.outcome_input import TheoSumError, complete_theos, shape_of


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (a whole number)"
    if isinstance(value, float | Decimal):
        return f"{value} (a decimal number)"
    if isinstance(value, str):
        return f"{value!r} (a string)" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return f"{value} (a date/time)"
    return type(value).__name__


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _suggest(word: str, choices: Iterable[str]) -> str:
    """``; did you mean "x"?`` for the closest choice: same letters, a prefix, or a near spelling."""
    options = list(choices)
    folded = word.casefold()
    close = [c for c in options if c.casefold() == folded]
    close = close or [c for c in options if len(folded) >= 3 and c.casefold().startswith(folded)]
    close = close or difflib.get_close_matches(folded, options, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class Checker:
    """Builds ``settings.toml:LINE: ...`` errors for locations in one document."""

    def __init__(self, name: str, index: LineIndex, base_dir: Path) -> None:
        self.name = name
        self.index = index
        self.base_dir = base_dir

    def fail(self, loc: Loc, message: str) -> SettingsError:
        line = self.index.line(loc)
        return SettingsError(f"{self.name}:{line}: {message}", line=line)

    @staticmethod
    def where(loc: Loc) -> str:
        """Human name of a location: ``[defaults] edge_cents``, ``[[matches]] #2 odds_a``."""
        if not loc:
            return "the top level"
        if loc[0] == "matches" and len(loc) >= 2 and isinstance(loc[1], int):
            head, rest = f"[[matches]] #{loc[1] + 1}", loc[2:]
        elif len(loc) == 1:
            return f"{loc[0]}" if loc[0] in ("environment",) else f"[{loc[0]}]"
        else:
            head, rest = f"[{loc[0]}]", loc[1:]
        tail = ".".join(str(part) for part in rest if not isinstance(part, int))
        return f"{head} {tail}".strip()

    def table(self, value: object, loc: Loc, example: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(loc, f"{self.where(loc)} must be a table, got {_kind(value)}; write {example}")
        return value

    def known_keys(self, table: Mapping[str, Any], loc: Loc, known: Sequence[str]) -> None:
        for key in table:
            if key not in known:
                hint = _suggest(key, known) or f"; known keys: {', '.join(known)}"
                where = self.where(loc)
                raise self.fail((*loc, key), f'unknown key "{key}" in {where}{hint}')

    def string(self, value: object, loc: Loc, example: str) -> str:
        if not isinstance(value, str):
            raise self.fail(loc, f"{self.where(loc)} must be a string, got {_kind(value)}; write {example}")
        if not value.strip():
            raise self.fail(loc, f"{self.where(loc)} is empty; write {example} or delete the line")
        return value.strip()

    def boolean(self, value: object, loc: Loc) -> bool:
        if not isinstance(value, bool):
            key = loc[-1]
            raise self.fail(
                loc, f"{self.where(loc)} must be true or false, got {_kind(value)}; write {key} = true"
            )
        return value

    def integer(self, value: object, loc: Loc, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(
                loc, f"{self.where(loc)} must be a whole number, got {_kind(value)}; write {loc[-1]} = {low}"
            )
        if not low <= value <= high:
            raise self.fail(loc, f"{self.where(loc)} = {value} is out of range; use {low}..{high}")
        return value

    def decimal(
        self,
        value: object,
        loc: Loc,
        *,
        low: Decimal,
        high: Decimal,
        places: int,
        low_open: bool = False,
        high_open: bool = False,
        unit: str = "",
    ) -> Decimal:
        """A number (int, TOML float, or numeric string) as an exact Decimal, range- and precision-checked."""
        key = loc[-1]
        example = low + 1 if low_open else low
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise self.fail(
                loc, f"{self.where(loc)} must be a number, got {_kind(value)}; write {key} = {example}"
            )
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise self.fail(
                loc, f"{self.where(loc)} must be a number, got {_kind(value)}; write {key} = {example}"
            ) from None
        if not number.is_finite():
            raise self.fail(loc, f"{self.where(loc)} must be a finite number, got {value}")
        too_low = number <= low if low_open else number < low
        too_high = number >= high if high_open else number > high
        if too_low or too_high:
            lo_txt = f"more than {low}" if low_open else f"at least {low}"
            hi_txt = f"less than {high}" if high_open else f"at most {high}"
            raise self.fail(
                loc, f"{self.where(loc)} = {value}{unit} is out of range; use a value {lo_txt} and {hi_txt}"
            )
        if _places(number) > places:
            step = "whole numbers" if places == 0 else f"at most {places} decimal place{'s' * (places > 1)}"
            raise self.fail(loc, f"{self.where(loc)} = {value} is too precise; use {step}")
        return number

    def choice(self, value: object, loc: Loc, choices: Sequence[str]) -> str:
        options = " | ".join(f'"{c}"' for c in choices)
        if not isinstance(value, str):
            raise self.fail(loc, f"{self.where(loc)} must be one of {options}, got {_kind(value)}")
        if value not in choices:
            hint = _suggest(value.lower(), choices)
            raise self.fail(loc, f'{self.where(loc)} = "{value}" is not valid{hint}; use one of {options}')
        return value

    def string_list(self, value: object, loc: Loc, pattern: re.Pattern[str], example: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(loc, f"{self.where(loc)} must be an array, got {_kind(value)}; write {example}")
        items: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not pattern.match(item):
                raise self.fail(
                    (*loc, i),
                    f"{self.where(loc)} item {i + 1} ({_kind(item)}) is not valid; write {example}",
                )
            if item in items:
                raise self.fail((*loc, i), f'{self.where(loc)} lists "{item}" twice; remove one')
            items.append(item)
        return tuple(items)


# --- section validators --------------------------------------------------------------------------

_TOP_KEYS = ("environment", "kalshi", "odds", "defaults", "scanner", "keys", "matches", "recording", "risk")
_RECORDING_KEYS = ("enabled", "max_session_mb", "max_total_mb")
_RISK_LIMITS = (
    "max_session_loss_usd",
    "max_session_loss_worst_case_usd",
    "max_exposure_usd",
    "max_resting_notional_usd",
)
_KALSHI_KEYS = ("key_id", "private_key_path", "rest_url", "ws_url", "tier")
_ODDS_KEYS = (
    "the_odds_api_key",
    "oddspapi_key",
    "sportsgameodds_key",
    "regions",
    "bookmakers",
    "book_weights",
    "max_age_s",
    "devig",
)
_SCANNER_KEYS = ("series",)
_MATCH_KEYS = (
    "name",
    "ticker",
    "ticker_a",
    "ticker_b",
    "ticker_tie",
    "odds_a",
    "odds_b",
    "odds_draw",
    "theo_a",
    "theo_b",
    "theo_tie",
    "feed",
    "devig",
    *DEFAULT_FIELDS,
)
_KEY_MATERIAL_NAMES = ("private_key", "private_key_pem", "key", "pem", "secret")


def _url(ck: Checker, value: object, loc: Loc, schemes: tuple[str, str], suffix: str) -> str:
    example = f'{loc[-1]} = "{schemes[0]}://host{suffix}"'
    text = ck.string(value, loc, example).rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in schemes or not rest:
        raise ck.fail(
            loc, f"{ck.where(loc)} must start with {schemes[0]}:// (or {schemes[1]}://); write {example}"
        )
    host = rest.split("/", 1)[0].split(":", 1)[0]
    if scheme == schemes[1] and host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise ck.fail(
            loc,
            f"{ck.where(loc)} uses unencrypted {scheme}:// for {host}; only loopback may, use {schemes[0]}://",
        )
    if not text.endswith(suffix):
        raise ck.fail(loc, f"{ck.where(loc)} must end with {suffix}; write {example}")
    return text


def _kalshi(ck: Checker, raw: object) -> KalshiSettings:
    loc: Loc = ("kalshi",)
    table = ck.table(raw, loc, '[kalshi] with key_id = "..." and private_key_path = "~/.kalshi/key.pem"')
    for key in table:
        if key in _KEY_MATERIAL_NAMES:
            raise ck.fail(
                (*loc, key),
                f"[kalshi] {key}: settings.toml never holds the private key itself; save the key to a file, "
                f'run "chmod 600 <file>" and set private_key_path = "<file>" instead',
            )
    ck.known_keys(table, loc, _KALSHI_KEYS)
    key_id = key_path = rest_url = ws_url = None
    tier = Tier.BASIC
    if "key_id" in table:
        example = 'key_id = "a1b2c3d4-..." (from Kalshi > API keys)'
        key_id = ck.string(table["key_id"], (*loc, "key_id"), example)
        if any(ch.isspace() for ch in key_id):
            raise ck.fail((*loc, "key_id"), "[kalshi] key_id contains spaces; paste the key id exactly")
    if "private_key_path" in table:
        kloc = (*loc, "private_key_path")
        text = ck.string(table["private_key_path"], kloc, 'private_key_path = "~/.kalshi/kalshi-key.pem"')
        if PEM_MARK in text or "PRIVATE KEY" in text:
            raise ck.fail(
                kloc,
                "[kalshi] private_key_path holds key material; save the key to a file, run "
                '"chmod 600 <file>" and put only the file\'s path here',
            )
        path = Path(text).expanduser()
        key_path = path if path.is_absolute() else (ck.base_dir / path)
    if "rest_url" in table:
        rest_url = _url(ck, table["rest_url"], (*loc, "rest_url"), ("https", "http"), "/trade-api/v2")
    if "ws_url" in table:
        ws_url = _url(ck, table["ws_url"], (*loc, "ws_url"), ("wss", "ws"), "/trade-api/ws/v2")
    if "tier" in table:
        tier = Tier(ck.choice(table["tier"], (*loc, "tier"), [t.value for t in Tier]))
    return KalshiSettings(key_id, key_path, rest_url, ws_url, tier)


def _odds(ck: Checker, raw: object, environ: Mapping[str, str]) -> OddsSettings:
    loc: Loc = ("odds",)
    table = ck.table(raw, loc, '[odds] with the_odds_api_key = "..."')
    ck.known_keys(table, loc, _ODDS_KEYS)
    keys: dict[str, str | None] = {}
    for name, env_var in ODDS_KEY_ENV_VARS.items():
        from_env = environ.get(env_var, "").strip()
        if from_env:
            keys[name] = from_env
        elif name in table:
            keys[name] = ck.string(table[name], (*loc, name), f'{name} = "your key" (or set ${env_var})')
        else:
            keys[name] = None
    defaults = OddsSettings()
    regions = defaults.regions
    if "regions" in table:
        rloc = (*loc, "regions")
        regions = ck.string_list(table["regions"], rloc, re.compile(r"^[a-z0-9]+$"), 'regions = ["us", "eu"]')
        for i, region in enumerate(regions):
            if region not in ODDS_REGIONS:
                hint = _suggest(region, ODDS_REGIONS)
                options = ", ".join(ODDS_REGIONS)
                raise ck.fail((*rloc, i), f'[odds] regions: "{region}" is not a region{hint}; use {options}')
    bookmakers = ()
    if "bookmakers" in table:
        bookmakers = ck.string_list(
            table["bookmakers"], (*loc, "bookmakers"), _BOOKMAKER, 'bookmakers = ["pinnacle", "draftkings"]'
        )
    weights: dict[str, Decimal] = {}
    if "book_weights" in table:
        wloc = (*loc, "book_weights")
        wtable = ck.table(table["book_weights"], wloc, "[odds.book_weights] with pinnacle = 3")
        for book, weight in wtable.items():
            if not _BOOKMAKER.match(book):
                raise ck.fail(
                    (*wloc, book), f'[odds.book_weights] "{book}" is not a bookmaker key like "pinnacle"'
                )
            weights[book] = ck.decimal(weight, (*wloc, book), low=Decimal(0), high=Decimal(100), places=4)
    max_age_s = defaults.max_age_s
    if "max_age_s" in table:
        max_age_s = ck.integer(table["max_age_s"], (*loc, "max_age_s"), 1, 86_400)
    devig = defaults.devig
    if "devig" in table:
        devig = DevigMethod(ck.choice(table["devig"], (*loc, "devig"), DEVIG_METHODS))
    return OddsSettings(
        keys["the_odds_api_key"],
        keys["oddspapi_key"],
        keys["sportsgameodds_key"],
        regions,
        bookmakers,
        MappingProxyType(weights),
        max_age_s,
        devig,
    )


def _default_values(ck: Checker, table: Mapping[str, Any], loc: Loc, base: Defaults) -> Defaults:
    """Apply the quoting knobs present in ``table`` (``[defaults]`` or one match) on top of ``base``."""
    values: dict[str, Any] = {name: getattr(base, name) for name in DEFAULT_FIELDS}
    d = Decimal
    if "edge_cents" in table:
        values["edge_cents"] = ck.decimal(  # at least one tick: a zero edge loses after fees
            table["edge_cents"], (*loc, "edge_cents"), low=d("0.1"), high=d(50), places=2, unit=" cents"
        )
    if "contracts" in table:
        values["contracts"] = ck.decimal(
            table["contracts"], (*loc, "contracts"), low=d(0), high=d(1_000_000), places=2, low_open=True
        )
    if "inventory_max" in table:
        values["inventory_max"] = ck.decimal(
            table["inventory_max"],
            (*loc, "inventory_max"),
            low=d(0),
            high=d(1_000_000),
            places=2,
            low_open=True,
        )
    if "start_margin_minutes" in table:
        values["start_margin_minutes"] = ck.decimal(
            table["start_margin_minutes"], (*loc, "start_margin_minutes"), low=d(0), high=d(1440), places=3
        )
    if "retest_interval_s" in table:
        values["retest_interval_s"] = ck.decimal(
            table["retest_interval_s"],
            (*loc, "retest_interval_s"),
            low=d(0),
            high=d(3600),
            places=3,
            low_open=True,
        )
    if "backoff_ticks" in table:
        values["backoff_ticks"] = ck.integer(table["backoff_ticks"], (*loc, "backoff_ticks"), 0, 100)
    for flag in ("fee_aware", "post_only"):
        if flag in table:
            values[flag] = ck.boolean(table[flag], (*loc, flag))
    result = Defaults(**values)
    if result.inventory_max < result.contracts:
        key = "inventory_max" if "inventory_max" in table else "contracts" if "contracts" in table else None
        at = (*loc, key) if key else loc
        raise ck.fail(
            at,
            f"{ck.where(loc)}: inventory_max ({result.inventory_max}) is smaller than contracts "
            f"({result.contracts}); one fill would exceed it — raise inventory_max or lower contracts",
        )
    return result


def _scanner(ck: Checker, raw: object) -> ScannerSettings:
    loc: Loc = ("scanner",)
    table = ck.table(raw, loc, '[scanner] with series = ["KXNBAGAME"]')
    ck.known_keys(table, loc, _SCANNER_KEYS)
    series: tuple[str, ...] = ()
    if "series" in table:
        example = 'series = ["KXNBAGAME", "KXNHLGAME"]'
        series = ck.string_list(table["series"], (*loc, "series"), _TICKER, example)
    return ScannerSettings(series)


def _recording(ck: Checker, raw: object) -> RecordingSettings:
    loc: Loc = ("recording",)
    table = ck.table(raw, loc, "[recording] with enabled = true")
    ck.known_keys(table, loc, _RECORDING_KEYS)
    base = RecordingSettings()
    enabled = ck.boolean(table["enabled"], (*loc, "enabled")) if "enabled" in table else base.enabled
    session = base.max_session_mb
    if "max_session_mb" in table:
        session = ck.integer(table["max_session_mb"], (*loc, "max_session_mb"), 1, 100_000)
    total = base.max_total_mb
    if "max_total_mb" in table:
        total = ck.integer(table["max_total_mb"], (*loc, "max_total_mb"), 1, 1_000_000)
    if total < session:
        raise ck.fail(
            (*loc, "max_total_mb"),
            f"{ck.where(loc)}: max_total_mb ({total}) is smaller than max_session_mb ({session}); "
            "raise max_total_mb",
        )
    return RecordingSettings(enabled, session, total)


def _risk(ck: Checker, raw: object) -> RiskSettings:
    """``[risk]``: account-wide limits in dollars (exact) and the markout horizons in seconds."""
    loc: Loc = ("risk",)
    table = ck.table(raw, loc, "[risk] with max_session_loss_usd = 50")
    ck.known_keys(table, loc, (*_RISK_LIMITS, "markout_horizons_s"))
    limits: list[Money | None] = []
    for key in _RISK_LIMITS:
        if key not in table:
            limits.append(None)
            continue
        dollars = ck.decimal(
            table[key], (*loc, key), low=Decimal(0), high=Decimal(10_000_000), places=2, low_open=True
        )
        limits.append(Money(int(dollars * MONEY_SCALE)))
    horizons = DEFAULT_MARKOUT_HORIZONS_S
    if "markout_horizons_s" in table:
        hloc = (*loc, "markout_horizons_s")
        raw_list = table["markout_horizons_s"]
        if not isinstance(raw_list, list) or not raw_list:
            raise ck.fail(
                hloc, f"{ck.where(hloc)} must be a list of seconds; write markout_horizons_s = [5, 60, 300]"
            )
        horizons = tuple(ck.integer(v, (*hloc, i), 1, 86_400) for i, v in enumerate(raw_list))
        if len(set(horizons)) != len(horizons):
            raise ck.fail(hloc, f"{ck.where(hloc)} lists a horizon twice; remove one")
        horizons = tuple(sorted(horizons))
    return RiskSettings(*limits, markout_horizons_s=horizons)


def _keys(ck: Checker, raw: object) -> Mapping[str, str]:
    loc: Loc = ("keys",)
    table = ck.table(raw, loc, '[keys] with quit = "q"')
    bound: dict[str, str] = {}
    result: dict[str, str] = {}
    for action, value in table.items():
        aloc = (*loc, action)
        if not _ACTION.match(action):
            raise ck.fail(aloc, f'[keys] "{action}" is not an action name (lower-case words like kill_all)')
        key = ck.string(value, aloc, f'{action} = "ctrl+k"')
        for single in (part.strip() for part in key.split(",")):
            if not single or any(ch.isspace() for ch in single):
                raise ck.fail(
                    aloc, f'[keys] {action} = "{key}" is not a key; write e.g. "ctrl+k" or "f5,ctrl+r"'
                )
            if single in bound:
                raise ck.fail(
                    aloc, f'[keys] "{single}" is bound to both {bound[single]} and {action}; pick another key'
                )
            bound[single] = action
        result[action] = key
    return MappingProxyType(result)


def _odds_value(ck: Checker, value: object, loc: Loc) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ck.fail(loc, f'{ck.where(loc)} must be decimal odds like "1.85", got {_kind(value)}')
    text = str(value)
    if not text.strip():
        raise ck.fail(loc, f'{ck.where(loc)} must be decimal odds like "1.85", got {_kind(value)}')
    try:
        odds = Decimal(text.strip())
    except InvalidOperation:
        raise ck.fail(
            loc, f'{ck.where(loc)} = {text!r} is not decimal odds; write e.g. {loc[-1]} = "1.85"'
        ) from None
    if not odds.is_finite() or odds <= 1 or odds > 1000:
        raise ck.fail(
            loc, f"{ck.where(loc)} = {text} is not valid decimal odds; use a number above 1 (e.g. 1.85)"
        )
    return odds


def _match(ck: Checker, raw: object, index: int, defaults: Defaults) -> SavedMatch:
    loc: Loc = ("matches", index)
    table = ck.table(raw, loc, "[[matches]] with name, ticker_a, ticker_b and odds_a/odds_b")
    ck.known_keys(table, loc, _MATCH_KEYS)
    where = ck.where(loc)
    if "name" not in table:
        raise ck.fail(loc, f'{where} has no name; add name = "..."')
    name = ck.string(table["name"], (*loc, "name"), 'name = "Vitality vs FaZe"')
    ticker_a, ticker_b, ticker_tie = _match_tickers(ck, table, loc)
    shape = shape_of(ticker_a, ticker_b, ticker_tie)
    odds_keys = ("odds_a", "odds_b", "odds_draw")
    has_odds = any(k in table for k in odds_keys)
    has_theo = any(k in table for k in ("theo_a", "theo_b", "theo_tie"))
    feed = ck.boolean(table["feed"], (*loc, "feed")) if "feed" in table else False
    if has_odds and has_theo:
        raise ck.fail(loc, f"{where} sets both odds and theo; keep odds_a/odds_b or theo_a/theo_b, not both")
    if shape is not Shape.THREE_WAY and "theo_tie" in table:
        raise ck.fail(
            (*loc, "theo_tie"),
            f"{where} theo_tie is the draw's theo; add ticker_tie (the TIE market) or remove theo_tie",
        )
    odds: dict[str, Decimal | None] = dict.fromkeys(odds_keys)
    theo: dict[str, Price | None] = dict.fromkeys(("theo_a", "theo_b", "theo_tie"))
    if has_odds:
        three = shape is Shape.THREE_WAY
        for key in odds_keys if three else ("odds_a", "odds_b"):
            if key not in table:
                both = "odds_a, odds_draw and odds_b" if three else "both odds_a and odds_b"
                raise ck.fail(loc, f'{where} needs {both}; add {key} = "1.85"')
        for key in odds:
            if key in table:
                odds[key] = _odds_value(ck, table[key], (*loc, key))
    elif has_theo:
        theo = _match_theos(ck, table, loc, shape)
    elif not feed:
        raise ck.fail(
            loc,
            f'{where} has no theo source; add odds_a/odds_b ("1.85"), theo_a/theo_b (cents) or feed = true',
        )
    devig = None
    if "devig" in table:
        devig = DevigMethod(ck.choice(table["devig"], (*loc, "devig"), DEVIG_METHODS))
    settings = _default_values(ck, table, loc, defaults)
    overridden = frozenset(k for k in DEFAULT_FIELDS if k in table)
    return SavedMatch(
        name,
        ticker_a,
        ticker_b,
        odds["odds_a"],
        odds["odds_b"],
        odds["odds_draw"],
        theo["theo_a"],
        theo["theo_b"],
        devig,
        settings,
        overridden,
        feed,
        ticker_tie,
        theo["theo_tie"],
    )


def _match_ticker(ck: Checker, table: Mapping[str, Any], loc: Loc, key: str) -> str:
    ticker = ck.string(table[key], (*loc, key), f'{key} = "KXCS2GAME-26NOV281330VITFAZ-VIT"')
    if not _TICKER.match(ticker):
        raise ck.fail(
            (*loc, key), f'{ck.where(loc)} {key} = "{ticker}" is not a Kalshi market ticker (upper case)'
        )
    return ticker


def _match_tickers(ck: Checker, table: Mapping[str, Any], loc: Loc) -> tuple[str, str, str | None]:
    """Two team markets (ticker_a, ticker_b), with ticker_tie for a soccer event's draw; or one
    YES/NO market (ticker), stored as ticker_a == ticker_b."""
    where = ck.where(loc)
    if "ticker" in table:
        for key in ("ticker_a", "ticker_b", "ticker_tie"):
            if key in table:
                raise ck.fail(
                    (*loc, key),
                    f"{where} sets both ticker (one YES/NO market) and {key}; keep ticker alone, or "
                    "ticker_a and ticker_b (two team markets, ticker_tie for a draw)",
                )
        ticker = _match_ticker(ck, table, loc, "ticker")
        return ticker, ticker, None
    for key in ("ticker_a", "ticker_b"):
        if key not in table:
            raise ck.fail(
                loc, f'{where} has no {key}; add {key} = "..." (or ticker = "..." for one YES/NO market)'
            )
    ticker_a = _match_ticker(ck, table, loc, "ticker_a")
    ticker_b = _match_ticker(ck, table, loc, "ticker_b")
    if ticker_a == ticker_b:
        raise ck.fail(
            (*loc, "ticker_b"),
            f"{where} ticker_a and ticker_b are the same market; use one per team, or write "
            f'ticker = "{ticker_a}" alone to trade that market on its YES and NO sides',
        )
    ticker_tie = _match_ticker(ck, table, loc, "ticker_tie") if "ticker_tie" in table else None
    if ticker_tie in (ticker_a, ticker_b):
        raise ck.fail(
            (*loc, "ticker_tie"), f"{where} ticker_tie must be the draw's own market, not home's or away's"
        )
    return ticker_a, ticker_b, ticker_tie


def _match_theos(ck: Checker, table: Mapping[str, Any], loc: Loc, shape: Shape) -> dict[str, Price | None]:
    """Manual theos in cents. Two teams need both (as ever); a three-way match or one YES/NO market
    may leave one out (100 minus the others). They may not add up past 100 cents."""
    where = ck.where(loc)
    keys = ("theo_a", "theo_tie", "theo_b") if shape is Shape.THREE_WAY else ("theo_a", "theo_b")
    if shape is Shape.TEAMS:
        for key in keys:
            if key not in table:
                raise ck.fail(loc, f"{where} needs both theo_a and theo_b (cents); add {key} = 50")
    typed: dict[str, Price | None] = dict.fromkeys(("theo_a", "theo_b", "theo_tie"))
    for key in keys:
        if key in table:
            cents = ck.decimal(
                table[key],
                (*loc, key),
                low=Decimal(0),
                high=Decimal(100),
                places=2,
                low_open=True,
                high_open=True,
                unit=" cents",
            )
            typed[key] = price_from_cents(cents)
    if shape is Shape.TEAMS:
        total = (typed["theo_a"] or 0) + (typed["theo_b"] or 0)
        if total > 100 * CENT:
            raise ck.fail(
                (*loc, "theo_b"),
                f"{where} theo_a + theo_b = {Decimal(total) / CENT} cents is above 100; fair values of "
                "two outcomes cannot sum to more than 100 cents",
            )
        return typed
    sides = {"theo_a": Side.A, "theo_tie": Side.T, "theo_b": Side.B}
    try:
        complete = complete_theos(shape, {sides[key]: typed[key] for key in keys})
    except TheoSumError as error:
        key = next(k for k in keys if sides[k] is error.side)
        raise ck.fail((*loc, key), f"{where} {key}: {error}") from None
    return {**typed, **{key: complete[sides[key]] for key in keys}}


def validate(ck: Checker, doc: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    ck.known_keys(doc, (), _TOP_KEYS)
    environment = EnvName.SIM
    if "environment" in doc:
        environment = EnvName(ck.choice(doc["environment"], ("environment",), [e.value for e in EnvName]))
    kalshi = _kalshi(ck, doc["kalshi"]) if "kalshi" in doc else KalshiSettings()
    odds = _odds(ck, doc.get("odds", {}), environ)
    defaults = Defaults()
    if "defaults" in doc:
        dtable = ck.table(doc["defaults"], ("defaults",), "[defaults] with edge_cents = 2")
        ck.known_keys(dtable, ("defaults",), DEFAULT_FIELDS)
        defaults = _default_values(ck, dtable, ("defaults",), defaults)
    scanner = _scanner(ck, doc["scanner"]) if "scanner" in doc else ScannerSettings()
    keys = _keys(ck, doc["keys"]) if "keys" in doc else MappingProxyType({})
    matches: list[SavedMatch] = []
    if "matches" in doc:
        raw_matches = doc["matches"]
        if not isinstance(raw_matches, list):
            raise ck.fail(
                ("matches",), "matches must be an array of tables; write [[matches]] above each match"
            )
        seen: set[str] = set()
        for i, raw in enumerate(raw_matches):
            saved = _match(ck, raw, i, defaults)
            if saved.name.casefold() in seen:
                raise ck.fail(
                    ("matches", i, "name"), f'two saved matches are named "{saved.name}"; rename one'
                )
            seen.add(saved.name.casefold())
            matches.append(saved)
    recording = _recording(ck, doc["recording"]) if "recording" in doc else RecordingSettings()
    risk = _risk(ck, doc["risk"]) if "risk" in doc else RiskSettings()
    return Settings(
        environment, kalshi, odds, defaults, scanner, keys, tuple(matches), recording=recording, risk=risk
    )
