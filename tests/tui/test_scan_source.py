"""The Scanner mode's source against the simulator over loopback (real client, real scanner)."""

from __future__ import annotations

import time
from pathlib import Path

from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.scan.model import Shape
from kmm_tui.sim import SimServer
from kmm_tui.tui.scan_source import scan_source
from kmm_tui.tui.screens.scanner import filter_matches, parse_filters


def _now() -> int:
    return time.time_ns() // 1_000_000


async def test_scan_lists_simulator_matches_of_every_shape_it_has(tmp_path: Path) -> None:
    async with SimServer(agents=False, state_dir=tmp_path, seed=3) as sim, KalshiRest(sim.base_url) as rest:
        result = await scan_source(rest, (), _now)()
    assert result.matches, "the default scenario has open markets in the catalogue's series"
    assert all(t.startswith(m.series) for m in result.matches for t in m.tickers)
    soccer = next(m for m in result.matches if m.shape is Shape.THREE_WAY and m.series == "KXEPLGAME")
    assert soccer.tie is not None and soccer.tie.ticker.endswith("-TIE")
    assert soccer.form_tickers["ticker_tie"] == soccer.tie.ticker
    assert soccer.a.team == "Arsenal" and soccer.b.team == "Chelsea"  # home first, as the event lists it
    teams = [m for m in result.matches if m.shape is Shape.TEAMS]
    assert teams and all(m.a.ticker != m.b.ticker for m in teams)
    assert soccer in filter_matches(result, parse_filters("epl", "", ""), _now())
    assert all(m.sport == "EPL" for m in filter_matches(result, parse_filters("epl", "", ""), _now()))
