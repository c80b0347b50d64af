"""SVG snapshots of every shape of match (fixed clock, fixed data): the live view of a soccer event
(three ladders) and of one totals market (one YES book with our YES and NO bids), and the matches table
with both beside a two-team match. Update with ``--snapshot-update`` and review the SVGs."""

from __future__ import annotations

import pytest

from kmm_tui.tui.app import KmmApp
from tests.tui.shape_views import shapes_view, soccer_match, total_match
from tests.tui.views import TZ, StaticEngine, fixed_clock


def _app() -> KmmApp:
    return KmmApp(StaticEngine(shapes_view()), clock=fixed_clock, tz=TZ, live=False)


@pytest.mark.parametrize("shape", ["soccer", "total"])
def test_live_view_of_every_shape(snap_compare, shape: str) -> None:  # type: ignore[no-untyped-def]
    match = soccer_match() if shape == "soccer" else total_match()

    async def open_live(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.open_live_view(match.spec.match_id)
        await pilot.pause(0.3)

    assert snap_compare(_app(), run_before=open_live, terminal_size=(160, 45))


def test_matches_of_every_shape(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(120, 40))
