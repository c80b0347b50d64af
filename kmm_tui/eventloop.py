"""The event loop the engine runs on: uvloop where it is installed, else asyncio's own.

uvloop's loop and transports are written in C (libuv): the same engine spends 1 to 4 points of a core
less at 200 matches (docs/benchmarks.md). It is optional: a platform without it (Windows) runs the
standard loop, and ``KMM_NO_UVLOOP=1`` turns it off to rule it out when chasing a problem.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None (asyncio's default) when absent or turned off."""
    if os.environ.get("KMM_NO_UVLOOP"):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    """Which loop :func:`run` uses, for logs and benchmark reports."""
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
