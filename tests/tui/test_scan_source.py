"""The Scanner mode's source against the simulator over loopback (real client, real scanner)."""

from __future__ import annotations

import time
from pathlib import Path

from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.sim import SimServer
from kmm_tui.tui.scan_source import scan_source
from kmm_tui.tui.screens.scanner import filter_rows, opponent


def _now() -> int:
    return time.time_ns() // 1_000_000


async def test_scan_lists_simulator_markets_with_pairs_to_turn_into_matches(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=3) as sim, KalshiRest(sim.base_url) as rest:
        rows = await scan_source(rest, (), _now)()
    assert rows, "the default scenario has open markets in the catalogue's series"
    assert all(r.ticker.startswith(r.series) for r in rows)
    team = next(r for r in rows if not r.is_tie)
    other = opponent(rows, team)
    assert other is not None and other.event_ticker == team.event_ticker and not other.is_tie
    assert filter_rows(rows, team.sport.casefold(), None, None, _now())
