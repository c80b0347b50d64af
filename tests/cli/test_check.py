"""``kmm check`` end to end against the simulator over loopback: success and every clear failure."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kmm_tui import cli
from kmm_tui.logsetup import teardown_logging
from kmm_tui.sim.server import SimServer
from tests.config.keyfiles import write_key


@dataclass(frozen=True)
class RunningSim:
    origin: str
    key_id: str
    key_path: Path


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    """A simulator on its own event loop in a thread, so ``main()`` (which calls asyncio.run) can use it."""
    ready = threading.Event()
    stop: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
    info: list[RunningSim] = []
    failure: list[BaseException] = []
    key_dir = tmp_path_factory.mktemp("sim-keys")

    async def serve() -> None:
        async with SimServer(agents=False, state_dir=key_dir) as server:
            account = server.demo_account
            assert account.key_path is not None
            info.append(RunningSim(f"http://127.0.0.1:{server.port}", account.key_id, account.key_path))
            event = asyncio.Event()
            stop.append((asyncio.get_running_loop(), event))
            ready.set()
            await event.wait()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # surfaced to the test below
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "simulator did not start"
    if failure:
        raise failure[0]
    yield info[0]
    loop, event = stop[0]
    loop.call_soon_threadsafe(event.set)  # the server stops on its own loop
    thread.join(15)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("KMM_CONFIG", "KMM_ODDS_API_KEY", "KMM_ODDSPAPI_KEY", "KMM_SPORTSGAMEODDS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("KMM_STATE_DIR", str(tmp_path / "state"))
    yield
    teardown_logging()


def _one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("kmm check: "), err
    return err


def test_check_with_an_embedded_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    assert "environment  sim\n" in out
    assert "exchange     active, trading active\n" in out
    assert "balance      $10,000.00 available\n" in out
    assert out.endswith("result       ok\n")


def test_check_a_running_simulator_with_its_demo_key(
    sim: RunningSim, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--sim-url", sim.origin, "--key-id", sim.key_id, "--key-file", str(sim.key_path)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"url          {sim.origin}/trade-api/v2\n" in out
    assert f"key          {sim.key_id} ({sim.key_path}, RSA-PSS)\n" in out
    assert "balance      $" in out and out.endswith("result       ok\n")


def test_check_says_the_key_is_ed25519(sim: RunningSim, capsys: pytest.CaptureFixture[str]) -> None:
    made = httpx.post(f"{sim.origin}/admin/accounts", json={"key_type": "ed25519"}, timeout=10).json()
    key = sim.key_path.parent / f"{made['key_id']}.pem"
    assert key.read_text() == made["private_key_pem"], "the simulator wrote the key file"
    argv = ["check", "--sim-url", sim.origin, "--key-id", made["key_id"], "--key-file", str(key)]
    assert cli.main(argv) == 0
    assert f"key          {made['key_id']} ({key}, Ed25519)\n" in capsys.readouterr().out


def test_check_without_a_key_checks_only_the_public_status(
    sim: RunningSim, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "--sim-url", sim.origin]) == 0
    out = capsys.readouterr().out
    assert "account check is skipped" in out and "balance" not in out and "exchange     active" in out


def test_unknown_key_id_is_explained(
    sim: RunningSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = write_key(tmp_path / "other.pem")
    unknown = str(uuid.uuid4())
    assert cli.main(["check", "--sim-url", sim.origin, "--key-id", unknown, "--key-file", str(key)]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert f"the exchange does not know key id {unknown} (401 authentication_error NOT_FOUND)" in err
    assert "demo and prod keys are separate" in err


def test_key_file_of_another_key_is_explained(
    sim: RunningSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = write_key(tmp_path / "wrong.pem")
    assert cli.main(["check", "--sim-url", sim.origin, "--key-id", sim.key_id, "--key-file", str(wrong)]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert f"the key file does not match key id {sim.key_id}" in err
    assert "INCORRECT_API_KEY_SIGNATURE" in err


def test_unusable_key_file_is_explained(
    sim: RunningSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.pem"
    assert (
        cli.main(["check", "--sim-url", sim.origin, "--key-id", sim.key_id, "--key-file", str(missing)]) == 2
    )
    err = _one_error_line(capsys.readouterr().err)
    assert f"key file {missing} does not exist" in err


def test_network_error_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli.main(["check", "--sim-url", f"http://127.0.0.1:{port}"]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert f"nothing answers at --sim-url http://127.0.0.1:{port}" in err and "start `kmm sim`" in err


def test_demo_environment_path_end_to_end(
    sim: RunningSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo code path (key from settings, signed status + balance), aimed at the simulator's URL."""
    config = tmp_path / "settings.toml"
    config.write_text(
        f'environment = "demo"\n[kalshi]\nkey_id = "{sim.key_id}"\nprivate_key_path = "{sim.key_path}"\n'
        f'rest_url = "{sim.origin}/trade-api/v2"\n'
    )
    assert cli.main(["--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    assert "environment  demo\n" in out and "balance      $" in out and out.endswith("result       ok\n")


def test_key_flags_need_sim_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write_key(tmp_path / "k.pem")
    assert cli.main(["check", "--key-id", "x", "--key-file", str(key)]) == 2
    assert "--key-id and --key-file are for a running simulator — add --sim-url" in _one_error_line(
        capsys.readouterr().err
    )


def test_a_directory_as_key_file_gets_one_explanation_and_no_chmod_hint(
    sim: RunningSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    argv = ["check", "--sim-url", sim.origin, "--key-id", sim.key_id, "--key-file", str(folder)]
    assert cli.main(argv) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert "is not a file" in err and "chmod" not in err


def test_check_json_is_one_object_with_the_balance_as_an_exact_string(
    sim: RunningSim, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ["--key-id", sim.key_id, "--key-file", str(sim.key_path)]
    argv = ["check", "--json", "--sim-url", sim.origin, *key]
    assert cli.main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["result"] == "ok" and document["environment"] == "sim"
    assert Decimal(document["balance_dollars"]) > 0 and isinstance(document["balance_dollars"], str)
