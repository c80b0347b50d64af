"""The engine facade: the only door for front-ends. Commands in, events out, snapshots on demand.

Front-ends talk to it only through ``execute(command)``, ``listen(callback)`` and ``snapshot()`` (plus
the form helpers ``describe_pair``, ``preview``, ``feed_theo``). One asyncio loop runs everything;
mutable state is touched only from that loop, so no locks. This module builds the components, routes
exchange events to their owners and runs the periodic upkeep; the trading itself lives in them:

    marketdata (books, status) -> strategy (risk check, decide) -> execution (plan, writes, outcomes)
    exchange fills -> portfolio (inventory) -> risk (guards) ; lifecycle (match transitions)

Data flow of one quote: feed ``BookChange`` -> ``MarketData.on_book`` -> wake the runners on that
ticker -> ``StrategyRunner`` (``Risk.check``, ``domain.quoting.decide``) -> ``Execution.pursue``
(``reconciler.plan_side``) -> ``ExchangePort`` writes -> acks / ``user_order`` / ``fill`` -> orders and
inventory -> the next decision. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from kmm_tui.domain.markouts import DEFAULT_HORIZONS_MS, suggest_edge
from kmm_tui.domain.prices import COUNT_SCALE, format_cents
from kmm_tui.domain.quoting import SideQuote
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.account_risk import AccountRisk
from kmm_tui.engine.bus import Bus, Clock, wall_clock_ms
from kmm_tui.engine.errors import EngineError, PairingNeeded
from kmm_tui.engine.events import Event, Filled, Level, RateHeadroom
from kmm_tui.engine.exchange import (
    BookChange,
    ExchangePort,
    FeedStatus,
    FillSeen,
    GroupTriggered,
    MarketGrid,
    MarketStatus,
    OrderUpdate,
    PositionSeen,
)
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.flow_guards import FlowGuards
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.lifecycle import Lifecycle
from kmm_tui.engine.marketdata import MarketData, PairInfo
from kmm_tui.engine.markouts import FRESH_FILL_MS, Markouts
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.model import AccountLimits, MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.portfolio import Portfolio
from kmm_tui.engine.pricing_inputs import outcome_theos
from kmm_tui.engine.recorder import Recorder
from kmm_tui.engine.recovery import Components, recover
from kmm_tui.engine.risk import Risk
from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.engine.strategy import Preview, SessionTap, StrategyRunner
from kmm_tui.engine.sweeps import Sweeps
from kmm_tui.engine.theo_feed import FeedFailure, FeedTheo, PairingChoice, TheoFeed, match_ref
from kmm_tui.engine.views import match_view
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.odds.lines import LineError

log = logging.getLogger(__name__)

UPKEEP_S = 5  # balance, positions, headroom, unknown orders and the sweep of resting orders


class Engine:
    """The one trading engine behind every front-end."""

    def __init__(
        self,
        exchange: ExchangePort,
        *,
        environment: str = "sim",
        clock: Clock = wall_clock_ms,
        dry_run: bool = False,
        journal: Journal | None = None,
        theo_feed: TheoFeed | None = None,
        adopt_on_restart: bool = False,
        account_limits: AccountLimits | None = None,
        markout_horizons_ms: Sequence[int] = DEFAULT_HORIZONS_MS,
        session_recorder: SessionTap | None = None,
    ) -> None:
        self.environment = environment
        self._x = exchange
        self._adopt = adopt_on_restart
        self._journal = journal
        self._dry_run_default = dry_run
        self._closed = False
        self._bus = Bus(clock, Recorder(journal))
        self._tasks = self._bus.tasks
        self._matches: dict[str, MatchRuntime] = {}
        self._orders = OrderLedger()
        self._data = MarketData(self._bus, exchange, self._matches, self._orders)
        self._data.on_wake = exchange.give_turn  # a woken runner runs before the rest of a feed burst
        self._portfolio = Portfolio(self._bus, exchange, self._matches, self._orders, journal)
        self._flow = FlowGuards()
        self._account = AccountRisk(self._matches, self._orders, journal, account_limits or AccountLimits())
        self._markouts = Markouts(
            self._bus, self._data.markets, self._matches, self._data.presence, journal, markout_horizons_ms
        )
        self._bus.listeners.append(self._on_own_event)  # before any front-end: guards see fills first
        self._risk = Risk(self._portfolio, theo_feed, flow=self._flow, account=self._account)
        self._execution = Execution(self._bus, exchange, self._matches, self._orders, self._risk)
        self._sweeps = Sweeps(self._bus, exchange, self._matches, self._orders)
        self._strategy = StrategyRunner(self._bus, self._data, self._risk, self._execution, theo_feed)
        self._strategy.on_trip = self._markouts.on_trip
        self._lifecycle = Lifecycle(
            self._bus, exchange, self._matches, self._data, self._execution, self._strategy
        )
        self._feed = theo_feed
        if session_recorder is not None:  # recording for `kmm replay` (kmm_tui/replay, docs/replay.md)
            self._strategy.tap = session_recorder
            self.listen(session_recorder.on_event)

    @property
    def _feed(self) -> TheoFeed | None:
        """The odds feed (None without one); replacing it reaches every component that prices with it."""
        return self._strategy.feed

    @_feed.setter
    def _feed(self, feed: TheoFeed | None) -> None:
        self._strategy.feed = self._risk.feed = feed

    # --- front-end surface -----------------------------------------------------------------------

    def listen(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Subscribe to events. Callbacks run on the engine loop and must not block."""
        listeners = self._bus.listeners
        listeners.append(callback)
        return lambda: listeners.remove(callback) if callback in listeners else None

    async def start(self) -> None:
        """Connect, then reconcile with the exchange (orphans, fills, positions) before anything quotes."""
        self._x.on_event(self._on_exchange_event)
        await self._x.start()
        parts = Components(self._bus, self._x, self._lifecycle, self._execution, self._portfolio)
        self._markouts.load()
        await recover(parts, self._journal, adopt=self._adopt)
        self._tasks.append(asyncio.create_task(self._upkeep(), name="engine-upkeep"))
        await self._portfolio.refresh_balance()

    async def execute(self, command: cmd.Command) -> None:
        """Apply one command. Raises EngineError with a user-facing message for bad input."""
        if self._closed and not isinstance(command, cmd.Shutdown):
            raise EngineError("the engine is shutting down")
        lifecycle = self._lifecycle
        match command:
            case cmd.AddMatch(spec=spec, start=start):
                await lifecycle.add(spec)
                if start:
                    self._may_start(spec.match_id)
                    await lifecycle.start(spec.match_id, self._dry_run_default)
            case cmd.StartMatch(match_id=match_id, dry_run=dry_run):
                self._may_start(match_id)
                await lifecycle.start(match_id, dry_run or self._dry_run_default)
            case cmd.ResetAccountLimits():
                if self._account.reset(self._bus.clock()):
                    self._bus.log(Level.WARNING, "account limits reset by the trader; start matches again")
            case cmd.StopMatch(match_id=match_id, reason=reason):
                await lifecycle.stop(lifecycle.match(match_id), reason, MatchStatus.STOPPED)
            case cmd.UpdateMatch():
                lifecycle.update(command)
            case cmd.CorrectInventory():
                self._portfolio.correct(command)
            case cmd.DeleteMatch(match_id=match_id):
                await lifecycle.delete(match_id)
            case cmd.KillAll(reason=reason):
                await self.kill_all(reason)
            case cmd.Shutdown(reason=reason):
                await self.close(reason)

    def _may_start(self, match_id: str) -> None:
        """Refuse to start while an account limit holds; a start forgets old bursts and line moves."""
        if self._account.latched is not None:
            raise EngineError(
                f"{self._account.latched}: reset the account limits first (R, or POST /api/risk/reset)"
            )
        self._flow.forget(match_id)

    def _on_own_event(self, event: Event) -> None:
        """A fill booked live feeds the fill-burst guard and starts its markout."""
        if not isinstance(event, Filled) or self._bus.clock() - event.ts_ms > FRESH_FILL_MS:
            return
        match = self._matches.get(event.match_id)
        if match is not None:
            self._flow.on_fill(event.match_id, event.side, self._bus.clock(), match.spec.settings.burst_fills)
        self._markouts.on_fill(event)

    def _markout_fields(self, match_id: str) -> dict[str, Any]:
        """A match view's markout fields (``MatchView.markouts`` and the three after it)."""
        summary = self._markouts.summary(match_id)
        closing = self._markouts.closing.get(match_id)
        return {
            "markouts": summary,
            "fill_markouts": self._markouts.fills(match_id),
            "closing": (
                self._markouts.closing_price(match_id, "a"),
                self._markouts.closing_price(match_id, "b"),
            )
            if closing is not None
            else None,
            "suggested_edge": suggest_edge(summary),
        }

    def snapshot(self, matches: tuple[MatchView, ...] | None = None) -> EngineView:
        """The engine's state for a front-end; ``matches``: views already built by :meth:`match_views`
        (a caller that builds them a few at a time, to keep its loop free between them)."""
        now = self._bus.clock()
        read, write = self._x.headroom()
        return EngineView(
            environment=self.environment,
            matches=self.match_views(tuple(self._matches)) if matches is None else matches,
            balance=self._portfolio.balance,
            feed_connected=self._data.feed_connected,
            feed_detail=self._data.feed_detail,
            read_headroom=read,
            write_headroom=write,
            resting_orders=len(self._orders.live()),
            logs=tuple(self._bus.logs),
            ts_ms=now,
            odds_quota=tuple(sorted(self._feed.quota.items())) if self._feed else (),
            account=self._account.view(),
        )

    def match_ids(self) -> tuple[str, ...]:
        return tuple(self._matches)

    def match_views(self, match_ids: tuple[str, ...]) -> tuple[MatchView, ...]:
        """The views of these matches, in this order (a match removed meanwhile is left out)."""
        now = self._bus.clock()
        positions = self._portfolio.positions
        return tuple(
            match_view(m, self._data, self._orders, positions, now, self._markout_fields(m.match_id))
            for m in (self._matches.get(match_id) for match_id in match_ids)
            if m is not None
        )

    async def describe_pair(
        self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None
    ) -> PairInfo:
        """Look the markets up and check they form one match of a known shape (two teams; home, tie and
        away; or ``ticker_b == ticker_a``: one market's YES and NO). Raises EngineError(field=...)."""
        return await self._data.describe_pair(ticker_a, ticker_b, ticker_tie)

    def preview(self, spec: MatchSpec) -> Preview:
        """Would-be quotes for ``spec`` against the books we already watch (pure: no network)."""
        theos = outcome_theos(spec.theo, spec.ticker_tie is not None)
        runtime = self._matches.get(spec.match_id)
        if theos[0] is None and runtime is not None:  # feed-priced: its latest theo
            theos = (runtime.theo_a, runtime.theo_b, runtime.theo_t)
        decision = self._strategy.preview(spec, runtime, theos)
        warnings = self._data.match_divergence(spec, theos)
        return Preview(theos[0], theos[1], decision, tuple(warnings), theos[2])

    async def preview_live(self, spec: MatchSpec) -> Preview:
        """Like :meth:`preview`, but for markets not watched yet: one REST read of their books first."""
        markets = self._data.markets
        if all(t in markets for t in spec.tickers):
            return self.preview(spec)
        info = await self.describe_pair(spec.ticker_a, spec.ticker_b, spec.ticker_tie)
        books = await self._x.books([m.ticker for m in info.markets])
        temporary = []
        for market in info.markets:
            if market.ticker not in markets and market.ticker in books:
                market.book, market.stale = books[market.ticker], False
                markets[market.ticker] = market
                temporary.append(market.ticker)
        try:
            return self.preview(replace(spec, start_ms=spec.start_ms or info.start_ms))
        finally:
            for ticker in temporary:
                markets.pop(ticker, None)

    async def feed_theo(
        self, ticker_a: str, ticker_b: str, method: DevigMethod, ticker_tie: str | None = None
    ) -> FeedTheo:
        """Price a proposed match from the odds sources now (the form's "fetch odds")."""
        if self._feed is None:
            raise EngineError(
                "no odds source is configured: add an API key under [odds] in settings.toml", field="odds_a"
            )
        info = await self.describe_pair(ticker_a, ticker_b, ticker_tie)
        feed = TheoInput(from_feed=True, method=method)
        proposed = MatchSpec("proposed", ticker_a, ticker_b, feed, ticker_tie=ticker_tie)
        markets = {market.ticker: market for market in info.markets}
        try:
            ref = match_ref(proposed, info.event_ticker, info.event_title, markets, info.start_ms)
        except LineError as error:
            raise EngineError(str(error), field="odds_a") from None
        result = await self._feed.theo(ref, method)
        if isinstance(result, FeedFailure):
            if result.pairings:
                raise PairingNeeded(result.reason, result.pairings)
            raise EngineError(result.reason, field="odds_a")
        return result

    def confirm_pairing(self, choice: PairingChoice, index: int) -> None:
        """The user says candidate ``index`` of ``choice`` is this match; remembered for every fetch."""
        if self._feed is None:
            raise EngineError("no odds source is configured")
        if not 0 <= index < len(choice.decision.candidates):
            raise EngineError(f"there is no candidate {index + 1}")
        self._feed.confirm(choice, index)
        self._bus.log(Level.INFO, f"pairing confirmed: {choice.describe(index)}")

    def divergence_warnings(self, match_id: str) -> list[str]:
        """Theo far from Kalshi's mid is the usual sign of swapped teams or a stale line: say so."""
        return self._lifecycle.divergence_warnings(self._lifecycle.match(match_id))

    def now_ms(self) -> int:
        return self._bus.clock()

    def report(self, level: Level, text: str) -> None:
        """Log a line in the engine's log (front-ends and composition code report through here)."""
        self._bus.log(level, text)

    @property
    def rest(self) -> KalshiRest:
        """The exchange's REST client, for public reads by front-ends (the scanner)."""
        return self._x.rest

    async def kill_all(self, reason: str = "kill switch") -> int:
        """Stop every match and cancel every order we own, verified. Returns orders left (0 = clean)."""
        self._lifecycle.killing = True
        try:
            return await self._kill_all(reason)
        finally:
            self._lifecycle.killing = False

    async def _kill_all(self, reason: str) -> int:
        return await self._lifecycle.stop_all(reason)

    async def close(self, reason: str = "shutdown") -> int:
        """Pull every order (verified), stop background work, close connections. Idempotent."""
        if self._closed:
            return 0
        try:
            left = await self.kill_all(reason)
        except Exception:  # a bug must not skip the last pull nor leave connections open
            log.exception("kill all failed during close; pulling by client-id prefix as a last resort")
            runners = [m.task for m in self._matches.values() if m.task is not None]
            for match in self._matches.values():
                match.status = MatchStatus.STOPPING  # nothing may place another order
            for task in runners:
                task.cancel()
            await asyncio.gather(*runners, return_exceptions=True)
            try:
                _, left = await self._x.cancel_all_ours()
            except Exception:
                log.exception("last-resort cancel failed: orders of ours may still rest")
                left = 1
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._x.close()
        return left

    # --- exchange events: each to its owner ---------------------------------------------------------

    def _on_exchange_event(self, event: object) -> None:
        if isinstance(event, BookChange):
            if event.ticker not in self._data.markets:
                return
            self._data.on_book(event)
        elif isinstance(event, FillSeen):
            self._portfolio.on_fill(event)
        elif isinstance(event, OrderUpdate):
            self._execution.on_order_update(event)
        elif isinstance(event, MarketStatus):
            self._data.on_status(event)
        elif isinstance(event, MarketGrid):
            self._data.on_grid(event.ticker, event.grid)
        elif isinstance(event, PositionSeen):
            self._portfolio.on_position(event)
        elif isinstance(event, GroupTriggered):
            self._execution.on_group_triggered(event)
        elif isinstance(event, FeedStatus):
            self._data.on_feed_status(event)

    # --- upkeep -----------------------------------------------------------------------------------

    async def _reconcile_orders(self) -> None:
        await self._sweeps.reconcile_orders()

    async def _upkeep(self) -> None:
        """Every few seconds: balance, positions, rate headroom, the ledger's sweep against a REST read
        of our resting orders, and orders whose state is unknown."""
        cycle = 0
        while True:
            await asyncio.sleep(UPKEEP_S)
            try:
                await self._portfolio.refresh_balance()
                await self._portfolio.sync_positions()
                read, write = self._x.headroom()
                self._bus.emit(RateHeadroom(read, write, self._bus.clock()))
                cycle += 1
                await self._reconcile_orders()
                await self._data.recheck_paused()
                if cycle % 3 == 0:
                    self._sweeps.forget_finished()
                await self._sweeps.resolve_unknown()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("upkeep failed: %r", error)


def side_quote_text(quote: SideQuote | None) -> str:
    """One-line summary used by the headless printer and logs."""
    if quote is None:
        return "-"
    price = format_cents(quote.price) if quote.price is not None else "no quote"
    return f"{price} x{quote.size // COUNT_SCALE} ({quote.reason.value}: {quote.detail})"


__all__ = ["Engine", "MatchRuntime", "PairInfo", "Preview", "side_quote_text", "wall_clock_ms"]
