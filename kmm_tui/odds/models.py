"""The odds-source interface: what identifies a match, and what a source returns for it.

Outcome order (used by every ``BookOdds.odds`` tuple in a :class:`SourceResult`, by ``consensus``
and by ``fixed_theo``): index ``SIDE_A`` = Kalshi ``MatchRef.team_a``, ``SIDE_B`` = ``team_b``, and,
for three-way (soccer) matches only, ``DRAW`` last. Two-way and three-way results therefore share the
team indices; a source maps the provider's names/ids onto this order through ``matching.py`` and
never by the provider's position (home/away order differs between books). A single YES/NO market
(a total or a spread, ``MatchRef.line``) has two outcomes too: ``SIDE_A`` = YES (over / covers),
``SIDE_B`` = NO (under / does not cover), priced from the book's line equal to Kalshi's strike.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from kmm_tui.domain.prices import Price
from kmm_tui.domain.theo import BookOdds
from kmm_tui.odds.lines import LineRef
from kmm_tui.odds.matching import KalshiEvent, KalshiOutcome
from kmm_tui.odds.sports import SportSpec, series_of_event, sport_for_series

SIDE_A = 0
SIDE_B = 1
DRAW = 2

# Prediction markets: never an input to theo (we trade on Kalshi; the others mirror it).
EXCHANGES_EXCLUDED = frozenset({"kalshi", "polymarket", "polymarket.us", "polymarket_us"})


@dataclass(frozen=True, slots=True)
class MatchRef:
    """A Kalshi match as the odds layer sees it.

    ``team_a``/``team_b`` are the markets' ``yes_sub_title`` labels (with tickers ``market_a``/
    ``market_b``); ``market_draw`` is the ``TIE`` market of a soccer match. ``start_ms`` is the
    scheduled start (milestone) when known; otherwise the date/HHMM in the event ticker is used.

    A single YES/NO market (total or spread) has ``line`` set, ``market_a == market_b`` (the one
    market) and the event title's two teams as ``team_a``/``team_b`` (for a spread, the team YES is on
    first), so the same matcher finds the game at the book.
    """

    event_ticker: str
    title: str
    team_a: str
    market_a: str
    team_b: str
    market_b: str
    start_ms: int | None = None
    market_draw: str | None = None
    line: LineRef | None = None

    @property
    def series(self) -> str:
        return series_of_event(self.event_ticker)

    @property
    def sport(self) -> SportSpec:
        return sport_for_series(self.series)

    @property
    def three_way(self) -> bool:
        return self.market_draw is not None

    @property
    def outcome_count(self) -> int:
        return 3 if self.three_way else 2

    def describe(self) -> str:
        """How the match reads in messages: its title, plus the line for a total or spread."""
        return self.title if self.line is None else f"{self.title} ({self.line.describe()})"

    def kalshi_event(self) -> KalshiEvent:
        outcomes = [KalshiOutcome(self.market_a, self.team_a), KalshiOutcome(self.market_b, self.team_b)]
        if self.market_draw is not None:
            outcomes.append(KalshiOutcome(self.market_draw, "Tie"))
        return KalshiEvent(self.event_ticker, self.title, tuple(outcomes), self.start_ms)


@dataclass(frozen=True, slots=True)
class QuotaInfo:
    """Provider credits as last reported; None = unknown (header missing or not reported)."""

    remaining: int | None = None
    used: int | None = None
    last_cost: int | None = None
    updated_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SourceResult:
    """One source's current prices for one match, in the module's outcome order (A, B[, draw]).

    ``families`` maps a book to its clone-family root (``ps3838`` → ``pinnacle``) so consensus counts
    a family once; ``excluded`` lists books seen but never used (exchanges, suspended, stale …) with
    the reason. ``fixed_theo`` is set only by the manual source when the user typed theo in cents;
    then ``quotes`` is empty. ``confidence`` is the match confidence (1 for user-confirmed/manual).
    """

    source: str
    quotes: tuple[BookOdds, ...]
    commence_ms: int | None
    books: tuple[str, ...]
    quota: QuotaInfo
    confidence: Decimal
    book_event_id: str | None = None
    families: tuple[tuple[str, str], ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    fixed_theo: tuple[Price, ...] | None = None
    fetched_ms: int = 0

    def family(self, book: str) -> str:
        for member, root in self.families:
            if member == book:
                return root
        return book


@runtime_checkable
class OddsSource(Protocol):
    """Anything that can price a Kalshi match from outside odds."""

    name: str

    async def fetch(self, match: MatchRef) -> SourceResult: ...
