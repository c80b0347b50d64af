"""Chaos run: the engine trades a lively simulated market while random faults hit it.

For ``--minutes`` (default 1) the engine quotes every match of the default scenario against the
simulator's scripted competitors and takers, while every few seconds one fault is injected at random:
5xx bursts, 429 storms, latency spikes, dropped WebSockets, skipped sequence numbers, a paused market,
or a crash of the whole engine (``kill -9`` semantics: nothing cancelled) followed by a restart from the
journal. At the end the engine shuts down and the run prints the five numbers that must be zero:

* orders left resting on the exchange after exit;
* fills on the exchange that are missing from the journal;
* markets where the exchange's position differs from the journal's inventory;
* orders the ledger did not know: resting orders of ours its sweep had to cancel (not the orphans a
  crash leaves, which the restart's recovery cancels before quoting);
* self-outbids: decisions to raise a bid as "outbid" while no other trader's bid on the exchange was at
  or above ours, then or within the feed's lag before (our own level taken for a competitor's);
* losing pairs: decisions whose two bids, if both filled, would keep less than twice the edge after
  both legs' fees (``100 − a − b − fee(a) − fee(b) < 2 × edge``).

The exchange is adversarial throughout (``Fidelity.adversarial``: writes that fail before or after they
apply, hangs, lagging reads, per-shard cash, whole-cent fee booking, strict requests); ``--gentle``
turns that off.

Exit status 1 if any is non-zero. Results go to ``bench/results/chaos.json``. The baseline for the
ratio line is the same run's fault-free first phase: fills per minute with and without faults.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from collections import deque
from decimal import Decimal
from pathlib import Path

from kmm_tui.bootstrap import Connection, build_engine
from kmm_tui.domain.fees import FeeError, FeeType, maker_fee
from kmm_tui.domain.prices import COUNT_SCALE, PRICE_SCALE, Count, Price, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import Event, QuoteDecided
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.kalshi.auth import Signer
from kmm_tui.sim import Fidelity, SimServer
from kmm_tui.sim.events import BookDelta

RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"


async def start_engine(sim: SimServer, journal_path: Path) -> Engine:
    """The engine as the app builds it (bootstrap), journaling to ``journal_path``."""
    signer = Signer.from_pem(sim.demo_account.key_id, sim.demo_account.private_key_pem)
    engine = build_engine(Connection("sim", sim.base_url, sim.ws_url, signer), journal=Journal(journal_path))
    await engine.start()
    return engine


async def crash(engine: Engine) -> None:
    """Abandon the engine the way ``kill -9`` would: no cancels, connections simply gone."""
    port = engine._x
    for match in engine._matches.values():
        if match.task is not None:
            match.task.cancel()
    for task in [*engine._tasks, *port._tasks]:
        task.cancel()
    with contextlib.suppress(Exception):
        if port.feed is not None:
            await port.feed.aclose()
    await port.rest.aclose()


async def add_matches(engine: Engine, sim: SimServer) -> list[str]:
    ids = []
    for index, match in enumerate(sim.matches):
        if len(match.tickers) != 2 or match.started:
            continue
        fair = match.fair[0]
        theo_a = Price(min(max(fair, 500), PRICE_SCALE - 500))
        spec = MatchSpec(
            f"chaos-{index}", match.tickers[0], match.tickers[1],
            TheoInput(theo_a=theo_a, theo_b=Price(PRICE_SCALE - theo_a)),
            MatchSettings(edge=Price(100), contracts=contracts(3), inventory_max=contracts(12)),
        )
        try:
            await engine.execute(cmd.AddMatch(spec, start=True))
            ids.append(spec.match_id)
        except Exception as error:  # a match starting during the run is fine to skip
            print(f"  skipped {spec.match_id}: {error}")
    return ids


async def restart_matches(engine: Engine) -> None:
    for view in engine.snapshot().matches:
        with contextlib.suppress(Exception):
            await engine.execute(cmd.StartMatch(view.spec.match_id))


class DecisionAudit:
    """Watches every decision. Self-outbids: "outbid" raises with no other trader at or above our bid,
    reading the exchange itself at that moment (the simulator runs in this process, on this loop).
    Losing pairs: two bids that would keep less than twice the edge after both fees if both filled."""

    def __init__(self, sim: SimServer) -> None:
        self.sim = sim
        self.self_outbids = 0
        self.losing_pairs = 0
        self.tickers: dict[str, tuple[str, str]] = {}
        self.edges: dict[str, int] = {}
        self.history: dict[str, deque[tuple[float, int]]] = {}

    def follow_exchange(self) -> None:
        """Keep, per ticker, when other traders' best bid last changed and what it was: the feed shows
        the exchange late (``feed_lag_ms``), so a decision may rightly react to a bid that just left."""
        self.sim.exchange.listeners.append(self._on_sim_event)

    def _on_sim_event(self, event: object) -> None:
        if isinstance(event, BookDelta) and event.side == "yes":
            others = self._others(event.ticker)
            self.history.setdefault(event.ticker, deque(maxlen=64)).append(
                (time.monotonic(), max(others) if others else 0)
            )

    def _others(self, ticker: str) -> list[int]:
        account = self.sim.demo_account.user_id
        book = self.sim.exchange.books[ticker]
        return [o.price for o in book.orders() if o.side == "bid" and o.account_id != account]

    def _recently_at_or_above(self, ticker: str, price: int) -> bool:
        window = (self.sim.fidelity.feed_lag_ms + 250) / 1000
        since = time.monotonic() - window
        return any(t >= since and best >= price for t, best in self.history.get(ticker, ()))

    def watch(self, engine: Engine) -> None:
        for view in engine.snapshot().matches:
            self.tickers[view.spec.match_id] = (view.spec.ticker_a, view.spec.ticker_b)
            self.edges[view.spec.match_id] = view.spec.settings.edge
        engine.listen(self.on_event)

    def _planned_fee(self, ticker: str, price: int, size: int) -> int:
        """Per-contract maker fee, the order's total charged in whole cents (Price units)."""
        fee_type, multiplier = self.sim.exchange.fee_schedule(ticker)
        try:
            fee = maker_fee(Price(price), Count(size), FeeType(fee_type), Decimal(multiplier))
        except FeeError:
            return 0
        cents = -(-fee // 10_000)
        return -(-cents * 100 * COUNT_SCALE // size)

    def on_event(self, event: Event) -> None:
        if not isinstance(event, QuoteDecided) or event.match_id not in self.tickers:
            return
        a, b = event.decision.a, event.decision.b
        if a.price is not None and b.price is not None and a.size and b.size:
            ta, tb = self.tickers[event.match_id]
            fees = self._planned_fee(ta, a.price, a.size) + self._planned_fee(tb, b.price, b.size)
            if PRICE_SCALE - a.price - b.price - fees < 2 * self.edges[event.match_id]:
                self.losing_pairs += 1
        account = self.sim.demo_account.user_id
        sides = (event.decision.a, event.decision.b)
        for ticker, quote in zip(self.tickers[event.match_id], sides, strict=True):
            if quote.reason is not Reason.OUTBID or quote.price is None:
                continue
            book = self.sim.exchange.books[ticker]
            ours = [o.price for o in book.orders() if o.side == "bid" and o.account_id == account]
            others = self._others(ticker)
            if (
                ours
                and quote.price > max(ours)
                and not any(p >= max(ours) for p in others)
                and not self._recently_at_or_above(ticker, max(ours))
            ):
                self.self_outbids += 1
                print(f"  self-outbid on {ticker}: ours {ours}, others {sorted(others)[-3:]}, "
                      f"decided {quote.price} ({quote.detail})")


FAULTS = ("http_errors", "rate_limit", "latency", "drop_ws", "skip_seq", "pause", "crash")


async def inject(kind: str, sim: SimServer, rng: random.Random) -> None:
    faults = sim.faults
    if kind == "http_errors":
        faults.http_errors(rng.randint(2, 8), status=rng.choice([500, 502, 503]))
    elif kind == "rate_limit":
        faults.rate_limit(rng.randint(5, 25))
    elif kind == "latency":
        faults.latency_ms(rng.choice([300, 800, 2000]))
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        faults.latency_ms(0)
    elif kind == "drop_ws":
        faults.drop_websockets()
    elif kind == "skip_seq":
        faults.skip_seq()
    elif kind == "pause":
        match = rng.choice([m for m in sim.matches if len(m.tickers) == 2])
        ticker = rng.choice(match.tickers)
        faults.pause_market(ticker)
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        faults.resume_market(ticker)


def audit(sim: SimServer, journal_path: Path) -> dict[str, int]:
    account = sim.exchange.account(sim.demo_account.user_id)
    journal = Journal(journal_path)
    try:
        journaled = {f.trade_id for f in journal.fills()}
        ours = {o.order_id for o in journal.orders() if o.order_id}
        exchange_fills = [f for f in account.fills if f.order_id in ours]
        missing = [f for f in exchange_fills if f.trade_id not in journaled]
        held: dict[str, int] = {}
        for fill in journal.fills():
            held[fill.ticker] = held.get(fill.ticker, 0) + fill.count
        mismatched = [t for t, p in account.positions.items() if p.position != held.get(t, 0)]
        return {
            "orders_left_resting": len(sim.exchange.resting_orders(account.account_id)),
            "fills_missing_from_journal": len(missing),
            "position_mismatches": len(mismatched),
            "fills_on_exchange": len(exchange_fills),
        }
    finally:
        journal.close()


def report_strays(engine: Engine, journal_path: Path, when: str) -> None:
    """Name each stray the sweep cancelled: was it this run's order (a ledger error) or an older one?"""
    if not engine._sweeps.strays:
        return
    journal = Journal(journal_path)
    try:
        for client_id, known in engine._sweeps.strays:
            row = journal.order_by_client_id(client_id)
            origin = f"journaled for {row.match_id}, state {row.state}" if row else "not in the journal"
            print(f"  stray {when}: {client_id} ({'in' if known else 'not in'} this ledger; {origin})")
    finally:
        journal.close()


async def run(minutes: float, seed: int, fault_every_s: float, adversarial: bool) -> dict[str, object]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="kmm-chaos-") as tmp:
        journal_path = Path(tmp) / "journal.sqlite3"
        fidelity = Fidelity.adversarial(seed) if adversarial else Fidelity()
        async with SimServer(None, agents=True, seed=seed, fidelity=fidelity) as sim:
            engine = await start_engine(sim, journal_path)
            await add_matches(engine, sim)
            outbids = DecisionAudit(sim)
            outbids.follow_exchange()
            outbids.watch(engine)
            strays = 0
            calm_s = min(20.0, minutes * 60 / 4)
            await asyncio.sleep(calm_s)
            calm_fills = len(sim.exchange.account(sim.demo_account.user_id).fills)
            injected: dict[str, int] = dict.fromkeys(FAULTS, 0)
            end = time.monotonic() + minutes * 60 - calm_s
            while time.monotonic() < end:
                await asyncio.sleep(rng.uniform(0.5, 2) * fault_every_s)
                kind = rng.choice(FAULTS)
                injected[kind] += 1
                if kind == "crash":
                    strays += engine._sweeps.strays_cancelled
                    report_strays(engine, journal_path, "before a crash")
                    await crash(engine)
                    await asyncio.sleep(rng.uniform(0.5, 3.0))  # takers keep hitting the orphans
                    engine = await start_engine(sim, journal_path)
                    outbids.watch(engine)
                    await restart_matches(engine)
                else:
                    await inject(kind, sim, rng)
            sim.faults.clear()
            strays += engine._sweeps.strays_cancelled
            report_strays(engine, journal_path, "at the end")
            left = await engine.close("chaos run over")
            result = audit(sim, journal_path)
            total_fills = result["fills_on_exchange"]
            chaos_s = max(1.0, minutes * 60 - calm_s)
            return {
                **result,
                "orders_the_ledger_did_not_know": strays,
                "self_outbids": outbids.self_outbids,
                "losing_pairs": outbids.losing_pairs,
                "adversarial": adversarial,
                "engine_reported_left": left,
                "faults_injected": injected,
                "minutes": minutes,
                "seed": seed,
                "fills_per_min_calm": round(calm_fills / calm_s * 60, 1),
                "fills_per_min_chaos": round((total_fills - calm_fills) / chaos_s * 60, 1),
            }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-every", type=float, default=3.0, help="mean seconds between faults")
    parser.add_argument("--gentle", action="store_true", help="a kind exchange (no Fidelity switches)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the engine's warnings are expected here; the audit decides
    result = asyncio.run(run(args.minutes, args.seed, args.fault_every, not args.gentle))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    calm, chaos = result["fills_per_min_calm"], result["fills_per_min_chaos"]
    if calm:
        print(f"fills/min under chaos vs calm baseline: {chaos} / {calm} = {chaos / calm:.2f}x")  # type: ignore[operator]
    audited = (
        "orders_left_resting",
        "fills_missing_from_journal",
        "position_mismatches",
        "orders_the_ledger_did_not_know",
        "self_outbids",
        "losing_pairs",
    )
    bad = {k: result[k] for k in audited}
    print("all zero" if not any(bad.values()) else f"FAILED: {bad}")
    return 0 if not any(bad.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

