"""State/config locations and the log file: precedence, privacy and redaction of secrets."""

from __future__ import annotations

import logging
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmm_tui import logsetup
from kmm_tui.logsetup import redact, register_secret, setup_logging, teardown_logging
from kmm_tui.paths import default_settings_path, ensure_private_dir, log_file, settings_path, state_dir

# --- paths -----------------------------------------------------------------------------------------


def test_state_dir_precedence(tmp_path: Path) -> None:
    env = {"KMM_STATE_DIR": str(tmp_path / "env"), "XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert state_dir(tmp_path / "flag", env) == tmp_path / "flag"
    assert state_dir(None, env) == tmp_path / "env"
    assert state_dir(None, {"XDG_STATE_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "kmm"
    assert state_dir(None, {"KMM_STATE_DIR": "  "}).name == "kmm"  # blank means unset


def test_settings_path_precedence(tmp_path: Path) -> None:
    env = {"KMM_CONFIG": str(tmp_path / "env.toml"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert settings_path(tmp_path / "flag.toml", env) == (tmp_path / "flag.toml", True)
    assert settings_path(None, env) == (tmp_path / "env.toml", True)
    xdg_only = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert settings_path(None, xdg_only) == (tmp_path / "cfg" / "kmm" / "settings.toml", False)
    assert default_settings_path(xdg_only) == tmp_path / "cfg" / "kmm" / "settings.toml"


# --- redaction -------------------------------------------------------------------------------------

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx7...\nabc==\n-----END RSA PRIVATE KEY-----"
SIGNATURE = "kX9" + "A" * 338 + "w=="


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"loaded key {PEM} ok", "MIIEpAIBAAKCAQEAx7"),
        ("truncated -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq", "MIIEvQIBADANBgkq"),
        (f"headers {{'KALSHI-ACCESS-SIGNATURE': '{SIGNATURE[:40]}'}}", SIGNATURE[:40]),
        (f"KALSHI-ACCESS-SIGNATURE={SIGNATURE[:20]}", SIGNATURE[:20]),
        (f"body {SIGNATURE}", SIGNATURE),
        (
            "GET https://api.the-odds-api.com/v4/sports/x/odds?apiKey=0123456789abcdef&regions=us",
            "0123456789abcdef",
        ),
        ('{"x-api-key": "sgo-secret-value"}', "sgo-secret-value"),
        ("the_odds_api_key = 'abc123secret'", "abc123secret"),
        ("Authorization: Bearer tok-123456", "tok-123456"),
    ],
)
def test_redact_masks_secrets(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "REDACTED" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = (
        "order 0b7f5c2e-7b40-4d1e-9c55-1e2f3a4b5c6d on KXNBAGAME-26NOV28BOSNYK-BOS at 0.5500 x 10.00; "
        "key_id=4f1c8a2e-1111-2222-3333-444455556666 private_key_path=/home/u/.kalshi/key.pem"
    )
    assert redact(text) == text


def test_registered_secret_is_masked_anywhere() -> None:
    register_secret("d2f0c0ffee5ecret")
    assert redact("odds key d2f0c0ffee5ecret used") == "odds key [REDACTED] used"
    register_secret("short")  # too short to mask safely: ignored
    assert redact("a short word") == "a short word"


# --- log file --------------------------------------------------------------------------------------


@pytest.fixture
def logging_to(tmp_path: Path) -> Iterator[Path]:
    path = setup_logging(tmp_path / "state")
    yield path
    teardown_logging()


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_logs_go_to_a_private_file_under_the_state_dir(tmp_path: Path, logging_to: Path) -> None:
    assert logging_to == log_file(tmp_path / "state") == tmp_path / "state" / "logs" / "kmm.log"
    logging.getLogger("kmm.test").info("hello %s", "file")
    _flush()
    assert "INFO    kmm.test: hello file" in logging_to.read_text()
    assert stat.S_IMODE(logging_to.stat().st_mode) == 0o600
    assert stat.S_IMODE(logging_to.parent.stat().st_mode) == 0o700


def test_log_records_are_redacted_including_args_and_tracebacks(logging_to: Path) -> None:
    log = logging.getLogger("kmm.test")
    log.warning("signing with %s", PEM)
    try:
        raise ValueError(f"bad signature KALSHI-ACCESS-SIGNATURE: {SIGNATURE}")
    except ValueError:
        log.exception("request failed")
    _flush()
    text = logging_to.read_text()
    assert "MIIEpAIBAAKCAQEAx7" not in text
    assert SIGNATURE[:40] not in text
    assert "[REDACTED PEM]" in text and "request failed" in text and "ValueError" in text


def test_nothing_is_logged_to_the_terminal(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    stray = logging.StreamHandler()  # what a library's basicConfig would add: stderr
    root.addHandler(stray)
    try:
        path = setup_logging(tmp_path / "state")
        assert stray not in root.handlers
        logging.getLogger("kmm.test").error("only in the file")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a library warning", UserWarning, stacklevel=1)
        _flush()
        out, err = capfd.readouterr()
        assert out == "" and err == ""
        text = path.read_text()
        assert "only in the file" in text and "a library warning" in text
    finally:
        root.removeHandler(stray)
        teardown_logging()


def test_while_the_engine_process_rotates_the_log_the_app_follows_the_name(logging_to: Path) -> None:
    """Both kmm processes write kmm.log; only the engine's rotates it. The app's lines land in whichever
    file holds the name (never in the renamed one), and redaction still applies."""
    log = logging.getLogger("kmm.test")
    restore = logsetup.yield_rotation()
    try:
        log.info("before the rotation")
        _flush()
        logging_to.rename(logging_to.with_name("kmm.log.1"))  # what the engine's handler does
        logging_to.touch()
        log.warning("after the rotation, signing with %s", PEM)
        _flush()
        assert "before the rotation" in logging_to.with_name("kmm.log.1").read_text()
        text = logging_to.read_text()
        assert "after the rotation" in text and "MIIEpAIBAAKCAQEAx7" not in text
    finally:
        restore()
    names = [h.get_name() for h in logging.getLogger().handlers]
    assert names.count("kmm-file") == 1
    logging_to.rename(logging_to.with_name("kmm.log.2"))
    log.info("the app rotates again")
    _flush()
    assert "the app rotates again" in logging_to.read_text()


def test_setup_twice_keeps_one_kmm_handler(tmp_path: Path) -> None:
    try:
        setup_logging(tmp_path / "a")
        setup_logging(tmp_path / "b")
        names = [h.get_name() for h in logging.getLogger().handlers]
        assert names.count("kmm-file") == 1
    finally:
        teardown_logging()
    assert "kmm-file" not in [h.get_name() for h in logging.getLogger().handlers]
    assert logsetup.BACKUP_COUNT > 0


def test_private_dirs_include_every_parent_kmm_creates_whatever_the_umask(tmp_path: Path) -> None:
    """Only the last directory used to be 0700: parents came out 0755 and exposed the journal's name."""
    previous = os.umask(0o022)
    try:
        ensure_private_dir(tmp_path / "a" / "b" / "state")
    finally:
        os.umask(previous)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "state"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    tmp_path.chmod(0o755)
    ensure_private_dir(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755, "an existing directory keeps its mode"


def test_a_file_in_the_way_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        ensure_private_dir(tmp_path / "file" / "state")
