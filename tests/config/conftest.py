"""Fixtures for settings tests: an isolated environment (no real ~/.config, no real odds keys)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point every location variable at tmp_path and drop kmm variables the developer may have set."""
    for name in (
        "KMM_CONFIG",
        "KMM_STATE_DIR",
        "KMM_ODDS_API_KEY",
        "KMM_ODDSPAPI_KEY",
        "KMM_SPORTSGAMEODDS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
