"""Replay one recorded match under some settings: the same decide() and plan_side() on the recorded books.

Two ways through the records, both calling ``domain.quoting.decide`` at exactly the recorded decision
times (plus right after a simulated fill, as a fill wakes the engine's runner):

* ``check_decisions`` (the fidelity check): the recorded settings, and our resting bids and inventory
  as the engine really had them. Every decision must come out identical to the recorded one; any
  difference means the recording or the replay misses an input.
* ``simulate``: the given settings; our bids are simulated — ``reconciler.plan_side`` turns each
  decision into creates, amends, decreases and cancels that take effect at once, and ``queue`` decides
  when they fill. Fees are the exchange's maker fee for the market's schedule.

Recorded guard pulls and halts apply to every setting (the guards' inputs are not re-evaluated).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kmm_tui.domain.book import Book, Level
from kmm_tui.domain.fees import FeeType, maker_fee
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Money, Price, PriceBand, TickGrid
from kmm_tui.domain.quoting import Decision, QuoteMemo, QuoteSettings, SideInput, SideQuote, decide
from kmm_tui.engine.orders import OrderState, OwnOrder
from kmm_tui.engine.reconciler import Amend, Cancel, Create, Decrease, plan_side
from kmm_tui.replay import queue
from kmm_tui.replay.session import RecordedMatch

MARKOUT_MS = 30_000  # fills are marked against the mid this long after them
SIDES = (Side.A, Side.B)
_STOPPED = frozenset({"stopping", "stopped", "halted"})
_ids = itertools.count(1)
_NO_MONEY = Money(0)
_NO_COUNT = Count(0)


@dataclass(frozen=True, slots=True)
class Overrides:
    """Settings to replay with; None keeps what was recorded."""

    edge: Price | None = None
    contracts: Count | None = None
    inventory_max: Count | None = None
    retest_interval_ms: int | None = None

    def apply(self, settings: QuoteSettings) -> QuoteSettings:
        changes = {k: v for k, v in (
            ("edge", self.edge), ("contracts", self.contracts), ("inventory_max", self.inventory_max),
            ("retest_interval_ms", self.retest_interval_ms),
        ) if v is not None}
        return replace(settings, **changes) if changes else settings


@dataclass(frozen=True, slots=True)
class FillRow:
    ts_ms: int
    side: Side
    price: Price
    count: Count
    fee: Money


@dataclass(slots=True)
class Outcome:
    """What one setting earned on one match."""

    label: str
    settings: QuoteSettings | None
    fills: list[FillRow] = field(default_factory=list)
    inventory: Inventory = field(default_factory=Inventory)
    markout: Money = _NO_MONEY
    marked_fills: int = 0
    writes: int = 0
    max_exposure: Count = _NO_COUNT
    pnl_curve: list[tuple[int, int]] = field(default_factory=list)  # (ts_ms, P&L marked to theo)


@dataclass(slots=True)
class DecisionCheck:
    total: int = 0
    identical: int = 0
    first_difference: str = ""


def settings_from(record: Mapping[str, Any]) -> QuoteSettings:
    return QuoteSettings(
        edge=Price(record["edge"]),
        contracts=Count(record["contracts"]),
        inventory_max=Count(record["inventory_max"]),
        retest_interval_ms=record["retest_interval_ms"],
        backoff_ticks=record["backoff_ticks"],
        max_join_depth=record["max_join_depth"],
        fee_aware=record["fee_aware"],
        fee_type=FeeType(record["fee_type"]),
        fee_multiplier=Decimal(record["fee_multiplier"]),
        start_margin_ms=record["start_margin_ms"],
    )


def _apply_levels(
    levels: tuple[Level, ...], changes: list[list[int]], best_first_high: bool
) -> tuple[Level, ...]:
    book = dict(levels)
    for price, size in changes:
        if size > 0:
            book[price] = size
        else:
            book.pop(price, None)
    return tuple(sorted(((Price(p), Count(s)) for p, s in book.items()), reverse=best_first_high))


def _key(quote: SideQuote) -> list[Any]:
    return [quote.price, quote.size, quote.reason.value]


class _Replay:
    """The recorded market of one match, advanced record by record."""

    def __init__(self, match: RecordedMatch) -> None:
        self.match = match
        self.books = [Book(), Book()]
        self.grids = [TickGrid.linear_cent(), TickGrid.linear_cent()]
        self.theo: list[int | None] = [None, None]
        self.open = [True, True]
        self.start_ms: int | None = None
        self.recorded: QuoteSettings | None = None
        self.memo = QuoteMemo()
        self.mids: list[list[tuple[int, int | None]]] = [[], []]  # per side (ts, bid+ask) for markouts

    def market(self, record: list[Any]) -> Book | None:
        """Apply a market record; returns the previous book for a book record."""
        kind = record[0]
        if kind == "B":
            side = record[3]
            old = self.books[side]
            new = Book(_apply_levels(old.bids, record[4], True), _apply_levels(old.asks, record[5], False))
            self.books[side] = new
            bid, ask = new.best_bid, new.best_ask
            both = bid + ask if bid is not None and ask is not None else None
            self.mids[side].append((record[1], both))
            return old
        if kind == "S":
            self.recorded = settings_from(record[3])
        elif kind == "G":
            bands = (PriceBand(Price(s), Price(e), Price(p)) for s, e, p in record[4])
            self.grids[record[3]] = TickGrid(tuple(bands))
        elif kind == "T":
            self.theo = [record[3], record[4]]
        elif kind == "O":
            self.open = [record[3], record[4]]
            self.start_ms = record[5]
        elif kind == "Z" and record[3] == "starting":
            self.memo = QuoteMemo()
        return None

    def side_input(self, side: int, resting: tuple[int | None, int]) -> SideInput:
        return SideInput(self.theo[side], self.books[side], resting[0], Count(resting[1]), self.grids[side],
                         market_open=self.open[side])

    def decide(self, settings: QuoteSettings, resting: list[tuple[int | None, int]], inventory: Inventory,
               now_ms: int) -> Decision:
        decision = decide(self.side_input(0, resting[0]), self.side_input(1, resting[1]), settings, inventory,
                          self.memo, now_ms, self.start_ms)
        self.memo = decision.memo
        return decision

    def markout(self, fill: FillRow) -> int | None:
        points = self.mids[0 if fill.side is Side.A else 1]
        at = bisect.bisect_right(points, (fill.ts_ms + MARKOUT_MS, 1 << 62)) - 1
        if at < 0 or points[at][1] is None:
            return None
        return points[at][1] * fill.count // 2 - fill.price * fill.count

    def mark(self, inventory: Inventory) -> int:
        """P&L marked to theo: what the inventory is worth at theo minus everything paid."""
        theo_a, theo_b = (t if t is not None else 0 for t in self.theo)
        value = inventory.count_long_a * theo_a + inventory.count_long_b * theo_b
        return value - inventory.cost_long_a - inventory.cost_long_b - inventory.fees


def check_decisions(match: RecordedMatch) -> DecisionCheck:
    """Re-run every recorded decision with the engine's own resting bids and inventory."""
    state = _Replay(match)
    check = DecisionCheck()
    resting: list[tuple[int | None, int]] = [(None, 0), (None, 0)]
    inventory = Inventory()
    expected: list[Any] | None = None
    for record in match.records:
        kind = record[0]
        if kind == "R":
            resting = [(record[3], record[4]), (record[5], record[6])]
        elif kind == "I":
            inventory = Inventory(*(Count(v) if i < 2 else Money(v) for i, v in enumerate(record[3:9])))
        elif kind in ("P", "H"):
            expected = None
        elif kind == "D":
            if len(record) == 5:
                expected = [record[3], record[4]]
            if state.recorded is None or expected is None:
                continue
            decision = state.decide(state.recorded, resting, inventory, record[1])
            got = [_key(decision.a), _key(decision.b)]
            check.total += 1
            if got == expected:
                check.identical += 1
            elif not check.first_difference:
                seconds = (record[1] - match.records[0][1]) // 1000
                check.first_difference = f"at +{seconds}s: recorded {expected}, replayed {got}"
        else:
            state.market(record)
    return check


def recorded_outcome(match: RecordedMatch) -> Outcome:
    """The original run: its real fills, inventory, P&L and markouts."""
    state = _Replay(match)
    outcome = Outcome("recorded", None)
    for record in match.records:
        state.market(record)
        if outcome.settings is None and state.recorded is not None:
            outcome.settings = state.recorded
        if record[0] == "F":
            fill = FillRow(record[1], SIDES[record[3]], Price(record[4]), Count(record[5]), Money(record[6]))
            _book_fill(state, outcome, fill)
        elif record[0] == "X" and record[4] in ("placed", "amended", "decreased", "cancelled"):
            outcome.writes += 1
    _finish(state, outcome)
    return outcome


def simulate(match: RecordedMatch, overrides: Overrides, label: str) -> Outcome:
    """Replay the match with ``overrides`` on the recorded settings, our bids filled by the queue model."""
    state = _Replay(match)
    outcome = Outcome(label, None)
    orders: list[OwnOrder | None] = [None, None]
    spots = [queue.Spot(0), queue.Spot(0)]

    def settings() -> QuoteSettings:
        assert state.recorded is not None
        outcome.settings = overrides.apply(state.recorded)
        return outcome.settings

    def fill(side: int, count: int, ts_ms: int) -> None:
        order = orders[side]
        if order is None or count <= 0:
            return
        quoted = outcome.settings
        fee = _NO_MONEY
        if quoted is not None:
            fee = maker_fee(order.price, Count(count), quoted.fee_type, quoted.fee_multiplier)
        _book_fill(state, outcome, FillRow(ts_ms, SIDES[side], order.price, Count(count), fee))
        order.filled = Count(order.filled + count)
        if order.remaining <= 0:
            orders[side] = None

    def act(decision: Decision | None, now_ms: int) -> None:
        quotes = (decision.a, decision.b) if decision is not None else (None, None)
        for side, quote in enumerate(quotes):
            order = orders[side]
            live = [order] if order is not None else []
            price = quote.price if quote is not None else None
            size = quote.size if quote is not None else Count(0)
            for action in plan_side(SIDES[side], price, size, live):
                outcome.writes += 1
                book = state.books[side]
                if isinstance(action, Create):
                    orders[side] = OwnOrder(f"replay-{next(_ids)}", match.match_id, action.side,
                                            match.tickers[side], action.price, action.count,
                                            state=OrderState.RESTING)
                    spots[side] = queue.Spot(book.bid_size_at(action.price))
                elif isinstance(action, Amend):
                    target = action.order
                    if action.price != target.price or action.remaining > target.remaining:
                        spots[side] = queue.Spot(book.bid_size_at(action.price))  # back of the queue
                    target.price = action.price
                    target.initial = Count(target.filled + action.remaining)
                elif isinstance(action, Decrease):
                    action.order.initial = Count(action.order.filled + action.reduce_to)
                elif isinstance(action, Cancel):
                    orders[side] = None

    def evaluate(now_ms: int) -> None:
        if state.recorded is None:
            return
        resting = [(o.price, o.remaining) if o is not None else (None, 0) for o in orders]
        act(state.decide(settings(), resting, outcome.inventory, now_ms), now_ms)

    for record in match.records:
        kind, now = record[0], record[1]
        filled_before = len(outcome.fills)
        if kind == "D":
            evaluate(now)
            continue
        if kind in ("P", "H"):
            act(None, now)
            continue
        if kind == "Z" and record[3] in _STOPPED:
            act(None, now)
        old = None if kind == "F" else state.market(record)
        if kind == "F":
            side = record[3]
            order = orders[side]
            if order is not None:
                step = queue.on_trade(order.price, spots[side], order.remaining, record[4], record[5])
                spots[side] = step.spot
                fill(side, step.filled, now)
        elif old is not None:
            side = record[3]
            order = orders[side]
            if order is not None:
                step = queue.on_book(order.price, spots[side], order.remaining, old, state.books[side])
                spots[side] = step.spot
                fill(side, step.filled, now)
        if len(outcome.fills) > filled_before:
            evaluate(now)  # a fill wakes the runner at once
    _finish(state, outcome)
    return outcome


def _book_fill(state: _Replay, outcome: Outcome, fill: FillRow) -> None:
    outcome.fills.append(fill)
    outcome.inventory = outcome.inventory.apply_fill(fill.side, fill.price, fill.count, fill.fee)
    exposure = abs(outcome.inventory.net_exposure)
    if exposure > outcome.max_exposure:
        outcome.max_exposure = Count(exposure)
    outcome.pnl_curve.append((fill.ts_ms, state.mark(outcome.inventory)))


def _finish(state: _Replay, outcome: Outcome) -> None:
    total, marked = 0, 0
    for fill in outcome.fills:
        value = state.markout(fill)
        if value is not None:
            total += value
            marked += 1
    outcome.markout, outcome.marked_fills = Money(total), marked
    end = state.match.records[-1][1] if state.match.records else 0
    outcome.pnl_curve.append((end, state.mark(outcome.inventory)))
