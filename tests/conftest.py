"""Shared test configuration: each layer keeps its own fixtures in its folder's conftest.py."""

from pathlib import Path

import pytest

from tests.support import FIXTURES


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """API payload examples (copied from the team's shared/fixtures): kalshi/ and odds/."""
    return FIXTURES
