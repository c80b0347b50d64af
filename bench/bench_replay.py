"""Replay: record the scale bench's 50-match session, then replay it far faster than it happened.

The session comes from ``bench_scale.measure`` (engine and simulator in separate processes, every book
moving 5 times a second, recording on as in the product), so the same run also reports what recording
cost the engine: the CPU spent inside the recorder as a share of the engine's CPU while quoting (the
issue's bound: under 5 %). Then every match of the session is replayed with its recorded settings and
with a sweep of edges; reported: the fidelity (decisions identical, fills matched), the replay's wall
time and the speed-up over real time (the baseline: the session's own duration; the bound: ≥ 50×).

Run: ``.venv/bin/python bench/bench_replay.py [--matches 50 --seconds 8]`` -> ``bench/results/replay.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_scale import Config, measure
from bench.common import write_result
from kmm_tui.domain.prices import format_contracts
from kmm_tui.replay.report import replay_session, variants
from kmm_tui.replay.session import load_session

SWEEP_EDGES = (None, 100, 300, 400)  # None: the recorded settings


def replay(path: Path) -> dict[str, Any]:
    session = load_session(path)
    overrides = variants(list(SWEEP_EDGES), [None], [None], [None])
    report = replay_session(session, session.matches, overrides, time.perf_counter_ns)
    decisions = sum(m.decisions.total for m in report.matches)
    identical = sum(m.decisions.identical for m in report.matches)
    recorded = sum(m.fills.recorded for m in report.matches)
    replayed = sum(m.fills.replayed for m in report.matches)
    matched = sum(m.fills.matched for m in report.matches)
    return {
        "matches": len(session.matches),
        "session_s": round(session.duration_ms / 1000, 1),
        "settings_replayed": report.replays,
        "replay_wall_s": round(report.elapsed_ns / 1e9, 3),
        "speedup_over_real_time": report.speedup,
        "decisions": decisions,
        "decisions_identical": identical,
        "filled_contracts_recorded": format_contracts(recorded),
        "filled_contracts_replayed": format_contracts(replayed),
        "filled_contracts_matched": format_contracts(matched),
    }


async def run(
    matches: int, seconds: float, warmup_s: float = 2.0, results_dir: Path | None = None
) -> dict[str, Any]:
    config = Config(matches=(matches,), seconds=seconds, warmup_s=warmup_s)
    with tempfile.TemporaryDirectory(prefix="kmm-bench-replay-") as tmp:
        scale = await measure(matches, config, session_dir=Path(tmp))
        replayed = replay(Path(scale["session_file"]))
    quoting = scale["quoting"]
    result = {
        "benchmark": "replay",
        "setup": "bench_scale session (simulator in a child process), recorded, then replayed here",
        "recording": {
            "matches": matches,
            "engine_cpu_s": quoting["engine_cpu_s"],
            "recording_cpu_s": quoting["recording_cpu_s"],
            "share_of_engine_cpu": quoting["recording_share_of_engine_cpu"],
            "decisions_per_s": quoting["decisions_per_s"],
            "session_kib": scale["session_kib"],
        },
        "replay": replayed,
        "python": platform.python_version(),
    }
    write_result("replay", result, results_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", type=int, default=50, help="matches in the session (default 50)")
    parser.add_argument("--seconds", type=float, default=8.0, help="scale bench window length (default 8)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.matches, args.seconds))
    rec, rep = result["recording"], result["replay"]
    print(f"recording at {rec['matches']} matches: {rec['recording_cpu_s']} s of {rec['engine_cpu_s']} s "
          f"engine CPU = {rec['share_of_engine_cpu'] * 100:.1f}% ({rec['decisions_per_s']} decisions/s), "
          f"file {rec['session_kib']} KiB")
    print(f"replay: {rep['matches']} matches x {rep['settings_replayed']} settings of a {rep['session_s']} s "
          f"session in {rep['replay_wall_s']} s = {rep['speedup_over_real_time']}x real time; decisions "
          f"identical {rep['decisions_identical']}/{rep['decisions']}; fills recorded "
          f"{rep['filled_contracts_recorded']}, replayed {rep['filled_contracts_replayed']}, "
          f"matched {rep['filled_contracts_matched']} contracts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
