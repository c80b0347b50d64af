"""A hypothesis state machine that trades against the simulator and checks the money invariants after
every step: competitors come and go, takers fill us partly or fully, writes fail before or *after* the
exchange applied them (5xx, dropped connections), post-only crosses are refused or cancelled on
arrival, REST reads lag writes by up to 400 ms and the feed by 150 ms, the engine crashes and restarts
from its journal.
After each step, once the engine has settled:

* the orders of ours resting on the exchange are exactly the ledger's live orders;
* no bid of ours is above its ceiling (theo − edge − its planned fee; or, rebalancing, the price at
  which the pair it completes still makes 1c after both legs' fees);
* the engine's inventory equals the exchange's positions;
* our two bids resting at once leave ``100 − a − b − fee(a) − fee(b) ≥ 2 × edge``;
* a fill never makes the engine write a higher price on that side.

``SingleMarketMachine`` runs the same machine on one totals market traded on both sides: side B is a
NO bid, resting as an ask at 100c − its price, and the exchange nets the position (YES − NO = A − B).
``ThreeWayMachine`` runs it on a soccer event (home, tie, away): bids on all three outcomes leave
``100 − Σ (price + fee) ≥ 3 × edge``, and a rebalancing bid completes a set with the other two outcomes'
cost bases that keeps 1c after fees.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kmm_tui.domain.fees import FeeType, maker_fee
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, COUNT_SCALE, PRICE_SCALE, Price, contracts, no_price
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.events import OrderAction, OrderChanged
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.orders import OrderState
from kmm_tui.sim import SimServer
from kmm_tui.sim.exchange import IOC, OrderRequest
from kmm_tui.sim.model import EventDef

from .conftest import Trading, adversarial, spec
from .test_recovery import crash, start_engine

SCENARIO = Path(__file__).with_name("fees.toml")
EDGE_CENTS = 2
THEO_A = 55
SETTLE_S = 10.0  # a cap: settle() returns as soon as the engine is quiet; a loaded CI box needs the room
FEES = (FeeType.QUADRATIC_WITH_MAKER_FEES, 1)


def planned_fee(price: int, size: int) -> int:
    """Per-contract fee, in Price units, of an order of ``size`` at ``price``: the exact maker fee of
    the whole order, charged in whole cents (independent of the engine's integer formula)."""
    fee = maker_fee(Price(price), size, FEES[0], FEES[1])  # type: ignore[arg-type]
    cents = -(-fee // 10_000)
    return -(-cents * CENT * COUNT_SCALE // size)


class LedgerMachine(RuleBasedStateMachine):
    single = False  # one market, YES for A and NO for B
    three_way = False  # a soccer event: home (A), tie (T), away (B)
    theos: ClassVar[dict[str, int]] = {"a": THEO_A, "b": 100 - THEO_A}  # cents per outcome

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="kmm-ledger-"))
        self.sim = SimServer(SCENARIO, agents=False, quiet=True, fidelity=adversarial())
        self.run(self.sim.start())
        self.engine: Engine = self.run(start_engine(self.sim, Journal(self.dir / "journal.sqlite3")))
        self.t = Trading(self.sim, self.engine, self.engine._x.feed)
        self.a, self.b = self.t.tickers("KXNBAGAME")
        self.tie = ""
        if self.single:
            self.a = self.b = self._add_total()
        if self.three_way:
            event = next(m for m in self.sim.matches if m.event_ticker.startswith("KXEPLGAME"))
            self.tie = next(x for x in event.tickers if x.endswith("-TIE"))
            self.a, self.b = (x for x in event.tickers if x != self.tie)
        self.competitors: list[str] = []
        self.events: list[object] = []
        self.engine.listen(self.events.append)
        self.run(self.engine.execute(cmd.AddMatch(self._spec(), start=True)))
        self.run(self.settle())

    def _spec(self):  # type: ignore[no-untyped-def]
        two = spec(self.t, "KXNBAGAME", theo_a=THEO_A, edge=EDGE_CENTS, size=6, inventory_max=12)
        if self.three_way:
            theo = TheoInput(theo_a=Price(self.theos["a"] * CENT), theo_tie=Price(self.theos["t"] * CENT))
            return MatchSpec(two.match_id, self.a, self.b, theo, two.settings, ticker_tie=self.tie)
        return MatchSpec(two.match_id, self.a, self.b, two.theo, two.settings) if self.single else two

    def _add_total(self) -> str:
        """A totals market (its event is not mutually exclusive) on the maker-fee series."""
        event = self.a.rsplit("-", 1)[0].replace("KXNBAGAME", "KXNBATOTAL")
        self.sim.exchange.add_event(EventDef(event, "KXNBAGAME", "Total points", "", "NBA",
                                             mutually_exclusive=False))
        ticker = f"{event}-220"
        template = self.sim.exchange.market(self.a)
        self.sim.exchange.add_market(replace(template, ticker=ticker, event_ticker=event, market_id=ticker,
                                             custom_strike={}))
        return ticker

    def _legs(self) -> list[tuple[str, str, int, str]]:
        """(ticker, our book side on the exchange, theo in cents, inventory side) per outcome; B last."""
        tie = [(self.tie, "bid", self.theos["t"], "t")] if self.three_way else []
        b = (self.b, "ask" if self.single else "bid", self.theos["b"], "b")
        return [(self.a, "bid", self.theos["a"], "a"), *tie, b]

    def _ours(self, ticker: str, book_side: str) -> list[tuple[int, int]]:
        """Our resting orders of one leg as (price in the outcome's terms, remaining)."""
        return [(o.price if book_side == "bid" else no_price(o.price), o.remaining)
                for o in self.t.resting(ticker) if o.side == book_side]

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.engine.close())
            assert self.t.resting() == [], "orders left resting after close"
        finally:
            self.run(self.sim.stop())
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- the world moves --------------------------------------------------------------------------

    @rule(a_side=st.booleans(), cents=st.integers(40, 62))
    def competitor_bids(self, a_side: bool, cents: int) -> None:
        ticker = self.a if a_side else self.b
        cents = self.theos["a"] + cents - 55 if a_side else self.theos["b"] + 50 - cents
        if self.single and not a_side:  # a competing NO bid is an ask on the YES book
            self.competitors.append(self.t.compete(ticker, 100 - cents, count=4, side="ask"))
        else:
            self.competitors.append(self.t.compete(ticker, cents, count=4))
        self.run(self.settle())

    @rule(pick=st.integers(0, 99))
    def competitor_leaves(self, pick: int) -> None:
        if not self.competitors:
            return
        order_id = self.competitors.pop(pick % len(self.competitors))
        with contextlib.suppress(Exception):  # already filled or cancelled
            self.sim.cancel_competitor_order(order_id)
        self.run(self.settle())

    @rule(a_side=st.booleans(), count=st.integers(1, 8))
    def taker_sells_into_our_bid(self, a_side: bool, count: int) -> None:
        """An IOC at our price from the other side: fills us partly or fully, and leaves nothing on the
        book (a NO bid of ours is taken by a YES buyer at its YES price)."""
        self._take(self._legs()[0 if a_side else -1], count)

    def _take(self, leg: tuple[str, str, int, str], count: int) -> None:
        ticker, book_side, _, side = leg
        ours = self._ours(ticker, book_side)
        if not ours:
            return
        price = ours[0][0]
        yes_price = price if book_side == "bid" else no_price(price)
        mark = len(self.events)
        taker = self.sim._admin.competitor_account("taker")
        taker_side = "ask" if book_side == "bid" else "bid"
        self.sim.exchange.create_order(
            taker,
            OrderRequest(
                ticker, taker_side, Price(yes_price), contracts(count), time_in_force=IOC, stp="maker"
            ),
        )
        self.run(self.settle())
        raised = [
            e
            for e in self.events[mark:]
            if isinstance(e, OrderChanged)
            and e.ticker == ticker
            and (order := self.engine._orders.by_client(e.client_order_id)) is not None
            and order.side.value == side
            and e.action in (OrderAction.AMENDED, OrderAction.PLACED)
            and e.price > price
        ]
        assert raised == [], f"a fill at {price} made the engine raise its bid: {raised}"

    @rule(count=st.integers(1, 3))
    def writes_fail_before_the_exchange(self, count: int) -> None:
        self.sim.faults.http_errors(count)
        self.competitors.append(self.t.compete(self.a, 56, count=2))  # something to react to
        self.run(self.settle())
        self.sim.faults.clear()
        self.run(self.settle())

    @rule()
    def crash_and_restart(self) -> None:
        self.run(crash(self.engine))
        self.engine = self.run(start_engine(self.sim, Journal(self.dir / "journal.sqlite3")))
        self.t = Trading(self.sim, self.engine, self.engine._x.feed)
        self.engine.listen(self.events.append)
        self.run(self.engine.execute(cmd.StartMatch("m1")))
        self.run(self.settle())

    # --- settling and the invariants ----------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until no write is in flight or unresolved and the inventory caught up with the fills,
        then let the sweep compare the ledger with the exchange once.

        The engine keeps running while the sweep reads (a timed re-evaluation or a retest may place an
        order then), so a sweep after which the engine is no longer quiet is followed by another wait:
        the invariants are checked only once a sweep ends with nothing in flight — a write sent during
        the last read would otherwise be seen mid-flight, applied by the exchange but its reply not yet
        read, since the loop stops the moment ``settle`` returns."""
        loop = asyncio.get_running_loop()
        end = loop.time() + SETTLE_S
        while True:
            await self._quiet(end)
            await self.engine._sweeps.reconcile_orders()
            if self._is_quiet() or loop.time() >= end:
                return

    async def _quiet(self, end: float) -> None:
        """Until the engine has been quiet (``_is_quiet``) for 150 ms, or ``end``."""
        loop = asyncio.get_running_loop()
        quiet_since = None
        while loop.time() < end:
            if not self._is_quiet():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= 0.15:
                return
            await asyncio.sleep(0.02)

    def _is_quiet(self) -> bool:
        """No write in flight, waiting for tokens or unresolved; the inventory caught up with the fills."""
        orders = self.engine._orders.all()
        busy = any(o.busy or o.state in (OrderState.PENDING, OrderState.UNKNOWN) for o in orders)
        gate = self.engine._execution.gate
        busy = busy or (gate is not None and gate.busy)  # a round waiting for tokens is a write too
        return not busy and self._inventory_matches()

    def _inventory_matches(self) -> bool:
        view = self.t.view()
        account = self.sim.exchange.account(self.t.account)
        held = {t: p.position for t, p in account.positions.items()}
        if self.single:  # Kalshi nets a market's YES and NO
            return view.inventory.count_long_a - view.inventory.count_long_b == held.get(self.a, 0)
        if self.three_way and view.inventory.count_long_t != held.get(self.tie, 0):
            return False
        return (view.inventory.count_long_a, view.inventory.count_long_b) == (
            held.get(self.a, 0),
            held.get(self.b, 0),
        )

    @invariant()
    def ledger_is_the_exchange(self) -> None:
        exchange = {o.order_id for o in self.t.resting()}
        if exchange != self.engine._orders.live_ids():
            self._explain("ledger != exchange")
        assert exchange == self.engine._orders.live_ids()

    def _explain(self, what: str) -> None:
        """Print both sides before an invariant fails: a replay of a timing-dependent run may differ."""
        print(f"--- {what}")
        for o in self.t.resting():
            print("exchange", o.order_id, o.ticker, o.price, o.remaining, o.client_order_id)
        for o in self.engine._orders.all():
            state = f"{o.state.value}{' busy' if o.busy else ''}"
            print("ledger  ", o.order_id, o.ticker, o.price, o.remaining, state, o.client_order_id)
        for line in self.engine.snapshot().logs[-15:]:
            print("log     ", line.ts_ms, line.text)

    @invariant()
    def inventory_is_the_exchange_position(self) -> None:
        assert self._inventory_matches()

    @invariant()
    def no_bid_above_its_ceiling(self) -> None:
        inventory = self.t.view().inventory
        for ticker, book_side, theo, side in self._legs():
            for price, size in self._ours(ticker, book_side):
                if price + planned_fee(price, size) <= (theo - EDGE_CENTS) * CENT:
                    continue
                # above the normal ceiling: only a rebalance, and then the set it completes must profit
                others = [inventory.avg_cost(Side(o)) for _, _, _, o in self._legs() if o != side]
                assert None not in others, f"bid {price} on {ticker} above its ceiling with nothing to pair"
                assert price + planned_fee(price, size) + sum(c or 0 for c in others) <= PRICE_SCALE - CENT

    @invariant()
    def bids_on_every_outcome_never_lose_after_fees(self) -> None:
        bids = [self._ours(ticker, book_side) for ticker, book_side, _, _ in self._legs()]
        if not all(bids):
            return
        cost = sum(price + planned_fee(price, size) for (price, size), *_ in bids)
        assert PRICE_SCALE - cost >= len(bids) * EDGE_CENTS * CENT

    @invariant()
    def still_quoting(self) -> None:
        assert self.t.view().status is MatchStatus.QUOTING, self.t.view().status_reason


class SingleMarketMachine(LedgerMachine):
    single = True


class ThreeWayMachine(LedgerMachine):
    three_way = True
    theos: ClassVar[dict[str, int]] = {"a": 45, "t": 27, "b": 28}

    @rule(cents=st.integers(40, 62))
    def competitor_bids_on_the_tie(self, cents: int) -> None:
        self.competitors.append(self.t.compete(self.tie, self.theos["t"] + cents - 55, count=4))
        self.run(self.settle())

    @rule(count=st.integers(1, 8))
    def taker_sells_into_our_tie_bid(self, count: int) -> None:
        self._take(self._legs()[1], count)


TestLedgerMachine = LedgerMachine.TestCase
TestSingleMarketMachine = SingleMarketMachine.TestCase
TestThreeWayMachine = ThreeWayMachine.TestCase
# Real sockets and clocks make a run's timing differ between replays, so shrinking (which replays a
# failing run step by step) would report a "flaky" example instead of the failure: report it as found.
TestLedgerMachine.settings = settings(
    max_examples=4,
    stateful_step_count=10,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# The other shapes run the same rules on fewer examples: the suite runs on two shared cores.
TestSingleMarketMachine.settings = TestThreeWayMachine.settings = settings(
    TestLedgerMachine.settings, max_examples=2
)
