"""The engine in its own process, the app as its client (kmm_tui/engine_process.py, engine_host.py).

Real parts: the simulator serves on the test's loop; the engine runs in a child process (``python -m
kmm_tui.engine_host``) and talks to it over loopback; the app drives it by keys through
``ProcessEngine``. Every way out — the quit key, a crash in the app, the app's end of the socket cut
(the app killed), SIGTERM to the engine's process, a failed or abandoned start-up — leaves zero
orders on the exchange and no engine process.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from kmm_tui.bootstrap import BootstrapError
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import Event, LogEvent, MatchStatusChanged
from kmm_tui.engine.model import MatchStatus, Shape
from kmm_tui.engine_process import EngineGone, ProcessEngine, engine_in_process
from kmm_tui.sim import SimServer
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.widgets.table import SyncTable
from tests.support import until

from .engine_openers import sim_argument, spec
from .test_integration import cs2_pair, quit_confirmed, resting_on_exchange, wait_for

pytestmark = pytest.mark.slow

OPENER = "tests.tui.engine_openers:open_against_sim"
ROOT = Path(__file__).resolve().parents[2]


def ended(engine: ProcessEngine) -> bool:
    return engine.process.poll() is not None


async def test_the_app_drives_an_engine_in_its_own_process_and_quits_with_zero_orders(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        vit, faz = cs2_pair(sim)
        sim.place_competitor_order(vit, "bid", 4500, 20 * 100)
        sim.place_competitor_order(faz, "bid", 3800, 20 * 100)
        async with engine_in_process(OPENER, sim_argument(sim)) as engine:
            assert engine.process.pid != os.getpid()
            assert engine.environment == "sim"
            app = KmmApp(engine, refresh_hz=10)  # type: ignore[arg-type]
            async with app.run_test(size=(120, 40)) as pilot:
                await engine.execute(cmd.AddMatch(spec(vit, faz)))
                table = app.screen.query_one("#matches", SyncTable)
                await wait_for(pilot, lambda: table.row_count == 1, "the match's row")
                await pilot.press("s")  # start the selected (only) match
                await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
                await wait_for(
                    pilot, lambda: "46/39" in str(table.get_row_at(0)), "our bids 46c/39c in the Matches row"
                )
                await quit_confirmed(pilot, app)
            assert app.return_code == 0
            assert resting_on_exchange(sim) == 0
        assert engine.process.returncode == 0
        assert engine.resting_at_close == 0


async def test_a_crash_in_the_app_closes_the_engine_in_its_process_with_every_order_pulled(
    tmp_path: Path,
) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        with pytest.raises(RuntimeError, match="the app crashed"):
            async with engine_in_process(OPENER, sim_argument(sim)) as engine:
                await engine.execute(cmd.AddMatch(spec(*cs2_pair(sim)), start=True))
                await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
                raise RuntimeError("the app crashed")
        assert resting_on_exchange(sim) == 0
        assert engine.process.returncode == 0


async def test_the_app_killed_outright_leaves_the_engine_to_close_by_itself(tmp_path: Path) -> None:
    """kill -9 of the app: its end of the socket closes without a word, and the engine pulls everything."""
    async with (
        SimServer(agents=False, state_dir=tmp_path, seed=11) as sim,
        engine_in_process(OPENER, sim_argument(sim)) as engine,
    ):
        await engine.execute(cmd.AddMatch(spec(*cs2_pair(sim)), start=True))
        await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
        engine._sock.close()  # what the kernel does for a killed process: no close message
        await until(lambda: ended(engine), "the engine's process to end", timeout_s=20)
        assert resting_on_exchange(sim) == 0
        assert engine.process.returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
async def test_a_signal_to_the_engine_process_closes_it_and_tells_the_app(
    tmp_path: Path, sig: signal.Signals
) -> None:
    async with (
        SimServer(agents=False, state_dir=tmp_path, seed=11) as sim,
        engine_in_process(OPENER, sim_argument(sim)) as engine,
    ):
        lost = threading.Event()
        engine.on_lost = lost.set
        await engine.execute(cmd.AddMatch(spec(*cs2_pair(sim)), start=True))
        await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
        engine.process.send_signal(sig)
        await until(lambda: ended(engine) and lost.is_set(), "the engine to close and the app to hear")
        assert resting_on_exchange(sim) == 0
        assert engine.resting_at_close == 0
        with pytest.raises(EngineGone):
            await engine.execute(cmd.StartMatch(spec(*cs2_pair(sim)).match_id))
        assert engine.snapshot().resting_orders == 0  # the last view stays readable


async def test_a_start_up_error_is_raised_to_the_caller_as_it_was_raised(tmp_path: Path) -> None:
    with pytest.raises(BootstrapError, match="could not start on http://nowhere: refused"):
        async with engine_in_process(
            "tests.tui.engine_openers:fail_to_open", "could not start on http://nowhere: refused"
        ):
            raise AssertionError("the body must not run")
    assert not engine_processes_left()


def engine_processes_left() -> bool:
    """Any child of this test process that is still an engine host."""
    try:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    except OSError:
        return False
    for pid in children:
        try:
            if "kmm_tui.engine_host" in Path(f"/proc/{pid}/cmdline").read_text():
                return True
        except OSError:
            continue
    return False


async def test_giving_up_during_start_up_closes_the_engine_as_soon_as_it_is_open(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        pair = cs2_pair(sim)

        async def open_and_wait() -> None:
            async with engine_in_process(OPENER, sim_argument(sim, quote_then_linger=pair)):
                raise AssertionError("the body must not run")

        task = asyncio.create_task(open_and_wait())
        await until(lambda: resting_on_exchange(sim) == 2, "two quotes during the slow start-up")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
        assert resting_on_exchange(sim) == 0
        assert not engine_processes_left()


async def test_events_arrive_in_order_on_the_app_loop_and_a_command_is_on_the_next_snapshot(
    tmp_path: Path,
) -> None:
    async with (
        SimServer(agents=False, state_dir=tmp_path, seed=11) as sim,
        engine_in_process(OPENER, sim_argument(sim)) as engine,
    ):
        seen: list[tuple[str, threading.Thread]] = []

        def on_event(event: Event) -> None:
            if isinstance(event, LogEvent) and event.text.startswith("n"):
                seen.append((event.text, threading.current_thread()))

        stop = engine.listen(on_event)
        await engine.extra("report_many", 200)
        await until(lambda: len(seen) == 200, "200 events on the app's loop")
        assert [text for text, _ in seen] == [f"n{i}" for i in range(200)]
        assert {thread for _, thread in seen} == {threading.current_thread()}
        stop()
        match = spec(*cs2_pair(sim))
        await engine.execute(cmd.AddMatch(match))
        assert [(m.spec.match_id, m.status) for m in engine.snapshot().matches] == [
            (match.match_id, MatchStatus.NEW)
        ]
        with pytest.raises(EngineError) as refused:
            await engine.execute(cmd.AddMatch(match))  # the same match twice
        assert refused.value.user_message


async def test_an_event_reaches_the_app_after_a_view_that_shows_it(tmp_path: Path) -> None:
    """The app redraws when an event comes; the snapshot it then draws must not predate the event."""
    async with (
        SimServer(agents=False, state_dir=tmp_path, seed=11) as sim,
        engine_in_process(OPENER, sim_argument(sim)) as engine,
    ):
        match = spec(*cs2_pair(sim))
        seen: list[tuple[MatchStatus, MatchStatus | None]] = []

        def on_event(event: Event) -> None:
            if isinstance(event, MatchStatusChanged):
                shown = {m.spec.match_id: m.status for m in engine.snapshot().matches}
                seen.append((event.status, shown.get(event.match_id)))

        engine.listen(on_event)
        await engine.execute(cmd.AddMatch(match, start=True))
        await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
        await engine.execute(cmd.StopMatch(match.match_id))
        await until(lambda: seen and seen[-1][0] is MatchStatus.STOPPED, "the match stopped")
        statuses = [status for status, _ in seen]
        assert MatchStatus.QUOTING in statuses
        for i, (status, shown) in enumerate(seen):
            assert shown in statuses[i:], f"{status} delivered while the app's view showed {shown}"


async def test_a_match_that_did_not_change_keeps_its_view_object_and_a_changed_one_does_not(
    tmp_path: Path,
) -> None:
    """Unchanged matches cross as "same as before": the app keeps the object (and its row); a match
    that changed crosses whole, and a match removed and added again crosses whole."""
    async with (
        SimServer(agents=False, state_dir=tmp_path, seed=11) as sim,
        engine_in_process(OPENER, sim_argument(sim)) as engine,
    ):
        nba = sorted(t for t in sim.exchange.markets if t.startswith("KXNBAGAME"))[:2]
        quoting, idle = spec(*cs2_pair(sim)), spec(*nba)
        await engine.execute(cmd.AddMatch(quoting))
        await engine.execute(cmd.AddMatch(idle))

        def views() -> dict[str, object]:
            return {m.spec.match_id: m for m in engine.snapshot().matches}

        async def settled() -> dict[str, object]:  # both matches' books in (the feed's first snapshots)
            for _ in range(50):
                first = views()
                await asyncio.sleep(0.3)
                if all(views()[key] is view for key, view in first.items()):
                    return first
            raise AssertionError("the views never settled")

        before = await settled()
        await engine.execute(cmd.StartMatch(quoting.match_id))
        await until(lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")
        await until(lambda: views()[quoting.match_id] is not before[quoting.match_id], "a new view")
        after = views()
        assert after[idle.match_id] is before[idle.match_id]
        assert after[quoting.match_id] != before[quoting.match_id]
        await engine.execute(cmd.DeleteMatch(idle.match_id))
        assert idle.match_id not in views()
        await engine.execute(cmd.AddMatch(idle))
        again = views()[idle.match_id]
        assert again is not before[idle.match_id] and again.status is MatchStatus.NEW


def test_the_process_client_takes_every_argument_the_app_passes() -> None:
    """Each call the app makes crosses with the engine's own parameters (a missing ``ticker_tie`` once
    crashed the app on a soccer event's "fetch odds")."""
    for name in ("describe_pair", "feed_theo", "preview", "preview_live", "confirm_pairing", "execute"):
        engine_params = list(inspect.signature(getattr(Engine, name)).parameters)
        client_params = list(inspect.signature(getattr(ProcessEngine, name)).parameters)
        assert client_params == engine_params, name


async def test_a_soccer_event_is_described_through_the_process(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        epl = [t for t in sim.exchange.markets if t.startswith("KXEPLGAME")]
        home, tie, away = (next(t for t in epl if t.endswith(code)) for code in ("-ARS", "-TIE", "-CHE"))
        async with engine_in_process(OPENER, sim_argument(sim)) as engine:
            info = await engine.describe_pair(home, away, tie)
            assert info.shape is Shape.THREE_WAY
            assert {m.ticker for m in info.markets} == {home, tie, away}


PRIORITIES = """
import asyncio, os, sys, tempfile
from pathlib import Path
from kmm_tui.engine_process import engine_in_process
from kmm_tui.sim import SimServer
from tests.tui.engine_openers import sim_argument

async def main():
    with tempfile.TemporaryDirectory() as tmp:
        async with SimServer(agents=False, state_dir=Path(tmp), seed=11) as sim:
            async with engine_in_process(sys.argv[1], sim_argument(sim), app_niceness=5) as engine:
                print(os.getpriority(os.PRIO_PROCESS, 0), os.getpriority(os.PRIO_PROCESS, engine.process.pid))

asyncio.run(main())
"""


async def test_the_app_yields_the_cpu_to_its_engine() -> None:
    """The app's process lowers its own priority once the engine's is started; the engine keeps the
    priority the app was started with (run in a child: the change cannot be undone)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PRIORITIES, OPENER, stdout=asyncio.subprocess.PIPE, cwd=ROOT
    )
    out, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0
    app, engine = (int(word) for word in out.split())
    started_at = os.getpriority(os.PRIO_PROCESS, 0)
    assert (app, engine) == (min(started_at + 5, 19), started_at)
