"""Scenarios and agents: loading, ticker anatomy, a living market, scheduled starts, the big generator."""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path

import pytest

from kmm_tui.domain.prices import contracts
from kmm_tui.sim import SimServer, generate_large, load_scenario
from kmm_tui.sim.exchange import Exchange, OrderRequest
from kmm_tui.sim.scenario import ScenarioError, build, event_code, parse_duration_ms, parse_scenario
from tests.sim.simkit import FakeClock


def test_event_code_uses_us_eastern_start() -> None:
    start = 1_795_890_600_000  # 2026-11-28T18:30:00Z = 13:30 EST
    assert event_code(start, True) == "26NOV281330"
    assert event_code(start, False) == "26NOV28"
    assert event_code(1_795_925_000_000, False) == "26NOV28"  # 04:03Z on the 29th is still the 28th in NY


def test_durations() -> None:
    assert parse_duration_ms("45m") == 2_700_000
    assert parse_duration_ms("1h30m") == 5_400_000
    assert parse_duration_ms("-10m") == -600_000
    with pytest.raises(ScenarioError):
        parse_duration_ms("soon")


def test_default_scenario_builds_realistic_markets() -> None:
    spec = load_scenario("default")
    ex = Exchange(FakeClock(1_795_881_900_000))
    matches = build(spec, ex, 1_795_881_900_000, random.Random(0))
    assert 6 <= len(matches) <= 16
    tickers = list(ex.markets)
    assert any(re.fullmatch(r"KXCS2GAME-26NOV28\d{4}VITFAZ-VIT", t) for t in tickers)
    assert any(re.fullmatch(r"KXNBAGAME-26NOV2[89]BOSNYK-BOS", t) for t in tickers)
    tennis = next(m for m in ex.markets.values() if m.ticker.startswith("KXATPMATCH"))
    assert tennis.exchange_index == 3 and len(tennis.grid.bands) == 3
    assert any(t.startswith("KXEPLGAME") and t.endswith("-TIE") for t in tickers)
    for match in matches:
        milestone = ex.milestones[match.milestone_id]
        if match.kind == "game":
            assert sum(match.fair) == 10_000
            assert milestone.event_tickers[0] == match.event_ticker  # the game is the primary event
        else:  # a total or spread of a game: one more related event of the game's milestone
            assert milestone.event_tickers[0] != match.event_ticker
            assert match.event_ticker in milestone.event_tickers
    assert {s.fee_type for s in ex.series.values()} == {"quadratic", "quadratic_with_maker_fees"}
    started = [m for m in matches if m.started]
    assert started and all(ex.milestones[m.milestone_id].status == "inprogress" for m in started)


def test_scenario_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario named"):
        load_scenario("nope")
    bad = {
        "series": [{"ticker": "X", "title": "X", "fee_type": "quadratic"}],
        "match": [
            {
                "series": "X",
                "start_in": "1h",
                "teams": [{"code": "A", "name": "A"}, {"code": "B", "name": "B"}],
                "fair": ["0.7", "0.7"],
            }
        ],
    }
    with pytest.raises(ScenarioError, match="summing to 1"):
        parse_scenario(bad)


def test_large_scenario_has_hundreds_of_markets() -> None:
    spec = generate_large()
    ex = Exchange(FakeClock())
    build(spec, ex, FakeClock().now, random.Random(1))
    assert len(ex.markets) >= 500
    assert len({m.event_ticker.split("-")[0] for m in ex.markets.values()}) >= 8


async def test_sixty_simulated_seconds_of_a_living_market_run_fast() -> None:
    async with SimServer(seed=3, time_scale=1.0) as sim:
        ex = sim.exchange
        user = sim.demo_account.user_id
        match = next(m for m in sim.matches if m.event_ticker.startswith("KXNBAGAME"))
        # Rest bids on BOTH teams at the top of their books: takers should hit each of them.
        for ticker in match.tickers:
            bid, _ = ex.top_of_book(ticker)
            assert bid is not None
            ex.create_order(user, OrderRequest(ticker, "bid", bid[0], contracts(3)))
        trades_before = len(ex.trades)
        start = time.monotonic()
        sim.faults.advance(60)
        assert time.monotonic() - start < 5
        assert len(ex.trades) - trades_before > 20
        for ticker in ex.markets:
            bid, ask = ex.top_of_book(ticker)
            assert bid is None or ask is None or bid[0] < ask[0], ticker
        filled = {f.ticker for f in ex.accounts[user].fills}
        assert set(match.tickers) <= filled


async def test_time_acceleration_and_scheduled_start_pause() -> None:
    async with SimServer(seed=5, time_scale=60.0) as sim:
        lol = next(m for m in sim.matches if m.event_ticker.startswith("KXLOLGAME"))
        milestone = sim.exchange.milestones[lol.milestone_id]
        assert milestone.status == "scheduled"
        sim.faults.advance((lol.start_ms - sim.clock.now_ms()) / 1000 + 2)
        assert milestone.status == "inprogress"
        assert all(sim.exchange.markets[t].status == "inactive" for t in lol.tickers)
        before = sim.clock.now_ms()
        await_real = 0.0
        while sim.clock.now_ms() - before < 40_000 and await_real < 3:
            await asyncio.sleep(0.1)
            await_real += 0.1
        assert all(sim.exchange.markets[t].status == "active" for t in lol.tickers)


async def test_set_fair_moves_the_quotes() -> None:
    async with SimServer(seed=2) as sim:
        ticker = next(t for t in sim.exchange.markets if t.startswith("KXCS2GAME") and t.endswith("-VIT"))
        other = ticker[:-3] + "FAZ"
        sim.faults.set_fair(ticker, 8000)
        assert sim.simulation.fair(other) == 2000
        sim.faults.advance(30)
        bid, _ = sim.exchange.top_of_book(ticker)
        assert bid is not None and bid[0] >= 7000
        assert (sim.simulation.fair(ticker) or 0) + (sim.simulation.fair(other) or 0) == 10_000
