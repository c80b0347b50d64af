"""The session file's life: size cap, rotation of old sessions, settings validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmm_tui.config import SettingsError, load_settings_text
from kmm_tui.replay import format as fmt
from kmm_tui.replay.recorder import SessionRecorder
from kmm_tui.replay.session import load_session


def _old_session(state_dir: Path, name: str, size: int) -> Path:
    """Sessions sort by name: it starts with the UTC start time."""
    path = fmt.sessions_dir(state_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    return path


def test_a_new_session_deletes_the_oldest_beyond_the_folder_cap(tmp_path: Path) -> None:
    oldest = _old_session(tmp_path, "20200101T000000Z-sim-1.kmmrec", 6_000)
    older = _old_session(tmp_path, "20200102T000000Z-sim-1.kmmrec", 6_000)
    recorder = SessionRecorder(tmp_path, "sim", start_ms=1_800_000_000_000, max_total_bytes=10_000)
    assert not oldest.exists() and older.exists() and recorder.path.exists()


def test_a_session_in_which_no_match_ran_leaves_no_file(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, "sim", start_ms=1_800_000_000_000)
    assert recorder.path.exists()  # the header is written at once: a crash still leaves a readable file
    recorder.close(1_800_000_001_000)
    assert fmt.session_files(tmp_path) == []


def test_a_session_past_its_size_cap_stops_recording_and_says_so(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, "sim", start_ms=1_800_000_000_000, max_session_bytes=400)
    assert recorder.active
    recorder._buffer.extend(fmt.encode(["Z", 0, 0, "quoting", "x" * 50 + str(i)]) for i in range(500))
    recorder._flush()
    assert not recorder.active
    session = load_session(recorder.path)
    assert session.note.startswith("size cap") and not session.complete


def test_recording_settings_are_validated() -> None:
    settings = load_settings_text("[recording]\nenabled = false\nmax_session_mb = 5\nmax_total_mb = 50\n")
    assert (settings.recording.enabled, settings.recording.max_session_mb) == (False, 5)
    with pytest.raises(SettingsError, match="max_total_mb"):
        load_settings_text("[recording]\nmax_session_mb = 500\nmax_total_mb = 100\n")
    with pytest.raises(SettingsError, match="true or false"):
        load_settings_text('[recording]\nenabled = "yes"\n')


def test_a_recorder_failure_stops_the_recording_never_the_engine(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, "sim", start_ms=1_800_000_000_000)
    recorder.decided(object(), 1_800_000_000_500, None, object())  # type: ignore[arg-type]
    assert not recorder.active


def test_sessions_are_private_to_the_user(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, "sim", start_ms=1_800_000_000_000)
    assert recorder.path.stat().st_mode & 0o777 == 0o600
    assert fmt.sessions_dir(tmp_path).stat().st_mode & 0o777 == 0o700
