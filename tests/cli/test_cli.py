"""``kmm``: help and version, settings errors as one line, environment gates, dispatch, pipes."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui import __version__, cli
from kmm_tui.config import EnvName, Settings, UserError
from kmm_tui.logsetup import teardown_logging
from tests.config.keyfiles import write_key

REPO = Path(__file__).resolve().parents[2]
KMM = REPO / ".venv" / "bin" / "kmm"
SUBCOMMANDS = ("run", "scan", "odds", "sim", "serve", "check", "journal")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """No real config, state or odds keys; the log file goes to tmp_path."""
    for name in ("KMM_CONFIG", "KMM_ODDS_API_KEY", "KMM_ODDSPAPI_KEY", "KMM_SPORTSGAMEODDS_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "KMM_STATE_DIR": str(tmp_path / "state"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    teardown_logging()


@pytest.fixture
def fake_handlers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[argparse.Namespace, Settings]]:
    """Route every command to an in-memory module that records its calls."""
    calls: list[tuple[argparse.Namespace, Settings]] = []
    module = types.ModuleType("kmm_fake_handlers")

    def main(args: argparse.Namespace, settings: Settings) -> int:
        calls.append((args, settings))
        return 0

    def boom(args: argparse.Namespace, settings: Settings) -> int:
        raise RuntimeError("disk on fire; KALSHI-ACCESS-SIGNATURE: c2VjcmV0c2lnbmF0dXJlYmFzZTY0")

    def user_error(args: argparse.Namespace, settings: Settings) -> int:
        raise UserError("market KX-A is closed; pick another match")

    def pipe(args: argparse.Namespace, settings: Settings) -> int:
        raise BrokenPipeError

    async def async_main(args: argparse.Namespace, settings: Settings) -> int:
        calls.append((args, settings))
        return 3

    module.main = main  # type: ignore[attr-defined]
    module.boom = boom  # type: ignore[attr-defined]
    module.user_error = user_error  # type: ignore[attr-defined]
    module.pipe = pipe  # type: ignore[attr-defined]
    module.async_main = async_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kmm_fake_handlers", module)
    for command in cli.HANDLERS:
        monkeypatch.setitem(cli.HANDLERS, command, "kmm_fake_handlers:main")
    monkeypatch.setattr(cli, "TUI_HANDLER", "kmm_fake_handlers:main")
    return calls


def _write_settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def _key_settings(tmp_path: Path, *, environment: str = "demo") -> Path:
    key = write_key(tmp_path / "key.pem")
    return _write_settings(
        tmp_path,
        f'environment = "{environment}"\n[kalshi]\nkey_id = "4f1c8a2e-1111-2222-3333-444455556666"\n'
        f'private_key_path = "{key}"\n',
    )


# --- help and version -------------------------------------------------------------------------------


def test_help_lists_every_subcommand_with_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert f"    {command} " in out, command
        assert cli.COMMAND_SUMMARIES[command].split()[0] in out
    assert "With no" in out and "COMMAND, opens the terminal app" in out.replace("\n", " ").replace("  ", " ")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["odds", "coverage", "--help"] if command == "odds" else [command, "--help"]
    assert cli.main(argv) == 0
    assert "usage: kmm" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kmm {__version__}"


# --- argument validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B"], "no fair value given"),
        (
            ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-a", "1.9"],
            "--odds-a and --odds-b go together",
        ),
        (["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-a", "0.9", "--odds-b", "2"], "above 1"),
        (
            ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--theo-a", "60", "--theo-b", "50"],
            "is more than 100 cents",
        ),
        (
            [
                "run",
                "--ticker-a",
                "KX-A",
                "--ticker-b",
                "KX-B",
                "--theo-a",
                "50",
                "--theo-b",
                "50",
                "--odds-a",
                "2",
                "--odds-b",
                "2",
            ],
            "more than one fair value given",
        ),
        (
            ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-A", "--theo-a", "50", "--theo-b", "50"],
            "are the same market",
        ),
        (
            ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--theo-a", "50.123", "--theo-b", "5"],
            "precision",
        ),
        (
            [
                "run",
                "--ticker-a",
                "KX-A",
                "--ticker-b",
                "KX-B",
                "--theo-a",
                "5",
                "--theo-b",
                "5",
                "--edge",
                "x",
            ],
            "not a number",
        ),
        (
            [
                "run",
                "--ticker-a",
                "KX-A",
                "--ticker-b",
                "KX-B",
                "--theo-a",
                "5",
                "--theo-b",
                "5",
                "--contracts",
                "10",
                "--inventory-max",
                "5",
            ],
            "--inventory-max is below --contracts",
        ),
        (["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--theo-a", "55", "--edge", "0"], "0.1 to 50"),
        (["sim", "--port", "70000"], "outside 0..65535"),
        (["sim", "--time-scale", "0"], "time scale"),
        (["scan", "--mode", "today"], "invalid choice"),
        (["check", "--sim-url", "localhost"], "is not a URL"),
        (
            ["--env", "demo", "check", "--sim-url", "http://127.0.0.1:1"],
            "--sim-url only applies to the sim environment",
        ),
        (["odds"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_usage_dump(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1 and "usage:" not in err and "Traceback" not in err
    assert re.fullmatch(r"kmm( [a-z ]+)?: .+ — .+\n", err) and err.count(" — ") == 1, err


def test_run_arguments_arrive_as_exact_decimals(
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
) -> None:
    argv = [
        "run",
        "--ticker-a",
        "kx-a",
        "--ticker-b",
        "KX-B",
        "--theo-a",
        "55.5",
        "--theo-b",
        "44",
        "--edge",
        "1.5",
        "--contracts",
        "10",
        "--inventory-max",
        "25.5",
        "--dry-run",
        "--api",
        "9000",
    ]
    assert cli.main(argv) == 0
    ((args, settings),) = fake_handlers
    assert (args.ticker_a, args.ticker_b) == ("KX-A", "KX-B")
    # exact Decimals in the units the user typed (cents, contracts): handlers convert once
    assert (args.theo_a, args.theo_b, args.edge) == (Decimal("55.5"), Decimal("44"), Decimal("1.5"))
    assert (args.contracts, args.inventory_max) == (Decimal("10"), Decimal("25.5"))
    assert all(type(v) is Decimal for v in (args.theo_a, args.edge, args.contracts))
    assert args.dry_run is True and args.api == 9000
    assert args.environment.name is EnvName.SIM
    assert isinstance(settings, Settings)


def test_odds_are_exact_decimals(fake_handlers: list[tuple[argparse.Namespace, Settings]]) -> None:
    argv = ["run", "--ticker-a", "KX-A", "--ticker-b", "KX-B", "--odds-a", "1.1", "--odds-b", "7.3"]
    assert cli.main(argv) == 0
    args = fake_handlers[0][0]
    assert args.odds_a == Decimal("1.1") and type(args.odds_a) is Decimal


def test_global_options_work_before_and_after_the_command(
    tmp_path: Path, fake_handlers: list[tuple[argparse.Namespace, Settings]]
) -> None:
    config = _write_settings(tmp_path, "[defaults]\ncontracts = 3\n")
    assert cli.main(["scan", "--config", str(config), "--env", "demo", "--json"]) == 0
    assert cli.main(["--config", str(config), "scan", "--series", "kxnbagame", "--sport", "nba"]) == 0
    first, second = (args for args, _ in fake_handlers)
    assert first.json is True and first.environment.name is EnvName.DEMO
    assert second.series == ["KXNBAGAME"] and second.sport == ["nba"]
    assert fake_handlers[0][1].defaults.contracts == 3 and fake_handlers[1][1].source == config


def test_no_command_opens_the_tui(fake_handlers: list[tuple[argparse.Namespace, Settings]]) -> None:
    assert cli.main([]) == 0
    args = fake_handlers[0][0]
    assert args.command == "tui" and args.environment.name is EnvName.SIM


def test_odds_coverage_and_sim_and_journal_dispatch(
    tmp_path: Path, fake_handlers: list[tuple[argparse.Namespace, Settings]]
) -> None:
    assert cli.main(["odds", "coverage"]) == 0
    argv = ["sim", "--port", "0", "--seed", "7", "--time-scale", "2.5", "--scenario", "nba"]
    assert cli.main(argv) == cli.EXIT_INTERRUPTED, "`kmm sim` serves until Ctrl-C: its return is an interrupt"
    assert cli.main(["journal", "--match", "x", "--csv", str(tmp_path / "f.csv")]) == 0
    odds, sim, journal = (args for args, _ in fake_handlers)
    assert odds.odds_command == "coverage"
    assert (sim.port, sim.seed, sim.time_scale, sim.scenario) == (0, 7, 2.5, "nba")
    assert sim.environment is None
    assert journal.csv == tmp_path / "f.csv"
    assert journal.state_dir == Path(os.environ["KMM_STATE_DIR"])


def test_async_handler_is_awaited(
    monkeypatch: pytest.MonkeyPatch, fake_handlers: list[tuple[argparse.Namespace, Settings]]
) -> None:
    monkeypatch.setitem(cli.HANDLERS, "journal", "kmm_fake_handlers:async_main")
    assert cli.main(["journal"]) == 3
    assert len(fake_handlers) == 1


# --- errors -----------------------------------------------------------------------------------------


def test_settings_error_is_one_line_on_stderr_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_settings(tmp_path, "[defaults]\nedge_cent = 2\n")
    assert cli.main(["--config", str(config), "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        'kmm check: settings.toml:2: unknown key "edge_cent" in [defaults]; did you mean "edge_cents"?\n'
    )


def test_missing_named_settings_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kmm: ") and "settings file not found" in err and err.count("\n") == 1


def test_missing_handler_module_says_not_available(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.HANDLERS, "scan", "kmm_tui.no_such_layer.cli:main")
    assert cli.main(["scan"]) == 2
    assert capsys.readouterr().err == (
        "kmm scan: `scan` is not available in this build (kmm_tui.no_such_layer.cli is missing)\n"
    )


def test_handler_user_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(cli.HANDLERS, "journal", "kmm_fake_handlers:user_error")
    assert cli.main(["journal"]) == 2
    assert capsys.readouterr().err == "kmm journal: market KX-A is closed; pick another match\n"


def test_unexpected_error_is_logged_and_summarised(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(cli.HANDLERS, "journal", "kmm_fake_handlers:boom")
    assert cli.main(["journal"]) == 1
    err = capsys.readouterr().err
    log_path = tmp_path / "state" / "logs" / "kmm.log"
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("kmm journal: unexpected error (RuntimeError: disk on fire;")
    assert f"details in {log_path}" in err
    assert "c2VjcmV0c2lnbmF0dXJlYmFzZTY0" not in err
    for handler in __import__("logging").getLogger().handlers:
        handler.flush()
    text = log_path.read_text()
    assert "Traceback" in text and "RuntimeError" in text
    assert "c2VjcmV0c2lnbmF0dXJlYmFzZTY0" not in text


def test_broken_pipe_exits_quietly(
    monkeypatch: pytest.MonkeyPatch,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(cli.HANDLERS, "scan", "kmm_fake_handlers:pipe")
    monkeypatch.setattr(cli, "_silence_stdout", lambda: None)  # capsys' stdout has no real descriptor
    assert cli.main(["scan", "--json"]) == cli.EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def test_unwritable_state_dir_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert cli.main(["--state-dir", str(blocker / "state"), "check"]) == 2
    err = capsys.readouterr().err
    assert "cannot write logs under" in err and "choose another --state-dir" in err


# --- environments -----------------------------------------------------------------------------------


def test_check_in_demo_without_keys_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--env", "demo", "check"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("kmm check: demo needs a Kalshi API key — set key_id under [kalshi]")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_check_in_demo_without_keys_via_the_console_script(tmp_path: Path, isolated: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMM_")}
    env.update(isolated)
    result = subprocess.run(
        [str(KMM), "check", "--env", "demo"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kmm check: demo needs a Kalshi API key")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_prod_without_live_is_refused(
    tmp_path: Path,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _key_settings(tmp_path, environment="prod")
    assert (
        cli.main(
            [
                "--config",
                str(config),
                "run",
                "--ticker-a",
                "A",
                "--ticker-b",
                "B",
                "--theo-a",
                "50",
                "--theo-b",
                "50",
            ]
        )
        == 2
    )
    assert "trades real money — add --live" in capsys.readouterr().err
    assert fake_handlers == []


def test_prod_with_live_asks_for_the_word_and_refuses_anything_else(
    tmp_path: Path,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _key_settings(tmp_path, environment="demo")
    prompts: list[str] = []

    def answer(text: str) -> object:
        def read_line(prompt: str) -> str:
            prompts.append(prompt)
            return text

        return read_line

    argv = ["--config", str(config), "--env", "prod", "--live"]
    assert cli.main(argv, read_line=answer("yes")) == 2  # type: ignore[arg-type]
    assert "live trading not confirmed; nothing was sent" in capsys.readouterr().err
    assert fake_handlers == []
    assert cli.main(argv, read_line=answer("LIVE")) == 0  # type: ignore[arg-type]
    args = fake_handlers[0][0]
    assert args.environment.is_live and args.environment.name is EnvName.PROD
    assert len(prompts) == 2 and "Type LIVE" in prompts[0]


def test_public_commands_use_prod_hosts_without_keys_or_live(
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
) -> None:
    assert cli.main(["--env", "prod", "scan"]) == 0
    environment = fake_handlers[0][0].environment
    assert environment.name is EnvName.PROD and environment.key_id is None


def test_group_readable_key_prints_a_warning(
    tmp_path: Path,
    fake_handlers: list[tuple[argparse.Namespace, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _key_settings(tmp_path)
    (tmp_path / "key.pem").chmod(0o640)
    assert (
        cli.main(
            [
                "--config",
                str(config),
                "run",
                "--ticker-a",
                "A",
                "--ticker-b",
                "B",
                "--theo-a",
                "50",
                "--theo-b",
                "50",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert err.startswith("kmm run: warning: key file") and f"chmod 600 {tmp_path / 'key.pem'}" in err
