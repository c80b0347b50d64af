"""The done-when of the issue: a session recorded the way `make demo` runs (embedded simulator with its
scripted traders, the demo's three matches, recording on by default) replays with identical decisions."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from kmm_tui import cli
from kmm_tui.bootstrap import open_engine
from kmm_tui.config import RecordingSettings, Settings
from kmm_tui.environments import resolve_environment
from kmm_tui.replay.format import session_files
from kmm_tui.replay.runner import check_decisions
from kmm_tui.replay.session import load_session


async def _demo(state_dir: Path, settings: Settings, seconds: float) -> None:
    environment = resolve_environment(settings, "sim")
    args = argparse.Namespace(environment=environment, state_dir=state_dir, demo=True)
    async with open_engine(settings, args) as engine:
        await asyncio.sleep(seconds)
        assert any(m.status.value == "quoting" for m in engine.snapshot().matches)


async def test_a_demo_session_is_recorded_and_replays_with_identical_decisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _demo(tmp_path, Settings(), seconds=6)
    (path,) = session_files(tmp_path)
    session = load_session(path)
    assert session.complete and len(session.matches) == 3
    for match in session.matches:
        check = check_decisions(match)
        assert check.total > 0 and check.identical == check.total, check.first_difference
    assert cli.main(["replay", "--state-dir", str(tmp_path), "--edge", "1,3"]) == 0
    out = capsys.readouterr().out
    assert out.count("fidelity: decisions identical") == 3


async def test_recording_can_be_turned_off(tmp_path: Path) -> None:
    await _demo(tmp_path, Settings(recording=RecordingSettings(enabled=False)), seconds=1)
    assert session_files(tmp_path) == []
