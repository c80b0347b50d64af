"""Replaying a session recorded from the simulator: fidelity, other settings, the command line."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

import pytest

from kmm_tui import cli
from kmm_tui.domain.prices import contracts
from kmm_tui.replay.report import replay_session
from kmm_tui.replay.runner import Overrides, check_decisions, recorded_outcome, simulate
from kmm_tui.replay.session import RecordedMatch, load_session


def only_match(path: Path) -> RecordedMatch:
    session = load_session(path)
    assert [m.match_id for m in session.matches] == ["m1"]
    return session.matches[0]


def filled(outcome) -> int:
    return sum(f.count for f in outcome.fills)


def test_the_recording_holds_the_session(recorded: Path) -> None:
    session = load_session(recorded)
    match = session.matches[0]
    kinds = {r[0] for r in match.records}
    assert {"S", "G", "B", "T", "O", "R", "I", "D", "F", "X", "Z"} <= kinds
    assert session.complete
    assert recorded_outcome(match).inventory.count_long_a == contracts(4)
    assert recorded_outcome(match).inventory.count_long_b == contracts(2)


def test_replaying_with_its_own_settings_reproduces_every_decision(recorded: Path) -> None:
    check = check_decisions(only_match(recorded))
    assert check.total >= 10
    assert check.identical == check.total, check.first_difference


def test_the_queue_model_fills_the_recorded_settings_like_the_exchange_did(recorded: Path) -> None:
    match = only_match(recorded)
    original, replayed = recorded_outcome(match), simulate(match, Overrides(), "replay")
    assert [(f.side, f.price, f.count) for f in replayed.fills] == [
        (f.side, f.price, f.count) for f in original.fills
    ]
    assert replayed.inventory == original.inventory


def test_a_wider_edge_fills_less_never_more(recorded: Path) -> None:
    match = only_match(recorded)
    base = filled(simulate(match, Overrides(), "replay"))
    previous = base
    for cents in (3, 4, 6, 10):
        wider = filled(simulate(match, Overrides(edge=cents * 100), f"edge {cents}"))
        assert wider <= previous, f"edge {cents}c filled {wider} > {previous}"
        previous = wider
    assert previous < base


def test_a_zero_inventory_limit_adds_no_exposure(recorded: Path) -> None:
    match = only_match(recorded)
    zero = simulate(match, Overrides(inventory_max=contracts(0)), "zero")
    assert zero.fills == [] and zero.writes == 0
    for limit in (1, 3, 5):
        outcome = simulate(match, Overrides(inventory_max=contracts(limit)), f"limit {limit}")
        assert outcome.max_exposure <= contracts(limit)


def test_replay_runs_far_faster_than_real_time(recorded: Path) -> None:
    session = load_session(recorded)
    report = replay_session(session, session.matches, [Overrides(edge=300)], time.perf_counter_ns)
    assert report.speedup is not None and report.speedup >= 50


def test_kmm_replay_prints_settings_side_by_side(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir = recorded.parent.parent
    assert cli.main(["replay", "latest", "--state-dir", str(state_dir), "--edge", "2,4"]) == 0
    out = capsys.readouterr().out
    assert "fidelity: decisions identical" in out
    for row in ("recorded", "replay", "edge 4c"):
        assert f"\n{row} " in out
    assert "x real time" in out


def test_kmm_replay_json_sweep_has_one_row_per_value(recorded: Path, capsys) -> None:
    argv = ["replay", str(recorded), "--match", "m1", "--edge", "3,5,7", "--json"]
    assert cli.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    (match,) = report["matches"]
    assert [r["setting"] for r in match["rows"]] == ["recorded", "replay", "edge 3c", "edge 5c", "edge 7c"]
    assert [r["edge"] for r in match["rows"][2:]] == [300, 500, 700]
    assert match["decisions"]["identical"] == match["decisions"]["total"] > 0


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err


def test_a_truncated_recording_is_refused(recorded: Path, tmp_path: Path, capsys) -> None:
    cut = tmp_path / "cut.kmmrec"
    data = recorded.read_bytes()
    cut.write_bytes(data[: len(data) - 7])
    assert "truncated" in _refused(["replay", str(cut)], capsys)


def test_a_corrupted_recording_is_refused(recorded: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.kmmrec"
    data = bytearray(recorded.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    assert "corrupted" in _refused(["replay", str(bad)], capsys)


def test_a_file_that_is_no_recording_is_refused(tmp_path: Path, capsys) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    assert "not a kmm session recording" in _refused(["replay", str(other)], capsys)
    future = tmp_path / "future.kmmrec"
    future.write_bytes(gzip.compress(b'{"format":"kmm-session","version":99,"start_ms":1}\n'))
    assert "format version 99" in _refused(["replay", str(future)], capsys)


def test_an_unknown_match_names_the_recorded_ones(recorded: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy.kmmrec"
    shutil.copy(recorded, copy)
    err = _refused(["replay", str(copy), "--match", "nope"], capsys)
    assert "no match 'nope'" in err and "recorded matches:" in err


def test_the_fidelity_check_notices_a_missing_input(recorded: Path) -> None:
    match = only_match(recorded)
    theo = next(i for i, r in enumerate(match.records) if r[0] == "T")
    match.records[theo] = [*match.records[theo][:3], 6500, 3500]  # as if a theo change went unrecorded
    check = check_decisions(match)
    assert check.identical < check.total
    assert check.first_difference.startswith("at +")
