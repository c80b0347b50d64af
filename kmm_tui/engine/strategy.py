"""Strategy runner: one task per running match that turns current inputs into desired quotes.

On every wake-up (a book, fill, order or theo change, or at least once a second for time-based rules)
the runner asks ``risk`` whether a guard trips, else calls ``domain.quoting.decide`` over the match's
outcomes (A and B, and the tie of a three-way match) with the books as market data shows them (our own
orders subtracted; a single market's NO side sees the flipped book), the match's inventory and theos,
and hands the decision to ``execution``. It knows nothing about HTTP or the wire; it also refreshes
feed-priced theo.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Price
from kmm_tui.domain.quoting import Decision, QuoteMemo, QuoteSettings, Reason, SideInput, SideQuote, decide
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Event, Level, QuoteDecided
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.guards import GuardAction, GuardTrip
from kmm_tui.engine.marketdata import MarketData
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.match import RUNNING, MatchRuntime, set_status
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus
from kmm_tui.engine.pricing_inputs import OutcomeTheos
from kmm_tui.engine.risk import Risk
from kmm_tui.engine.state import DecisionLogEntry
from kmm_tui.engine.theo_feed import FeedTheo, TheoFeed, match_ref
from kmm_tui.odds.lines import LineError

log = logging.getLogger(__name__)

TIMED_REEVALUATION_S = 1.0  # time-based rules (start margin, retest) are re-checked at least this often
HISTORY_STEP_MS = 1_000  # theo/best-bid history for sparklines: at most one point a second
# The reason a pulled side shows, by the guard that pulled it.
PULL_REASONS = {
    "stale_feed": Reason.BOOK_STALE,
    "stale_theo": Reason.THEO_STALE,
    "market_status": Reason.MARKET_NOT_OPEN,
    "line_move": Reason.LINE_MOVE,
}


@dataclass(frozen=True, slots=True)
class Preview:
    """Would-be quotes for a spec from the current books: the setup form's live preview."""

    theo_a: Price | None
    theo_b: Price | None
    decision: Decision
    warnings: tuple[str, ...] = ()  # e.g. theo far from Kalshi's mid: check the mapping before starting
    theo_t: Price | None = None  # three-way only


DecideInputs = tuple[SideInput, SideInput, QuoteSettings]


class SessionTap(Protocol):
    """Sees every decision with what it was made from, and every event (the session recorder of
    ``kmm_tui.replay``). Called on the engine loop: must be cheap and must not raise."""

    def decided(
        self, match: MatchRuntime, now_ms: int, inputs: DecideInputs | None, decision: Decision
    ) -> None: ...

    def on_event(self, event: Event) -> None: ...


@functools.lru_cache(maxsize=1024)
def quote_settings(
    settings: MatchSettings, fee_type: FeeType, fee_multiplier: Decimal
) -> QuoteSettings:
    """The pricing core's settings for a match. Cached: building them validates and reduces the fee
    rate (~6 us), and every decision on the quote path needs them while they rarely change."""
    return QuoteSettings(
        edge=settings.edge,
        contracts=settings.contracts,
        inventory_max=settings.inventory_max,
        retest_interval_ms=settings.retest_interval_ms,
        backoff_ticks=settings.backoff_ticks,
        fee_aware=settings.fee_aware,
        start_margin_ms=settings.start_margin_ms,
        fee_type=fee_type,
        fee_multiplier=fee_multiplier,
    )


def match_settings(spec: MatchSpec, market: MarketState | None) -> QuoteSettings:
    fee_type = market.fee_type if market is not None else FeeType.QUADRATIC
    multiplier = market.fee_multiplier if market is not None else Decimal(1)
    return quote_settings(spec.settings, fee_type, multiplier)


def runtime_settings(match: MatchRuntime, market: MarketState) -> QuoteSettings:
    """``match_settings`` for a running match, kept on the match while its settings and its first
    market's fee schedule stay the same objects (hashing the match settings for the cache costs more
    than the rest of a decision's bookkeeping)."""
    cached = match.quote_settings
    settings, fee_type, multiplier = match.spec.settings, market.fee_type, market.fee_multiplier
    if cached is not None and cached[0] is settings and cached[1] is fee_type and cached[2] is multiplier:
        return cached[3]
    built = quote_settings(settings, fee_type, multiplier)
    match.quote_settings = (settings, fee_type, multiplier, built)
    return built


def pull_sides(decision: Decision, pulls: Mapping[str, GuardTrip]) -> Decision:
    """A side-level guard (the fill burst) takes that side's quote away and says why."""
    if not pulls:
        return decision
    sides = {side.value: quote for side, quote in decision.quotes}
    for side, trip in pulls.items():
        if side in sides:
            sides[side] = SideQuote(None, Count(0), Reason.FILL_BURST, trip.reason, None)
    return Decision(sides["a"], sides["b"], decision.memo, sides.get("t"))


class StrategyRunner:
    """Runs every match's decide loop (engine loop only)."""

    def __init__(
        self, bus: Bus, data: MarketData, risk: Risk, execution: Execution, feed: TheoFeed | None
    ) -> None:
        self._bus = bus
        self._data = data
        self._risk = risk
        self._execution = execution
        self.feed = feed
        self.on_trip: Callable[[MatchRuntime, GuardTrip], None] | None = None  # markouts' closing line
        self.tap: SessionTap | None = None  # the session recorder, when recording

    def start(self, match: MatchRuntime) -> None:
        """Start the match's runner task (and its theo refresh when feed-priced)."""
        match.task = asyncio.create_task(self._run(match), name=f"runner-{match.match_id}")
        if match.spec.theo.from_feed:
            self.follow_feed(match)
        match.wake.set()

    def follow_feed(self, match: MatchRuntime) -> None:
        if self.feed is None:
            self._bus.log(
                Level.WARNING, "theo from the odds feed, but no odds source is configured", match.match_id
            )
        else:
            self._bus.spawn(self._feed_loop(match, self.feed), f"feed-{match.match_id}")

    def preview(self, spec: MatchSpec, runtime: MatchRuntime | None, theos: OutcomeTheos) -> Decision:
        """What the runner would decide for ``spec`` now, from a fresh memo (pure: no writes)."""
        now = self._bus.clock()
        a, b, t = self._data.side_inputs(spec, theos, self._execution.orders.live(spec.match_id), now)
        return decide(
            a,
            b,
            match_settings(spec, self._data.markets.get(spec.ticker_a)),
            runtime.inventory if runtime else Inventory(),
            QuoteMemo(),
            now,
            spec.start_ms or (runtime.start_ms if runtime else None),
            t=t,
        )

    async def _run(self, match: MatchRuntime) -> None:
        """One task per running match: decide on every wake-up, never more than one pass in flight."""
        try:
            while match.status in RUNNING:
                if not match.wake.is_set():  # asyncio.timeout, unlike wait_for, spawns no task per wait
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(TIMED_REEVALUATION_S):
                            await match.wake.wait()
                match.wake.clear()
                if match.status not in RUNNING:
                    break
                await self._decide_and_act(match)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one bad match must not take the others down
            log.exception("runner for %s failed", match.match_id)
            set_status(self._bus, match, MatchStatus.HALTED, f"internal error: {error!r}")
            await self._execution.cancel_orders(self._execution.orders.live(match.match_id))

    async def _decide_and_act(self, match: MatchRuntime) -> None:
        now = self._bus.clock()
        spec = match.spec
        markets = tuple(map(self._data.markets.__getitem__, spec.tickers))
        orders = self._execution.orders.live(match.match_id)
        a, b, t = self._data.side_inputs(spec, (match.theo_a, match.theo_b, match.theo_t), orders, now)
        trip = self._risk.check(match, markets, now, (a, b, t))
        if trip is not None and trip.action is GuardAction.HALT:
            self._trip(match, trip)
            return
        inputs: DecideInputs | None = None
        if trip is not None:  # PULL: no quotes until the condition clears by itself
            reason = PULL_REASONS.get(trip.guard, Reason.HALTED)
            pulled = SideQuote(None, Count(0), reason, trip.reason, None)
            decision = Decision.uniform(pulled, match.memo, match.three_way)
        else:
            settings = runtime_settings(match, markets[0])
            inputs = (a, b, settings)
            # positional (the hot path); theo_stale False: the stale-theo guard has already pulled quotes
            decision = decide(a, b, settings, match.inventory, match.memo, now, match.start_ms, False, t)
        if self.tap is not None:
            self.tap.decided(match, now, inputs, decision)
        if inputs is not None:  # after the tap: a replay re-runs decide(), which knows no fill bursts
            decision = pull_sides(decision, self._risk.side_pulls(match, now))
        match.memo = decision.memo
        self._record_decision(match, decision, now)
        if match.status is MatchStatus.DRY_RUN:
            return
        await self._execution.pursue(match, decision)

    def _trip(self, match: MatchRuntime, trip: GuardTrip) -> None:
        if self.on_trip is not None:
            self.on_trip(match, trip)
        self._bus.log(Level.WARNING, f"guard {trip.guard}: {trip.reason}", match.match_id)
        self._bus.rec.guard_trip(match.match_id, trip.guard, trip.reason, self._bus.clock())
        halted = Decision.uniform(
            SideQuote(None, Count(0), Reason.HALTED, trip.reason, None), match.memo, match.three_way
        )
        if self.tap is not None:
            self.tap.decided(match, self._bus.clock(), None, halted)
        self._record_decision(match, halted, self._bus.clock())
        self._execution.halt_soon(match, trip.reason)

    def _record_decision(self, match: MatchRuntime, decision: Decision, now: int) -> None:
        """Keep the latest decision; log and journal a side only when its reason, price or size changed
        (details such as a retest countdown change every second and would drown the log)."""
        previous = match.decision
        match.decision = decision
        if not match.history or now - match.history[-1][0] >= HISTORY_STEP_MS:
            bid_a, bid_b = self._best_bid(match, Side.A), self._best_bid(match, Side.B)
            match.history.append((now, match.theo_a, bid_a, match.theo_b, bid_b))
        changed = False
        for side, quote in decision.quotes:
            old = None if previous is None else previous.t if side is Side.T else (
                previous.a if side is Side.A else previous.b)
            if old is not quote and (old is None or quote.reason is not old.reason
                                     or quote.price != old.price or quote.size != old.size):
                match.decisions.appendleft(
                    DecisionLogEntry(now, side.value, quote.reason.value, quote.detail, quote.price)
                )
                self._bus.rec.decision(
                    match.match_id, now, side.value, quote.reason.value, quote.detail, quote.price
                )
                changed = True
        if changed:
            self._bus.emit(QuoteDecided(match.match_id, decision, now))

    def _best_bid(self, match: MatchRuntime, side: Side) -> Price | None:
        """The best bid for one outcome (a single market's NO: 100c − the best YES ask)."""
        book = self._data.markets[match.ticker(side)].book
        return book.flipped().best_bid if match.spec.is_no(side) else book.best_bid

    async def _feed_loop(self, match: MatchRuntime, feed: TheoFeed) -> None:
        """Refresh a feed-priced match's theo while it runs; report each new kind of failure once."""
        last_problem = ""
        try:
            markets = self._data.markets
            ref = match_ref(match.spec, match.event_ticker, match.event_title, markets, match.start_ms)
        except LineError as error:  # no theo ever arrives: the stale-theo guard keeps the match unquoted
            self._bus.log(Level.WARNING, f"odds feed: {error}", match.match_id)
            return
        while match.active:
            result = await feed.theo(ref, match.spec.theo.method)
            if isinstance(result, FeedTheo):
                match.set_theos((result.theo_a, result.theo_b, result.theo_t))
                match.theo_priced_ms, match.theo_summary = result.priced_ms, result.summary
                if result.commence_ms is not None and match.start_source in ("unknown", "ticker (guess)"):
                    match.start_ms, match.start_source = result.commence_ms, "odds feed"
                last_problem = ""
                match.wake.set()
            elif result.reason != last_problem:
                last_problem = result.reason
                self._bus.log(Level.WARNING, f"odds feed: {result.reason}", match.match_id)
            await asyncio.sleep(feed.settings.refresh_ms / 1000)
