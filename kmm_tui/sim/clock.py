"""The simulator's two clocks: the wall clock (auth timestamps) and the accelerated market clock.

Scenarios run faster than real time (``time_scale``) and tests jump ahead (``advance``), but request
signatures are always checked against the real wall clock, exactly like Kalshi's ±5 s window.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    """Market time in Unix ms = start + elapsed real time × ``time_scale`` + manual advances."""

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive (1.0 = real time)")
        self.time_scale = time_scale
        self._wall = wall
        self._monotonic = monotonic
        self._anchor_mono = monotonic()
        self._anchor_ms = wall() * 1000  # float-ok: truncated once, in now_ms, like any clock's ms
        self._offset_ms = 0

    def now_ms(self) -> int:
        """Current market time (never goes backwards). At real time it is the wall clock's ms: the start
        and the time since are added before the one truncation (truncating each ran up to 2 ms behind)."""
        elapsed = self._monotonic() - self._anchor_mono
        return int(self._anchor_ms + elapsed * self.time_scale * 1000) + self._offset_ms

    def __call__(self) -> int:
        return self.now_ms()

    def wall_ms(self) -> int:
        """Real Unix time in ms, for signature timestamps."""
        return int(self._wall() * 1000)

    def mono_ms(self) -> int:
        """Real elapsed ms (monotonic): how old the exchange's internal replicas are, whatever the scale."""
        return int(self._monotonic() * 1000)

    def advance(self, seconds: float) -> None:
        """Jump the market clock forward (agents and expiries catch up on their next step)."""
        if seconds < 0:
            raise ValueError("the market clock cannot go backwards")
        self._offset_ms += int(seconds * 1000)
