"""Manual source: odds or theo typed by the user, returned in the same shape as a provider's.

For matches no provider covers (or to override a feed), the user types either decimal odds — two
(team A, team B) or three (team A, team B, draw, in the module's outcome order) — or theo in cents.
Odds are de-vigged like any book's; theo in cents is carried exactly in ``SourceResult.fixed_theo``.
A manual entry stays current until the user changes or clears it: its ``updated_ms`` is the time of
each fetch, so the consensus staleness window never silently drops what the user asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kmm_tui.domain.prices import PRICE_SCALE, Price, WireFormatError, format_cents, price_from_cents
from kmm_tui.domain.theo import BookOdds, OddsError, manual_theo, overround, parse_decimal_odds
from kmm_tui.odds.errors import NoOdds
from kmm_tui.odds.http import Clock, wall_clock_ms
from kmm_tui.odds.models import MatchRef, QuotaInfo, SourceResult

NAME = "manual"


@dataclass(frozen=True, slots=True)
class ManualEntry:
    """What the user typed for one match: odds (A, B[, draw]) or exact theo prices (A, B[, draw])."""

    odds: tuple[Decimal, ...] | None
    theo: tuple[Price, ...] | None
    entered_ms: int


def parse_manual_odds(texts: Sequence[str], outcomes: int) -> tuple[Decimal, ...]:
    """Validate typed decimal odds; the count must match the match (2, or 3 with the draw last)."""
    if len(texts) != outcomes:
        order = "team A, team B, draw" if outcomes == 3 else "team A, team B"
        raise OddsError(f"enter {outcomes} decimal odds ({order}), got {len(texts)}")
    odds = tuple(parse_decimal_odds(t) for t in texts)
    if overround(odds) < 0:
        raise OddsError(
            f"odds {' / '.join(str(o) for o in odds)} imply less than 100 % in total; check for a typo"
        )
    return odds


def parse_manual_theo(texts: Sequence[str], outcomes: int) -> tuple[Price, ...]:
    """Theo in cents: 2-way ``[A]`` or ``[A, B]`` (B defaults to 100 − A); 3-way ``[A, B, draw]``."""
    if outcomes == 2:
        if len(texts) not in (1, 2):
            raise OddsError(
                f"enter theo for team A (and optionally team B) in cents, got {len(texts)} values"
            )
        return manual_theo(texts[0], texts[1] if len(texts) == 2 else None)
    if len(texts) != 3:
        raise OddsError(f"enter theo in cents for team A, team B and the draw, got {len(texts)} values")
    prices: list[Price] = []
    for label, text in zip(("team A", "team B", "draw"), texts, strict=True):
        try:
            price = price_from_cents(text)
        except WireFormatError:
            raise OddsError(f"theo {label} {text!r} is not a price in cents (e.g. 45 or 44.5)") from None
        if not 0 < price < PRICE_SCALE:
            raise OddsError(f"theo {label} must be between 0 and 100 cents, exclusive (got {text})")
        prices.append(price)
    total = sum(prices)
    if total != PRICE_SCALE:
        raise OddsError(
            f"team A + team B + draw = {format_cents(total)}; the three outcomes must sum to exactly 100c"
        )
    return tuple(prices)


class ManualSource:
    """Holds the user's manual entries per Kalshi event; ``fetch`` returns them as a SourceResult."""

    name = NAME

    def __init__(self, clock: Clock = wall_clock_ms) -> None:
        self._clock = clock
        self._entries: dict[str, ManualEntry] = {}

    def set_odds(self, match: MatchRef, texts: Sequence[str]) -> ManualEntry:
        entry = ManualEntry(parse_manual_odds(texts, match.outcome_count), None, self._clock())
        self._entries[match.event_ticker] = entry
        return entry

    def set_theo(self, match: MatchRef, texts: Sequence[str]) -> ManualEntry:
        entry = ManualEntry(None, parse_manual_theo(texts, match.outcome_count), self._clock())
        self._entries[match.event_ticker] = entry
        return entry

    def clear(self, match: MatchRef) -> None:
        self._entries.pop(match.event_ticker, None)

    def entry(self, match: MatchRef) -> ManualEntry | None:
        return self._entries.get(match.event_ticker)

    async def fetch(self, match: MatchRef) -> SourceResult:
        entry = self._entries.get(match.event_ticker)
        if entry is None:
            raise NoOdds(NAME, f"{match.title}: no manual odds or theo entered")
        now = self._clock()
        quotes = () if entry.odds is None else (BookOdds(NAME, entry.odds, now),)
        return SourceResult(
            source=NAME,
            quotes=quotes,
            commence_ms=None,
            books=(NAME,),
            quota=QuotaInfo(),
            confidence=Decimal(1),
            fixed_theo=entry.theo,
            fetched_ms=now,
        )
