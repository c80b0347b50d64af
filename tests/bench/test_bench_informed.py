"""Smoke run of the informed-flow bench: the guards reduce what the informed trader takes."""

from __future__ import annotations

import json
from pathlib import Path

from bench import bench_informed


async def test_guards_reduce_the_informed_traders_take(tmp_path: Path) -> None:
    result = await bench_informed.run(bench_informed.Config(rounds=1, attempts=6), results_dir=tmp_path)
    without, with_guards = result["without_guards"], result["with_guards"]
    assert without["contracts_sold_to_us"] >= 5, "without guards we keep refilling our bid"
    assert with_guards["contracts_sold_to_us"] <= 3, "the fill-burst guard pulls after 3 fills"
    assert with_guards["informed_take_money"] < without["informed_take_money"]
    assert result["take_ratio_with_over_without"] < 1
    assert json.loads((tmp_path / "informed.json").read_text()) == result
