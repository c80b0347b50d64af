"""Every exit path of ``kmm run`` leaves nothing resting, and a ``kill -9`` is cleaned up on restart.

These run the real console script in a subprocess against a simulator served by the test, over
loopback, and check the exchange's own book afterwards.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from kmm_tui.sim import SimServer

from .conftest import QUIET, eventually

KMM = Path(sys.executable).with_name("kmm")


async def launch(sim: SimServer, state: Path, *extra: str) -> asyncio.subprocess.Process:
    match = next(m for m in sim.matches if m.event_ticker.startswith("KXCS2GAME"))
    return await asyncio.create_subprocess_exec(
        str(KMM),
        "--state-dir",
        str(state),
        "run",
        "--sim-url",
        sim.base_url.removesuffix("/trade-api/v2"),
        "--ticker-a",
        match.tickers[0],
        "--ticker-b",
        match.tickers[1],
        "--theo-a",
        "60",
        "--theo-b",
        "40",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )


def resting(sim: SimServer) -> list:
    return sim.exchange.resting_orders(sim.demo_account.user_id)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
async def test_a_signal_cancels_every_order_and_exits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        process = await launch(sim, tmp_path)
        try:
            await eventually(lambda: len(resting(sim)) == 2, within=20, what="kmm run quoting both sides")
            process.send_signal(sig)
            code = await asyncio.wait_for(process.wait(), 20)
        finally:
            if process.returncode is None:
                process.kill()
        out = (await process.stdout.read()).decode()  # type: ignore[union-attr]
        # interrupted after the clean stop: 128 + the signal (130 for Ctrl-C), see docs/cli.md
        assert code == 128 + sig, out + (await process.stderr.read()).decode()  # type: ignore[union-attr]
        assert resting(sim) == []
        assert "no orders left resting" in out


async def test_kill_9_leaves_orders_that_the_next_start_cancels(tmp_path: Path) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        process = await launch(sim, tmp_path)
        await eventually(lambda: len(resting(sim)) == 2, within=20, what="kmm run quoting both sides")
        process.kill()
        await process.wait()
        orphans = resting(sim)
        assert len(orphans) == 2
        assert all(o.expiration_ms is not None for o in orphans), "orders carry an exchange-side expiry"
        assert all(o.cancel_on_pause for o in orphans)

        again = await launch(sim, tmp_path, "--dry-run")
        try:
            await eventually(lambda: resting(sim) == [], within=20, what="orphans cancelled at start")
            again.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(again.wait(), 20) == 128 + signal.SIGTERM
        finally:
            if again.returncode is None:
                again.kill()


async def test_an_unknown_ticker_is_one_clear_message_listing_the_open_matches(tmp_path: Path) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        process = await asyncio.create_subprocess_exec(
            str(KMM),
            "--state-dir",
            str(tmp_path),
            "run",
            "--sim-url",
            sim.base_url.removesuffix("/trade-api/v2"),
            "--ticker-a",
            "KXCS2GAME-NOPE-VIT",
            "--ticker-b",
            "KXCS2GAME-NOPE-FAZ",
            "--theo-a",
            "60",
            "--theo-b",
            "40",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        text = err.decode()
        assert process.returncode == 2, text
        assert "unknown ticker KXCS2GAME-NOPE-VIT" in text and "Traceback" not in text + out.decode()
        cs2 = next(m for m in sim.matches if m.event_ticker.startswith("KXCS2GAME"))
        assert cs2.tickers[0] in text and cs2.tickers[1] in text


async def test_a_damaged_journal_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    async with SimServer(QUIET, agents=False, state_dir=tmp_path / "sim") as sim:
        (tmp_path / "journal-sim.sqlite3").write_bytes(b"this is not a database" * 100)
        process = await launch(sim, tmp_path)
        out, err = await asyncio.wait_for(process.communicate(), 30)
        text = err.decode() + out.decode()
        assert process.returncode == 2, text
        assert "cannot be opened" in text and "move it aside" in text and "Traceback" not in text
