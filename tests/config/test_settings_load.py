"""Loading settings.toml: locations, defaults, exact decimals, env-var keys and the example file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.config import (
    Defaults,
    EnvName,
    SettingsError,
    Tier,
    load_settings,
    load_settings_text,
)
from kmm_tui.domain.prices import contracts, price_from_cents
from kmm_tui.domain.theo import DevigMethod

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "settings.toml"


def test_missing_default_file_means_defaults(clean_env: dict[str, str]) -> None:
    settings = load_settings(environ=clean_env)
    assert settings.source is None
    assert settings.environment is EnvName.SIM
    assert settings.defaults == Defaults()
    assert settings.matches == ()


def test_default_location_is_xdg_config_home(clean_env: dict[str, str]) -> None:
    path = Path(clean_env["XDG_CONFIG_HOME"]) / "kmm" / "settings.toml"
    path.parent.mkdir(parents=True)
    path.write_text('environment = "demo"\n')
    settings = load_settings(environ=clean_env)
    assert settings.source == path
    assert settings.environment is EnvName.DEMO


def test_missing_explicit_file_is_an_error(clean_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError, match=r"settings file not found \(named by --config\)") as err:
        load_settings(missing, environ=clean_env)
    assert str(missing) in str(err.value)


def test_missing_kmm_config_file_is_an_error(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "KMM_CONFIG": str(tmp_path / "gone.toml")}
    with pytest.raises(SettingsError, match=r"named by \$KMM_CONFIG"):
        load_settings(environ=env)


def test_config_flag_wins_over_kmm_config_which_wins_over_default(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    default = Path(clean_env["XDG_CONFIG_HOME"]) / "kmm" / "settings.toml"
    default.parent.mkdir(parents=True)
    default.write_text('environment = "demo"\n')
    from_env = tmp_path / "env.toml"
    from_env.write_text('environment = "prod"\n')
    flag = tmp_path / "flag.toml"
    flag.write_text('environment = "sim"\n')
    env = {**clean_env, "KMM_CONFIG": str(from_env)}
    assert load_settings(environ=clean_env).environment is EnvName.DEMO
    assert load_settings(environ=env).environment is EnvName.PROD
    assert load_settings(flag, environ=env).environment is EnvName.SIM


def test_toml_float_becomes_exact_decimal() -> None:
    settings = load_settings_text(
        "[defaults]\nedge_cents = 1.5\ncontracts = 2.25\nretest_interval_s = 0.1\n", environ={}
    )
    defaults = settings.defaults
    assert type(defaults.edge_cents) is Decimal and defaults.edge_cents == Decimal("1.5")
    assert defaults.edge == price_from_cents("1.5") == 150
    assert defaults.contracts == Decimal("2.25") and defaults.contracts_count == 225
    assert defaults.retest_interval_s == Decimal("0.1") and defaults.retest_interval_ms == 100


def test_numeric_strings_are_accepted_for_decimals() -> None:
    settings = load_settings_text('[defaults]\nedge_cents = "0.75"\n', environ={})
    assert settings.defaults.edge_cents == Decimal("0.75")
    assert settings.defaults.edge == 75


def test_odds_keys_come_from_env_vars_which_win() -> None:
    text = '[odds]\nthe_odds_api_key = "file-key-1234"\noddspapi_key = "file-key-5678"\n'
    env = {
        "KMM_ODDS_API_KEY": "env-key-abcd",
        "KMM_ODDSPAPI_KEY": "  ",
        "KMM_SPORTSGAMEODDS_KEY": "sgo-env-key",
    }
    odds = load_settings_text(text, environ=env).odds
    assert odds.the_odds_api_key == "env-key-abcd"
    assert odds.oddspapi_key == "file-key-5678"  # a blank variable does not override the file
    assert odds.sportsgameodds_key == "sgo-env-key"
    assert load_settings_text(text, environ={}).odds.the_odds_api_key == "file-key-1234"


def test_relative_key_path_is_relative_to_the_settings_file(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "conf" / "settings.toml"
    config.parent.mkdir()
    config.write_text('[kalshi]\nkey_id = "abc"\nprivate_key_path = "keys/demo.pem"\n')
    settings = load_settings(config, environ=clean_env)
    assert settings.kalshi.private_key_path == config.parent.resolve() / "keys" / "demo.pem"
    home = load_settings_text('[kalshi]\nprivate_key_path = "~/k.pem"\n', environ={})
    assert home.kalshi.private_key_path == Path("~/k.pem").expanduser()


def test_example_settings_file_is_valid_and_documented_values_hold(clean_env: dict[str, str]) -> None:
    settings = load_settings(EXAMPLE, environ=clean_env)
    assert settings.environment is EnvName.SIM
    assert settings.kalshi.tier is Tier.BASIC
    assert settings.kalshi.private_key_path == Path("~/.kalshi/kmm-demo.pem").expanduser()
    assert settings.odds.regions == ("us", "eu")
    assert settings.odds.weight("pinnacle") == 3 and settings.odds.weight("fanduel") == 1
    assert settings.odds.devig is DevigMethod.MULTIPLICATIVE
    assert settings.defaults == Defaults()  # the example documents the built-in defaults
    nba, cs2 = settings.matches
    assert nba.odds_a == Decimal("1.80") and nba.odds_b == Decimal("2.08")
    assert nba.devig is DevigMethod.POWER
    assert nba.settings.edge == 150 and nba.overridden == frozenset({"edge_cents"})
    assert nba.settings.contracts_count == contracts(10)  # inherited from [defaults]
    assert cs2.theo_a == 5550 and cs2.theo_b == 4450
    assert cs2.settings.contracts_count == contracts(5)
    assert settings.match("cs2 EXAMPLE") is cs2


def test_match_overrides_apply_on_top_of_defaults() -> None:
    text = (
        "[defaults]\nedge_cents = 3\ncontracts = 4\n\n"
        '[[matches]]\nname = "m"\nticker_a = "A-X"\nticker_b = "A-Y"\ntheo_a = 50\ntheo_b = 50\n'
        "contracts = 2\nfee_aware = true\n"
    )
    match = load_settings_text(text, environ={}).matches[0]
    assert match.settings.edge_cents == 3
    assert match.settings.contracts == 2
    assert match.settings.fee_aware is True
    assert match.overridden == frozenset({"contracts", "fee_aware"})


def test_start_margin_converts_to_exact_milliseconds() -> None:
    defaults = load_settings_text("[defaults]\nstart_margin_minutes = 2.5\n", environ={}).defaults
    assert defaults.start_margin_ms == 150_000
