"""Helpers shared by tests of every layer (import as ``from tests.support import ...``)."""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture(relative: str) -> Any:
    """Parse one JSON fixture, e.g. ``load_fixture("kalshi/rest/market_get.json")``."""
    return json.loads((FIXTURES / relative).read_text())
