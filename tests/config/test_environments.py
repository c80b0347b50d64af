"""Environment resolution: sim by default, demo needs a key, prod needs a key, --live and LIVE."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kmm_tui.config import EnvName, Settings, load_settings_text
from kmm_tui.environments import (
    DEMO_REST_URL,
    DEMO_WS_URL,
    LIVE_PROMPT,
    PROD_REST_URL,
    EnvironmentSetupError,
    confirm_live,
    resolve_environment,
    sim_urls,
)
from tests.config.keyfiles import write_key


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return write_key(tmp_path / "demo.pem")


def _settings(extra: str = "", key_path: Path | None = None) -> Settings:
    kalshi = '[kalshi]\nkey_id = "4f1c8a2e-1111-2222-3333-444455556666"\n'
    if key_path is not None:
        kalshi += f'private_key_path = "{key_path}"\n'
    return load_settings_text(kalshi + extra, environ={})


def test_default_is_sim_with_no_keys() -> None:
    env = resolve_environment(load_settings_text("", environ={}))
    assert env.name is EnvName.SIM
    assert (env.rest_url, env.ws_url, env.key_id, env.key_path, env.is_live) == (
        None,
        None,
        None,
        None,
        False,
    )


def test_sim_url_gives_both_urls() -> None:
    env = resolve_environment(load_settings_text("", environ={}), sim_url="http://127.0.0.1:8765/")
    assert env.rest_url == "http://127.0.0.1:8765/trade-api/v2"
    assert env.ws_url == "ws://127.0.0.1:8765/trade-api/ws/v2"
    assert sim_urls("http://127.0.0.1:9/trade-api/v2") == (
        "http://127.0.0.1:9/trade-api/v2",
        "ws://127.0.0.1:9/trade-api/ws/v2",
    )
    with pytest.raises(EnvironmentSetupError, match="is not a URL"):
        sim_urls("127.0.0.1:8765")
    with pytest.raises(EnvironmentSetupError, match="has path '/other'"):
        sim_urls("http://127.0.0.1:8765/other")


def test_demo_with_key_resolves_to_demo_hosts(key_file: Path) -> None:
    env = resolve_environment(_settings(key_path=key_file), "demo")
    assert env.name is EnvName.DEMO
    assert (env.rest_url, env.ws_url) == (DEMO_REST_URL, DEMO_WS_URL)
    assert env.key_id == "4f1c8a2e-1111-2222-3333-444455556666"
    assert env.key_path == key_file
    assert env.is_live is False and env.warnings == ()


def test_environment_from_settings_and_flag_wins(key_file: Path) -> None:
    settings = load_settings_text(
        f'environment = "demo"\n[kalshi]\nkey_id = "k"\nprivate_key_path = "{key_file}"\n', environ={}
    )
    assert resolve_environment(settings).name is EnvName.DEMO
    assert resolve_environment(settings, "sim").name is EnvName.SIM


def test_demo_without_key_id_says_what_to_set() -> None:
    with pytest.raises(
        EnvironmentSetupError, match=r"demo needs a Kalshi API key — set key_id under \[kalshi\]"
    ):
        resolve_environment(load_settings_text("", environ={}), "demo")


def test_demo_without_key_path_says_what_to_set() -> None:
    with pytest.raises(EnvironmentSetupError, match="set private_key_path under"):
        resolve_environment(_settings(), "demo")


def test_missing_key_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(EnvironmentSetupError, match=f"key file {missing} does not exist"):
        resolve_environment(_settings(key_path=missing), "demo")


def test_key_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentSetupError, match="is not a file"):
        resolve_environment(_settings(key_path=tmp_path), "demo")


def test_unreadable_key_file(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file.chmod(0o000)
    if os.geteuid() == 0:  # root reads anything: make the open fail the way it does for a user
        real_open = Path.open

        def deny(self: Path, *args: object, **kwargs: object) -> object:
            if self == key_file:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", deny)
    try:
        with pytest.raises(
            EnvironmentSetupError, match=f"not readable by this user; run: chmod 600 {key_file}"
        ):
            resolve_environment(_settings(key_path=key_file), "demo")
    finally:
        key_file.chmod(0o600)


def test_group_readable_key_file_is_a_warning_not_an_error(key_file: Path) -> None:
    key_file.chmod(0o644)
    env = resolve_environment(_settings(key_path=key_file), "demo")
    assert len(env.warnings) == 1
    assert f"chmod 600 {key_file}" in env.warnings[0]


def test_prod_without_live_is_refused(key_file: Path) -> None:
    with pytest.raises(EnvironmentSetupError, match="trades real money — add --live"):
        resolve_environment(_settings(key_path=key_file), "prod")


def test_prod_with_live_and_keys(key_file: Path) -> None:
    env = resolve_environment(_settings(key_path=key_file), "prod", live=True)
    assert env.is_live and env.rest_url == PROD_REST_URL


def test_prod_public_data_needs_neither_keys_nor_live() -> None:
    env = resolve_environment(load_settings_text("", environ={}), "prod", require_keys=False)
    assert env.rest_url == PROD_REST_URL and env.key_id is None


@pytest.mark.parametrize(
    ("env_name", "url", "fragment"),
    [
        ("prod", "https://demo-api.kalshi.co/trade-api/v2", "is not the production exchange"),
        ("prod", "http://127.0.0.1:8765/trade-api/v2", "is not the production exchange"),
        ("demo", "https://api.elections.kalshi.com/trade-api/v2", "is the PRODUCTION exchange"),
    ],
)
def test_url_override_for_the_wrong_environment_is_refused(
    key_file: Path, env_name: str, url: str, fragment: str
) -> None:
    settings = load_settings_text(
        f'[kalshi]\nkey_id = "k"\nprivate_key_path = "{key_file}"\nrest_url = "{url}"\n', environ={}
    )
    with pytest.raises(EnvironmentSetupError, match=fragment):
        resolve_environment(settings, env_name, live=True)


def test_documented_alternative_demo_host_is_allowed(key_file: Path) -> None:
    settings = load_settings_text(
        f'[kalshi]\nkey_id = "k"\nprivate_key_path = "{key_file}"\n'
        'rest_url = "https://demo-api.kalshi.co/trade-api/v2"\n',
        environ={},
    )
    assert resolve_environment(settings, "demo").rest_url == "https://demo-api.kalshi.co/trade-api/v2"


def _answers(*replies: str | BaseException) -> tuple[Callable[[str], str], list[str]]:
    prompts: list[str] = []
    queue = list(replies)

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        reply = queue.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    return read_line, prompts


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("LIVE", True), ("  LIVE\n", True), ("live", False), ("yes", False), ("", False), ("LIVE!", False)],
)
def test_confirm_live_needs_the_exact_word(reply: str, expected: bool) -> None:
    read_line, prompts = _answers(reply)
    assert confirm_live(read_line) is expected
    assert prompts == [LIVE_PROMPT]
    assert "real money" in LIVE_PROMPT and "Type LIVE" in LIVE_PROMPT


@pytest.mark.parametrize("interrupt", [EOFError(), KeyboardInterrupt()])
def test_confirm_live_end_of_input_is_no(interrupt: BaseException) -> None:
    read_line, _ = _answers(interrupt)
    assert confirm_live(read_line) is False


def test_sim_url_outside_sim_is_refused(key_file: Path) -> None:
    settings = load_settings_text(
        f'environment = "demo"\n[kalshi]\nkey_id = "k"\nprivate_key_path = "{key_file}"\n', environ={}
    )
    with pytest.raises(EnvironmentSetupError, match="--sim-url only applies to the sim environment"):
        resolve_environment(settings, sim_url="http://127.0.0.1:8765")


def test_key_file_that_is_not_a_private_key_is_refused_with_the_loaders_fix(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(
        EnvironmentSetupError, match=f"key file {bogus} is not a valid PEM private key; download"
    ):
        resolve_environment(_settings(key_path=bogus), "demo")
