"""Theo from sportsbooks, kept fresh: polls the configured odds sources for matches that ask for it.

A match whose theo input says ``from_feed`` gets its fair value from every configured source (The
Odds API, OddsPapi, SportsGameOdds, manual entries), combined by ``odds.consensus.theo_for_match``:
exchanges excluded, clone books counted once, de-vigged with the match's method, stale quotes
dropped. The age of the newest price used feeds the stale-theo guard; the source's commence time is
offered to the event-start guard when the exchange has no milestone.

Every shape is priced (``match_ref`` says how the sources are asked): two team markets from the
winner market; a soccer event from 1X2 (home, draw, away de-vigged together: theo for A, T and B);
one YES/NO market (a total or a spread) from the sportsbook line equal to its strike, A = over /
covers and B = under / does not cover. ``FeedTheo.theo(side)`` gives each outcome's theo.

Sources keep their own caches and quotas, so polling here is cheap; one failing source never blocks
the others, and every failure is reported once per kind rather than every poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price
from kmm_tui.domain.theo import DevigMethod, OddsError
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.model import MatchSpec, Shape
from kmm_tui.odds.consensus import DEFAULT_WEIGHTS, MatchTheo, theo_for_match
from kmm_tui.odds.errors import MatchUnconfirmed, OddsSourceError
from kmm_tui.odds.lines import LineError, line_ref
from kmm_tui.odds.matching import MatchDecision
from kmm_tui.odds.models import MatchRef, OddsSource, SourceResult
from kmm_tui.odds.sports import LINE_SERIES, line_kind_of, series_of_event, sport_for_series

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedSettings:
    max_age_ms: int = 120_000  # quotes older than this are dropped; theo older than this is stale
    refresh_ms: int = 15_000
    weights: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    aggregate: str = "weighted_mean"


@dataclass(frozen=True, slots=True)
class FeedTheo:
    """One refresh: theo per outcome, the time of the newest price used, where it came from.

    ``theo_a``/``theo_b`` are sides A and B (for a single market: YES = over / covers, NO = under / does
    not cover); ``theo_t`` is the tie of a three-way match (None otherwise).
    """

    theo_a: Price
    theo_b: Price
    priced_ms: int
    commence_ms: int | None
    summary: str  # e.g. "pinnacle, draftkings (power)"
    theo_t: Price | None = None

    def theo(self, side: Side) -> Price:
        """The theo of one outcome; asking for the tie of a two-outcome match is a bug."""
        if side is Side.T:
            if self.theo_t is None:
                raise ValueError("this match has no tie outcome")
            return self.theo_t
        return self.theo_a if side is Side.A else self.theo_b


def match_ref(
    spec: MatchSpec, event_ticker: str, title: str, markets: Mapping[str, MarketState], start_ms: int | None
) -> MatchRef:
    """How the odds sources are asked about a match of any shape (``markets`` keyed by ticker).

    Three-way: the TIE market goes along, so the books' Draw is priced with home and away. A single
    market must be a totals or spreads series; its line is the market's strike (``floor_strike``) and,
    for a spread, the team named in its ``yes_sub_title``. Raises ``LineError`` with the reason when a
    single market's line cannot be read.
    """
    a = markets[spec.ticker(Side.A)]
    if spec.shape is Shape.YES_NO:
        kind = line_kind_of(series_of_event(event_ticker))
        if kind is None:
            raise LineError(
                f"{a.ticker}: the odds feed prices a single market only for a totals or spreads series "
                f"({', '.join(LINE_SERIES)}); enter odds or a theo by hand"
            )
        line, team_a, team_b = line_ref(kind, a.strike, a.title, title)
        return MatchRef(event_ticker, title, team_a, a.ticker, team_b, a.ticker, start_ms, line=line)
    b = markets[spec.ticker(Side.B)]
    tie = spec.ticker_tie if spec.shape is Shape.THREE_WAY else None
    return MatchRef(event_ticker, title, a.title, a.ticker, b.title, b.ticker, start_ms, market_draw=tie)


@dataclass(frozen=True, slots=True)
class PairingChoice:
    """A source could not tell which of its events is this match: the user picks (or none)."""

    source: str
    decision: MatchDecision

    def describe(self, index: int) -> str:
        candidate = self.decision.candidates[index]
        book = candidate.book
        first, second = (book.side2, book.side1) if candidate.swapped else (book.side1, book.side2)
        return (
            f"{first} vs {second} ({self.source}; name scores {candidate.score_a:.2f}/"
            f"{candidate.score_b:.2f}{'; ' + candidate.time_problem if candidate.time_problem else ''})"
        )


@dataclass(frozen=True, slots=True)
class FeedFailure:
    """No theo this time; ``reason`` is for the user (the guard shows it). ``pairings`` lists sources
    that found candidate events but need the user to confirm which one is this match."""

    reason: str
    pairings: tuple[PairingChoice, ...] = ()


class TheoFeed:
    """The configured odds sources behind one call: ``await feed.theo(match_ref, method)``."""

    def __init__(
        self, sources: Sequence[OddsSource], settings: FeedSettings | None = None, *, clock: Callable[[], int]
    ) -> None:
        self.sources = tuple(sources)
        self.settings = settings or FeedSettings()
        self._clock = clock
        self.quota: dict[str, int | None] = {}  # credits left per source as last reported (None: unknown)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)

    async def theo(self, match: MatchRef, method: DevigMethod) -> FeedTheo | FeedFailure:
        if not self.sources:
            return FeedFailure("no odds source is configured (add an API key under [odds] in settings.toml)")
        outcomes = await asyncio.gather(*(self._fetch(s, match) for s in self.sources))
        results = [r for r in outcomes if isinstance(r, SourceResult)]
        for result in results:
            self.quota[result.source] = result.quota.remaining
        pairings = tuple(r for r in outcomes if isinstance(r, PairingChoice))
        problems = [r for r in outcomes if isinstance(r, str)]
        problems += [f"{p.source}: {p.decision.reason} — confirm the pairing" for p in pairings]
        if not results:
            return FeedFailure("; ".join(problems) or "no source priced this match", pairings)
        now = self._clock()
        try:
            combined: MatchTheo = theo_for_match(
                results, method, now, self.settings.max_age_ms, self.settings.weights, self.settings.aggregate
            )  # type: ignore[arg-type]
        except OddsError as error:
            return FeedFailure(str(error))
        if (combined.theo_draw is not None) != match.three_way:
            return FeedFailure(f"{match.describe()}: the books' outcomes do not fit this match's shape")
        commence = next((r.commence_ms for r in results if r.commence_ms is not None), None)
        books = ", ".join(combined.books_used)
        line = f" at the {match.line.describe()} line" if match.line is not None else ""
        return FeedTheo(
            combined.theo_a,
            combined.theo_b,
            now - combined.age_ms,
            commence,
            f"{books} ({combined.method.value}){line}",
            combined.theo_draw,
        )

    def confirm(self, choice: PairingChoice, index: int) -> None:
        """Remember the user's pairing (and the name aliases it implies) for every later fetch."""
        source = next(s for s in self.sources if s.name == choice.source)
        candidate = choice.decision.candidates[index]
        kalshi = choice.decision.kalshi
        source.matcher.confirm(
            kalshi,
            candidate.book,
            candidate.swapped,  # type: ignore[attr-defined]
            sport_for_series(series_of_event(kalshi.event_ticker)),
        )

    async def _fetch(self, source: OddsSource, match: MatchRef) -> SourceResult | PairingChoice | str:
        try:
            return await source.fetch(match)
        except MatchUnconfirmed as unconfirmed:
            if unconfirmed.decision.candidates:
                return PairingChoice(source.name, unconfirmed.decision)
            return f"{source.name}: {unconfirmed}"
        except OddsSourceError as error:
            return f"{source.name}: {error}"
        except Exception as error:  # a broken source must not take theo down with it
            log.exception("odds source %s failed", source.name)
            return f"{source.name}: unexpected error {error!r}"
