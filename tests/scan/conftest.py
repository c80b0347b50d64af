"""Fixtures for scanner tests: the simulator's generated ``large`` scenario (600 markets, 10 series)
and a small scenario with one event of every shape, each with its books seeded once and no scripted
traders, so every scan sees the same prices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from kmm_tui.kalshi.ratelimit import RateLimiter
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.sim import SimServer


@pytest.fixture
async def large() -> AsyncIterator[SimServer]:
    async with SimServer("large", agents=False) as server:
        server.simulation.seed_books()
        yield server


@pytest.fixture
async def rest(large: SimServer) -> AsyncIterator[KalshiRest]:
    # A roomy local rate limit: these tests check results, not pacing (the bench measures that).
    async with KalshiRest(large.base_url, limiter=RateLimiter.for_tier("prestige")) as client:
        yield client


SHAPES_SCENARIO = """
[scenario]
name = "shapes"

[[series]]
ticker = "KXEPLGAME"
title = "English Premier League Game"
fee_type = "quadratic_with_maker_fees"
league = "EPL"

[[series]]
ticker = "KXNBATOTAL"
title = "Pro Basketball Total Points"
fee_type = "quadratic_with_maker_fees"
league = "NBA"

[[series]]
ticker = "KXCS2GAME"
title = "Counter-Strike 2 Game"
fee_type = "quadratic"
league = "CS2"
time_in_ticker = true

[[series]]
ticker = "KXLOLCHAMP"
title = "League of Legends Worlds Winner"
fee_type = "quadratic"
league = "LoL"

[[match]]
series = "KXEPLGAME"
start_in = "1h"
teams = [
    { code = "ARS", name = "Arsenal" }, { code = "CHE", name = "Chelsea" }, { code = "TIE", name = "Tie" }
]
fair = ["0.47", "0.27"]

[[match]]
series = "KXNBATOTAL"
start_in = "3h"
teams = [{ code = "220", name = "Over 220.5 points" }, { code = "225", name = "Over 225.5 points" }]
fair = ["0.55"]

[[match]]
series = "KXCS2GAME"
start_in = "45m"
teams = [{ code = "VIT", name = "Vitality" }, { code = "FAZ", name = "FaZe Clan" }]
fair = ["0.56"]

[[match]]
series = "KXLOLCHAMP"
start_in = "5h"
teams = [{ code = "T1", name = "T1" }, { code = "GEN", name = "Gen.G" }, { code = "BLG", name = "BLG" }]
fair = ["0.4", "0.35"]
"""


@pytest.fixture
async def shapes(tmp_path: Path) -> AsyncIterator[SimServer]:
    """A soccer event (home, TIE, away), an NBA totals event with two strikes (not mutually exclusive,
    as Kalshi lists totals), a two-team CS2 match and a three-team tournament winner (not supported),
    with seeded books and no scripted traders."""
    path = tmp_path / "shapes.toml"
    path.write_text(SHAPES_SCENARIO)
    async with SimServer(path, agents=False) as server:
        exchange = server.exchange
        for ticker, event in list(exchange.events.items()):
            if event.series_ticker == "KXNBATOTAL":
                exchange.events[ticker] = replace(
                    event, title="Boston at New York: Total Points", mutually_exclusive=False
                )
        server.simulation.seed_books()
        yield server
