"""Openers the engine's process calls in tests (``engine_in_process("tests.tui.engine_openers:...")``).

They run in the engine's process: everything they need arrives in their argument (the simulator's
URLs and the demo account's key), and what a test needs from that side is ``provide``d.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from kmm_tui.bootstrap import BootstrapError, Connection, build_engine
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import Level
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine_host import provide
from kmm_tui.kalshi.auth import Signer

CENT = 100


def sim_argument(sim: Any, **extra: Any) -> dict[str, Any]:
    """What the engine's process needs to reach the test's simulator."""
    account = sim.demo_account
    return {
        "base_url": sim.base_url,
        "ws_url": sim.ws_url,
        "key_id": account.key_id,
        "pem": account.private_key_pem,
        **extra,
    }


def spec(ticker_a: str, ticker_b: str) -> MatchSpec:
    return MatchSpec(
        f"{ticker_a}+{ticker_b}",
        ticker_a,
        ticker_b,
        TheoInput(theo_a=55 * CENT, theo_b=45 * CENT),
        MatchSettings(edge=2 * CENT),
    )


@contextlib.asynccontextmanager
async def open_against_sim(argument: dict[str, Any]) -> AsyncIterator[Engine]:
    """The engine against the simulator; ``quote_then_linger``: (A, B) to start quoting during start-up
    and then take 30 s more to start (a slow start-up someone gives up on)."""
    signer = Signer.from_pem(argument["key_id"], argument["pem"])
    engine = build_engine(Connection("sim", argument["base_url"], argument["ws_url"], signer))
    await engine.start()
    try:

        def report_many(count: int) -> None:
            for i in range(count):
                engine.report(Level.INFO, f"n{i}")

        provide("report_many", report_many)
        linger = argument.get("quote_then_linger")
        if linger is not None:
            await engine.execute(cmd.AddMatch(spec(*linger), start=True))
            await asyncio.sleep(30)
        yield engine
    finally:
        await engine.close()


@contextlib.asynccontextmanager
async def fail_to_open(argument: str) -> AsyncIterator[Engine]:
    raise BootstrapError(argument)
    yield  # type: ignore[unreachable]
