"""OddsPapi v4 client: esports, smaller tennis, table tennis — winner markets from many books.

Every billable call costs one request of a small monthly allowance (odds-api.md §2), so reference data
(``/markets``, ``/bookmakers``, ``/participants``) is cached for a day, fixtures for minutes, odds
for seconds, and ``/account`` (unmetered) keeps the quota display honest. Calls are serialised per
endpoint with a minimum gap (the provider's cooldowns). "request limit exceeded" means the allowance
is gone: stop, never retry. Prices are used only from active, unsuspended books with an active market
and an active price > 1; exchanges (``kalshi``, ``polymarket``…) never feed theo, but the ``kalshi``
entry's outcome ids (``<market ticker>:yes``) cross-check which participant is which Kalshi market.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from kmm_tui.domain.theo import BookOdds, OddsError
from kmm_tui.odds.client import Link, OddsHttpClient
from kmm_tui.odds.errors import (
    MatchUnconfirmed,
    NoOdds,
    NotFound,
    QuotaExhausted,
    RateLimited,
    RequestRejected,
    SourceConfigError,
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
from kmm_tui.odds.matching import EASTERN, BookEvent, MatchDecision, parse_ticker_schedule
from kmm_tui.odds.models import EXCHANGES_EXCLUDED, MatchRef, QuotaInfo, SourceResult
from kmm_tui.odds.wire import datetime_ms, iso_to_ms, ms_to_iso, wire_odds

NAME = "oddspapi"
DEFAULT_BASE = "https://api.oddspapi.io/v4"
SOCCER = 10
_HOUR = 3_600_000
# Used only when /markets does not identify a winner market (odds-api.md §2 table).
FALLBACK_WINNER: dict[int, tuple[int, tuple[int, ...]]] = {
    10: (101, (101, 102, 103)),
    12: (121, (121, 122)),
    16: (161, (161, 162)),
    17: (171, (171, 172)),
    18: (185, (185, 186)),
}
_WINNER_TYPES = frozenset({"moneyline", "1x2"})
_FULL_MATCH = frozenset({"result", "fulltime"})
# Line markets' ``marketType`` (the exact strings are unverified, odds-api.md §2): each line is its own
# market whose ``handicap`` is the total, or participant1's handicap for a spread.
_LINE_TYPES: dict[LineKind, frozenset[str]] = {
    LineKind.TOTAL: frozenset({"totals", "total", "over_under", "overunder"}),
    LineKind.SPREAD: frozenset({"spreads", "spread", "handicap", "asian_handicap", "point_spread"}),
}
_OVER_UNDER = ({"over", "o"}, {"under", "u"})


@dataclass(frozen=True, slots=True)
class OddsPapiSettings:
    """Key, base URL, cooldowns and cache lifetimes. ``bookmakers`` (optional) limits books locally."""

    api_key: str
    base_url: str = DEFAULT_BASE
    bookmakers: tuple[str, ...] = ()
    min_gap_ms: int = 1_100
    fixtures_gap_ms: int = 2_100
    reference_ttl_ms: int = 86_400_000
    fixtures_ttl_ms: int = 600_000
    odds_ttl_ms: int = 20_000
    account_refresh_ms: int = 300_000
    min_remaining: int = 5
    quota_probe_ms: int = 3 * _HOUR
    down_ms: int = 60_000
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True, slots=True)
class WinnerMarket:
    """A sport's match-winner market: ``outcome_ids`` ordered participant1, [draw,] participant2.

    A totals/spreads line is read through the same shape: ``outcome_ids`` ordered over, under (totals)
    or participant1, participant2 (spreads), with ``handicap`` the line."""

    market_id: int
    outcome_ids: tuple[int, ...]
    source: str  # "markets" (looked up) or "fallback" (odds-api.md table)
    handicap: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fixture:
    fixture_id: str
    sport_id: int
    tournament_id: int | None
    participant1_id: str
    participant2_id: str
    participant1_name: str | None
    participant2_name: str | None
    start_ms: int
    status_id: int


def _nested_error(body: Any) -> tuple[str, str | None, Mapping[str, Any]]:
    """(message, code, error-object) from either error shape (flat current / nested legacy)."""
    if not isinstance(body, dict):
        return "", None, {}
    inner = body.get("error")
    if isinstance(inner, dict):
        text = " ".join(str(inner.get(k, "")) for k in ("message", "details"))
        return text.strip(), inner.get("code"), inner
    code = body.get("code")
    return str(body.get("message", "")), str(code) if code is not None else None, body


def select_winner_market(markets: Any, sport_id: int) -> WinnerMarket:
    """Pick a sport's full-match winner market from ``/markets``; fall back to the table; else refuse."""
    want = 3 if sport_id == SOCCER else 2
    found: list[WinnerMarket] = []
    for m in markets if isinstance(markets, list) else ():
        try:
            if int(m.get("sportId", -1)) != sport_id:
                continue
            outcomes = m.get("outcomes") or []
            if (
                str(m.get("marketType", "")).casefold() in _WINNER_TYPES
                and str(m.get("period", "")).casefold() in _FULL_MATCH
                and Decimal(str(m.get("handicap", 0) or 0)) == 0
                and not m.get("playerProp", False)
                and len(outcomes) == want
            ):
                names = {str(o.get("outcomeName", "")).upper(): int(o["outcomeId"]) for o in outcomes}
                if want == 3 and {"1", "X", "2"} <= names.keys():
                    ids = (names["1"], names["X"], names["2"])
                elif want == 2 and {"1", "2"} <= names.keys():
                    ids = (names["1"], names["2"])
                else:
                    ids = tuple(sorted(int(o["outcomeId"]) for o in outcomes))
                found.append(WinnerMarket(int(m["marketId"]), ids, "markets"))
        except (TypeError, ValueError, KeyError, ArithmeticError):
            continue
    fallback = FALLBACK_WINNER.get(sport_id)
    if len(found) == 1:
        return found[0]
    if fallback is not None and any(w.market_id == fallback[0] for w in found):
        return next(w for w in found if w.market_id == fallback[0])
    if found:
        raise NotFound(
            NAME,
            f"sport {sport_id} has several winner-like markets {[w.market_id for w in found]}; "
            "refusing to guess — use manual theo for this sport",
        )
    if fallback is not None:
        return WinnerMarket(fallback[0], fallback[1], "fallback")
    raise NotFound(
        NAME,
        f"no match-winner market known for sport {sport_id} (none in /markets, none in the fallback "
        "table); use manual theo for this sport",
    )


def line_markets(markets: Any, sport_id: int, kind: LineKind) -> tuple[WinnerMarket, ...]:
    """Every full-match totals (or spreads) line ``/markets`` lists for a sport, one market per line."""
    found: list[WinnerMarket] = []
    for m in markets if isinstance(markets, list) else ():
        try:
            if (
                int(m.get("sportId", -1)) != sport_id
                or str(m.get("marketType", "")).casefold() not in _LINE_TYPES[kind]
                or str(m.get("period", "")).casefold() not in _FULL_MATCH
                or m.get("playerProp", False)
            ):
                continue
            outcomes = {str(o.get("outcomeName", "")).casefold(): int(o["outcomeId"]) for o in m["outcomes"]}
            if kind is LineKind.TOTAL:
                over = next((i for n, i in outcomes.items() if n in _OVER_UNDER[0]), None)
                under = next((i for n, i in outcomes.items() if n in _OVER_UNDER[1]), None)
                ids = (over, under)
            else:
                ids = (outcomes.get("1"), outcomes.get("2"))
            first, second = ids
            if len(outcomes) != 2 or first is None or second is None:
                continue
            handicap = Decimal(str(m.get("handicap")))
            found.append(WinnerMarket(int(m["marketId"]), (first, second), "markets", handicap))
        except (TypeError, ValueError, KeyError, ArithmeticError):
            continue
    return tuple(found)


def line_quotes(
    fixture_odds: Mapping[str, Any],
    lines: tuple[WinnerMarket, ...],
    line: LineRef,
    a_is_participant1: bool,
    families: Mapping[str, str],
    allowed: tuple[str, ...] = (),
) -> tuple[tuple[BookOdds, ...], tuple[tuple[str, str], ...]]:
    """(YES, NO) prices from the books' market for Kalshi's exact line; refusals name both numbers.

    Totals: the market whose handicap is the strike, (over, under). Spreads: participant1's handicap is
    −strike when the Kalshi team is participant1 (YES = outcome 1), +strike when it is participant2
    (YES = outcome 2). When no book prices that market, every line the books do offer is named.
    """
    if line.kind is LineKind.TOTAL:
        wanted, order = line.strike, (0, 1)
    else:
        wanted = line.book_point if a_is_participant1 else -line.book_point
        order = (0, 1) if a_is_participant1 else (1, 0)
    exact = next((m for m in lines if m.handicap == wanted), None)
    quotes: tuple[BookOdds, ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    if exact is not None:
        quotes, excluded = winner_quotes(fixture_odds, exact, order, families, allowed)
    if quotes:
        return quotes, excluded
    return (), _offered_lines(fixture_odds, lines, line, a_is_participant1, allowed) or excluded


def _offered_lines(
    fixture_odds: Mapping[str, Any],
    lines: tuple[WinnerMarket, ...],
    line: LineRef,
    a_is_participant1: bool,
    allowed: tuple[str, ...],
) -> tuple[tuple[str, str], ...]:
    """Each usable book's other lines as refusals naming both numbers (``221.5 ≠ Kalshi strike 220.5``)."""
    refusals: list[tuple[str, str]] = []
    for slug, entry in (fixture_odds.get("bookmakerOdds") or {}).items():
        if slug in EXCHANGES_EXCLUDED or (allowed and slug not in allowed) or not isinstance(entry, dict):
            continue
        offered = entry.get("markets") or {}
        for market in lines:
            if not (offered.get(str(market.market_id)) or {}).get("marketActive", False):
                continue
            point = market.handicap
            if line.kind is LineKind.SPREAD and not a_is_participant1:
                point = -point  # participant2's (the Kalshi team's) handicap
            refusals.append((slug, mismatch(line.kind, line.team, point, line)))
    return tuple(refusals)


def parse_fixture(item: Mapping[str, Any]) -> Fixture:
    tournament = item.get("tournamentId")
    return Fixture(
        fixture_id=str(item["fixtureId"]),
        sport_id=int(item["sportId"]),
        tournament_id=int(tournament) if tournament is not None else None,
        participant1_id=str(item["participant1Id"]),
        participant2_id=str(item["participant2Id"]),
        participant1_name=item.get("participant1Name"),
        participant2_name=item.get("participant2Name"),
        start_ms=iso_to_ms(item["startTime"]),
        status_id=int(item.get("statusId", 0)),
    )


def parse_participants(body: Any) -> dict[str, str]:
    """``{"900101": "Team Vitality"}`` or ``[{"participantId":…, "participantName":…}]`` → id → name."""
    if isinstance(body, dict):
        return {str(k): str(v) for k, v in body.items() if isinstance(v, str)}
    if isinstance(body, list):
        return {
            str(p["participantId"]): str(p["participantName"])
            for p in body
            if isinstance(p, dict) and "participantId" in p and "participantName" in p
        }
    raise ValueError("participants: expected an object or a list")


def clone_families(body: Any) -> dict[str, str]:
    """``/bookmakers`` → slug → family root (``ps3838`` → ``pinnacle``); roots map to themselves."""
    families: dict[str, str] = {}
    for b in body if isinstance(body, list) else ():
        if isinstance(b, dict) and "slug" in b:
            families[str(b["slug"])] = str(b.get("cloneOf") or b["slug"])
    return families


def kalshi_mapping(fixture_odds: Mapping[str, Any], winner: WinnerMarket) -> dict[str, int]:
    """From the ``kalshi`` book entry: Kalshi market ticker → index in ``winner.outcome_ids``."""
    entry = (fixture_odds.get("bookmakerOdds") or {}).get("kalshi")
    if not isinstance(entry, dict):
        return {}
    market = (entry.get("markets") or {}).get(str(winner.market_id)) or {}
    out: dict[str, int] = {}
    for index, outcome_id in enumerate(winner.outcome_ids):
        player = (((market.get("outcomes") or {}).get(str(outcome_id)) or {}).get("players") or {}).get("0")
        ident = str((player or {}).get("bookmakerOutcomeId") or "")
        ticker, _, side = ident.rpartition(":")
        if ticker and side.casefold() == "yes":
            out[ticker] = index
    return out


def winner_quotes(
    fixture_odds: Mapping[str, Any],
    winner: WinnerMarket,
    order: tuple[int, ...],
    families: Mapping[str, str],
    allowed: tuple[str, ...] = (),
) -> tuple[tuple[BookOdds, ...], tuple[tuple[str, str], ...]]:
    """Usable winner prices per book in our outcome order.

    ``order[i]`` is the index into ``winner.outcome_ids`` for our outcome i (A, B[, draw]). One book per
    clone family survives (the family root if present, else the freshest); the rest are excluded.
    """
    books = fixture_odds.get("bookmakerOdds") or {}
    usable: list[BookOdds] = []
    excluded: list[tuple[str, str]] = []
    for slug, entry in books.items():
        if slug in EXCHANGES_EXCLUDED:
            excluded.append((slug, "exchange: never an input to theo"))
            continue
        if allowed and slug not in allowed:
            continue
        if not entry.get("bookmakerIsActive", False) or entry.get("suspended", True):
            excluded.append((slug, "book inactive or suspended"))
            continue
        market = (entry.get("markets") or {}).get(str(winner.market_id))
        if not market or not market.get("marketActive", False):
            excluded.append((slug, f"market {winner.market_id} missing or inactive"))
            continue
        prices: list[Decimal] = []
        changed: list[int] = []
        problem = None
        for index in order:
            outcome_id = winner.outcome_ids[index]
            outcome = (market.get("outcomes") or {}).get(str(outcome_id)) or {}
            player = (outcome.get("players") or {}).get("0")
            if not player or not player.get("active", False):
                problem = f"outcome {outcome_id} missing or inactive"
                break
            try:
                prices.append(wire_odds(player.get("price")))
                changed.append(iso_to_ms(str(player.get("changedAt"))))
            except (OddsError, ValueError) as exc:
                problem = f"outcome {outcome_id}: {exc}"
                break
        if problem is not None:
            excluded.append((slug, problem))
            continue
        usable.append(BookOdds(slug, tuple(prices), min(changed)))
    chosen: dict[str, BookOdds] = {}
    for quote in usable:
        root = families.get(quote.book, quote.book)
        current = chosen.get(root)
        if (
            current is None
            or quote.book == root
            or (current.book != root and quote.updated_ms > current.updated_ms)
        ):
            if current is not None:
                excluded.append((current.book, f"clone of {root}: counted once"))
            chosen[root] = quote
        else:
            excluded.append((quote.book, f"clone of {root}: counted once"))
    return tuple(chosen.values()), tuple(excluded)


def quota_from_account(body: Any, now_ms: int) -> QuotaInfo:
    """``/account`` → quota, reading the likely key names leniently (the shape is unverified)."""
    data = body
    for wrapper in ("data", "account", "usage", "plan"):
        if (
            isinstance(data, dict)
            and isinstance(data.get(wrapper), dict)
            and not any(k in data for k in ("requestsRemaining", "remaining", "requestsUsed"))
        ):
            data = data[wrapper]
    if not isinstance(data, dict):
        return QuotaInfo(updated_ms=now_ms)

    def first(*keys: str, up: bool = False) -> int | None:
        for key in keys:
            if key in data:
                value = lenient_int(data[key], round_up=up)
                if value is not None:
                    return value
        return None

    remaining = first("requestsRemaining", "remainingRequests", "remaining", "requests_remaining")
    used = first("requestsUsed", "usedRequests", "used", "requests_used", up=True)
    limit = first("requestLimit", "requestsLimit", "limit", "monthlyLimit")
    if remaining is None and limit is not None and used is not None:
        remaining = max(0, limit - used)
    return QuotaInfo(remaining=remaining, used=used, last_cost=None, updated_ms=now_ms)


class OddsPapi(OddsHttpClient[OddsPapiSettings]):
    """Async client and :class:`~kmm_tui.odds.models.OddsSource` for OddsPapi v4."""

    name = NAME
    key_setting = "oddspapi_key"
    key_variable = "KMM_ODDSPAPI_KEY"

    _account_checked_ms: int | None = None

    @classmethod
    def link(cls, settings: OddsPapiSettings) -> Link:
        return Link(settings.base_url, settings.odds_ttl_ms, settings.min_remaining)

    # --- raw calls ------------------------------------------------------------------------------

    def _classify(self, response: RawResponse, endpoint: str) -> Any:
        status, body = response.status, response.body
        if status == 200:
            return body
        now = self._clock()
        message, code, error = _nested_error(body)
        if "request limit exceeded" in message.casefold():
            until = now + self.settings.quota_probe_ms
            reason = "request allowance used up for this billing period; theo from this source is stale"
            self.quota.disable(until, reason, quota=True)
            self.quota.record(QuotaInfo(remaining=0, updated_ms=now))
            raise QuotaExhausted(NAME, reason, until)
        if status == 401 or code in ("missing_api_key", "invalid_api_key"):
            raise self.key_rejected(code or "HTTP 401")
        if status == 403:
            raise SourceConfigError(
                NAME, f"{endpoint} not allowed for this key ({code or 'HTTP 403'}); check the plan"
            )
        if status == 429:
            delay = (
                retry_after_ms(response.headers.get("retry-after"))
                or retry_after_ms(error.get("retryAfterSec"))
                or lenient_int(error.get("retryMs"), round_up=True)
                or 1000
            )
            gap = self._gap(endpoint)
            self._gate.push_back(endpoint, now + delay, gap)
            raise Retry(RateLimited(NAME, f"{endpoint} rate limited ({code or 'HTTP 429'})", delay), delay)
        if status == 404:
            raise NotFound(NAME, f"{endpoint}: not found")
        if 400 <= status < 500:
            details = body.get("details") if isinstance(body, dict) else None
            extra = f" {details}" if isinstance(details, list) else ""
            raise RequestRejected(
                NAME,
                f"{endpoint} rejected ({code or f'HTTP {status}'}){extra} — a kmm bug, please report it",
                code,
            )
        raise Retry(SourceDown(NAME, f"{endpoint}: server error HTTP {status}"))

    def _gap(self, endpoint: str) -> int:
        return self.settings.fixtures_gap_ms if endpoint == "/fixtures" else self.settings.min_gap_ms

    async def _get(self, endpoint: str, params: dict[str, str], *, ttl_ms: int, billable: bool = True) -> Any:
        gap = self._gap(endpoint)

        async def send() -> Any:
            body = await self._request(
                endpoint,
                {**params, "apiKey": self.settings.api_key},
                lambda r: self._classify(r, endpoint),
                slot=lambda: self._gate.slot(endpoint, gap),
            )
            if billable and self.quota.quota.remaining is not None:
                self._count_one_request()
            return body

        return await self._cached_get(endpoint, params, send, paid=billable, ttl_ms=ttl_ms)

    def _count_one_request(self) -> None:
        """Between ``/account`` reads, each billable call is one request off the allowance."""
        q = self.quota.quota
        self.quota.record(
            QuotaInfo(
                remaining=max(0, q.remaining - 1) if q.remaining is not None else None,
                used=q.used + 1 if q.used is not None else None,
                last_cost=1,
                updated_ms=self._clock(),
            )
        )

    async def account(self) -> QuotaInfo:
        """``/account`` (unmetered, works with the quota gone): refresh and return the quota."""
        now = self._clock()
        if self.quota.fatal is not None:
            raise SourceConfigError(NAME, self.quota.fatal)
        body = await self._http.request(
            "/account",
            {"apiKey": self.settings.api_key},
            lambda r: self._classify(r, "/account"),
            slot=lambda: self._gate.slot("/account", self.settings.min_gap_ms),
        )
        quota = quota_from_account(body, now)
        self.quota.record(quota)
        self._account_checked_ms = now
        return self.quota.quota

    async def _maybe_refresh_account(self) -> None:
        now = self._clock()
        last = self._account_checked_ms
        if last is None or now - last >= self.settings.account_refresh_ms:
            await self.account()

    async def _markets(self) -> Any:
        return await self._get("/markets", {"language": "en"}, ttl_ms=self.settings.reference_ttl_ms)

    async def winner_market(self, sport_id: int) -> WinnerMarket:
        return select_winner_market(await self._markets(), sport_id)

    async def line_markets(self, sport_id: int, kind: LineKind) -> tuple[WinnerMarket, ...]:
        """The sport's full-match totals/spreads lines from ``/markets`` (reference data, cached a day)."""
        return line_markets(await self._markets(), sport_id, kind)

    async def clone_families(self) -> dict[str, str]:
        return clone_families(await self._get("/bookmakers", {}, ttl_ms=self.settings.reference_ttl_ms))

    async def participants(self, sport_id: int) -> dict[str, str]:
        body = await self._get(
            "/participants", {"sportId": str(sport_id)}, ttl_ms=self.settings.reference_ttl_ms
        )
        try:
            return parse_participants(body)
        except (ValueError, KeyError) as exc:
            raise SourceDown(NAME, f"unreadable /participants: {exc}") from None

    async def fixtures(self, sport_id: int, from_ms: int, to_ms: int) -> tuple[Fixture, ...]:
        """``/fixtures?sportId&from&to`` (window must be < 48 h), not-finished fixtures only."""
        if not 0 < to_ms - from_ms < 48 * _HOUR:
            raise ValueError("OddsPapi fixtures window must be between 0 and 48 hours")
        body = await self._get(
            "/fixtures",
            {"sportId": str(sport_id), "from": ms_to_iso(from_ms), "to": ms_to_iso(to_ms)},
            ttl_ms=self.settings.fixtures_ttl_ms,
        )
        try:
            parsed = tuple(parse_fixture(item) for item in body)
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceDown(NAME, f"unreadable /fixtures: {exc}") from None
        return tuple(f for f in parsed if f.status_id in (0, 1))

    async def odds(self, fixture_id: str) -> Mapping[str, Any]:
        body = await self._get("/odds", {"fixtureId": fixture_id}, ttl_ms=self.settings.odds_ttl_ms)
        if not isinstance(body, dict):
            raise SourceDown(NAME, "/odds returned something other than an object")
        return body

    # --- OddsSource -----------------------------------------------------------------------------

    def _window(self, match: MatchRef) -> tuple[int, int]:
        start = match.start_ms
        if start is None:
            schedule = parse_ticker_schedule(match.event_ticker)
            if schedule is None:
                raise NotFound(NAME, f"{match.event_ticker}: no start time known; set it by hand")
            start = schedule.start_ms()
            if start is None:  # date only: cover the whole Eastern day
                day = schedule.eastern_date
                midnight = datetime_ms(datetime(day.year, day.month, day.day, tzinfo=EASTERN))
                return midnight - 3 * _HOUR, midnight + 27 * _HOUR
        return start - 12 * _HOUR, start + 12 * _HOUR

    @staticmethod
    def _winner_order(
        match: MatchRef, decision: MatchDecision, fixture_odds: Mapping[str, Any], winner: WinnerMarket
    ) -> tuple[int, ...]:
        """Indices into the winner's outcomes in (A, B[, draw]) order, once the ``kalshi`` entry's
        mapping (if any) agrees with the names."""
        assert decision.chosen is not None
        p1, p2 = 0, len(winner.outcome_ids) - 1
        a_index, b_index = (p2, p1) if decision.chosen.swapped else (p1, p2)
        mapped = kalshi_mapping(fixture_odds, winner)
        disagrees = mapped.get(match.market_a, a_index) != a_index or (
            mapped.get(match.market_b, b_index) != b_index
        )
        if disagrees:
            raise MatchUnconfirmed(
                NAME,
                f"{match.title}: OddsPapi's Kalshi mapping disagrees with the team names; confirm by hand",
                decision,
            )
        return (a_index, b_index, 1) if match.three_way else (a_index, b_index)

    async def fetch(self, match: MatchRef) -> SourceResult:
        """Fixtures in the start window → name/time match → ``/odds`` → winner prices in (A, B[, draw])."""
        spec = match.sport
        if spec.oddspapi_sport_id is None:
            raise NotFound(NAME, f"{spec.title} is not covered by OddsPapi; use The Odds API or manual theo")
        sport_id = spec.oddspapi_sport_id
        await self._maybe_refresh_account()
        winner: WinnerMarket | None = None
        lines: tuple[WinnerMarket, ...] = ()
        if match.line is None:
            winner = await self.winner_market(sport_id)
            if (len(winner.outcome_ids) == 3) != match.three_way:
                raise NotFound(
                    NAME, f"{match.title}: winner market {winner.market_id} has the wrong outcome count"
                )
        else:
            lines = await self.line_markets(sport_id, match.line.kind)
            if not lines:
                raise NotFound(
                    NAME, f"{match.describe()}: OddsPapi lists no full-match {match.line.kind} markets for "
                    f"{spec.title}; use The Odds API or manual theo"
                )
        from_ms, to_ms = self._window(match)
        fixtures = await self.fixtures(sport_id, from_ms, to_ms)
        names: dict[str, str] = {}
        if any(f.participant1_name is None or f.participant2_name is None for f in fixtures):
            names = await self.participants(sport_id)
        books: list[BookEvent] = []
        for f in fixtures:
            n1 = f.participant1_name or names.get(f.participant1_id)
            n2 = f.participant2_name or names.get(f.participant2_id)
            if n1 and n2:
                books.append(BookEvent(NAME, f.fixture_id, n1, n2, f.start_ms))
        decision = self.matcher.decide(match.kalshi_event(), books, spec)
        if not decision.matched or decision.chosen is None:
            raise MatchUnconfirmed(NAME, f"{match.title}: {decision.reason}", decision)
        chosen = decision.chosen
        fixture_odds = await self.odds(chosen.book.id)
        allowed = self.settings.bookmakers
        if winner is not None:
            order = self._winner_order(match, decision, fixture_odds, winner)
            families = await self.clone_families()
            quotes, excluded = winner_quotes(fixture_odds, winner, order, families, allowed)
            if not quotes:
                raise NoOdds(NAME, f"{match.title}: no active book prices the winner market")
        else:
            assert match.line is not None
            families = await self.clone_families()
            a_first = not chosen.swapped
            quotes, excluded = line_quotes(fixture_odds, lines, match.line, a_first, families, allowed)
            if not quotes:
                raise NoOdds(NAME, f"{match.describe()}: {no_book_has_line(excluded, match.line)}")
        commence = chosen.book.start_ms
        if isinstance(fixture_odds.get("startTime"), str):
            commence = iso_to_ms(fixture_odds["startTime"])
        return SourceResult(
            source=NAME,
            quotes=quotes,
            commence_ms=commence,
            books=tuple(q.book for q in quotes),
            quota=self.quota.quota,
            confidence=decision.confidence,
            book_event_id=chosen.book.id,
            families=tuple(sorted(families.items())),
            excluded=excluded,
            fetched_ms=self._clock(),
        )
