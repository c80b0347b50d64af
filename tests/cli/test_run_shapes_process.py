"""``kmm run --tickers HOME,TIE,AWAY`` as a trader runs it, against a ``kmm sim`` subprocess: one bid
on each of the three markets, the position line per outcome (if home / if draw / if away), a clean
Ctrl-C."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.cli.procs import started


@pytest.fixture
async def sim_origin(tmp_path: Path) -> AsyncIterator[str]:
    state = tmp_path / "state"
    async with started(tmp_path, "--state-dir", str(state), "sim", "--port", "0") as sim:
        line = await sim.wait_for_line(r"^REST\s+http://")
        await sim.wait_for_line("Ctrl-C to stop")
        yield re.search(r"(http://127\.0\.0\.1:\d+)/trade-api/v2", line).group(1)  # type: ignore[union-attr]


async def soccer_tickers(origin: str) -> tuple[str, str, str]:
    """(home, tie, away) of the demo world's first soccer event, from the exchange's public market list."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{origin}/trade-api/v2/markets", params={"status": "open", "limit": 1000})
    tickers = [m["ticker"] for m in response.json()["markets"] if m["event_ticker"].startswith("KXEPLGAME")]
    event = min(t.rsplit("-", 1)[0] for t in tickers)
    mine = sorted(t for t in tickers if t.startswith(f"{event}-"))
    tie = next(t for t in mine if t.endswith("-TIE"))
    home, away = (t for t in mine if t != tie)
    return home, tie, away


async def test_a_soccer_run_bids_on_home_draw_and_away_and_reports_per_outcome(
    tmp_path: Path, sim_origin: str
) -> None:
    home, tie, away = await soccer_tickers(sim_origin)
    argv = ["--state-dir", str(tmp_path / "state"), "run", "--sim-url", sim_origin,
            "--tickers", f"{home},{tie},{away}", "--theo", "45,,26", "--contracts", "1",
            "--report-every", "1"]
    async with started(tmp_path, *argv) as run:
        first = await run.wait_for_line("kmm run on sim")
        assert f"draw {tie}" in first
        position = await run.wait_for_line(r" position home ")
        assert "P&L if home" in position and "if draw" in position and "if away" in position
        assert "theo 45c/29c/26c" in position  # the draw implied: 100 − 45 − 26
        finished = await run.interrupt()
    assert finished.code == 130, finished
    # an order line: time, kind, action, outcome letter, ticker, price, count
    placed = {line.split()[4] for line in finished.out.splitlines() if re.search(r" order +placed ", line)}
    assert placed >= {home, tie, away}, finished.out
    assert "stopped: no orders left resting" in finished.out
