"""Helpers shared by tests of every layer (import as ``from tests.support import ...``)."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture(relative: str) -> Any:
    """Parse one JSON fixture, e.g. ``load_fixture("kalshi/rest/market_get.json")``."""
    return json.loads((FIXTURES / relative).read_text())


async def until(check: Callable[[], object], what: str, timeout_s: float = 10.0) -> None:
    """Poll ``check`` (every 50 ms) until it is truthy; fail naming ``what`` after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
