"""Informed flow: what a trader who knows the price is about to drop takes from us, guards on and off.

The informed trader sells one contract into our bid every ``interval`` seconds just before a scripted
fair-value jump (the competitors' book around 60c moves down to 52c), as often as we keep bidding.
Without the flow guards we refill our bid after each fill and keep selling him contracts at 56c; with
them the fill-burst guard pulls the side after 3 fills within 10 s and the line-move guard pulls the
match when Kalshi's mid jumps. Each fill loses (our price - new fair) to him: his take.

Both modes run in the same process, on a fresh simulator each, against the same script and the same
engine; only ``MatchSettings`` differ (guards off: ``burst_fills=0``, no line-move thresholds). The
result is the ratio of his take with the guards to his take without them (< 1: the guards protect us),
and our P&L marked to the new fair value in each mode, fees included.
Run: ``.venv/bin/python bench/bench_informed.py [--rounds 3 --attempts 8]``.
Writes ``bench/results/informed.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import platform
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_spec, start_engine, wait_until, write_result, write_scenario
from kmm_tui.domain.prices import CENT, Money, Price, contracts, format_usd
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.guards import marked_pnl
from kmm_tui.sim import SimServer

BEFORE = (55, 65)  # competitors' bid / ask (cents) around the fair value of 60c
AFTER = (47, 57)  # ... after the jump: fair 52c
NEW_FAIR = Price(52 * CENT)


@dataclass(frozen=True, slots=True)
class Config:
    rounds: int = 3  # matches, one informed attack each
    attempts: int = 8  # sales the informed trader tries before the jump
    interval_s: float = 0.15
    after_s: float = 1.5  # he keeps selling this long after the jump while our bid is above fair


async def informed_round(
    sim: SimServer, engine: Engine, config: Config, match_id: str, tickers: tuple[str, str], guards: bool
) -> tuple[Money, int, Money]:
    """One attack on one match: (his take, contracts he sold us, our P&L marked to the new fair)."""
    a, b = tickers
    account = sim.demo_account.user_id
    spec = bench_spec(match_id, a, b).with_settings(line_move_hold_ms=30_000)
    if not guards:
        spec = spec.with_settings(burst_fills=0, line_move_theo=None, line_move_mid=None)
    competitors = [
        sim.place_competitor_order(a, "bid", Price(BEFORE[0] * CENT), contracts(5)),
        sim.place_competitor_order(a, "ask", Price(BEFORE[1] * CENT), contracts(5)),
    ]

    def ours() -> Price | None:
        orders = [o for o in sim.exchange.resting_orders(account) if o.ticker == a]
        return orders[0].price if orders else None

    take, sold = 0, 0

    async def sell(attempts: int) -> None:
        nonlocal take, sold
        for _ in range(attempts):
            price = ours()
            if price is not None and price > NEW_FAIR:
                filled = sim.take(a, "ask", price, contracts(1), name="informed")
                take += (price - NEW_FAIR) * filled
                sold += filled
            await asyncio.sleep(config.interval_s)

    await engine.execute(cmd.AddMatch(spec, start=True))
    await wait_until(lambda: ours() is not None, 5, "our first bid")
    await sell(config.attempts)
    for order_id in competitors:  # the fair value jumps: the competitors requote around 52c
        sim.cancel_competitor_order(order_id)
    sim.place_competitor_order(a, "bid", Price(AFTER[0] * CENT), contracts(5))
    sim.place_competitor_order(a, "ask", Price(AFTER[1] * CENT), contracts(5))
    await sell(int(config.after_s / config.interval_s) + 1)
    await engine.execute(cmd.StopMatch(match_id))
    view = next(m for m in engine.snapshot().matches if m.spec.match_id == match_id)
    pnl = marked_pnl(view.inventory, NEW_FAIR, Price(100 * CENT - NEW_FAIR)) or Money(0)
    return Money(take), sold, pnl


async def attack(config: Config, guards: bool, scenario: Path) -> dict[str, Any]:
    """One mode over every round, on a fresh simulator."""
    take, sold, pnl = 0, 0, 0
    async with SimServer(scenario, agents=False, tier="prestige") as sim:
        engine = await start_engine(sim)
        try:
            for index, match in enumerate(sim.matches[: config.rounds]):
                tickers = (match.tickers[0], match.tickers[1])
                round_ = await informed_round(sim, engine, config, f"m{index}", tickers, guards)
                r_take, r_sold, r_pnl = round_
                take, sold, pnl = take + r_take, sold + r_sold, pnl + r_pnl
        finally:
            await engine.close()
    return {"informed_take_money": take, "contracts_sold_to_us": sold // 100, "our_pnl_money": pnl}


async def run(config: Config, results_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        scenario = write_scenario(Path(tmp), config.rounds)
        without = await attack(config, False, scenario)
        with_guards = await attack(config, True, scenario)
    take_off, take_on = without["informed_take_money"], with_guards["informed_take_money"]
    result = {
        "bench": "informed",
        "config": {"rounds": config.rounds, "attempts": config.attempts, "interval_s": config.interval_s},
        "machine": platform.platform(),
        "without_guards": without,
        "with_guards": with_guards,
        "take_ratio_with_over_without": round(take_on / take_off, 3) if take_off else None,  # float-ok
    }
    write_result("informed", result, results_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Config()
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--attempts", type=int, default=defaults.attempts)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(Config(rounds=args.rounds, attempts=args.attempts)))
    for mode in ("without_guards", "with_guards"):
        r = result[mode]
        print(
            f"{mode:15} informed take {format_usd(r['informed_take_money'])} over "
            f"{r['contracts_sold_to_us']} contracts; our P&L at the new fair {format_usd(r['our_pnl_money'])}"
        )
    print(f"take with guards / without: {result['take_ratio_with_over_without']}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
