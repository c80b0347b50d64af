"""`kmm run` runs the engine on uvloop when it is installed, on asyncio's loop when told not to."""

from __future__ import annotations

import asyncio

import pytest

from kmm_tui import eventloop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_runs_on_uvloop_when_installed() -> None:
    pytest.importorskip("uvloop")
    assert eventloop.loop_name() == "uvloop"
    assert eventloop.run(_loop_module()).startswith("uvloop")


def test_kmm_no_uvloop_falls_back_to_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KMM_NO_UVLOOP", "1")
    assert eventloop.loop_name() == "asyncio"
    assert eventloop.run(_loop_module()).startswith("asyncio")
