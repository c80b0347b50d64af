"""Persistence of matches to settings.toml and safe-quit prompts (the serve command line: tests/cli)."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.config import Defaults, load_settings
from kmm_tui.domain.prices import contracts
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.tui.store import SettingsStore, match_settings, saved_to_spec, user_defaults
from tests.tui.views import StaticEngine


def _spec() -> MatchSpec:
    base = MatchSettings(edge=150, contracts=contracts(12))
    return MatchSpec(
        "KXA-1+KXA-2",
        "KXA-1",
        "KXA-2",
        TheoInput(odds_a=Decimal("1.8"), odds_b=Decimal("2.1")),
        base,
        name="A v B",
    )


def test_defaults_convert_exactly_both_ways() -> None:
    defaults = Defaults(
        edge_cents=Decimal("1.5"), contracts=Decimal("12.5"), start_margin_minutes=Decimal("2.5")
    )
    settings = match_settings(defaults)
    assert (settings.edge, settings.contracts, settings.start_margin_ms) == (150, 1250, 150_000)
    assert user_defaults(settings) == defaults


def test_saved_match_round_trips_through_settings_toml(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('environment = "sim"\n\n[defaults]\nedge_cents = 2\n')
    settings = load_settings(path)
    store = SettingsStore(path, settings.defaults)
    spec = _spec()
    store.save(spec)
    reloaded = load_settings(path)
    assert reloaded.environment.value == "sim"  # unrelated settings kept
    assert len(reloaded.matches) == 1
    again = saved_to_spec(reloaded.matches[0])
    assert again.settings.edge == 150 and again.settings.contracts == contracts(12)
    assert (again.ticker_a, again.ticker_b, again.theo, again.name) == (
        spec.ticker_a,
        spec.ticker_b,
        spec.theo,
        "A v B",
    )
    assert again.settings == spec.settings
    assert "edge_cents = 1.5" in path.read_text()  # only overrides of [defaults] are written
    store.remove(spec)
    assert load_settings(path).matches == ()
    store.remove(spec)  # removing twice is harmless


def test_manual_theo_is_saved_in_cents(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    store = SettingsStore(path, Defaults())
    spec = MatchSpec("X+Y", "X", "Y", TheoInput(theo_a=5550, theo_b=4450), MatchSettings(), name="manual")
    store.save(spec)
    saved = load_settings(path).matches[0]
    assert (saved.theo_a, saved.theo_b, saved.odds_a) == (5550, 4450, None)


def test_a_bad_keys_table_stops_start_up_with_one_clear_line() -> None:
    from kmm_tui.config import Settings, UserError
    from kmm_tui.tui.wiring import build_app

    with pytest.raises(UserError, match="did you mean 'kill_all'"):
        build_app(StaticEngine(), argparse.Namespace(config=None), Settings(keys={"kil_all": "k"}))


def test_build_app_applies_keys_defaults_and_devig_from_settings(tmp_path: Path) -> None:
    from kmm_tui.config import Settings
    from kmm_tui.domain.theo import DevigMethod
    from kmm_tui.tui.wiring import build_app

    path = tmp_path / "settings.toml"
    path.write_text('[keys]\nkill_all = "ctrl+k"\n\n[defaults]\nedge_cents = 3\n\n[odds]\ndevig = "power"\n')
    settings = load_settings(path)
    assert isinstance(settings, Settings)
    app = build_app(StaticEngine(), argparse.Namespace(config=str(path)), settings)
    assert app.keys["kill_all"] == "ctrl+k"
    assert app.defaults.edge == 300
    assert app.devig is DevigMethod.POWER
    assert isinstance(app.store, SettingsStore) and app.store.path == path
