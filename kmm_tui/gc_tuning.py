"""Garbage-collector settings for a long-running kmm process.

Why: Python's cyclic collector stops every thread while it runs. With 50 live matches and the app,
a full (generation 2) pass walked every object alive since start-up — modules, the engine, the
app's widgets — and took 30–60 ms a few times a minute (``bench_tui.py`` with ``gc.callbacks``): the
tail of the engine's reaction time. Measured in ``docs/benchmarks.md``:

* :func:`freeze_after_startup`: once start-up has settled, collect once and move every object
  alive to the permanent generation (``gc.freeze``), which the collector never walks again; later
  full passes only walk what was allocated since. Reference counting still frees frozen objects;
  only a cycle among them, made garbage later, is never collected — start-up objects live for the
  whole process anyway.
"""

from __future__ import annotations

import gc


def freeze_after_startup() -> None:
    """Collect what start-up left behind, then exempt every surviving object from later passes."""
    gc.collect()
    gc.freeze()
