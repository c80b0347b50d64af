"""The failure contract of docs/cli.md, for every subcommand, on the real console script.

Table: each command × {bad flag, missing key, unreachable simulator, Ctrl-C}. The contract: a user
mistake exits 2 with exactly one line ``kmm <command>: <what is wrong> — <how to fix>`` (no usage
block); an interrupted command exits 130 with ``kmm <command>: interrupted`` or its own clean-stop
output; nothing ever prints a traceback. A command that needs no key must not ask for one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kmm_tui.sim import SimServer
from tests.cli.procs import ONE_LINE, Finished, SilentServer, closed_port, run_kmm, started

RUN_FLAGS = ("--ticker-a", "KX-A", "--ticker-b", "KX-B", "--theo-a", "60", "--theo-b", "40")


@dataclass(frozen=True)
class Command:
    label: str  # the message prefix after "kmm"; "" for the app
    argv: tuple[str, ...]  # a command line that is complete except for the exchange
    needs_key: bool  # trades or reads the account: demo without a key is a user error


COMMANDS = {
    "app": Command("", (), True),
    "run": Command("run", ("run", *RUN_FLAGS), True),
    "scan": Command("scan", ("scan", "--mode", "all"), False),
    "odds": Command("odds coverage", ("odds", "coverage"), False),
    "sim": Command("sim", ("sim", "--port", "0"), False),
    "serve": Command("serve", ("serve", "--port", "0"), True),
    "check": Command("check", ("check",), True),
    "journal": Command("journal", ("journal",), False),
}


def prefix(command: Command) -> str:
    return f"kmm {command.label}: " if command.label else "kmm: "


def assert_user_error(result: Finished, command: Command, fragment: str) -> None:
    assert result.code == 2, result
    assert ONE_LINE.fullmatch(result.err), result.err
    assert result.err.startswith(prefix(command)) and fragment in result.err, result.err
    assert "usage:" not in result.err and "Traceback" not in result.out + result.err


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[str]:
    async with SimServer(agents=False, state_dir=tmp_path / "sim-owner") as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.mark.parametrize("name", COMMANDS)
async def test_bad_flag(name: str, tmp_path: Path) -> None:
    command = COMMANDS[name]
    result = await run_kmm(tmp_path, *command.argv, "--bogus")
    assert_user_error(result, command, "unrecognized arguments: --bogus — see `kmm ")


@pytest.mark.parametrize("name", COMMANDS)
async def test_missing_key(name: str, tmp_path: Path, sim: str) -> None:
    command = COMMANDS[name]
    if command.needs_key:
        result = await run_kmm(tmp_path, "--env", "demo", *command.argv)
        assert_user_error(result, command, "demo needs a Kalshi API key — set key_id under [kalshi]")
    elif name == "journal":  # reads local files: the environment picks the journal, no key is asked
        result = await run_kmm(tmp_path, "--env", "demo", *command.argv)
        assert_user_error(result, command, "no demo journal at ")
        assert "API key" not in result.err
    elif name == "sim":  # the simulator makes its own key in the state dir
        async with started(tmp_path, *command.argv) as process:
            line = await process.wait_for_line(r"^Demo key file ")
            finished = await process.interrupt()
        assert str(tmp_path / "state" / "sim") in line
        assert finished.code == 130 and "Traceback" not in finished.err, finished
    else:  # public market data: no key, and none asked for
        result = await run_kmm(tmp_path, *command.argv, "--sim-url", sim)
        assert result.code == 0 and "Traceback" not in result.err, result
        if name == "odds":
            assert "no key: set [odds] the_odds_api_key" in result.out
        else:
            assert "KXNBAGAME-" in result.out


@pytest.mark.parametrize("name", COMMANDS)
async def test_unreachable_sim(name: str, tmp_path: Path) -> None:
    command = COMMANDS[name]
    url = f"http://127.0.0.1:{closed_port()}"
    result = await run_kmm(tmp_path, *command.argv, "--sim-url", url)
    if name == "sim":
        assert_user_error(result, command, "`kmm sim` is the simulator")
    else:
        assert_user_error(result, command, f"nothing answers at --sim-url {url}")
        assert "start `kmm sim` there first" in result.err


@pytest.mark.parametrize("name", COMMANDS)
async def test_ctrl_c(name: str, tmp_path: Path) -> None:
    """Interrupted mid-request (a simulator that accepts and never answers), or while serving."""
    command = COMMANDS[name]
    if name == "sim":
        async with started(tmp_path, *command.argv) as process:
            await process.wait_for_line("Ctrl-C to stop")
            finished = await process.interrupt()
        assert finished.code == 130 and "Traceback" not in finished.err, finished
        return
    async with SilentServer() as silent, started(tmp_path, *command.argv, "--sim-url", silent.url) as process:
        await asyncio.wait_for(silent.connected.wait(), 60)
        finished = await process.interrupt()
    assert finished.code == 130, finished
    assert finished.err == f"{prefix(command)}interrupted\n"
    assert not re.search("Traceback|Error", finished.out)
