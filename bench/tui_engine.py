"""The engine ``bench_tui.py`` measures, as the app runs it: in its own process (``engine_in_process``).

This opener runs in the engine's process. It builds the bench's engine (``bench_scale``'s observed
feed, 50 started matches against the simulator child) and provides what the bench reads from that
side: waiting for start-up to settle, and the probe's feed delays and reactions since a mark.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_scale as scale
from bench.common import bench_spec, engine_for
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine_host import provide
from kmm_tui.kalshi.auth import Signer

OPENER = "bench.tui_engine:open_bench_engine"


def marks(probe: scale.Probe) -> tuple[int, int]:
    return len(probe.feed_delays_ms), len(probe.reactions_ms)


def since(probe: scale.Probe, mark: tuple[int, int]) -> tuple[list[float], list[float]]:
    return probe.feed_delays_ms[mark[0] :], probe.reactions_ms[mark[1] :]


@contextlib.asynccontextmanager
async def open_bench_engine(argument: dict[str, Any]) -> AsyncIterator[Engine]:
    probe = scale.PROBE
    probe.movers_above = dict(argument["movers"])
    signer = Signer.from_pem(argument["key_id"], argument["pem"].encode())
    engine = engine_for(argument["base_url"], argument["ws_url"], signer, scale.TimedFeed)
    try:
        await engine.start()
        engine.listen(probe.on_event)
        matches = argument["matches"]
        for i, (a, b) in enumerate(matches):
            await engine.execute(cmd.AddMatch(bench_spec(f"m{i}", a, b), start=True))
        provide("settle", lambda: scale.settle(engine, probe, len(matches)))
        provide("marks", lambda: marks(probe))
        provide("since", lambda mark: since(probe, mark))
        yield engine
    finally:
        await engine.close()
