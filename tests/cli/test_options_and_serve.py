"""One option set for every command, and ``kmm serve`` carrying it to every browser session."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmm_tui import cli
from kmm_tui.bootstrap import start_failure
from kmm_tui.kalshi.errors import Unavailable
from kmm_tui.logsetup import teardown_logging
from kmm_tui.serve import session_command
from tests.cli.procs import closed_port
from tests.config.keyfiles import write_key

COMMAND_LINES = {
    "app": [],
    "run": ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--theo-a", "60", "--theo-b", "40"],
    "scan": ["scan"],
    "odds": ["odds", "coverage"],
    "serve": ["serve"],
    "check": ["check"],
    "journal": ["journal"],
}
GLOBAL = ["--env", "sim", "--sim-url", "http://127.0.0.1:8765", "--config", "/c.toml", "--state-dir", "/s",
          "--log-level", "debug"]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("KMM_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("KMM_CONFIG", raising=False)
    yield
    teardown_logging()


@pytest.mark.parametrize("name", COMMAND_LINES)
def test_global_options_parse_the_same_before_and_after_every_command(name: str) -> None:
    command = COMMAND_LINES[name]
    before = cli.build_parser().parse_args([*GLOBAL, *command])
    after = cli.build_parser().parse_args([*command, *GLOBAL])
    for option in ("env", "sim_url", "config", "state_dir", "log_level"):
        assert getattr(before, option) == getattr(after, option) != None, option  # noqa: E711
    json_after = cli.build_parser().parse_args([*command, "--json"])
    assert json_after.json is True


def test_a_sim_url_before_the_command_that_does_not_answer_is_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kmm --sim-url URL scan` used to scan a fresh built-in simulator instead, silently."""
    url = f"http://127.0.0.1:{closed_port()}"
    assert cli.main(["--sim-url", url, "scan"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"kmm scan: nothing answers at --sim-url {url}")


@pytest.mark.parametrize("argv", [["serve", "--json"], ["--json"], ["sim", "--json"]])
def test_json_is_refused_where_there_is_no_machine_output(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--json has no machine-readable output here — use it with check, journal" in err


def test_every_browser_session_gets_the_exchange_and_file_options() -> None:
    args = cli.build_parser().parse_args(
        ["serve", "--demo", "--config", "/c.toml", "--state-dir", "/s", "--log-level", "debug",
         "--adopt-orders"]
    )
    argv = shlex.split(session_command(args, python="/venv/bin/python"))
    assert argv[:2] == ["/venv/bin/python", "-c"]
    assert argv[3:] == ["--config", "/c.toml", "--state-dir", "/s", "--log-level", "debug", "--demo",
                        "--adopt-orders"]
    remote = argparse.Namespace(env="sim", sim_url="http://127.0.0.1:8765", live=False)
    assert shlex.split(session_command(remote, python="p"))[3:] == [
        "--env", "sim", "--sim-url", "http://127.0.0.1:8765"
    ]
    # every session's command line is one the CLI accepts as the app
    parsed = cli.build_parser().parse_args(argv[3:])
    assert parsed.command is None and parsed.demo and parsed.adopt_orders


def test_a_failed_start_does_not_promise_a_retry() -> None:
    """"could not start …; kmm retries" was printed although kmm then exited."""
    error = Unavailable("GET /exchange/status failed (ConnectError)")
    text = start_failure(error, "http://127.0.0.1:1/trade-api/v2")
    assert "retries" not in text and " — run the command again" not in text
    assert text.startswith("could not start on http://127.0.0.1:1/trade-api/v2: GET /exchange/status failed")
    assert text.endswith("— check the network and the exchange status, then run the command again")


def test_odds_feed_without_any_odds_source_is_a_user_error_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = write_key(tmp_path / "key.pem")
    config = tmp_path / "settings.toml"
    config.write_text(
        f'environment = "demo"\n[kalshi]\nkey_id = "4f1c8a2e-1111-2222-3333-444455556666"\n'
        f'private_key_path = "{key}"\n'
    )
    argv = ["--config", str(config), "run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-feed"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("kmm run: --odds-feed needs an odds source — set [odds] the_odds_api_key")
    assert err.count("\n") == 1


def test_odds_feed_is_one_fair_value_among_three(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*COMMAND_LINES["run"], "--odds-feed"]
    assert cli.main(argv) == 2
    assert "more than one fair value given — use one of" in capsys.readouterr().err
