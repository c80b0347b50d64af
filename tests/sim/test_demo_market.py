"""A 30-minute demo keeps living: fair values wander around a line that moves and comes back.

Games keep their outcomes summing to $1; totals and spreads keep every strike priced from one line.

The old unanchored walk drifted 20–35c in minutes, so a demo quoting typed theos ended one-sided at
its inventory limit and stopped filling. Played in simulated time (``advance``), seeded.
"""

from __future__ import annotations

from kmm_tui.sim import SimServer
from kmm_tui.sim.lines import GAME, line_fairs

MINUTES = 30
CENT = 100


async def test_fair_values_stay_near_a_line_that_moves_now_and_then_over_thirty_minutes() -> None:
    async with SimServer(seed=4) as sim:
        opening = {m.event_ticker: list(m.fair) for m in sim.matches}
        worst = 0
        line_moves = 0
        trades = len(sim.exchange.trades)
        for _ in range(MINUTES):
            lines = {m.event_ticker: list(m.extra.get("line", m.fair)) for m in sim.matches}
            sim.faults.advance(60)
            for match in sim.matches:
                if match.kind == GAME:
                    assert sum(match.fair) == 10_000
                else:  # totals/spreads: every strike priced from one line, over falling as strikes rise
                    scale = match.spec.scale
                    assert match.fair == line_fairs(match.kind, match.outcomes, match.centre, scale)
                    team_a = [f for o, f in zip(match.outcomes, match.fair, strict=True) if o.team != 1]
                    assert team_a == sorted(team_a, reverse=True)
                gap = max(abs(f - o) for f, o in zip(match.fair, opening[match.event_ticker], strict=True))
                worst = max(worst, gap)
                before = lines[match.event_ticker]
                moved = max(abs(a - b) for a, b in zip(match.extra["line"], before, strict=True))
                line_moves += moved >= 3 * CENT
        assert worst <= 18 * CENT, f"a fair value drifted {worst / CENT}c from its opening line"
        assert line_moves >= 5  # the lines do move (about one move per match per five minutes)
        assert len(sim.exchange.trades) - trades > 500  # takers keep trading all along
