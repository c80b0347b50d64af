"""``settings.toml``: what the user configured, validated into frozen typed values.

Why so strict: this file decides how much real money a quote risks. A typo (``edge_cent``), a float
that rounds (``edge_cents = 1.5`` must be exactly 1.5 cents) or an out-of-range value must stop the
program with ``settings.toml:LINE: what is wrong and how to fix it`` instead of trading on a default.

* Reading uses ``tomllib`` with ``parse_float=Decimal``, so TOML floats arrive exact; a float that
  reaches this module any other way is converted with ``Decimal(str(x))``.
* Line numbers come from :class:`_LineIndex`, a small scanner of the file text that maps every table
  header and key to its line (``tomllib`` does not report positions for values).
* Saving (:func:`edit_settings` and helpers) loads the *raw* document, applies one change, validates
  the result and writes it atomically, so every setting it did not touch survives. ``tomli-w`` does
  not keep comments: the previous file is kept as ``settings.toml.bak``. Key material is never
  written; the file holds only the *path* of the Kalshi private key.

Load order (:func:`load_settings`): ``--config PATH``, then ``$KMM_CONFIG``, then
``<user config dir>/kmm/settings.toml``. A missing default file means defaults; a missing file the
user named is an error. Odds API keys may come from ``KMM_ODDS_API_KEY``, ``KMM_ODDSPAPI_KEY`` and
``KMM_SPORTSGAMEODDS_KEY``, which win over the file.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli_w

from kmm_tui.domain.prices import CENT, Count, Price, parse_count, price_from_cents
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.paths import settings_path

Loc = tuple[str | int, ...]


class UserError(Exception):
    """A problem the user can fix (bad settings, missing key file, wrong flags).

    The CLI prints ``str(error)`` as one line and exits with status 2 — never a traceback. Front-end
    handlers may raise it (or a subclass) for the same treatment.
    """


class SettingsError(UserError):
    """``settings.toml`` is unreadable or invalid; the message starts with ``settings.toml:LINE:``."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


# --- enumerations --------------------------------------------------------------------------------


class EnvName(StrEnum):
    """Which exchange kmm talks to. ``sim`` is the embedded simulator and the default."""

    SIM = "sim"
    DEMO = "demo"
    PROD = "prod"


class Tier(StrEnum):
    """Kalshi API usage tier (sizes the local rate-limit buckets until ``/account/limits`` answers)."""

    BASIC = "basic"
    ADVANCED = "advanced"
    EXPERT = "expert"
    PREMIER = "premier"
    PARAGON = "paragon"
    PRIME = "prime"
    PRESTIGE = "prestige"


DEVIG_METHODS: tuple[str, ...] = tuple(method.value for method in DevigMethod)
ODDS_REGIONS: tuple[str, ...] = ("us", "us2", "uk", "eu", "au")
ODDS_KEY_ENV_VARS: Mapping[str, str] = MappingProxyType(
    {
        "the_odds_api_key": "KMM_ODDS_API_KEY",
        "oddspapi_key": "KMM_ODDSPAPI_KEY",
        "sportsgameodds_key": "KMM_SPORTSGAMEODDS_KEY",
    }
)

_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_BOOKMAKER = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_ACTION = re.compile(r"^[a-z_][a-z0-9_]*$")
_PEM_MARK = "-----BEGIN"


# --- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KalshiSettings:
    """Account credentials by reference: the key id and the *path* of the private key file."""

    key_id: str | None = None
    private_key_path: Path | None = None
    rest_url: str | None = None
    ws_url: str | None = None
    tier: Tier = Tier.BASIC


@dataclass(frozen=True, slots=True)
class OddsSettings:
    """Sportsbook odds sources and how their prices become a fair value.

    ``book_weights`` maps a bookmaker key to its weight in the consensus (unlisted books weigh 1).
    """

    the_odds_api_key: str | None = None
    oddspapi_key: str | None = None
    sportsgameodds_key: str | None = None
    regions: tuple[str, ...] = ("us", "eu")
    bookmakers: tuple[str, ...] = ()
    book_weights: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    max_age_s: int = 120
    devig: DevigMethod = DevigMethod.MULTIPLICATIVE

    def weight(self, bookmaker: str) -> Decimal:
        return self.book_weights.get(bookmaker, Decimal(1))


@dataclass(frozen=True, slots=True)
class Defaults:
    """Quoting knobs, in the units the user types; properties give the domain's integer units."""

    edge_cents: Decimal = Decimal(2)
    contracts: Decimal = Decimal(10)
    inventory_max: Decimal = Decimal(50)
    start_margin_minutes: Decimal = Decimal(5)
    retest_interval_s: Decimal = Decimal(30)
    backoff_ticks: int = 0
    fee_aware: bool = False
    post_only: bool = True

    @property
    def edge(self) -> Price:
        """Edge as a Price distance (1.5 cents -> 150)."""
        return price_from_cents(self.edge_cents)

    @property
    def contracts_count(self) -> Count:
        return parse_count(self.contracts)

    @property
    def inventory_max_count(self) -> Count:
        return parse_count(self.inventory_max)

    @property
    def start_margin_ms(self) -> int:
        return int(self.start_margin_minutes * 60_000)

    @property
    def retest_interval_ms(self) -> int:
        return int(self.retest_interval_s * 1000)


DEFAULT_FIELDS: tuple[str, ...] = (
    "edge_cents",
    "contracts",
    "inventory_max",
    "start_margin_minutes",
    "retest_interval_s",
    "backoff_ticks",
    "fee_aware",
    "post_only",
)


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    """``[recording]``: every session's books, decisions, orders and fills for ``kmm replay``
    (docs/replay.md). On by default; a session stops recording at ``max_session_mb`` and the oldest
    sessions are deleted when the folder passes ``max_total_mb``."""

    enabled: bool = True
    max_session_mb: int = 200
    max_total_mb: int = 2000


@dataclass(frozen=True, slots=True)
class ScannerSettings:
    """``series`` replaces the scanner's built-in series list when non-empty."""

    series: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SavedMatch:
    """A match the user saved: two markets, a theo source, and the effective quoting settings.

    Exactly one theo source is set: decimal odds (``odds_a``/``odds_b``, optional ``odds_draw``) or
    manual theo prices (``theo_a``/``theo_b`` as Price). ``settings`` is ``[defaults]`` with this
    match's overrides applied; ``overridden`` names the keys the match set itself (kept on save).
    """

    name: str
    ticker_a: str
    ticker_b: str
    odds_a: Decimal | None = None
    odds_b: Decimal | None = None
    odds_draw: Decimal | None = None
    theo_a: Price | None = None
    theo_b: Price | None = None
    devig: DevigMethod | None = None
    settings: Defaults = field(default_factory=Defaults)
    overridden: frozenset[str] = frozenset()
    feed: bool = False  # theo from the configured odds sources while quoting

    def to_toml(self) -> dict[str, Any]:
        """The raw ``[[matches]]`` table for saving (odds as strings, theo in cents, overrides only)."""
        table: dict[str, Any] = {"name": self.name, "ticker_a": self.ticker_a, "ticker_b": self.ticker_b}
        for key in ("odds_a", "odds_b", "odds_draw"):
            value = getattr(self, key)
            if value is not None:
                table[key] = str(value)
        for key in ("theo_a", "theo_b"):
            value = getattr(self, key)
            if value is not None:
                table[key] = _toml_number(Decimal(value) / CENT)
        if self.feed:
            table["feed"] = True
        if self.devig is not None:
            table["devig"] = self.devig.value
        for key in DEFAULT_FIELDS:
            if key in self.overridden:
                value = getattr(self.settings, key)
                table[key] = _toml_number(value) if isinstance(value, Decimal) else value
        return table


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything in settings.toml, validated. ``source`` is the file read (None: built-in defaults)."""

    environment: EnvName = EnvName.SIM
    kalshi: KalshiSettings = field(default_factory=KalshiSettings)
    odds: OddsSettings = field(default_factory=OddsSettings)
    defaults: Defaults = field(default_factory=Defaults)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    matches: tuple[SavedMatch, ...] = ()
    source: Path | None = None
    recording: RecordingSettings = field(default_factory=RecordingSettings)

    def match(self, name: str) -> SavedMatch | None:
        """The saved match called ``name`` (case-insensitive), if any."""
        wanted = name.casefold()
        return next((m for m in self.matches if m.name.casefold() == wanted), None)


# --- line index ----------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _parse_key(text: str, start: int = 0) -> tuple[list[str], int] | None:
    """Parse a (dotted, possibly quoted) TOML key at ``text[start:]``; return (parts, end) or None."""
    parts: list[str] = []
    i, n = start, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote:
                j += 2 if quote == '"' and text[j] == "\\" else 1
            if j >= n:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            match = _BARE_KEY.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, i


def _scan_value(text: str, state: str | None, depth: int) -> tuple[str | None, int]:
    """Follow strings and brackets through ``text``; return (open multi-line string quote, bracket depth).

    Lets the index skip the inside of multi-line arrays and strings, whose lines may look like keys.
    """
    i, n = 0, len(text)
    while i < n:
        if state is not None:
            end = text.find(state, i)
            if end < 0:
                return state, depth
            i = end + 3
            state = None
            continue
        ch = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            state = text[i : i + 3]
            i += 3
        elif ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
            i += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
            i += 1
        else:
            i += 1
    return state, depth


class _LineIndex:
    """Line of each table header and key, addressed like the parsed document.

    ``("kalshi",)`` is the ``[kalshi]`` header, ``("defaults", "edge_cents")`` a key, and
    ``("matches", 1, "odds_a")`` a key in the second ``[[matches]]`` table. Keys inside inline tables
    and arrays are not indexed: :meth:`line` falls back to the nearest enclosing entry.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Loc, int] = {}
        self._aot: dict[Loc, int] = {}
        table: Loc = ()
        state: str | None = None
        depth = 0
        for lineno, raw in enumerate(text.splitlines(), 1):
            if state is not None or depth > 0:
                state, depth = _scan_value(raw, state, depth)
                continue
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("[["):
                parsed = _parse_key(stripped, 2)
                if parsed and parsed[0]:
                    names = parsed[0]
                    key = (*self._resolve(names[:-1]), names[-1])
                    index = self._aot.get(key, 0)
                    self._aot[key] = index + 1
                    table = (*key, index)
                    self._lines.setdefault(table, lineno)
                    self._lines.setdefault(key, lineno)
                continue
            if stripped.startswith("["):
                parsed = _parse_key(stripped, 1)
                if parsed and parsed[0]:
                    table = self._resolve(parsed[0])
                    self._lines.setdefault(table, lineno)
                continue
            parsed = _parse_key(stripped)
            if parsed is None:
                continue
            parts, end = parsed
            if end >= len(stripped) or stripped[end] != "=":
                continue
            for k in range(1, len(parts) + 1):
                self._lines.setdefault((*table, *parts[:k]), lineno)
            state, depth = _scan_value(stripped[end + 1 :], None, 0)

    def _resolve(self, names: Sequence[str]) -> Loc:
        out: list[str | int] = []
        for name in names:
            out.append(name)
            count = self._aot.get(tuple(out))
            if count:
                out.append(count - 1)
        return tuple(out)

    def line(self, loc: Loc) -> int:
        for k in range(len(loc), 0, -1):
            found = self._lines.get(loc[:k])
            if found is not None:
                return found
        return 1


# --- validation helpers --------------------------------------------------------------------------


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


def _toml_number(value: Decimal) -> int | Decimal:
    """Write whole Decimals as TOML integers (``edge_cents = 2``), others as exact decimals."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


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


class _Checker:
    """Builds ``settings.toml:LINE: ...`` errors for locations in one document."""

    def __init__(self, name: str, index: _LineIndex, base_dir: Path) -> None:
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

_TOP_KEYS = ("environment", "kalshi", "odds", "defaults", "scanner", "keys", "matches", "recording")
_RECORDING_KEYS = ("enabled", "max_session_mb", "max_total_mb")
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
    "ticker_a",
    "ticker_b",
    "odds_a",
    "odds_b",
    "odds_draw",
    "theo_a",
    "theo_b",
    "feed",
    "devig",
    *DEFAULT_FIELDS,
)
_KEY_MATERIAL_NAMES = ("private_key", "private_key_pem", "key", "pem", "secret")


def _url(ck: _Checker, value: object, loc: Loc, schemes: tuple[str, str], suffix: str) -> str:
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


def _kalshi(ck: _Checker, raw: object) -> KalshiSettings:
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
        if _PEM_MARK in text or "PRIVATE KEY" in text:
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


def _odds(ck: _Checker, raw: object, environ: Mapping[str, str]) -> OddsSettings:
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


def _default_values(ck: _Checker, table: Mapping[str, Any], loc: Loc, base: Defaults) -> Defaults:
    """Apply the quoting knobs present in ``table`` (``[defaults]`` or one match) on top of ``base``."""
    values: dict[str, Any] = {name: getattr(base, name) for name in DEFAULT_FIELDS}
    d = Decimal
    if "edge_cents" in table:
        values["edge_cents"] = ck.decimal(
            table["edge_cents"], (*loc, "edge_cents"), low=d(0), high=d(50), places=2, unit=" cents"
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


def _scanner(ck: _Checker, raw: object) -> ScannerSettings:
    loc: Loc = ("scanner",)
    table = ck.table(raw, loc, '[scanner] with series = ["KXNBAGAME"]')
    ck.known_keys(table, loc, _SCANNER_KEYS)
    series: tuple[str, ...] = ()
    if "series" in table:
        example = 'series = ["KXNBAGAME", "KXNHLGAME"]'
        series = ck.string_list(table["series"], (*loc, "series"), _TICKER, example)
    return ScannerSettings(series)


def _recording(ck: _Checker, raw: object) -> RecordingSettings:
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
        raise ck.fail((*loc, "max_total_mb"), f"{ck.where(loc)}: max_total_mb ({total}) is smaller than "
                      f"max_session_mb ({session}); raise max_total_mb")
    return RecordingSettings(enabled, session, total)


def _keys(ck: _Checker, raw: object) -> Mapping[str, str]:
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


def _odds_value(ck: _Checker, value: object, loc: Loc) -> Decimal:
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


def _match(ck: _Checker, raw: object, index: int, defaults: Defaults) -> SavedMatch:
    loc: Loc = ("matches", index)
    table = ck.table(raw, loc, "[[matches]] with name, ticker_a, ticker_b and odds_a/odds_b")
    ck.known_keys(table, loc, _MATCH_KEYS)
    where = ck.where(loc)
    for required in ("name", "ticker_a", "ticker_b"):
        if required not in table:
            raise ck.fail(loc, f'{where} has no {required}; add {required} = "..."')
    name = ck.string(table["name"], (*loc, "name"), 'name = "Vitality vs FaZe"')
    tickers = []
    for key in ("ticker_a", "ticker_b"):
        ticker = ck.string(table[key], (*loc, key), f'{key} = "KXCS2GAME-26NOV281330VITFAZ-VIT"')
        if not _TICKER.match(ticker):
            raise ck.fail(
                (*loc, key), f'{where} {key} = "{ticker}" is not a Kalshi market ticker (upper case)'
            )
        tickers.append(ticker)
    if tickers[0] == tickers[1]:
        raise ck.fail(
            (*loc, "ticker_b"), f"{where} ticker_a and ticker_b are the same market; use one per team"
        )
    has_odds = any(k in table for k in ("odds_a", "odds_b", "odds_draw"))
    has_theo = any(k in table for k in ("theo_a", "theo_b"))
    feed = ck.boolean(table["feed"], (*loc, "feed")) if "feed" in table else False
    if has_odds and has_theo:
        raise ck.fail(loc, f"{where} sets both odds and theo; keep odds_a/odds_b or theo_a/theo_b, not both")
    odds: dict[str, Decimal | None] = {"odds_a": None, "odds_b": None, "odds_draw": None}
    theo: dict[str, Price | None] = {"theo_a": None, "theo_b": None}
    if has_odds:
        for key in ("odds_a", "odds_b"):
            if key not in table:
                raise ck.fail(loc, f'{where} needs both odds_a and odds_b; add {key} = "1.85"')
        for key in odds:
            if key in table:
                odds[key] = _odds_value(ck, table[key], (*loc, key))
    elif has_theo:
        for key in theo:
            if key not in table:
                raise ck.fail(loc, f"{where} needs both theo_a and theo_b (cents); add {key} = 50")
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
            theo[key] = price_from_cents(cents)
        total = (theo["theo_a"] or 0) + (theo["theo_b"] or 0)
        if total > 100 * CENT:
            raise ck.fail(
                (*loc, "theo_b"),
                f"{where} theo_a + theo_b = {Decimal(total) / CENT} cents is above 100; fair values of "
                "two outcomes cannot sum to more than 100 cents",
            )
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
        tickers[0],
        tickers[1],
        odds["odds_a"],
        odds["odds_b"],
        odds["odds_draw"],
        theo["theo_a"],
        theo["theo_b"],
        devig,
        settings,
        overridden,
        feed,
    )


def _validate(ck: _Checker, doc: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
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
    return Settings(environment, kalshi, odds, defaults, scanner, keys, tuple(matches), recording=recording)


# --- loading -------------------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            reason = message[: found.start()]
            raise SettingsError(
                f"{name}:{line}: TOML syntax error at column {column}: {reason}; fix that line "
                '(strings need quotes: key_id = "abc", tables look like [defaults])',
                line=line,
            ) from None
        reason = message.replace(" (at end of document)", "")
        last = max(1, len(text.splitlines()))
        raise SettingsError(
            f"{name}:{last}: TOML syntax error at the end of the file: {reason}; "
            "check for a repeated key or table, or an unclosed string or bracket",
            line=last,
        ) from None


def load_settings_text(
    text: str,
    *,
    name: str = "settings.toml",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Validate settings from TOML text.

    ``name`` prefixes error messages; a relative ``private_key_path`` is resolved against ``base_dir``.
    """
    env = os.environ if environ is None else environ
    doc = _parse_toml(text, name)
    checker = _Checker(name, _LineIndex(text), base_dir or Path.cwd())
    return _validate(checker, doc, env)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{path.name}:1: the file is not UTF-8 text; save it as UTF-8") from None
    except IsADirectoryError:
        raise SettingsError(f"{path}: is a directory; point --config at the settings.toml file") from None
    except PermissionError:
        raise SettingsError(f"{path}: permission denied; make it readable (chmod 600 {path})") from None


def load_settings(
    explicit: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load settings: ``explicit`` (``--config``), else ``$KMM_CONFIG``, else the default location.

    A missing default file gives the defaults (``Settings.source is None``); a missing named file
    raises :class:`SettingsError` telling the user how to fix it.
    """
    env = os.environ if environ is None else environ
    path, named = settings_path(explicit, env)
    if not path.exists():
        if named:
            via = "--config" if explicit is not None and str(explicit).strip() else "$KMM_CONFIG"
            raise SettingsError(
                f"{path}: settings file not found (named by {via}); check the path, or copy the example "
                "settings.toml from the kmm repository there"
            )
        return load_settings_text("", name=path.name, base_dir=path.parent, environ=env)
    text = _read_text(path)
    settings = load_settings_text(text, name=path.name, base_dir=path.resolve().parent, environ=env)
    return _with_source(settings, path)


def _with_source(settings: Settings, path: Path) -> Settings:
    return Settings(
        settings.environment,
        settings.kalshi,
        settings.odds,
        settings.defaults,
        settings.scanner,
        settings.keys,
        settings.matches,
        path,
        settings.recording,
    )


# --- saving --------------------------------------------------------------------------------------


def _contains_key_material(value: object, loc: str = "") -> str | None:
    """The location of a PEM-looking string in a raw document, if any."""
    if isinstance(value, str):
        return loc or "a value" if (_PEM_MARK in value or "PRIVATE KEY" in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _contains_key_material(item, f"{loc}.{key}" if loc else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _contains_key_material(item, f"{loc}[{i}]")
            if found:
                return found
    return None


def _write_atomic(path: Path, text: str) -> None:
    """Write via a 0600 temp file in the same directory and rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def edit_settings(
    path: Path,
    edit: Callable[[dict[str, Any]], None],
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Apply ``edit`` to the raw document in ``path`` and save it; return the validated new settings.

    Everything ``edit`` does not change is preserved (values, order, tables); comments are not
    (``tomli-w`` cannot write them), so the previous file is copied to ``<name>.bak`` first. The new
    document is validated before anything is written, and one containing key material is refused.
    A missing file is treated as empty (the first save creates it, with its parent directory).
    """
    env = os.environ if environ is None else environ
    original = _read_text(path) if path.exists() else ""
    doc = _parse_toml(original, path.name)
    updated = copy.deepcopy(doc)
    edit(updated)
    leaked = _contains_key_material(updated)
    if leaked:
        raise SettingsError(
            f"{path.name}: refusing to save: {leaked} looks like private key material; settings.toml "
            "holds only the key file's path (private_key_path)"
        )
    text = tomli_w.dumps(updated)
    base_dir = path.resolve().parent if path.parent.exists() else path.parent
    settings = load_settings_text(text, name=path.name, base_dir=base_dir, environ=env)
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        shutil.copyfile(path, backup)
        os.chmod(backup, 0o600)
    _write_atomic(path, text)
    return _with_source(settings, path)


def _to_toml_value(value: object) -> object:
    if isinstance(value, float):
        return _toml_number(Decimal(str(value)))
    if isinstance(value, Decimal):
        return _toml_number(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def set_setting(
    path: Path, dotted_key: str, value: object, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Set one value, e.g. ``set_setting(p, "defaults.edge_cents", Decimal("1.5"))``; None deletes it."""
    parts = dotted_key.split(".")
    if not all(parts):
        raise ValueError(f"bad settings key {dotted_key!r}")

    def edit(doc: dict[str, Any]) -> None:
        table = doc
        for part in parts[:-1]:
            nxt = table.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SettingsError(f"{path.name}: {part} is not a table; cannot set {dotted_key}")
            table = nxt
        if value is None:
            table.pop(parts[-1], None)
        else:
            table[parts[-1]] = _to_toml_value(value)

    return edit_settings(path, edit, environ=environ)


def _is_named(table: object, name: str) -> bool:
    return isinstance(table, dict) and str(table.get("name", "")).casefold() == name.casefold()


def save_match(path: Path, match: SavedMatch, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Add ``match`` to ``[[matches]]``, replacing a saved match of the same name (case-insensitive)."""

    def edit(doc: dict[str, Any]) -> None:
        matches = doc.setdefault("matches", [])
        table = match.to_toml()
        for i, existing in enumerate(matches):
            if _is_named(existing, match.name):
                matches[i] = table
                return
        matches.append(table)

    return edit_settings(path, edit, environ=environ)


def remove_match(path: Path, name: str, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Delete the saved match called ``name``; a name that is not saved is a :class:`SettingsError`."""

    def edit(doc: dict[str, Any]) -> None:
        matches = doc.get("matches", [])
        kept = [m for m in matches if not _is_named(m, name)]
        if len(kept) == len(matches):
            raise SettingsError(f'{path.name}: no saved match is named "{name}"')
        if kept:
            doc["matches"] = kept
        else:
            doc.pop("matches", None)

    return edit_settings(path, edit, environ=environ)


def set_key_binding(
    path: Path, action: str, key: str, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Bind ``action`` to ``key`` in ``[keys]`` (validation refuses a key already bound elsewhere)."""

    def edit(doc: dict[str, Any]) -> None:
        keys = doc.setdefault("keys", {})
        if not isinstance(keys, dict):
            raise SettingsError(f'{path.name}: keys is not a table; write [keys] with {action} = "{key}"')
        keys[action] = key

    return edit_settings(path, edit, environ=environ)
