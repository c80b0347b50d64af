"""The Odds API v4 client: sports, free ``/events`` discovery, paid ``/odds`` h2h in decimal.

Credits are the constraint (odds-api.md §1): ``/sports`` and ``/events`` are free and used to find the
event first; ``/odds`` (markets × regions credits) is called only for a matched event's sport and
cached for ``odds_ttl_ms`` so every match of that league shares one call. Quota headers are read
from every response; a configurable floor of remaining credits stops paid calls. The key is a query
parameter, so it is redacted from any text that leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kmm_tui.domain.theo import BookOdds, OddsError
from kmm_tui.odds.client import Link, OddsHttpClient
from kmm_tui.odds.errors import (
    MatchUnconfirmed,
    NoOdds,
    NotFound,
    OddsSourceError,
    QuotaExhausted,
    RateLimited,
    RequestRejected,
    SourceDown,
)
from kmm_tui.odds.http import (
    HttpSettings,
    RawResponse,
    Retry,
    lenient_int,
    retry_after_ms,
)
from kmm_tui.odds.lines import LineKind, LineRef, mismatch, no_book_has_line
from kmm_tui.odds.matching import BookEvent, Side
from kmm_tui.odds.models import DRAW, EXCHANGES_EXCLUDED, SIDE_A, SIDE_B, MatchRef, QuotaInfo, SourceResult
from kmm_tui.odds.sports import SportSpec
from kmm_tui.odds.wire import iso_to_ms, wire_odds

NAME = "theoddsapi"
DEFAULT_HOST = "https://api.the-odds-api.com"
_KEY_CODES = frozenset({"MISSING_KEY", "INVALID_KEY", "DEACTIVATED_KEY"})
_NOT_FOUND_CODES = frozenset({"UNKNOWN_SPORT", "EVENT_NOT_FOUND"})
_DRAW_NAMES = frozenset({"draw", "tie"})
# The Odds API market asked for a Kalshi total / spread: each costs regions credits per /odds call.
LINE_MARKETS: dict[LineKind, str] = {LineKind.TOTAL: "totals", LineKind.SPREAD: "spreads"}


@dataclass(frozen=True, slots=True)
class TheOddsApiSettings:
    """Key, host and polling policy. ``bookmakers`` (if any) overrides ``regions`` (10 books = 1 region)."""

    api_key: str
    host: str = DEFAULT_HOST
    regions: tuple[str, ...] = ("us", "eu")
    bookmakers: tuple[str, ...] = ()
    odds_ttl_ms: int = 60_000
    events_ttl_ms: int = 300_000
    sports_ttl_ms: int = 86_400_000
    min_remaining: int = 25
    quota_probe_ms: int = 3 * 3_600_000  # after OUT_OF_USAGE_CREDITS: try again at most this often
    down_ms: int = 60_000  # after 5xx/timeouts outlast the retries
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True, slots=True)
class OddsApiSport:
    key: str
    group: str
    title: str
    active: bool
    has_outrights: bool


@dataclass(frozen=True, slots=True)
class OddsApiLine:
    """One bookmaker's ``totals`` or ``spreads`` market: (outcome name, price, point) per outcome."""

    market: str
    last_update_ms: int
    outcomes: tuple[tuple[str, Any, Any], ...]


@dataclass(frozen=True, slots=True)
class OddsApiBook:
    """One bookmaker: its ``h2h`` prices (outcome name → decimal price; empty when the book has no
    h2h in this response) and its totals/spreads lines. Lay markets are never read."""

    key: str
    title: str
    last_update_ms: int
    prices: tuple[tuple[str, Any], ...]
    lines: tuple[OddsApiLine, ...] = ()


@dataclass(frozen=True, slots=True)
class OddsApiEvent:
    id: str
    sport_key: str
    commence_ms: int
    home_team: str
    away_team: str
    books: tuple[OddsApiBook, ...] = ()

    def book_event(self) -> BookEvent:
        return BookEvent(NAME, self.id, self.home_team, self.away_team, self.commence_ms)


def quota_from_headers(headers: Mapping[str, str], now_ms: int) -> QuotaInfo:
    """``x-requests-remaining/used/last``, leniently; missing → None."""
    return QuotaInfo(
        remaining=lenient_int(headers.get("x-requests-remaining")),
        used=lenient_int(headers.get("x-requests-used"), round_up=True),
        last_cost=lenient_int(headers.get("x-requests-last"), round_up=True),
        updated_ms=now_ms,
    )


def _parse_sport(item: Mapping[str, Any]) -> OddsApiSport:
    return OddsApiSport(
        key=str(item["key"]),
        group=str(item.get("group", "")),
        title=str(item.get("title", "")),
        active=bool(item.get("active", False)),
        has_outrights=bool(item.get("has_outrights", False)),
    )


def _parse_book(item: Mapping[str, Any]) -> OddsApiBook:
    """A bookmaker's h2h prices and totals/spreads lines (``h2h_lay`` and other markets are skipped)."""
    prices: tuple[tuple[str, Any], ...] = ()
    stamp = item.get("last_update")
    lines: list[OddsApiLine] = []
    for market in item.get("markets") or ():
        key = market.get("key")
        market_stamp = market.get("last_update") or item.get("last_update")
        if key == "h2h":
            stamp = market_stamp
            prices = tuple((str(o.get("name", "")), o.get("price")) for o in market.get("outcomes") or ())
        elif key in LINE_MARKETS.values():
            outcomes = tuple(
                (str(o.get("name", "")), o.get("price"), o.get("point")) for o in market.get("outcomes") or ()
            )
            lines.append(OddsApiLine(str(key), iso_to_ms(market_stamp), outcomes))
    return OddsApiBook(
        str(item["key"]), str(item.get("title", item["key"])), iso_to_ms(stamp), prices, tuple(lines)
    )


def parse_events(body: Any) -> tuple[OddsApiEvent, ...]:
    """``/events`` or ``/odds`` array → events (books parsed only where present)."""
    if not isinstance(body, list):
        raise ValueError(f"expected a JSON array of events, got {type(body).__name__}")
    events = []
    for item in body:
        books = tuple(_parse_book(x) for x in item.get("bookmakers") or ())
        events.append(
            OddsApiEvent(
                id=str(item["id"]),
                sport_key=str(item.get("sport_key", "")),
                commence_ms=iso_to_ms(item["commence_time"]),
                home_team=str(item["home_team"]),
                away_team=str(item["away_team"]),
                books=books,
            )
        )
    return tuple(events)


def h2h_quotes(
    event: OddsApiEvent, a_side: Side, three_way: bool
) -> tuple[tuple[BookOdds, ...], tuple[tuple[str, str], ...]]:
    """Book prices in (A, B[, draw]) order; A is ``side1`` (home) unless ``a_side`` is SIDE2.

    Outcomes are matched by name against ``home_team``/``away_team`` (never by position). Books that
    lack an outcome, carry an extra one, or post an invalid price are excluded with the reason.
    """
    home_idx, away_idx = (SIDE_A, SIDE_B) if a_side is Side.SIDE1 else (SIDE_B, SIDE_A)
    width = 3 if three_way else 2
    quotes: list[BookOdds] = []
    excluded: list[tuple[str, str]] = []
    for book in event.books:
        if book.key in EXCHANGES_EXCLUDED:
            excluded.append((book.key, "exchange we trade on or that mirrors Kalshi"))
            continue
        if not book.prices:
            excluded.append((book.key, "no h2h (winner) market"))
            continue
        slots: list[Decimal | None] = [None] * width
        problem = None
        for name, raw in book.prices:
            if name == event.home_team:
                index = home_idx
            elif name == event.away_team:
                index = away_idx
            elif name.casefold() in _DRAW_NAMES and three_way:
                index = DRAW
            else:
                problem = f"unexpected outcome {name!r}"
                break
            try:
                slots[index] = wire_odds(raw)
            except OddsError as exc:
                problem = f"bad price for {name!r}: {exc}"
                break
        if problem is None and any(s is None for s in slots):
            problem = "missing an outcome" + (" (no Draw price)" if three_way else "")
        if problem is not None:
            excluded.append((book.key, problem))
            continue
        quotes.append(BookOdds(book.key, tuple(s for s in slots if s is not None), book.last_update_ms))
    return tuple(quotes), tuple(excluded)


def _point(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, Decimal | int | str):
        return None
    try:
        return Decimal(str(raw))
    except ArithmeticError:
        return None


def line_quotes(
    event: OddsApiEvent, a_side: Side, line: LineRef
) -> tuple[tuple[BookOdds, ...], tuple[tuple[str, str], ...]]:
    """Book prices in (YES, NO) order — over/under for a total, covers/not for a spread — from each
    book's ``totals``/``spreads`` line, used only where its ``point`` equals Kalshi's strike.

    For a spread, YES is the Kalshi team (side A: ``side1`` = home unless ``a_side`` is SIDE2) at point
    −strike and NO the other team at +strike. Books with another number are excluded with a reason
    naming both numbers (``sportsbook total 221.5 ≠ Kalshi strike 220.5``).
    """
    key = LINE_MARKETS[line.kind]
    if line.kind is LineKind.TOTAL:
        names = ("over", "under")
    else:
        home_first = a_side is Side.SIDE1
        names = (event.home_team, event.away_team) if home_first else (event.away_team, event.home_team)
    quotes: list[BookOdds] = []
    excluded: list[tuple[str, str]] = []
    for book in event.books:
        if book.key in EXCHANGES_EXCLUDED:
            excluded.append((book.key, "exchange we trade on or that mirrors Kalshi"))
            continue
        market = next((m for m in book.lines if m.market == key), None)
        if market is None:
            excluded.append((book.key, f"no {key} market"))
            continue
        found: dict[int, tuple[Any, Decimal | None]] = {}
        problem = None
        for name, price, point in market.outcomes:
            wanted = name.casefold() if line.kind is LineKind.TOTAL else name
            if wanted not in names:
                problem = f"unexpected outcome {name!r}"
                break
            found[names.index(wanted)] = (price, _point(point))
        if problem is None and len(found) != 2:
            problem = "missing an outcome"
        if problem is None:
            yes_point, no_point = found[0][1], found[1][1]
            expected = (line.book_point, line.strike)
            if (yes_point, no_point) != expected:
                shown = yes_point if yes_point is not None else no_point
                problem = f"{key} without a point"
                if shown is not None:
                    problem = mismatch(line.kind, names[0], shown, line)
        if problem is None:
            try:
                prices = (wire_odds(found[0][0]), wire_odds(found[1][0]))
                quotes.append(BookOdds(book.key, prices, market.last_update_ms))
            except OddsError as exc:
                problem = f"bad price: {exc}"
        if problem is not None:
            excluded.append((book.key, problem))
    return tuple(quotes), tuple(excluded)


class TheOddsApi(OddsHttpClient[TheOddsApiSettings]):
    """Async client and :class:`~kmm_tui.odds.models.OddsSource` for The Odds API v4."""

    name = NAME
    key_setting = "the_odds_api_key"
    key_variable = "KMM_ODDS_API_KEY"

    @classmethod
    def link(cls, settings: TheOddsApiSettings) -> Link:
        return Link(settings.host, settings.odds_ttl_ms, settings.min_remaining)

    # --- raw calls ------------------------------------------------------------------------------

    def _classify(self, response: RawResponse) -> Any:
        now = self._clock()
        quota = quota_from_headers(response.headers, now)
        self.quota.record(quota)
        status, body = response.status, response.body
        if status == 200:
            return body
        code = body.get("error_code") if isinstance(body, dict) else None
        code = str(code) if code is not None else None
        if status == 401 and (code == "OUT_OF_USAGE_CREDITS" or (code is None and quota.remaining == 0)):
            until = now + self.settings.quota_probe_ms
            reason = "out of usage credits until the monthly reset; theo from this source is stale"
            self.quota.disable(until, reason, quota=True)
            raise QuotaExhausted(NAME, reason, until)
        if status == 401 or code in _KEY_CODES:
            raise self.key_rejected(code or "HTTP 401")
        if status == 429:
            delay = retry_after_ms(response.headers.get("retry-after"))
            raise Retry(RateLimited(NAME, f"rate limited ({code or 'HTTP 429'})", delay or 1000), delay)
        if code in _NOT_FOUND_CODES or status == 404:
            raise NotFound(NAME, f"{code or 'HTTP 404'}: skipping this sport/event")
        if 400 <= status < 500:
            raise RequestRejected(
                NAME, f"request rejected ({code or f'HTTP {status}'}) — a kmm bug, please report it", code
            )
        raise Retry(SourceDown(NAME, f"server error HTTP {status}"))

    async def _get(self, path: str, params: dict[str, str], *, paid: bool, ttl_ms: int) -> Any:
        keyed = {**params, "apiKey": self.settings.api_key}
        return await self._cached_get(
            path, params, lambda: self._request(path, keyed, self._classify), paid=paid, ttl_ms=ttl_ms
        )

    async def sports(self, *, include_inactive: bool = False) -> tuple[OddsApiSport, ...]:
        """``GET /v4/sports`` (free), cached for a day."""
        params = {"all": "true"} if include_inactive else {}
        body = await self._get("/v4/sports", params, paid=False, ttl_ms=self.settings.sports_ttl_ms)
        if not isinstance(body, list):
            raise SourceDown(NAME, "/v4/sports returned something other than a list")
        return tuple(_parse_sport(item) for item in body)

    async def events(self, sport_key: str) -> tuple[OddsApiEvent, ...]:
        """``GET /v4/sports/{sport}/events`` (free): upcoming and live events without odds."""
        body = await self._get(
            f"/v4/sports/{sport_key}/events",
            {"dateFormat": "iso"},
            paid=False,
            ttl_ms=self.settings.events_ttl_ms,
        )
        return self._parse(body, sport_key)

    async def odds(self, sport_key: str, market: str = "h2h") -> tuple[OddsApiEvent, ...]:
        """``GET /v4/sports/{sport}/odds`` for one market (``h2h``, ``totals`` or ``spreads``) in decimal.

        Costs one credit per region per call (cached ``odds_ttl_ms``): a league's totals are asked for
        only while a totals match of that league asks, so h2h-only use costs what it always did.
        """
        params = {"markets": market, "oddsFormat": "decimal", "dateFormat": "iso"}
        if self.settings.bookmakers:
            params["bookmakers"] = ",".join(self.settings.bookmakers)
        else:
            params["regions"] = ",".join(self.settings.regions)
        body = await self._get(
            f"/v4/sports/{sport_key}/odds", params, paid=True, ttl_ms=self.settings.odds_ttl_ms
        )
        return self._parse(body, sport_key)

    @staticmethod
    def _parse(body: Any, sport_key: str) -> tuple[OddsApiEvent, ...]:
        try:
            return parse_events(body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SourceDown(NAME, f"unreadable response for {sport_key}: {exc}") from None

    async def sport_keys(self, spec: SportSpec) -> tuple[str, ...]:
        """The Odds API keys for a Kalshi series; tennis keys are the active per-tournament ones."""
        if spec.theoddsapi_keys:
            return spec.theoddsapi_keys
        if spec.theoddsapi_prefix is None:
            return ()
        return tuple(
            s.key for s in await self.sports() if s.active and s.key.startswith(spec.theoddsapi_prefix)
        )

    # --- OddsSource -----------------------------------------------------------------------------

    async def fetch(self, match: MatchRef) -> SourceResult:
        """Find the match among free ``/events``, then price it from the (cached) sport ``/odds``."""
        spec = match.sport
        keys = await self.sport_keys(spec)
        if not keys:
            raise NotFound(NAME, f"no The Odds API league for {spec.title}; use OddsPapi or manual theo")
        found: list[OddsApiEvent] = []
        for key in keys:
            try:
                found.extend(await self.events(key))
            except NotFound:
                continue
        decision = self.matcher.decide(match.kalshi_event(), [e.book_event() for e in found], spec)
        if not decision.matched or decision.chosen is None:
            raise MatchUnconfirmed(NAME, f"{match.title}: {decision.reason}", decision)
        chosen = next(e for e in found if e.id == decision.chosen.book.id)
        market = "h2h" if match.line is None else LINE_MARKETS[match.line.kind]
        priced = next((e for e in await self.odds(chosen.sport_key, market) if e.id == chosen.id), None)
        if priced is None:
            raise NoOdds(NAME, f"{match.describe()}: no odds listed yet for this event")
        a_side = Side.SIDE2 if decision.chosen.swapped else Side.SIDE1
        if match.line is None:
            quotes, excluded = h2h_quotes(priced, a_side, match.three_way)
        else:
            quotes, excluded = line_quotes(priced, a_side, match.line)
        if not quotes and match.line is not None:
            raise NoOdds(NAME, f"{match.describe()}: {no_book_has_line(excluded, match.line)}")
        if not quotes:
            raise NoOdds(NAME, f"{match.title}: no bookmaker offers a usable winner price")
        return SourceResult(
            source=self.name,
            quotes=quotes,
            commence_ms=priced.commence_ms,
            books=tuple(q.book for q in quotes),
            quota=self.quota.quota,
            confidence=decision.confidence,
            book_event_id=priced.id,
            excluded=excluded,
            fetched_ms=self._clock(),
        )


__all__ = ["NAME", "OddsApiEvent", "OddsApiSport", "OddsSourceError", "TheOddsApi", "TheOddsApiSettings"]
