"""Fixtures for scanner tests: the simulator's generated ``large`` scenario (600 markets, 10 series)
with its books seeded once and no scripted traders, so every scan sees the same prices."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
