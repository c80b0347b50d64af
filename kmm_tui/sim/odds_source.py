"""A small fake odds source served by the simulator, so odds coverage and feed-priced matches can be
seen without any odds API key.

It speaks The Odds API v4 wire format (``/v4/sports``, ``/v4/sports/{sport}/events``,
``/v4/sports/{sport}/odds?markets=h2h,totals,spreads`` in decimal, quota headers) under :data:`PREFIX`,
so kmm reads it with its real client; only the host differs. Every event is one game of the
simulator's matches (its game event and the totals/spreads events of the same teams and start),
with the same team names and start, and one bookmaker, ``simulated`` ("Simulated book (kmm sim)"):
its prices are the current fair values with a small margin, so a theo taken from it tracks the
simulator's fair value. Nothing here is a real bookmaker's price — the names say so everywhere.

Markets: ``h2h`` from a game (soccer adds ``"Draw"`` from its TIE market); ``totals`` ``Over``/``Under``
with ``point`` = a Kalshi strike; ``spreads`` the favourite at ``-k`` and the other team at ``+k``
(= Kalshi "favourite wins by over k"). Like a real book, totals and spreads show one main line: the
strike whose fair value is nearest 50c.

The simulator may import only ``domain``, so the few series → sport-key pairs it serves are listed here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from kmm_tui.domain.prices import PRICE_SCALE
from kmm_tui.sim.lines import GAME, SPREAD, TOTAL
from kmm_tui.sim.scenario import MatchState

PREFIX = "/odds-sim"
BOOK_KEY = "simulated"
BOOK_TITLE = "Simulated book (kmm sim)"
# The bookmaker's margin over the fair probabilities: 104% in total, like a typical two-way market.
MARGIN = Decimal("1.04")
QUOTA_HEADERS = [
    (b"x-requests-remaining", b"1000000"), (b"x-requests-used", b"0"), (b"x-requests-last", b"0")
]
# Kalshi series of the simulator's scenarios -> (The Odds API sport key, group, title).
NBA = ("basketball_nba", "Basketball", "NBA (simulated)")
NHL = ("icehockey_nhl", "Ice Hockey", "NHL (simulated)")
EPL = ("soccer_epl", "Soccer", "EPL (simulated)")
UCL = ("soccer_uefa_champs_league", "Soccer", "UEFA Champions League (simulated)")
SPORTS: dict[str, tuple[str, str, str]] = {
    "KXNBAGAME": NBA,
    "KXNBATOTAL": NBA,
    "KXNBASPREAD": NBA,
    "KXNHLGAME": NHL,
    "KXNHLTOTAL": NHL,
    "KXEPLGAME": EPL,
    "KXEPLTOTAL": EPL,
    "KXUCLGAME": UCL,
    "KXUCLTOTAL": UCL,
    "KXATPMATCH": ("tennis_atp_simulated_open", "Tennis", "ATP Simulated Open"),
}
MARKET_KEYS = ("h2h", "totals", "spreads")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_odds(fair: int) -> str:
    """Fair price (1/10000 of $1) -> decimal odds with the margin, two decimals, as a string."""
    probability = Decimal(max(fair, 1)) / PRICE_SCALE * MARGIN
    return str((1 / probability).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN).max(Decimal("1.01")))


class SimOddsSource:
    """ASGI middleware: answers :data:`PREFIX` paths from the matches, passes everything else on."""

    def __init__(self, app: ASGIApp, matches: Sequence[MatchState], now_ms: Callable[[], int]) -> None:
        self.app = app
        self.matches = matches
        self.now_ms = now_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        status, body = self.answer(path.removeprefix(PREFIX), query.get("markets", ["h2h"])[0])
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + QUOTA_HEADERS})
        await send({"type": "http.response.body", "body": payload})

    def answer(self, path: str, markets: str = "h2h") -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts == ["v4", "sports"]:
            return 200, self.sports()
        if len(parts) == 4 and parts[:2] == ["v4", "sports"] and parts[3] in ("events", "odds"):
            keys = [k.strip() for k in markets.split(",") if k.strip()]
            unknown = [k for k in keys if k not in MARKET_KEYS]
            if parts[3] == "odds" and (unknown or not keys):
                return 422, {
                    "message": f"Invalid markets {markets!r}: the simulated book offers "
                    + ", ".join(MARKET_KEYS),
                    "error_code": "INVALID_MARKET",
                }
            return 200, self.events(parts[2], with_odds=parts[3] == "odds", markets=keys)  # unknown: none
        return 404, {"message": "not found", "error_code": "NOT_FOUND"}

    def _series(self) -> set[str]:
        return {match.spec.series for match in self.matches}

    def sports(self) -> list[dict[str, Any]]:
        present = {SPORTS[s] for s in self._series() if s in SPORTS}
        return [
            {"key": key, "group": group, "title": title, "description": "simulated by kmm sim",
             "active": True, "has_outrights": False}
            for key, group, title in dict.fromkeys(SPORTS.values())
            if (key, group, title) in present
        ]

    def _games(self, sport_key: str) -> list[list[MatchState]]:
        """The not-yet-started matches of a sport grouped by game (same teams, same start), game first."""
        games: dict[tuple[tuple[str, ...], int], list[MatchState]] = {}
        for match in self.matches:
            if SPORTS.get(match.spec.series, ("",))[0] != sport_key or match.started:
                continue
            codes = tuple(t.code for t in match.spec.teams if t.code != "TIE")
            games.setdefault((codes, match.start_ms), []).append(match)
        return [sorted(group, key=lambda m: m.kind != GAME) for group in games.values()]

    def events(
        self, sport_key: str, *, with_odds: bool, markets: Sequence[str] = ("h2h",)
    ) -> list[dict[str, Any]]:
        now = _iso(self.now_ms())
        found = []
        for group in self._games(sport_key):
            first = group[0]
            teams = [t for t in first.spec.teams if t.code != "TIE"]
            event: dict[str, Any] = {
                "id": f"sim-{first.event_ticker}",
                "sport_key": sport_key,
                "sport_title": SPORTS[first.spec.series][2],
                "commence_time": _iso(first.start_ms),
                "home_team": teams[0].name,
                "away_team": teams[1].name,
            }
            if with_odds:
                offered = [m for m in (_market(match, now) for match in group) if m is not None]
                chosen = [m for m in offered if m["key"] in markets]
                event["bookmakers"] = (
                    [{"key": BOOK_KEY, "title": BOOK_TITLE, "last_update": now, "markets": chosen}]
                    if chosen else []
                )
            found.append(event)
        return found


def _market(match: MatchState, now: str) -> dict[str, Any] | None:
    """One match as a bookmaker market: h2h for a game, the main line of a total or spread."""
    if match.kind == GAME:
        outcomes = [
            {"name": "Draw" if team.code == "TIE" else team.name, "price": decimal_odds(fair)}
            for team, fair in zip(match.spec.teams, match.fair, strict=True)
        ]
        return {"key": "h2h", "last_update": now, "outcomes": outcomes}
    main = min(range(len(match.fair)), key=lambda i: (abs(2 * match.fair[i] - PRICE_SCALE), i))
    outcome, fair = match.outcomes[main], match.fair[main]
    strike = outcome.strike
    assert strike is not None
    if match.kind == TOTAL:
        outcomes = [
            {"name": "Over", "price": decimal_odds(fair), "point": _point(strike)},
            {"name": "Under", "price": decimal_odds(PRICE_SCALE - fair), "point": _point(strike)},
        ]
        return {"key": "totals", "last_update": now, "outcomes": outcomes}
    if match.kind == SPREAD:
        team = outcome.team or 0
        names = [match.spec.teams[0].name, match.spec.teams[1].name]
        outcomes = [
            {"name": names[team], "price": decimal_odds(fair), "point": _point(-strike)},
            {"name": names[1 - team], "price": decimal_odds(PRICE_SCALE - fair), "point": _point(strike)},
        ]
        return {"key": "spreads", "last_update": now, "outcomes": outcomes}
    return None


def _point(value: Decimal) -> int | float:
    """A line as The Odds API sends it: a JSON number (221.5, -4.5)."""
    return int(value) if value == value.to_integral_value() else float(value)
