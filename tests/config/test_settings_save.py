"""Saving changes one thing and preserves every other setting; it never writes key material."""

from __future__ import annotations

import stat
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.config import (
    DEFAULT_FIELDS,
    SavedMatch,
    SettingsError,
    edit_settings,
    load_settings,
    remove_match,
    save_match,
    set_key_binding,
    set_setting,
)
from kmm_tui.domain.theo import DevigMethod

REPO = Path(__file__).resolve().parents[2]

ORIGINAL = """\
# my settings (comments are kept only in the .bak copy)
environment = "demo"

[kalshi]
key_id = "4f1c8a2e-1111-2222-3333-444455556666"
private_key_path = "/keys/demo.pem"
tier = "advanced"

[odds]
the_odds_api_key = "file-odds-key-0001"
regions = ["eu"]
bookmakers = ["pinnacle", "draftkings"]
max_age_s = 90
devig = "shin"

[odds.book_weights]
pinnacle = 2.5

[defaults]
edge_cents = 2
contracts = 7.5
inventory_max = 40
fee_aware = true

[scanner]
series = ["KXNBAGAME"]

[keys]
kill_all = "ctrl+k"

[[matches]]
name = "first"
ticker_a = "KX-A"
ticker_b = "KX-B"
odds_a = "1.95"
odds_b = "1.95"
contracts = 3

[[matches]]
name = "second"
ticker_a = "KX-C"
ticker_b = "KX-D"
theo_a = 48.25
theo_b = 51.75
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(ORIGINAL)
    return path


def _raw(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text(), parse_float=Decimal)


def test_changing_one_value_preserves_every_other_setting(settings_file: Path) -> None:
    before = load_settings(settings_file, environ={})
    raw_before = _raw(settings_file)
    after = set_setting(settings_file, "defaults.edge_cents", Decimal("1.5"), environ={})
    assert after.defaults.edge_cents == Decimal("1.5")
    assert after == replace(
        before,
        defaults=replace(before.defaults, edge_cents=Decimal("1.5")),
        matches=tuple(
            replace(m, settings=replace(m.settings, edge_cents=Decimal("1.5"))) for m in before.matches
        ),
    )
    assert load_settings(settings_file, environ={}) == after  # what was written reads back the same
    raw_after = _raw(settings_file)
    raw_before["defaults"]["edge_cents"] = Decimal("1.5")  # type: ignore[index]
    assert raw_after == raw_before


def test_float_values_are_saved_through_their_decimal_text(settings_file: Path) -> None:
    after = set_setting(settings_file, "defaults.retest_interval_s", 0.1, environ={})
    assert after.defaults.retest_interval_s == Decimal("0.1")
    assert "retest_interval_s = 0.1\n" in settings_file.read_text()


def test_save_keeps_a_backup_with_comments_and_writes_owner_only(settings_file: Path) -> None:
    set_setting(settings_file, "environment", "sim", environ={})
    backup = settings_file.with_name("settings.toml.bak")
    assert backup.read_text() == ORIGINAL
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_invalid_change_is_refused_and_the_file_is_untouched(settings_file: Path) -> None:
    with pytest.raises(SettingsError, match=r"^settings.toml:\d+: \[defaults\] edge_cents = 99"):
        set_setting(settings_file, "defaults.edge_cents", 99, environ={})
    assert settings_file.read_text() == ORIGINAL
    assert not settings_file.with_name("settings.toml.bak").exists()


def test_key_material_is_never_written(settings_file: Path) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----\n"

    def sneak(doc: dict[str, object]) -> None:
        doc["matches"][0]["name"] = pem  # type: ignore[index]

    with pytest.raises(SettingsError, match="looks like private key material"):
        edit_settings(settings_file, sneak, environ={})
    with pytest.raises(SettingsError):
        set_setting(settings_file, "kalshi.private_key_path", pem, environ={})
    assert settings_file.read_text() == ORIGINAL


def test_env_var_odds_keys_are_not_written_into_the_file(settings_file: Path) -> None:
    env = {"KMM_ODDSPAPI_KEY": "env-only-oddspapi-key"}
    after = set_setting(settings_file, "odds.max_age_s", 60, environ=env)
    assert after.odds.oddspapi_key == "env-only-oddspapi-key"
    assert "env-only-oddspapi-key" not in settings_file.read_text()
    assert "file-odds-key-0001" in settings_file.read_text()  # the user's own line survives


def test_save_match_adds_then_replaces_by_name(settings_file: Path) -> None:
    before = load_settings(settings_file, environ={})
    new = SavedMatch(
        name="Third",
        ticker_a="KX-E",
        ticker_b="KX-F",
        odds_a=Decimal("2.10"),
        odds_b=Decimal("1.75"),
        devig=DevigMethod.POWER,
        settings=replace(before.defaults, edge_cents=Decimal("2.5")),
        overridden=frozenset({"edge_cents"}),
    )
    added = save_match(settings_file, new, environ={})
    assert [m.name for m in added.matches] == ["first", "second", "Third"]
    third = added.matches[2]
    assert third.odds_a == Decimal("2.10") and third.devig is DevigMethod.POWER
    assert third.settings.edge_cents == Decimal("2.5")
    assert third.settings.contracts == before.defaults.contracts  # not overridden: follows [defaults]
    raw_third = _raw(settings_file)["matches"][2]  # type: ignore[index]
    assert set(raw_third) == {"name", "ticker_a", "ticker_b", "odds_a", "odds_b", "devig", "edge_cents"}
    replaced = save_match(settings_file, replace(new, name="third", odds_a=Decimal("2.2")), environ={})
    assert [m.name for m in replaced.matches] == ["first", "second", "third"]
    assert replaced.matches[2].odds_a == Decimal("2.2")
    assert replaced.matches[:2] == before.matches


def test_saved_match_round_trips_theo_and_overrides(settings_file: Path) -> None:
    second = load_settings(settings_file, environ={}).matches[1]
    table = second.to_toml()
    assert table == {
        "name": "second",
        "ticker_a": "KX-C",
        "ticker_b": "KX-D",
        "theo_a": Decimal("48.25"),
        "theo_b": Decimal("51.75"),
    }
    first = load_settings(settings_file, environ={}).matches[0]
    assert first.to_toml()["contracts"] == 3
    assert set(first.to_toml()) - {"name", "ticker_a", "ticker_b", "odds_a", "odds_b"} == {"contracts"}
    assert "contracts" in DEFAULT_FIELDS


def test_remove_match(settings_file: Path) -> None:
    after = remove_match(settings_file, "FIRST", environ={})
    assert [m.name for m in after.matches] == ["second"]
    with pytest.raises(SettingsError, match='no saved match is named "nope"'):
        remove_match(settings_file, "nope", environ={})
    after = remove_match(settings_file, "second", environ={})
    assert after.matches == ()
    assert "matches" not in _raw(settings_file)


def test_set_key_binding(settings_file: Path) -> None:
    after = set_key_binding(settings_file, "help", "f2", environ={})
    assert dict(after.keys) == {"kill_all": "ctrl+k", "help": "f2"}
    with pytest.raises(SettingsError, match='"ctrl\\+k" is bound to both kill_all and quit'):
        set_key_binding(settings_file, "quit", "ctrl+k", environ={})


def test_first_save_creates_the_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "kmm" / "settings.toml"
    settings = set_setting(path, "defaults.contracts", 4, environ={})
    assert settings.source == path
    assert settings.defaults.contracts == 4
    assert path.read_text() == "[defaults]\ncontracts = 4\n"


def test_setting_none_deletes_the_key(settings_file: Path) -> None:
    after = set_setting(settings_file, "defaults.fee_aware", None, environ={})
    assert after.defaults.fee_aware is True  # back to the default: fee-aware
    assert "fee_aware" not in _raw(settings_file)["defaults"]  # type: ignore[operator]


def test_saving_the_example_file_keeps_all_its_values(tmp_path: Path) -> None:
    copy = tmp_path / "settings.toml"
    copy.write_text((REPO / "settings.toml").read_text())
    before = load_settings(copy, environ={})
    after = set_setting(copy, "kalshi.tier", "expert", environ={})
    assert replace(after, kalshi=before.kalshi) == before
