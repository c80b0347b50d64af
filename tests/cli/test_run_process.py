"""``kmm run`` as a trader runs it: against a ``kmm sim`` subprocess, stopped with Ctrl-C.

Checks what the issue found missing: the exit status of an interrupted run (130, after the orders are
pulled), the periodic position/P&L line and the session summary, a simulator key id without its
``.pem`` (a one-line user error, not "unexpected error"), and that every file and directory kmm
creates is the owner's only.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli.procs import ONE_LINE, modes, run_kmm, started


@pytest.fixture
async def sim_origin(tmp_path: Path) -> AsyncIterator[str]:
    """A ``kmm sim`` subprocess whose state (and demo key) lives in the state dir kmm run will use."""
    state = tmp_path / "home" / "nested" / "state"
    async with started(tmp_path, "--state-dir", str(state), "sim", "--port", "0") as sim:
        line = await sim.wait_for_line(r"^REST\s+http://")
        await sim.wait_for_line("Ctrl-C to stop")
        yield re.search(r"(http://127\.0\.0\.1:\d+)/trade-api/v2", line).group(1)  # type: ignore[union-attr]


async def _match_flags(tmp_path: Path, state: Path, origin: str) -> list[str]:
    scan = await run_kmm(
        tmp_path, "--state-dir", str(state), "scan", "--sim-url", origin, "--mode", "all", "--sport", "nba",
        "--json",
    )
    assert scan.code == 0, scan.err
    command = next(m for m in json.loads(scan.out)["matches"] if m["shape"] == "teams")["run_command"]
    assert command.endswith(f"--sim-url {origin}")
    return command.split()[2:]  # after "kmm run"


async def test_ctrl_c_ends_a_run_with_130_a_summary_and_only_private_files(
    tmp_path: Path, sim_origin: str
) -> None:
    state = tmp_path / "home" / "nested" / "state"
    flags = await _match_flags(tmp_path, state, sim_origin)
    argv = ["--state-dir", str(state), "run", *flags, "--theo-a", "60", "--theo-b", "40",
            "--report-every", "1", "--api", "0"]
    async with started(tmp_path, *argv) as run:
        api_line = await run.wait_for_line("control API on")
        token = Path(re.search(r"token in (\S+)", api_line).group(1))  # type: ignore[union-attr]
        assert (await asyncio.to_thread(token.stat)).st_mode & 0o777 == 0o600
        position = await run.wait_for_line(r" position A ")
        assert "P&L if A wins" in position and "resting " in position
        finished = await run.interrupt()
    assert finished.code == 130, finished
    assert finished.err == ""
    assert "stopped: no orders left resting" in finished.out
    session = r"^session: \d+m\d\ds, \d+ fills? \(bought A [\d.]+, B [\d.]+\), fees \$"
    assert re.search(session, finished.out, re.M)
    assert re.search(r"^position: A .* \| locked -?\$", finished.out, re.M)
    loose = [f"{path} {mode:o}" for path, mode in modes(tmp_path / "home")
             if mode != (0o700 if path.is_dir() else 0o600)]
    assert loose == []


async def test_run_json_prints_position_and_summary_objects(tmp_path: Path, sim_origin: str) -> None:
    state = tmp_path / "home" / "nested" / "state"
    flags = await _match_flags(tmp_path, state, sim_origin)
    argv = ["--state-dir", str(state), "run", "--json", *flags, "--theo-a", "60", "--theo-b", "40",
            "--report-every", "1"]
    async with started(tmp_path, *argv) as run:
        await run.wait_for_line('"kind": "position"')
        finished = await run.interrupt()
    assert finished.code == 130, finished
    documents = [json.loads(line) for line in finished.out.splitlines()]
    decide = next(d for d in documents if d["kind"] == "decide")
    assert isinstance(decide["ts_ms"], int) and decide["text"].startswith("A ")
    placed = next(d for d in documents if d["kind"] == "order")
    assert re.fullmatch(r"0\.\d{4}", placed["price"]) and re.fullmatch(r"\d+\.\d\d", placed["count"])
    position = next(d for d in documents if d["kind"] == "position")
    assert re.fullmatch(r"\d+\.\d\d", position["long_a"]) and re.fullmatch(r"-?\d+\.\d{6}", position["fees"])
    summary = documents[-2] if documents[-1]["kind"] == "info" else documents[-1]
    assert summary["kind"] == "summary" and isinstance(summary["fills"], int)
    assert re.fullmatch(r"-?\d+\.\d{6}", summary["position"]["pnl_if_a_wins"])


async def test_a_sim_key_id_without_its_pem_is_a_one_line_user_error(tmp_path: Path, sim_origin: str) -> None:
    state = tmp_path / "other-state"
    (state / "sim").mkdir(parents=True)
    (state / "sim" / "demo_key_id").write_text("4b1c0c43-0000-4000-8000-000000000000\n")
    result = await run_kmm(
        tmp_path, "--state-dir", str(state), "run", "--sim-url", sim_origin, "--ticker-a", "KX-A",
        "--ticker-b", "KX-B", "--theo-a", "60", "--theo-b", "40",
    )
    assert result.code == 2, result
    assert ONE_LINE.fullmatch(result.err), result.err
    assert result.err.startswith("kmm run: the simulator key in ") and "does not exist" in result.err
    assert "unexpected" not in result.err and "Traceback" not in result.err


async def test_a_run_priced_by_the_simulated_odds_feed_needs_no_key(tmp_path: Path, sim_origin: str) -> None:
    state = tmp_path / "home" / "nested" / "state"
    flags = await _match_flags(tmp_path, state, sim_origin)
    argv = ["--state-dir", str(state), "run", *flags, "--odds-feed", "--report-every", "1"]
    async with started(tmp_path, *argv) as run:
        line = await run.wait_for_line(r" position .*theo \d+(\.\d+)?c/\d+(\.\d+)?c \(feed: simulated")
        finished = await run.interrupt()
    assert finished.code == 130, finished
    assert "feed: simulated" in line


async def test_typed_odds_with_a_margin_above_the_cap_need_accept_margin(tmp_path: Path) -> None:
    """1.2 / 2.1 carry a 31 % margin: nearly always a typo. One line, exit 2, before connecting."""
    argv = ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-a", "1.2", "--odds-b", "2.1"]
    done = await run_kmm(tmp_path, *argv)
    assert done.code == 2
    assert "31.0 % bookmaker margin, above the 15 % cap" in done.err and "--accept-margin" in done.err
