"""``POST /api/risk/reset`` and the account block of the state, against a real engine and simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx

from kmm_tui.control_api import serve_control_api
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.model import AccountLimits, MatchStatus
from kmm_tui.sim import SimServer
from tests.control_api.conftest import ApiRig
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


async def test_flow_guard_settings_and_markouts_through_the_api(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 55)
    t.compete(a, 65, side="ask")
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60), start=True))
    await eventually(lambda: t.our_price(a) is not None, what="our bid")
    changed = await http.post(
        "/api/matches/m1/settings", json={"burst_fills": 2, "line_move_mid": None, "line_move_confirm": True}
    )
    settings = changed.json()["match"]["settings"]
    assert (settings["burst_fills"], settings["line_move_mid"], settings["line_move_confirm"]) == (
        2,
        None,
        True,
    )
    assert settings["line_move_theo"] == "3"
    bad = await http.post("/api/matches/m1/settings", json={"burst_fills": -1})
    assert bad.status_code == 422 and bad.json()["field"] == "burst_fills"

    price = t.our_price(a)
    assert price is not None
    t.sim.take(a, "ask", Price(price), contracts(5), name="noise")
    await eventually(lambda: t.view().fill_markouts, what="markout noted")
    markouts = (await http.get("/api/matches/m1")).json()["match"]["markouts"]
    assert markouts["fills"] == 1 and markouts["mean_spread"] == f"{Decimal(6000 - price) / 100:.2f}"
    assert [h["horizon_ms"] for h in markouts["horizons"]] == [5_000, 60_000, 300_000]
