"""Garbage-collector and thread-switch settings for a long-running kmm process.

Why: Python's cyclic collector stops every thread while it runs. With 50 live matches and the app,
a full (generation 2) pass walked every object alive since start-up — modules, the engine, the
app's widgets — and took 30–60 ms a few times a minute (``bench_tui.py`` with ``gc.callbacks``): the
tail of the engine's reaction time. Two settings, measured in ``docs/benchmarks.md``:

* :func:`freeze_after_startup`: once start-up has settled, collect once and move every object
  alive to the permanent generation (``gc.freeze``), which the collector never walks again; later
  full passes only walk what was allocated since. Reference counting still frees frozen objects;
  only a cycle among them, made garbage later, is never collected — start-up objects live for the
  whole process anyway.
* :data:`SWITCH_INTERVAL_S` for the app's process: the engine runs on its own thread
  (``kmm_tui/engine_thread.py``) and waits for the GIL while the app's thread draws; Python hands it
  over every switch interval (5 ms by default, so a quote waited up to 5 ms per hand-over).
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001  # float-ok: seconds, a scheduler setting


def freeze_after_startup() -> None:
    """Collect what start-up left behind, then exempt every surviving object from later passes."""
    gc.collect()
    gc.freeze()


def share_the_gil_quickly() -> None:
    """A thread waiting for the GIL (the engine's) gets it within 1 ms of asking, not 5 ms."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
