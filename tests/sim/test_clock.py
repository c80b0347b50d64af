"""The simulator's market clock at real time reads what the wall clock reads, to the millisecond.

Its timestamps (a book delta's ``ts_ms``) are what a client measures its delays and reaction from: a
clock truncated twice (its start, then the time since) ran up to 2 ms behind, a different amount in
every process, which is a third of the engine's reaction time at 200 matches.
"""

from __future__ import annotations

from kmm_tui.sim.clock import SimClock


class Clocks:
    def __init__(self, wall_s: float) -> None:
        self.wall_s = wall_s
        self.mono_s = 50.0

    def wall(self) -> float:
        return self.wall_s

    def monotonic(self) -> float:
        return self.mono_s

    def tick(self, seconds: float) -> None:
        self.wall_s += seconds
        self.mono_s += seconds


def test_at_real_time_the_market_clock_is_the_wall_clock_floored_to_the_millisecond() -> None:
    clocks = Clocks(1_765_000_000.0009)  # 0.9 ms into a millisecond
    clock = SimClock(wall=clocks.wall, monotonic=clocks.monotonic)
    for step_s in (0.0005, 0.0002, 0.0007, 0.0101, 0.25):
        clocks.tick(step_s)
        assert clock.now_ms() == int(clocks.wall_s * 1000), f"after {step_s} s"


def test_a_faster_clock_and_manual_advances_still_add_up() -> None:
    clocks = Clocks(1_765_000_000.0)
    clock = SimClock(10.0, wall=clocks.wall, monotonic=clocks.monotonic)
    clocks.tick(1.5)
    clock.advance(60)
    assert clock.now_ms() == 1_765_000_000_000 + 15_000 + 60_000
