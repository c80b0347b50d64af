"""The control API in front of a real engine trading against the simulator, all over loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kmm_tui.control_api import RunningApi, serve_control_api
from kmm_tui.sim import SimServer
from tests.engine.conftest import QUIET, Trading, connect


@dataclass
class ApiRig:
    """The simulator and engine (as ``Trading`` for exchange-side helpers) plus the API and a client."""

    t: Trading
    api: RunningApi
    http: httpx.AsyncClient
    state_dir: Path


@contextlib.asynccontextmanager
async def api_rig(scenario: Path, state_dir: Path) -> AsyncIterator[ApiRig]:
    """A simulator on ``scenario``, an engine, the API in front of it and an authorised client; at the
    end, nothing of ours left resting."""
    async with SimServer(scenario, agents=False) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        try:
            async with (
                serve_control_api(engine, 0, state_dir) as api,
                httpx.AsyncClient(
                    base_url=api.url, headers={"Authorization": f"Bearer {api.token}"}, timeout=10
                ) as http,
            ):
                yield ApiRig(t, api, http, state_dir)
        finally:
            await engine.close()
        assert t.resting() == [], "orders left resting after close"


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    async with api_rig(QUIET, tmp_path) as rig:
        yield rig
