"""The settings' values: errors, enumerations and the frozen dataclasses ``load_settings`` returns.

Everything else in the package produces or consumes these; they hold exact types only (``Price``,
``Count``, ``Decimal``), never floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kmm_tui.domain.prices import CENT, Count, Money, Price, parse_count, price_from_cents
from kmm_tui.domain.theo import DevigMethod

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
PEM_MARK = "-----BEGIN"


def toml_number(value: Decimal) -> int | Decimal:
    """Write whole Decimals as TOML integers (``edge_cents = 2``), others as exact decimals."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


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
    fee_aware: bool = True  # leave room for the maker fee in every ceiling
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
    """A match the user saved: its markets, a theo source, and the effective quoting settings.

    The markets make the shape (docs/shapes.md): two team markets (``ticker_a``/``ticker_b``), a soccer
    event's home, draw and away (``ticker_tie`` set), or one YES/NO market (``ticker = "X"`` in the
    file: ``ticker_a == ticker_b``). Exactly one theo source is set: decimal odds (``odds_a``/``odds_b``,
    ``odds_draw`` for the draw) or manual theo prices (``theo_a``/``theo_b``/``theo_tie`` as Price).
    ``settings`` is ``[defaults]`` with this match's overrides applied; ``overridden`` names the keys
    the match set itself (kept on save).
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
    ticker_tie: str | None = None  # a soccer event's draw (TIE) market
    theo_tie: Price | None = None

    def to_toml(self) -> dict[str, Any]:
        """The raw ``[[matches]]`` table for saving (odds as strings, theo in cents, overrides only);
        one YES/NO market is written as ``ticker = "X"``."""
        table: dict[str, Any] = {"name": self.name}
        if self.ticker_a == self.ticker_b:
            table["ticker"] = self.ticker_a
        else:
            table.update(ticker_a=self.ticker_a, ticker_b=self.ticker_b)
        if self.ticker_tie is not None:
            table["ticker_tie"] = self.ticker_tie
        for key in ("odds_a", "odds_b", "odds_draw"):
            value = getattr(self, key)
            if value is not None:
                table[key] = str(value)
        for key in ("theo_a", "theo_b", "theo_tie"):
            value = getattr(self, key)
            if value is not None:
                table[key] = toml_number(Decimal(value) / CENT)
        if self.feed:
            table["feed"] = True
        if self.devig is not None:
            table["devig"] = self.devig.value
        for key in DEFAULT_FIELDS:
            if key in self.overridden:
                value = getattr(self.settings, key)
                table[key] = toml_number(value) if isinstance(value, Decimal) else value
        return table


DEFAULT_MARKOUT_HORIZONS_S: tuple[int, ...] = (5, 60, 300)


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """``[risk]``: account-wide limits as Money (None = no limit) and the markout horizons (seconds).
    See docs/guards.md (``account_limit``) and "Markouts"."""

    max_session_loss: Money | None = None
    max_session_loss_worst_case: Money | None = None
    max_exposure: Money | None = None
    max_resting_notional: Money | None = None
    markout_horizons_s: tuple[int, ...] = DEFAULT_MARKOUT_HORIZONS_S

    @property
    def markout_horizons_ms(self) -> tuple[int, ...]:
        return tuple(s * 1000 for s in self.markout_horizons_s)


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
    risk: RiskSettings = field(default_factory=RiskSettings)

    def match(self, name: str) -> SavedMatch | None:
        """The saved match called ``name`` (case-insensitive), if any."""
        wanted = name.casefold()
        return next((m for m in self.matches if m.name.casefold() == wanted), None)
