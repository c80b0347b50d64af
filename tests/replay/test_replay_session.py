"""Replaying a recorded simulator session: the fidelity check and other settings."""

from __future__ import annotations

from pathlib import Path

from kmm_tui.domain.prices import contracts
from kmm_tui.replay.runner import Overrides, check_decisions, recorded_outcome, simulate
from kmm_tui.replay.session import load_session


def test_smoke(recorded: Path) -> None:
    session = load_session(recorded)
    match = session.matches[0]
    check = check_decisions(match)
    print(check, len(match.records))
    orig = recorded_outcome(match)
    same = simulate(match, Overrides(), "same")
    wide = simulate(match, Overrides(edge=800), "wide")
    zero = simulate(match, Overrides(inventory_max=contracts(0)), "zero")
    for o in (orig, same, wide, zero):
        print(o.label, [(f.side, f.price, f.count) for f in o.fills], o.writes)
    assert check.total > 0 and check.identical == check.total, check.first_difference
