"""``kmm run --api PORT``: the headless runner serves the control API and outlives its first match."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
from pathlib import Path

import httpx

from kmm_tui.config import EnvName, Settings
from kmm_tui.environments import Environment
from kmm_tui.headless import run_match
from kmm_tui.sim import SimServer
from tests.engine.conftest import QUIET, Trading, eventually


async def test_run_with_api_serves_commands_until_a_signal(tmp_path: Path) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        t = Trading(sim, None, None)  # type: ignore[arg-type]  # exchange-side helpers only
        a, b = t.tickers("KXCS2GAME")
        args = argparse.Namespace(
            environment=Environment(EnvName.SIM, sim.base_url, sim.ws_url, None, None, False),
            state_dir=tmp_path, ticker_a=a, ticker_b=b, odds_a=None, odds_b=None, theo_a="60", theo_b="40",
            contracts="5", edge="2", inventory_max="50", dry_run=False, api=0,
        )
        out = io.StringIO()
        run = asyncio.create_task(run_match(args, Settings(), out))
        try:
            await eventually(lambda: "control API on" in out.getvalue(), what="the API line")
            url = re.search(r"control API on (\S+)", out.getvalue()).group(1)  # type: ignore[union-attr]
            token_path = tmp_path / "api_token"
            assert str(token_path) in out.getvalue()
            headers = {"Authorization": f"Bearer {token_path.read_text().strip()}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http:
                await eventually(lambda: t.resting(a) != [], what="the run's own match quoting")
                [match] = (await http.get("/api/state")).json()["matches"]
                stopped = await http.post(f"/api/matches/{match['id']}/stop")
                assert stopped.json()["match"]["status"] == "stopped" and t.resting() == []
                await asyncio.sleep(1.5)  # the runner checks its match once a second
                assert not run.done(), "with --api the process keeps serving after its match stops"
                await http.post(f"/api/matches/{match['id']}/start")
                await eventually(lambda: t.resting(a) != [], what="restarted over the API")
            os.kill(os.getpid(), signal.SIGTERM)  # run_match owns SIGTERM while it runs
            assert await asyncio.wait_for(run, 15) == 128 + signal.SIGTERM  # interrupted, cleanly
        finally:
            if not run.done():
                run.cancel()
        assert "stopped: no orders left resting" in out.getvalue() and "session: " in out.getvalue()
        assert t.resting() == [] and not token_path.exists()
