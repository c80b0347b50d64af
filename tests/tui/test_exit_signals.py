"""A dropped SSH session (SIGHUP, terminal gone) or SIGTERM ends the app with every order pulled.

The real ``kmm`` app runs in a subprocess on a pseudo-terminal against a simulator served by the
test; a key starts a saved match, then the session is cut and the exchange's own book is checked.
The engine runs in a process of its own in the app's process group: a hang-up reaches both (the
"group" cases), and the app killed outright (SIGKILL) leaves the engine to pull everything alone.
Either way no kmm process may outlive the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
from pathlib import Path

import pytest

from kmm_tui.sim import SimServer
from tests.support import until

QUIET = Path(__file__).resolve().parents[1] / "engine" / "quiet.toml"
KMM = Path(sys.executable).with_name("kmm")


def resting(sim: SimServer) -> int:
    return len(sim.exchange.resting_orders(sim.demo_account.user_id))


@pytest.mark.parametrize(
    ("sig", "to_group"),
    [
        (signal.SIGHUP, False),
        (signal.SIGTERM, False),
        (signal.SIGINT, False),
        (signal.SIGHUP, True),
        (signal.SIGTERM, True),
        (signal.SIGKILL, False),
    ],
    ids=["HUP", "TERM", "INT", "HUP-group", "TERM-group", "KILL"],
)
async def test_the_app_pulls_every_order_when_the_session_is_cut(
    tmp_path: Path, sig: signal.Signals, to_group: bool
) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        match = next(m for m in sim.matches if m.event_ticker.startswith("KXCS2GAME"))
        settings = tmp_path / "settings.toml"
        settings.write_text(
            f'[[matches]]\nname = "Vitality vs FaZe"\nticker_a = "{match.tickers[0]}"\n'
            f'ticker_b = "{match.tickers[1]}"\ntheo_a = 60\ntheo_b = 40\n'
        )
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        process = await asyncio.create_subprocess_exec(
            str(KMM),
            "--config",
            str(settings),
            "--state-dir",
            str(tmp_path),
            "--sim-url",
            sim.base_url.removesuffix("/trade-api/v2"),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        loop = asyncio.get_running_loop()
        loop.add_reader(master, lambda: _drain(master))  # the app must never block writing the screen
        try:
            for _ in range(40):  # press s (start the selected match) until the app is up and quoting
                os.write(master, b"s")
                with contextlib.suppress(AssertionError):
                    await until(lambda: resting(sim) == 2, "quotes", 0.5)
                    break
            assert resting(sim) == 2, "the saved match never started quoting"
            if to_group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
            if sig is signal.SIGHUP:
                loop.remove_reader(master)
                os.close(master)  # the terminal is gone too
                master = -1
            await asyncio.wait_for(process.wait(), 30)
            await until(lambda: resting(sim) == 0, "every order pulled", 30)
            await until(lambda: not _group_alive(process.pid), "every kmm process to end", 30)
        finally:
            if master >= 0:
                loop.remove_reader(master)
                os.close(master)
            if process.returncode is None:
                process.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # a failed test leaves nothing behind
        assert resting(sim) == 0, "orders left resting after the session was cut"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.read(fd, 65536)
