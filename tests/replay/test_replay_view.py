"""The app's Replay mode (5) over a recorded session: the side-by-side table with P&L sparklines."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.replay import ReplayScreen, parse_edges
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine
from tests.tui.views import TZ, StaticEngine, fixed_clock


def _app(sessions: Path) -> KmmApp:
    return KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False, sessions_dir=sessions)  # type: ignore[arg-type]


async def _wait_for_rows(table: SyncTable, within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if table.row_count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replay produced no rows")


def test_the_edge_line_takes_cents_and_refuses_nonsense() -> None:
    assert parse_edges("1, 2.5 ,4") == [100, 250, 400]
    assert parse_edges("") == []
    for bad in ("0", "abc", "101"):
        try:
            parse_edges(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


async def test_replay_mode_lists_sessions_and_compares_edges(recorded: Path) -> None:
    app = _app(recorded.parent)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        sessions = screen.query_one("#replay-sessions", SyncTable)
        assert sessions.row_count == 1
        await pilot.press("enter")
        results = screen.query_one("#replay-results", SyncTable)
        await _wait_for_rows(results)
        await pilot.pause()
        settings = [str(results.get_cell_at((row, 1))) for row in range(results.row_count)]
        assert settings == ["recorded", "replay", "edge 1c", "edge 2c", "edge 3c", "edge 4c"]
        last = len(results.columns) - 1
        sparks = [str(results.get_cell_at((row, last))) for row in range(results.row_count)]
        assert all(len(spark) == 24 and spark.strip() for spark in sparks)
        status = str(screen.query_one("#replay-status", TextLine).render())
        assert "decisions identical" in status


async def test_replay_mode_says_when_there_is_nothing_recorded(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        status = str(app.screen.query_one("#replay-status", TextLine).render())
        assert "no recorded sessions" in status
