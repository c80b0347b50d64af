"""SportsGameOdds v2 client (optional source) for NBA / NHL / NCAAB full-game moneylines.

Odds arrive as American strings per bookmaker (``byBookmaker.{book}.odds``) under the oddIDs
``points-home-game-ml-home`` / ``points-away-game-ml-away``; they are converted to decimal exactly by
``domain.theo.american_to_decimal``. The key goes in the ``x-api-key`` header. Team names and the
start time (``teams.*.names.long``, ``status.startsAt``) are unverified in the docs, so a missing one
skips the event rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kmm_tui.domain.theo import BookOdds, OddsError, american_to_decimal
from kmm_tui.odds.client import Link, OddsHttpClient
from kmm_tui.odds.errors import (
    MatchUnconfirmed,
    NoOdds,
    NotFound,
    RateLimited,
    RequestRejected,
    SourceDown,
)
from kmm_tui.odds.http import (
    HttpSettings,
    RawResponse,
    Retry,
    retry_after_ms,
)
from kmm_tui.odds.matching import BookEvent
from kmm_tui.odds.models import EXCHANGES_EXCLUDED, MatchRef, SourceResult
from kmm_tui.odds.wire import iso_to_ms

NAME = "sportsgameodds"
DEFAULT_BASE = "https://api.sportsgameodds.com/v2"
HOME_ML = "points-home-game-ml-home"
AWAY_ML = "points-away-game-ml-away"


@dataclass(frozen=True, slots=True)
class SportsGameOddsSettings:
    api_key: str
    base_url: str = DEFAULT_BASE
    ttl_ms: int = 60_000
    max_pages: int = 5
    down_ms: int = 60_000
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True, slots=True)
class SgoEvent:
    """One event with its two moneyline sides: ``{book: (american odds, available, updated_ms)}``."""

    event_id: str
    league: str
    home: str
    away: str
    start_ms: int
    home_ml: Mapping[str, tuple[str, bool, int]]
    away_ml: Mapping[str, tuple[str, bool, int]]

    def book_event(self) -> BookEvent:
        return BookEvent(NAME, self.event_id, self.home, self.away, self.start_ms)


def _by_book(odd: Any) -> dict[str, tuple[str, bool, int]]:
    out: dict[str, tuple[str, bool, int]] = {}
    for book, entry in ((odd or {}).get("byBookmaker") or {}).items():
        try:
            out[str(book)] = (
                str(entry["odds"]),
                bool(entry.get("available", False)),
                iso_to_ms(str(entry["lastUpdatedAt"])),
            )
        except (KeyError, TypeError, ValueError):
            continue
    return out


def parse_events(body: Any) -> tuple[tuple[SgoEvent, ...], str | None]:
    """Envelope ``{success, data, nextCursor}`` → (events we can use, next cursor)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValueError("expected {success, data: [...]} from /events")
    events: list[SgoEvent] = []
    for item in body["data"]:
        try:
            status = item.get("status") or {}
            if status.get("completed") or status.get("cancelled"):
                continue
            teams = item["teams"]
            odds = item.get("odds") or {}
            events.append(
                SgoEvent(
                    event_id=str(item["eventID"]),
                    league=str(item.get("leagueID", "")),
                    home=str(teams["home"]["names"]["long"]),
                    away=str(teams["away"]["names"]["long"]),
                    start_ms=iso_to_ms(str(status["startsAt"])),
                    home_ml=_by_book(odds.get(HOME_ML)),
                    away_ml=_by_book(odds.get(AWAY_ML)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # unverified fields missing: skip the event, never guess names or times
    cursor = body.get("nextCursor")
    return tuple(events), str(cursor) if cursor else None


def moneyline_quotes(
    event: SgoEvent, a_is_home: bool
) -> tuple[tuple[BookOdds, ...], tuple[tuple[str, str], ...]]:
    """Per book: decimal (A, B) from both sides' American odds; unavailable/missing sides excluded."""
    quotes: list[BookOdds] = []
    excluded: list[tuple[str, str]] = []
    for book in sorted(set(event.home_ml) | set(event.away_ml)):
        if book in EXCHANGES_EXCLUDED:
            excluded.append((book, "exchange: never an input to theo"))
            continue
        home, away = event.home_ml.get(book), event.away_ml.get(book)
        if home is None or away is None:
            excluded.append((book, "only one side priced"))
            continue
        if not (home[1] and away[1]):
            excluded.append((book, "price not available"))
            continue
        try:
            home_dec, away_dec = american_to_decimal(home[0]), american_to_decimal(away[0])
        except OddsError as exc:
            excluded.append((book, str(exc)))
            continue
        pair = (home_dec, away_dec) if a_is_home else (away_dec, home_dec)
        quotes.append(BookOdds(book, pair, min(home[2], away[2])))
    return tuple(quotes), tuple(excluded)


class SportsGameOdds(OddsHttpClient[SportsGameOddsSettings]):
    """Async client and :class:`~kmm_tui.odds.models.OddsSource` for SportsGameOdds v2."""

    name = NAME
    key_setting = "sportsgameodds_key"
    key_variable = "KMM_SPORTSGAMEODDS_KEY"

    @classmethod
    def link(cls, settings: SportsGameOddsSettings) -> Link:
        return Link(settings.base_url, settings.ttl_ms, headers={"x-api-key": settings.api_key})

    def _classify(self, response: RawResponse) -> Any:
        status, body = response.status, response.body
        message = str(body.get("error", "")) if isinstance(body, dict) else ""
        if status == 200:
            if isinstance(body, dict) and body.get("success") is False:
                raise RequestRejected(NAME, f"request refused: {message or 'success=false'}")
            return body
        if status in (401, 403):
            raise self.key_rejected(f"HTTP {status}")
        if status == 429:
            delay = retry_after_ms(response.headers.get("retry-after"))
            raise Retry(RateLimited(NAME, "rate limited (HTTP 429)", delay or 1000), delay)
        if status == 404:
            raise NotFound(NAME, "league or event not found")
        if 400 <= status < 500:
            raise RequestRejected(
                NAME, f"request rejected (HTTP {status}: {message}) — a kmm bug, please report it"
            )
        raise Retry(SourceDown(NAME, f"server error HTTP {status}"))

    async def events(self, league: str) -> tuple[SgoEvent, ...]:
        """``GET /events?leagueID=…&oddsAvailable=true``, following ``nextCursor`` up to ``max_pages``."""

        async def send() -> tuple[SgoEvent, ...]:
            found: list[SgoEvent] = []
            cursor: str | None = None
            for _ in range(self.settings.max_pages):
                params = {"leagueID": league, "oddsAvailable": "true"}
                if cursor:
                    params["cursor"] = cursor
                body = await self._request("/events", params, self._classify)
                try:
                    page, cursor = parse_events(body)
                except ValueError as exc:
                    raise SourceDown(NAME, f"unreadable /events: {exc}") from None
                found.extend(page)
                if cursor is None:
                    break
            return tuple(found)

        return tuple(
            await self._cached_get(
                "/events", {"leagueID": league}, send, paid=True, ttl_ms=self.settings.ttl_ms
            )
        )

    async def fetch(self, match: MatchRef) -> SourceResult:
        spec = match.sport
        if spec.sgo_league is None or match.three_way:
            raise NotFound(NAME, f"{spec.title} is not covered by SportsGameOdds in kmm (NBA/NHL/NCAAB only)")
        if match.line is not None:
            raise NotFound(NAME, f"{match.describe()}: kmm reads only moneylines from SportsGameOdds")
        found = await self.events(spec.sgo_league)
        decision = self.matcher.decide(match.kalshi_event(), [e.book_event() for e in found], spec)
        if not decision.matched or decision.chosen is None:
            raise MatchUnconfirmed(NAME, f"{match.title}: {decision.reason}", decision)
        event = next(e for e in found if e.event_id == decision.chosen.book.id)
        quotes, excluded = moneyline_quotes(event, a_is_home=not decision.chosen.swapped)
        if not quotes:
            raise NoOdds(NAME, f"{match.title}: no bookmaker offers both moneyline sides")
        return SourceResult(
            source=NAME,
            quotes=quotes,
            commence_ms=event.start_ms,
            books=tuple(q.book for q in quotes),
            quota=self.quota.quota,
            confidence=decision.confidence,
            book_event_id=event.event_id,
            excluded=excluded,
            fetched_ms=self._clock(),
        )
