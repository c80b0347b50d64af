"""The scanner's typed results: one row per market, the matches they form (two-team, three-way or
YES/NO; docs/scanner.md "Matches"), the events of no supported shape, and the filters.

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


class Shape(StrEnum):
    """A match's shape; the values are ``engine.model.Shape``'s (scan may not import the engine)."""

    TEAMS = "teams"  # two markets of a mutually exclusive event, YES on each team
    THREE_WAY = "three_way"  # home, TIE and away markets of a mutually exclusive event
    YES_NO = "yes_no"  # one market of an event that is not mutually exclusive (a total or spread strike)


SHAPE_LABELS = {Shape.TEAMS: "2-way", Shape.THREE_WAY: "3-way", Shape.YES_NO: "yes/no"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outcome of a match as a bidder sees it: ``side`` is the match side (A, T or B) and the top
    of book is the YES book of ``row``, or for the NO side (``is_no``) that book flipped: the NO bid is
    100c − YES ask (same size) and the NO ask 100c − YES bid."""

    side: str  # "A", "T" or "B" (engine.model / domain.inventory sides)
    label: str  # who or what must happen: "Arsenal", "Tie"; "YES" or "NO" of a YES/NO match's market
    row: ScanRow
    is_no: bool = False

    @property
    def ticker(self) -> str:
        return self.row.ticker

    @property
    def bid(self) -> Price | None:
        if not self.is_no:
            return self.row.bid
        return None if self.row.ask is None else Price(PRICE_SCALE - self.row.ask)

    @property
    def bid_size(self) -> Count | None:
        return self.row.ask_size if self.is_no else self.row.bid_size

    @property
    def ask(self) -> Price | None:
        if not self.is_no:
            return self.row.ask
        return None if self.row.bid is None else Price(PRICE_SCALE - self.row.bid)

    @property
    def ask_size(self) -> Count | None:
        return self.row.bid_size if self.is_no else self.row.ask_size

    @property
    def spread(self) -> Price:
        """The same width as the market's (a missing side counts as the edge of the range)."""
        return self.row.spread


@dataclass(frozen=True, slots=True)
class ScanMatch:
    """A quotable match: a two-team event, a soccer event (home, tie, away) or one YES/NO market.

    ``outcomes`` are in the setup form's order: (A, B), or (A = home, T = tie, B = away), or
    (A = YES, B = NO of the same market)."""

    sport: str
    sport_key: str
    series: str
    event_ticker: str
    title: str
    start: StartTime
    shape: Shape
    outcomes: tuple[Outcome, ...]

    def outcome(self, side: str) -> Outcome:
        return next(o for o in self.outcomes if o.side == side)

    @property
    def a(self) -> ScanRow:
        return self.outcome("A").row

    @property
    def b(self) -> ScanRow:
        return self.outcome("B").row

    @property
    def tie(self) -> ScanRow | None:
        return self.outcome("T").row if self.shape is Shape.THREE_WAY else None

    @property
    def key(self) -> str:
        """Unique among a scan's matches: the market for a YES/NO match, else the event."""
        return self.a.ticker if self.shape is Shape.YES_NO else self.event_ticker

    @property
    def name(self) -> str:
        """The event title; a YES/NO match's name starts with its market's proposition (one event has
        many strikes, and a narrow column must still tell them apart)."""
        return f"{self.a.team} · {self.title}" if self.shape is Shape.YES_NO else self.title

    @property
    def tickers(self) -> tuple[str, ...]:
        """The distinct markets: (A, B), (home, TIE, away) or (the market,)."""
        return tuple(dict.fromkeys(o.ticker for o in self.outcomes))

    @property
    def form_tickers(self) -> dict[str, str]:
        """What the setup form takes: ``ticker_a``/``ticker_b`` (the same market for YES/NO), plus
        ``ticker_tie`` for a three-way match."""
        fields = {"ticker_a": self.a.ticker, "ticker_b": self.b.ticker}
        if self.tie is not None:
            fields["ticker_tie"] = self.tie.ticker
        return fields

    @property
    def widest_spread(self) -> Price:
        return max(o.spread for o in self.outcomes)

    @property
    def bid_sum(self) -> Price:
        """Σ of every outcome's best bid (no bid counts 0): below 100c, buying one of each outcome at
        the bids would lock 100c − bid_sum before fees."""
        return Price(sum(o.bid or 0 for o in self.outcomes))

    @property
    def overround(self) -> Price | None:
        """Σ of every outcome's best ask − 100c: the book's margin for a taker of every outcome (for a
        YES/NO market this is its spread). None while some outcome has no ask."""
        asks = [o.ask for o in self.outcomes]
        if any(ask is None for ask in asks):
            return None
        return Price(sum(ask for ask in asks if ask is not None) - PRICE_SCALE)

    @property
    def depth(self) -> Count | None:
        """Contracts at the thinnest best bid or ask over every outcome; None when a side is empty."""
        sizes = [s for o in self.outcomes for s in (o.bid_size, o.ask_size)]
        if any(size is None for size in sizes):
            return None
        return Count(min(size for size in sizes if size is not None))


@dataclass(frozen=True, slots=True)
class Unsupported:
    """An event the scanner lists but never offers as a match, and why (e.g. a tournament winner)."""

    sport: str
    sport_key: str
    series: str
    event_ticker: str
    title: str
    start: StartTime
    rows: tuple[ScanRow, ...]
    reason: str

    @property
    def widest_spread(self) -> Price:
        return max(r.spread for r in self.rows)


@dataclass(frozen=True, slots=True)
class ScanFilter:
    """What to keep. ``min_spread`` in Price units; ``within_ms``: starts no later than now + this."""

    mode: Mode = Mode.GAME_DAY
    min_spread: Price | None = None
    within_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Rows (filtered, ordered by start then widest spread, an event's markets together), the matches
    among them in the same order, the events of no supported shape, and what was scanned."""

    rows: tuple[ScanRow, ...]
    matches: tuple[ScanMatch, ...]
    series: tuple[str, ...]
    markets_seen: int
    now_ms: int
    filters: ScanFilter
    unsupported: tuple[Unsupported, ...] = ()
