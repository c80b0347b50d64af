"""SVG snapshots of every mode at 120x40 and home at 80x24 (fixed clock, fixed data, no live timers).

Update after an intended visual change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs in the report before committing them.
"""

from __future__ import annotations

from kmm_tui.tui.app import KmmApp
from tests.tui.views import TZ, StaticEngine, fixed_clock, scan_rows


async def _rows():  # type: ignore[no-untyped-def]
    return scan_rows()


def _app() -> KmmApp:
    return KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False, scanner=_rows)


def test_matches_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(120, 40))


def test_matches_80x24_drops_columns(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(80, 24))


def test_live_view_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), press=["enter"], terminal_size=(120, 40))


def test_scanner_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), press=["2"], terminal_size=(120, 40))


def test_fills_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), press=["3"], terminal_size=(120, 40))


def test_log_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), press=["4"], terminal_size=(120, 40))


def test_help_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), press=["question_mark"], terminal_size=(120, 40))
