"""``make demo`` quotes a few simulator matches at once, and --demo is refused off the simulator."""

from __future__ import annotations

import pytest

from kmm_tui import cli
from kmm_tui.bootstrap import DEMO_MATCHES, add_demo_matches
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import MatchStatus, Shape
from kmm_tui.sim import SimServer

from .conftest import connect, eventually


async def test_demo_matches_start_quoting_on_the_embedded_simulator() -> None:
    async with SimServer(None, agents=False) as sim:
        engine, _ = await connect(sim)
        try:
            await add_demo_matches(engine, sim)
            views = engine.snapshot().matches
            assert len(views) == DEMO_MATCHES
            assert all(v.status is MatchStatus.QUOTING for v in views)
            await eventually(
                lambda: len(sim.exchange.resting_orders(sim.demo_account.user_id)) == 2 * DEMO_MATCHES,
                what="both sides of every demo match quoted",
            )
        finally:
            await engine.close()
        assert sim.exchange.resting_orders(sim.demo_account.user_id) == []


def test_demo_flag_is_refused_off_the_embedded_simulator(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["--env", "demo", "--demo"]) == 2
    assert "--demo runs on the embedded simulator only" in capsys.readouterr().err


async def test_a_soccer_event_is_three_way_with_its_tie_and_refused_without_it() -> None:
    async with SimServer(None, agents=False) as sim:
        engine, _ = await connect(sim)
        try:
            soccer = next(m for m in sim.matches if m.event_ticker.startswith("KXEPLGAME"))
            cs2 = next(m for m in sim.matches if m.event_ticker.startswith("KXCS2GAME"))
            home, away = (t for t in soccer.tickers if not t.endswith("-TIE"))
            tie = next(t for t in soccer.tickers if t.endswith("-TIE"))
            with pytest.raises(EngineError, match=r"third outcome.*TIE market.*as the tie") as refused:
                await engine.describe_pair(home, away)
            assert refused.value.field == "ticker_tie"
            info = await engine.describe_pair(home, away, tie)
            assert info.three_way and info.shape is Shape.THREE_WAY
            assert [m.ticker for m in info.markets] == [home, tie, away] and info.team_t
            assert not (await engine.describe_pair(*cs2.tickers)).three_way
        finally:
            await engine.close()
