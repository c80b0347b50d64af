"""The simulator's fake odds source: odds coverage and a feed-priced match with no odds key at all.

Real parts only: the simulator over loopback serves ``/odds-sim/v4`` and kmm reads it with its real
The Odds API client (``SimulatedOdds``), through ``kmm odds coverage`` and through the engine built by
``bootstrap.open_engine``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest

from kmm_tui.bootstrap import open_engine
from kmm_tui.config import EnvName, Settings
from kmm_tui.engine.commands import AddMatch
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.environments import Environment
from kmm_tui.odds.cli import main as odds_main
from kmm_tui.sim import SimServer
from kmm_tui.sim.odds_source import decimal_odds
from tests.engine.conftest import eventually


def sim_args(tmp_path: Path, rest_url: str | None, **extra: object) -> argparse.Namespace:
    environment = Environment(EnvName.SIM, rest_url, None, None, None, is_live=False)
    return argparse.Namespace(
        environment=environment, state_dir=tmp_path, odds_command="coverage", adopt_orders=False, **extra
    )


def test_decimal_odds_carry_the_margin_over_the_fair_value() -> None:
    assert decimal_odds(5000) == "1.92"  # 1 / (0.50 * 1.04)
    assert decimal_odds(2500) == "3.85"
    assert decimal_odds(9900) == "1.01"  # never below 1.01, however sure the favourite


async def test_coverage_in_sim_shows_the_simulated_source_without_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimServer(agents=False) as sim:
        args = sim_args(tmp_path, sim.base_url, json=True)
        assert await asyncio.to_thread(odds_main, args, Settings()) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sources"][0] == {
        "name": "simulated", "configured": True,
        "note": "the simulator's fake odds (simulated prices, not a real bookmaker)",
    }
    assert [s["note"].split(":")[0] for s in report["sources"][1:]] == ["no key"] * 3
    nba = next(row for row in report["series"] if row["series"] == "KXNBAGAME")
    assert nba["source"] == "simulated" and nba["matched"] == nba["kalshi_events"] and nba["matched"] > 0


async def test_a_feed_priced_match_takes_its_theo_from_the_simulated_book(tmp_path: Path) -> None:
    async with open_engine(Settings(), sim_args(tmp_path, None)) as engine:
        markets = await engine.rest.list_markets(series_ticker="KXNBAGAME", status="open")
        a, b = sorted(m.ticker for m in markets)[:2]
        spec = MatchSpec("feed-nba", a, b, TheoInput(from_feed=True), MatchSettings())
        await engine.execute(AddMatch(spec, start=True))

        def view():  # type: ignore[no-untyped-def]
            return next(m for m in engine.snapshot().matches if m.spec.match_id == "feed-nba")

        await eventually(lambda: view().theo_a is not None, within=20, what="a theo from the feed")
        assert "simulated" in view().theo_source
        assert 9_998 <= view().theo_a + view().theo_b <= 10_000  # de-vigged, each theo floored
