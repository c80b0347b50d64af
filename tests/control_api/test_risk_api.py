"""``POST /api/risk/reset`` and the account block of the state, against a real engine and simulator."""

from __future__ import annotations

from pathlib import Path

import httpx

from kmm_tui.control_api import serve_control_api
from kmm_tui.domain.prices import Money
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.model import AccountLimits, MatchStatus
from kmm_tui.sim import SimServer
from tests.engine.conftest import QUIET, Trading, connect, eventually, spec


async def test_a_breach_is_reported_and_reset_through_the_api(tmp_path: Path) -> None:
    limits = AccountLimits(max_resting_notional=Money(2_000_000))
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim, account_limits=limits)
        t = Trading(sim, engine, feed)
        a, _ = t.tickers("KXCS2GAME")
        t.compete(a, 55)
        try:
            async with (
                serve_control_api(engine, 0, tmp_path) as api,
                httpx.AsyncClient(
                    base_url=api.url, headers={"Authorization": f"Bearer {api.token}"}, timeout=10
                ) as http,
            ):
                state = (await http.get("/api/state")).json()
                assert state["account"] == {
                    "latched": None,
                    "headroom": {"loss": None, "worst-case loss": None, "exposure": None, "resting": "2.00"},
                }
                await engine.execute(cmd.AddMatch(spec(t, theo_a=60), start=True))
                await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted on the limit")
                state = (await http.get("/api/state")).json()
                assert "resting notional" in state["account"]["latched"]
                refused = await http.post("/api/matches/m1/start")
                assert refused.status_code >= 400 and "reset the account limits" in refused.json()["reason"]
                reset = (await http.post("/api/risk/reset")).json()
                assert reset["reset"] is True and "resting notional" in reset["was"]
                assert (await http.get("/api/state")).json()["account"]["latched"] is None
        finally:
            await engine.close()
        assert t.resting() == []
