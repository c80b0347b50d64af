"""The scanner's typed results: one row per market, one match per two-team event, and the filters.

These are what both front-ends render: ``kmm scan`` prints them (table or JSON) and the TUI's Scanner
mode shows them. All prices are :class:`~kmm_tui.domain.prices.Price` and sizes ``Count`` (see
docs/CONVENTIONS.md); times are Unix ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kmm_tui.domain.prices import PRICE_SCALE, Count, Price, TickGrid


class Mode(StrEnum):
    """``game-day``: not yet started and starting within the next 24 hours; ``all``: every open market."""

    GAME_DAY = "game-day"
    ALL = "all"


GAME_DAY_WINDOW_MS = 24 * 3_600_000


class StartSource(StrEnum):
    """Where a scheduled start came from, best first. Only ``milestone`` is Kalshi's own schedule."""

    MILESTONE = "milestone"  # the milestone's start_date
    TICKER_TIME = "ticker"  # date + HHMM in the event ticker, read as US Eastern: a labelled guess
    TICKER_DATE = "ticker-date"  # only the US-Eastern date is in the ticker (NBA, NHL, tennis)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class StartTime:
    """A scheduled start. ``ms`` is None when only the date (or nothing) is known."""

    ms: int | None
    source: StartSource
    eastern_date: date | None = None

    @property
    def is_guess(self) -> bool:
        return self.source is not StartSource.MILESTONE


UNKNOWN_START = StartTime(None, StartSource.UNKNOWN)


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One open market with its top of book. ``bid``/``ask`` None = no bid / no ask on that side."""

    sport: str  # sport label ("NBA")
    sport_key: str  # --sport key ("nba")
    series: str
    event_ticker: str
    event_title: str
    ticker: str
    team: str  # yes_sub_title: who YES is on
    bid: Price | None
    bid_size: Count | None
    ask: Price | None
    ask_size: Count | None
    volume: Count
    open_interest: Count
    start: StartTime
    is_tie: bool = False
    grid: TickGrid = field(default_factory=TickGrid.linear_cent)  # the market's price_ranges

    @property
    def spread(self) -> Price:
        """Ask − bid; a missing bid counts as 0 and a missing ask as $1 (how the wire encodes them), so an
        empty book is 100c wide: the widest, most open market."""
        ask = PRICE_SCALE if self.ask is None else self.ask
        bid = 0 if self.bid is None else self.bid
        return Price(ask - bid)

    @property
    def start_ms(self) -> int | None:
        return self.start.ms


@dataclass(frozen=True, slots=True)
class ScanMatch:
    """A two-team event: the A/B team markets to turn into a match setup, and the TIE market (soccer)."""

    sport: str
    sport_key: str
    series: str
    event_ticker: str
    title: str
    start: StartTime
    a: ScanRow
    b: ScanRow
    tie: ScanRow | None = None

    @property
    def tickers(self) -> tuple[str, str]:
        """``(ticker_a, ticker_b)``: what ``kmm run --ticker-a/--ticker-b`` and the match form take."""
        return self.a.ticker, self.b.ticker

    @property
    def outcomes(self) -> int:
        """2, or 3 with a TIE market (odds/theo then need a draw too)."""
        return 2 if self.tie is None else 3

    @property
    def widest_spread(self) -> Price:
        return max(self.a.spread, self.b.spread)


@dataclass(frozen=True, slots=True)
class ScanFilter:
    """What to keep. ``min_spread`` in Price units; ``within_ms``: starts no later than now + this."""

    mode: Mode = Mode.GAME_DAY
    min_spread: Price | None = None
    within_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Rows (filtered, ordered by start then widest spread, an event's markets together), the matches
    among them, and what was scanned."""

    rows: tuple[ScanRow, ...]
    matches: tuple[ScanMatch, ...]
    series: tuple[str, ...]
    markets_seen: int
    now_ms: int
    filters: ScanFilter
