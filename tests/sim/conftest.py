"""Fixtures for simulator protocol tests: a quiet simulator (no agents) and signed HTTP clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from kmm_tui.sim import SimServer
from tests.sim.simkit import Signed


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimServer]:
    async with SimServer(agents=False, state_dir=tmp_path, seed=7) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def api(sim: SimServer, http: httpx.AsyncClient) -> Signed:
    account = sim.demo_account
    return Signed(http, sim.base_url, account.key_id, account.private_key_pem)


@pytest.fixture
def cs2(sim: SimServer) -> str:
    """The VIT market of the default scenario's CS2 match."""
    return next(t for t in sim.exchange.markets if t.startswith("KXCS2GAME") and t.endswith("-VIT"))
