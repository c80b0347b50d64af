"""A small fake odds source served by the simulator, so odds coverage and feed-priced matches can be
seen without any odds API key.

It speaks The Odds API v4 wire format (``/v4/sports``, ``/v4/sports/{sport}/events``,
``/v4/sports/{sport}/odds`` h2h in decimal, quota headers) under :data:`PREFIX`, so kmm reads it with
its real client; only the host differs. Every event is one of the simulator's own matches, with the
same team names and start, and one bookmaker, ``simulated`` ("Simulated book (kmm sim)"): its prices
are the match's current fair values with a small margin, so a theo taken from it tracks the
simulator's fair value. Nothing here is a real bookmaker's price — the names say so everywhere.

The simulator may import only ``domain``, so the few series → sport-key pairs it serves are listed here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from kmm_tui.domain.prices import PRICE_SCALE
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
SPORTS: dict[str, tuple[str, str, str]] = {
    "KXNBAGAME": ("basketball_nba", "Basketball", "NBA (simulated)"),
    "KXNHLGAME": ("icehockey_nhl", "Ice Hockey", "NHL (simulated)"),
    "KXEPLGAME": ("soccer_epl", "Soccer", "EPL (simulated)"),
    "KXATPMATCH": ("tennis_atp_simulated_open", "Tennis", "ATP Simulated Open"),
}


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
        status, body = self.answer(path.removeprefix(PREFIX))
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + QUOTA_HEADERS})
        await send({"type": "http.response.body", "body": payload})

    def answer(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts == ["v4", "sports"]:
            return 200, self.sports()
        if len(parts) == 4 and parts[:2] == ["v4", "sports"] and parts[3] in ("events", "odds"):
            return 200, self.events(parts[2], with_odds=parts[3] == "odds")  # unknown: no events
        return 404, {"message": "not found", "error_code": "NOT_FOUND"}

    def _series(self) -> set[str]:
        return {match.spec.series for match in self.matches}

    def sports(self) -> list[dict[str, Any]]:
        present = self._series()
        return [
            {"key": key, "group": group, "title": title, "description": "simulated by kmm sim",
             "active": True, "has_outrights": False}
            for series, (key, group, title) in SPORTS.items()
            if series in present
        ]

    def events(self, sport_key: str, *, with_odds: bool) -> list[dict[str, Any]]:
        now = self.now_ms()
        found = []
        for match in self.matches:
            if SPORTS.get(match.spec.series, ("",))[0] != sport_key or match.started:
                continue
            teams = [t for t in match.spec.teams if t.code != "TIE"]
            event: dict[str, Any] = {
                "id": f"sim-{match.event_ticker}",
                "sport_key": sport_key,
                "sport_title": SPORTS[match.spec.series][2],
                "commence_time": _iso(match.start_ms),
                "home_team": teams[0].name,
                "away_team": teams[1].name,
            }
            if with_odds:
                outcomes = [
                    {"name": "Draw" if team.code == "TIE" else team.name, "price": decimal_odds(fair)}
                    for team, fair in zip(match.spec.teams, match.fair, strict=True)
                ]
                market = {"key": "h2h", "last_update": _iso(now), "outcomes": outcomes}
                event["bookmakers"] = [
                    {"key": BOOK_KEY, "title": BOOK_TITLE, "last_update": _iso(now), "markets": [market]}
                ]
            found.append(event)
        return found
