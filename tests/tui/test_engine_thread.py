"""The engine on its own thread and loop, the app as its client (kmm_tui/engine_thread.py).

Real parts: the simulator serves on the test's loop, the engine runs on its own thread and loop and
talks to it over loopback; the app drives it by keys through ``ThreadedEngine``. Every way out (quit
key, a crash, a failed or abandoned start-up) leaves zero orders on the exchange and no engine thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from kmm_tui.bootstrap import BootstrapError, Connection, build_engine
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import Event, Level, LogEvent
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, Shape, TheoInput
from kmm_tui.engine_thread import ThreadedEngine, engine_on_thread
from kmm_tui.kalshi.auth import Signer
from kmm_tui.sim import SimServer
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.widgets.table import SyncTable

from .test_integration import cs2_pair, resting_on_exchange, wait_for

pytestmark = pytest.mark.slow

CENT = 100
ENGINE_THREAD = "kmm-engine-test"


def opener_for(sim: SimServer, after_start: Callable[[Engine], object] | None = None) -> Callable[[], object]:
    """Opens the app's engine against ``sim`` (on whichever loop calls it) and always closes it."""

    @contextlib.asynccontextmanager
    async def open_engine() -> AsyncIterator[Engine]:
        account = sim.demo_account
        signer = Signer.from_pem(account.key_id, account.private_key_pem)
        engine = build_engine(Connection("sim", sim.base_url, sim.ws_url, signer))
        await engine.start()
        try:
            if after_start is not None:
                await after_start(engine)  # type: ignore[misc]
            yield engine
        finally:
            await engine.close()

    return open_engine


def spec_for(sim: SimServer) -> MatchSpec:
    vit, faz = cs2_pair(sim)
    return MatchSpec(
        f"{vit}+{faz}", vit, faz, TheoInput(theo_a=55 * CENT, theo_b=45 * CENT), MatchSettings(edge=2 * CENT)
    )


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == ENGINE_THREAD]


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_the_app_drives_an_engine_on_its_own_thread_and_quits_with_zero_orders(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        vit, faz = cs2_pair(sim)
        sim.place_competitor_order(vit, "bid", 4500, 20 * 100)
        sim.place_competitor_order(faz, "bid", 3800, 20 * 100)
        async with engine_on_thread(opener_for(sim), name=ENGINE_THREAD) as engine:  # type: ignore[arg-type]
            assert engine.loop is not asyncio.get_running_loop()
            app = KmmApp(engine, refresh_hz=10)  # type: ignore[arg-type]
            async with app.run_test(size=(120, 40)) as pilot:
                await engine.execute(cmd.AddMatch(spec_for(sim)))
                table = app.screen.query_one("#matches", SyncTable)
                await wait_for(pilot, lambda: table.row_count == 1, "the match's row")
                await pilot.press("s")  # start the selected (only) match
                await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
                await wait_for(
                    pilot,
                    lambda: "46/39" in str(table.get_row_at(0)),
                    "our bids 46c/39c in the Matches table",
                )
                await pilot.press("q")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
                await pilot.press("y")
                await wait_for(pilot, lambda: not app.is_running, "the app to exit", timeout_s=20)
            assert app.return_code == 0
            assert resting_on_exchange(sim) == 0
        assert not engine_threads()


async def test_a_crash_in_the_app_closes_the_engine_on_its_thread_with_every_order_pulled(
    tmp_path: Path,
) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        with pytest.raises(RuntimeError, match="the app crashed"):
            async with engine_on_thread(opener_for(sim), name=ENGINE_THREAD) as engine:  # type: ignore[arg-type]
                await engine.execute(cmd.AddMatch(spec_for(sim), start=True))
                await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
                raise RuntimeError("the app crashed")
        assert resting_on_exchange(sim) == 0
        assert not engine_threads()


async def test_a_start_up_error_is_raised_to_the_caller_and_the_thread_ends(tmp_path: Path) -> None:
    @contextlib.asynccontextmanager
    async def failing() -> AsyncIterator[Engine]:
        raise BootstrapError("could not start on http://nowhere: refused")
        yield  # type: ignore[unreachable]

    with pytest.raises(BootstrapError, match="could not start"):
        async with engine_on_thread(failing, name=ENGINE_THREAD):  # type: ignore[arg-type]
            raise AssertionError("the body must not run")
    assert not engine_threads()


async def test_giving_up_during_start_up_closes_the_engine_as_soon_as_it_is_open(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        quoting = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def start_then_linger(engine: Engine) -> None:
            await engine.execute(cmd.AddMatch(spec_for(sim), start=True))
            await until(lambda: engine.snapshot().resting_orders == 2, "two quotes")
            loop.call_soon_threadsafe(quoting.set)
            await asyncio.sleep(30)  # a slow start-up the user gives up on (SIGTERM before the app is up)

        async def open_and_wait() -> None:
            async with engine_on_thread(opener_for(sim, start_then_linger), name=ENGINE_THREAD):  # type: ignore[arg-type]
                raise AssertionError("the body must not run")

        task = asyncio.create_task(open_and_wait())
        await asyncio.wait_for(quoting.wait(), 10)
        assert resting_on_exchange(sim) == 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
        assert resting_on_exchange(sim) == 0
        assert not engine_threads()


async def test_events_reach_the_app_loop_in_order_and_snapshots_cross_over(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        async with engine_on_thread(opener_for(sim), name=ENGINE_THREAD) as engine:  # type: ignore[arg-type]
            assert isinstance(engine, ThreadedEngine)
            seen: list[tuple[str, threading.Thread]] = []

            def on_event(event: Event) -> None:
                if isinstance(event, LogEvent) and event.text.startswith("n"):
                    seen.append((event.text, threading.current_thread()))

            stop = engine.listen(on_event)
            for i in range(200):
                engine.call(engine.engine.report, Level.INFO, f"n{i}")
            await until(lambda: len(seen) == 200, "200 events on the app's loop")
            assert [text for text, _ in seen] == [f"n{i}" for i in range(200)]
            assert {thread for _, thread in seen} == {threading.current_thread()}
            stop()
            await engine.execute(cmd.AddMatch(spec_for(sim)))
            view = engine.snapshot()
            assert [m.status for m in view.matches] == [MatchStatus.NEW]
        assert not engine_threads()


def test_the_thread_client_takes_every_argument_the_app_passes() -> None:
    """Each form helper the app calls crosses to the engine with the engine's own parameters (a missing
    ``ticker_tie`` crashed the app on a soccer event's "fetch odds")."""
    for name in ("describe_pair", "feed_theo", "preview", "preview_live", "confirm_pairing", "execute"):
        engine_params = list(inspect.signature(getattr(Engine, name)).parameters)
        client_params = list(inspect.signature(getattr(ThreadedEngine, name)).parameters)
        assert client_params == engine_params, name


async def test_a_soccer_event_is_described_through_the_thread(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        epl = [t for t in sim.exchange.markets if t.startswith("KXEPLGAME")]
        home, tie, away = (next(t for t in epl if t.endswith(code)) for code in ("-ARS", "-TIE", "-CHE"))
        async with engine_on_thread(opener_for(sim), name=ENGINE_THREAD) as engine:  # type: ignore[arg-type]
            info = await engine.describe_pair(home, away, tie)
            assert info.shape is Shape.THREE_WAY
            assert {m.ticker for m in info.markets} == {home, tie, away}
        assert not engine_threads()
