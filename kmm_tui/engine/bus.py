"""The engine's outgoing side, shared by every component: clock, events to listeners, the log ring,
the journal recorder and background tasks.

Components never call front-ends directly: they ``emit`` typed events and ``log`` lines here, and the
facade hands ``listen`` to front-ends. Background work (write look-ups, halts, odds refreshes) is
``spawn``-ed here so that ``close`` can cancel all of it in one place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from kmm_tui.engine.events import Event, Level, LogEvent
from kmm_tui.engine.recorder import Recorder
from kmm_tui.engine.state import LogLine

log = logging.getLogger("kmm_tui.engine")  # the engine's own log lines, whichever component speaks

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Bus:
    """Events out, log lines, journal writes and owned tasks (engine loop only: no locks)."""

    def __init__(self, clock: Clock, recorder: Recorder) -> None:
        self.clock = clock
        self.rec = recorder
        self.listeners: list[Callable[[Event], None]] = []
        self.logs: deque[LogLine] = deque(maxlen=500)
        self.tasks: list[asyncio.Task[None]] = []

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")

    def log(self, level: Level, text: str, match_id: str | None = None) -> None:
        now = self.clock()
        self.logs.append(LogLine(now, level, text, match_id))
        getattr(log, "warning" if level is Level.WARNING else level.value)(
            "%s%s", f"[{match_id}] " if match_id else "", text
        )
        self.emit(LogEvent(level, text, now, match_id))

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run background work owned by the engine (cancelled on close)."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.append(task)
        task.add_done_callback(lambda done: done in self.tasks and self.tasks.remove(done))
