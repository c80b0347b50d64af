"""SVG snapshots of every screen at 80x24, 120x40 and 200x50 (fixed clock, fixed data, no live timers).

Update after an intended visual change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from kmm_tui.tui.app import KmmApp
from tests.tui.views import TZ, StaticEngine, fixed_clock, scan_rows

SIZES = [(80, 24), (120, 40), (200, 50)]
SCREENS = {
    "matches": [],
    "live": ["enter"],
    "scanner": ["2"],
    "fills": ["3"],
    "log": ["4"],
    "overview": ["5"],
    "help": ["question_mark"],
    "form": ["a"],
}


async def _rows():  # type: ignore[no-untyped-def]
    return scan_rows()


def _app() -> KmmApp:
    return KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False, scanner=_rows)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*SCREENS[screen])
        await pilot.pause(0.3)
        if screen == "form":  # one stable frame: the preview has replaced its placeholder
            for _ in range(100):
                if "waits for" in str(pilot.app.screen.query_one("#form-preview").render()):
                    break
                await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(), run_before=settle, terminal_size=size)


def test_home_on_a_light_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Cell colours are ANSI names: Textual maps them through the light theme's palette (readable)."""

    async def light(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.theme = "textual-light"
        await pilot.pause(0.3)

    assert snap_compare(_app(), run_before=light, terminal_size=(120, 40))
