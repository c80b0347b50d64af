"""The trading engine: owns the client, the feed, every match runner, and our orders.

Front-ends talk to it only through ``execute(command)``, ``listen(callback)`` and ``snapshot()``.
One asyncio loop runs everything; mutable state is touched only from that loop, so no locks.

Data flow of one quote: feed book event -> ``MarketState.book`` -> wake the match runners on that
ticker -> ``domain.quoting.decide`` -> ``reconciler.plan_side`` -> REST writes (rate limited) ->
acks / WebSocket ``user_order`` and ``fill`` -> orders and inventory -> the next decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import (
    CENT,
    COUNT_SCALE,
    Count,
    Money,
    Price,
    TickGrid,
    format_cents,
    format_contracts,
)
from kmm_tui.domain.quoting import Decision, QuoteMemo, QuoteSettings, Reason, SideInput, SideQuote, decide
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine import commands as cmd
from kmm_tui.engine import guards
from kmm_tui.engine.errors import EngineError, PairingNeeded
from kmm_tui.engine.events import (
    BalanceChanged,
    BookUpdated,
    Event,
    FeedHealthChanged,
    Filled,
    InventoryChanged,
    Level,
    LogEvent,
    MatchStatusChanged,
    OrderAction,
    OrderChanged,
    QuoteDecided,
    RateHeadroom,
)
from kmm_tui.engine.exchange import (
    BookChange,
    ExchangePort,
    FeedStatus,
    FillSeen,
    GroupTriggered,
    MarketStatus,
    OrderIntent,
    OrderUpdate,
    PositionSeen,
    WriteOutcome,
)
from kmm_tui.engine.guards import GuardAction, GuardContext, GuardTrip
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.markets import MarketState, start_from_ticker
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, OrderBook, OrderState, OwnOrder, new_client_order_id
from kmm_tui.engine.pricing_inputs import describe_theo, theo_prices
from kmm_tui.engine.reconciler import (
    Action,
    Amend,
    Cancel,
    Create,
    Decrease,
    Priority,
    order_actions,
    plan_side,
)
from kmm_tui.engine.recorder import Recorder
from kmm_tui.engine.recovery import recover
from kmm_tui.engine.state import (
    DecisionLogEntry,
    EngineView,
    FillView,
    LogLine,
    MarketView,
    MatchView,
    OrderView,
)
from kmm_tui.engine.theo_feed import FeedFailure, FeedTheo, PairingChoice, TheoFeed
from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.models import Order
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.odds.consensus import divergence_warning
from kmm_tui.odds.models import MatchRef

log = logging.getLogger(__name__)

Clock = Callable[[], int]
RUNNING = frozenset({MatchStatus.QUOTING, MatchStatus.DRY_RUN})
TIMED_REEVALUATION_S = 1.0  # time-based rules (start margin, retest) are re-checked at least this often
EXPIRY_AFTER_PULL_S = 60  # orders expire on the exchange this long after the planned pre-start pull
DRIFT_GRACE_MS = 3_000  # positions may lag fills briefly; only a persistent difference is drift
READ_LAG_MS = 5_000  # REST reads lag writes: the order backup judges only orders older than this
HISTORY_STEP_MS = 1_000  # theo/best-bid history for sparklines: at most one point a second
SHADOW_MS = 1_500  # how long an acknowledged write may take to show in the feed's book
DIVERGENCE_THRESHOLD = Price(15 * CENT)  # theo this far from Kalshi's mid suggests a wrong mapping
MAX_REJECTIONS = 5  # rejected writes within REJECTION_WINDOW_MS halt the match
REJECTION_WINDOW_MS = 60_000


@functools.lru_cache(maxsize=1024)
def quote_settings(
    settings: MatchSettings, fee_type: FeeType, fee_multiplier: Decimal, rebalance: bool
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
        rebalance=rebalance,
        fee_type=fee_type,
        fee_multiplier=fee_multiplier,
    )


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class MatchRuntime:
    """One match's live state (mutable; engine loop only)."""

    spec: MatchSpec
    event_ticker: str
    event_title: str
    theo_a: Price | None
    theo_b: Price | None
    status: MatchStatus = MatchStatus.NEW
    reason: str = "added"
    inventory: Inventory = field(default_factory=Inventory)
    memo: QuoteMemo = field(default_factory=QuoteMemo)
    decision: Decision | None = None
    start_ms: int | None = None
    start_source: str = "unknown"
    order_group_id: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    fills: deque[FillView] = field(default_factory=lambda: deque(maxlen=200))
    decisions: deque[DecisionLogEntry] = field(default_factory=lambda: deque(maxlen=200))
    history: deque[tuple[int, Price | None, Price | None, Price | None, Price | None]] = field(
        default_factory=lambda: deque(maxlen=240)
    )
    seen_trades: set[str] = field(default_factory=set)
    drift_since_ms: int | None = None
    three_way: bool = False
    theo_priced_ms: int | None = None  # feed-priced matches: time of the newest sportsbook price used
    theo_summary: str = ""
    group_triggered: bool = False
    rejections: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_REJECTIONS))

    @property
    def match_id(self) -> str:
        return self.spec.match_id

    def ticker(self, side: Side) -> str:
        return self.spec.ticker_a if side is Side.A else self.spec.ticker_b


@dataclass(frozen=True, slots=True)
class PairInfo:
    """What the exchange says about a proposed match: for the setup form and AddMatch validation."""

    event_ticker: str
    event_title: str
    team_a: str
    team_b: str
    start_ms: int | None
    start_source: str
    markets: tuple[MarketState, MarketState]
    three_way: bool = False  # a third outcome (soccer TIE) exists: YES on both teams is no locked pair


@dataclass(frozen=True, slots=True)
class Preview:
    """Would-be quotes for a spec from the current books: the setup form's live preview."""

    theo_a: Price | None
    theo_b: Price | None
    decision: Decision
    warnings: tuple[str, ...] = ()  # e.g. theo far from Kalshi's mid: check the mapping before starting


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
    ) -> None:
        self._x = exchange
        self._feed = theo_feed
        self._adopt = adopt_on_restart
        self._journal = journal
        self._rec = Recorder(journal)
        self._positions: dict[str, Count] = {}
        self._by_ticker: dict[str, list[str]] = {}
        self.environment = environment
        self._clock = clock
        self._dry_run_default = dry_run
        self._matches: dict[str, MatchRuntime] = {}
        self._markets: dict[str, MarketState] = {}
        self._orders = OrderBook()
        self._listeners: list[Callable[[Event], None]] = []
        self._logs: deque[LogLine] = deque(maxlen=500)
        self._balance: Money | None = None
        self._feed_connected = False
        self._feed_detail = "not connected"
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._killing = False  # no match may start while every order is being pulled

    # --- front-end surface -----------------------------------------------------------------------

    def listen(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Subscribe to events. Callbacks run on the engine loop and must not block."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    async def start(self) -> None:
        """Connect, then reconcile with the exchange (orphans, fills, positions) before anything quotes."""
        self._x.on_event(self._on_exchange_event)
        await self._x.start()
        await recover(self, self._x, self._journal, adopt=self._adopt)
        self._tasks.append(asyncio.create_task(self._upkeep(), name="engine-upkeep"))
        await self._refresh_balance()

    async def execute(self, command: cmd.Command) -> None:
        """Apply one command. Raises EngineError with a user-facing message for bad input."""
        if self._closed and not isinstance(command, cmd.Shutdown):
            raise EngineError("the engine is shutting down")
        match command:
            case cmd.AddMatch(spec=spec, start=start):
                await self._add_match(spec)
                if start:
                    await self._start_match(spec.match_id, self._dry_run_default)
            case cmd.StartMatch(match_id=match_id, dry_run=dry_run):
                await self._start_match(match_id, dry_run or self._dry_run_default)
            case cmd.StopMatch(match_id=match_id, reason=reason):
                await self._stop_match(self._match(match_id), reason, MatchStatus.STOPPED)
            case cmd.UpdateMatch():
                self._update_match(command)
            case cmd.CorrectInventory():
                self._correct_inventory(command)
            case cmd.DeleteMatch(match_id=match_id):
                await self._delete_match(match_id)
            case cmd.KillAll(reason=reason):
                await self.kill_all(reason)
            case cmd.Shutdown(reason=reason):
                await self.close(reason)

    def snapshot(self) -> EngineView:
        now = self._clock()
        read, write = self._x.headroom()
        return EngineView(
            environment=self.environment,
            matches=tuple(self._match_view(m) for m in self._matches.values()),
            balance=self._balance,
            feed_connected=self._feed_connected,
            feed_detail=self._feed_detail,
            read_headroom=read,
            write_headroom=write,
            resting_orders=len(self._orders.live()),
            logs=tuple(self._logs),
            ts_ms=now,
            odds_quota=tuple(sorted(self._feed.quota.items())) if self._feed else (),
        )

    async def describe_pair(self, ticker_a: str, ticker_b: str) -> PairInfo:
        """Look both markets up and check they form one match. Raises EngineError(field=...)."""
        ticker_a, ticker_b = ticker_a.strip().upper(), ticker_b.strip().upper()
        if not ticker_a:
            raise EngineError("enter the market ticker for team A", field="ticker_a")
        if not ticker_b:
            raise EngineError("enter the market ticker for team B", field="ticker_b")
        if ticker_a == ticker_b:
            raise EngineError("team A and team B must be different markets", field="ticker_b")
        market_a = await self._x.load_market(ticker_a, field="ticker_a")
        market_b = await self._x.load_market(ticker_b, field="ticker_b")
        if market_a.event_ticker != market_b.event_ticker:
            raise EngineError(
                f"{ticker_a} belongs to {market_a.event_ticker} but {ticker_b} belongs to "
                f"{market_b.event_ticker}: both teams must be from one event",
                field="ticker_b",
            )
        title, start_ms, outcomes = await self._x.load_event(market_a.event_ticker)
        source = "milestone" if start_ms is not None else "unknown"
        if start_ms is None:
            start_ms = start_from_ticker(market_a.event_ticker)
            source = "ticker (guess)" if start_ms is not None else "unknown"
        return PairInfo(
            market_a.event_ticker,
            title,
            market_a.title,
            market_b.title,
            start_ms,
            source,
            (market_a, market_b),
            three_way=outcomes > 2,
        )

    def preview(self, spec: MatchSpec) -> Preview:
        """Would-be quotes for ``spec`` against the books we already watch (pure: no network)."""
        theo_a, theo_b = theo_prices(spec.theo)
        runtime = self._matches.get(spec.match_id)
        if theo_a is None and runtime is not None:  # feed-priced: its latest theo
            theo_a, theo_b = runtime.theo_a, runtime.theo_b
        inventory = runtime.inventory if runtime else Inventory()
        market_a = self._markets.get(spec.ticker_a)
        market_b = self._markets.get(spec.ticker_b)
        decision = decide(
            self._side_input(market_a, theo_a, spec.match_id, Side.A),
            self._side_input(market_b, theo_b, spec.match_id, Side.B),
            self._quote_settings(spec, market_a, runtime.three_way if runtime else False),
            inventory,
            QuoteMemo(),
            self._clock(),
            spec.start_ms or (runtime.start_ms if runtime else None),
        )
        warnings = self._divergence(((spec.ticker_a, "A", theo_a), (spec.ticker_b, "B", theo_b)))
        return Preview(theo_a, theo_b, decision, tuple(warnings))

    async def feed_theo(self, ticker_a: str, ticker_b: str, method: DevigMethod) -> FeedTheo:
        """Price a proposed match from the odds sources now (the form's "fetch odds")."""
        if self._feed is None:
            raise EngineError(
                "no odds source is configured: add an API key under [odds] in settings.toml", field="odds_a"
            )
        info = await self.describe_pair(ticker_a, ticker_b)
        ref = self._match_ref(info.event_ticker, info.event_title, info.markets, info.start_ms)
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
        self._log(Level.INFO, f"pairing confirmed: {choice.describe(index)}")

    @staticmethod
    def _match_ref(
        event_ticker: str, title: str, markets: tuple[MarketState, MarketState], start_ms: int | None
    ) -> MatchRef:
        a, b = markets
        return MatchRef(event_ticker, title, a.title, a.ticker, b.title, b.ticker, start_ms)

    async def _feed_loop(self, match: MatchRuntime) -> None:
        """Refresh a feed-priced match's theo while it runs; report each new kind of failure once."""
        assert self._feed is not None
        last_problem = ""
        markets = (self._markets[match.spec.ticker_a], self._markets[match.spec.ticker_b])
        ref = self._match_ref(match.event_ticker, match.event_title, markets, match.start_ms)
        while match.status in RUNNING or match.status is MatchStatus.STARTING:
            result = await self._feed.theo(ref, match.spec.theo.method)
            if isinstance(result, FeedTheo):
                match.theo_a, match.theo_b = result.theo_a, result.theo_b
                match.theo_priced_ms, match.theo_summary = result.priced_ms, result.summary
                if result.commence_ms is not None and match.start_source in ("unknown", "ticker (guess)"):
                    match.start_ms, match.start_source = result.commence_ms, "odds feed"
                last_problem = ""
                match.wake.set()
            elif result.reason != last_problem:
                last_problem = result.reason
                self._log(Level.WARNING, f"odds feed: {result.reason}", match.match_id)
            await asyncio.sleep(self._feed.settings.refresh_ms / 1000)

    def divergence_warnings(self, match_id: str) -> list[str]:
        """Theo far from Kalshi's mid is the usual sign of swapped teams or a stale line: say so."""
        match = self._match(match_id)
        return self._divergence(
            ((match.spec.ticker_a, "A", match.theo_a), (match.spec.ticker_b, "B", match.theo_b))
        )

    def _divergence(self, sides: tuple[tuple[str, str, Price | None], ...]) -> list[str]:
        warnings = []
        for ticker, label, theo in sides:
            market = self._markets.get(ticker)
            if market is None or market.stale or theo is None:
                continue
            bid, ask = market.book.best_bid, market.book.best_ask
            mid = Price((bid + ask) // 2) if bid is not None and ask is not None else None
            warning = divergence_warning(theo, mid, DIVERGENCE_THRESHOLD)
            if warning:
                warnings.append(f"team {label}: {warning}")
        return warnings

    async def kill_all(self, reason: str = "kill switch") -> int:
        """Stop every match and cancel every order we own, verified. Returns orders left (0 = clean)."""
        self._killing = True
        try:
            return await self._kill_all(reason)
        finally:
            self._killing = False

    async def _kill_all(self, reason: str) -> int:
        self._log(Level.WARNING, f"kill all: {reason}")
        for match in self._matches.values():
            if match.status in RUNNING or match.status is MatchStatus.STARTING:
                self._set_status(match, MatchStatus.STOPPING, reason)
                match.wake.set()
        await asyncio.gather(*(self._join_runner(m) for m in self._matches.values()))
        left = await self._cancel_everything()
        for match in self._matches.values():
            if match.status is MatchStatus.STOPPING:
                self._set_status(match, MatchStatus.STOPPED, reason)
        return left

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

    @property
    def rest(self) -> KalshiRest:
        """The exchange's REST client, for public reads by front-ends (the scanner)."""
        return self._x.rest

    async def preview_live(self, spec: MatchSpec) -> Preview:
        """Like :meth:`preview`, but for a pair not watched yet: one REST read of both books first."""
        if spec.ticker_a in self._markets and spec.ticker_b in self._markets:
            return self.preview(spec)
        info = await self.describe_pair(spec.ticker_a, spec.ticker_b)
        books = await self._x.books([m.ticker for m in info.markets])
        temporary = []
        for market in info.markets:
            if market.ticker not in self._markets and market.ticker in books:
                market.book, market.stale = books[market.ticker], False
                self._markets[market.ticker] = market
                temporary.append(market.ticker)
        try:
            return self.preview(replace(spec, start_ms=spec.start_ms or info.start_ms))
        finally:
            for ticker in temporary:
                self._markets.pop(ticker, None)

    # --- used by restart recovery -------------------------------------------------------------------

    def now_ms(self) -> int:
        return self._clock()

    def report(self, level: Level, text: str) -> None:
        self._log(level, text)

    async def restore_match(
        self,
        spec: MatchSpec,
        status: MatchStatus,
        reason: str,
        inventory: Inventory,
        seen_trades: set[str],
        order_group_id: str | None = None,
    ) -> None:
        """Re-create a journaled match (not quoting) with the inventory its fills add up to."""
        info = await self.describe_pair(spec.ticker_a, spec.ticker_b)
        runtime = MatchRuntime(spec, info.event_ticker, info.event_title, *theo_prices(spec.theo))
        runtime.start_ms, runtime.start_source = info.start_ms, info.start_source
        runtime.three_way = info.three_way
        if spec.start_ms is not None:
            runtime.start_ms, runtime.start_source = spec.start_ms, "user"
        runtime.inventory, runtime.seen_trades = inventory, set(seen_trades)
        runtime.status, runtime.reason = status, reason
        runtime.order_group_id = order_group_id
        for market in info.markets:
            self._markets.setdefault(market.ticker, market)
        self._matches[spec.match_id] = runtime
        self._index_tickers()
        await self._x.watch([spec.ticker_a, spec.ticker_b])
        self._rec.match(spec, status.value, reason, order_group_id, self._clock())
        self._emit(MatchStatusChanged(spec.match_id, status, reason, self._clock()))

    def match_ids(self) -> set[str]:
        return set(self._matches)

    def adopt_order(self, match_id: str, side: Side, order: Order) -> None:
        """Take over a resting order found at restart instead of cancelling it (``adopt`` recovery)."""
        own = OwnOrder(
            client_order_id=order.client_order_id or "",
            match_id=match_id,
            side=side,
            ticker=order.ticker,
            price=order.price,
            initial=order.initial_count,
            filled=order.fill_count,
            order_id=order.order_id,
            state=OrderState.RESTING,
        )
        self._orders.add(own)
        self._rec.order(own, "adopted", "kept at restart", self._clock())

    async def resume(self, match_id: str, fresh_within_s: float = 5.0) -> None:
        """Start a restored match again (``adopt`` recovery), reporting rather than raising.

        Waits (briefly) for fresh books first: started on a stale book, the stale-feed guard would pull
        the very orders that were adopted.
        """
        match = self._match(match_id)
        loop = asyncio.get_running_loop()
        end = loop.time() + fresh_within_s
        tickers = (match.spec.ticker_a, match.spec.ticker_b)
        while any(self._markets[t].stale for t in tickers) and loop.time() < end:  # noqa: ASYNC110 - bounded, once per restart
            await asyncio.sleep(0.02)
        try:
            await self._start_match(match_id, dry_run=False)
        except EngineError as error:
            self._log(Level.WARNING, f"could not resume: {error.user_message}", match_id)

    async def sync_positions(self) -> None:
        """Read the exchange's positions on every market we trade (feeds the drift guard)."""
        tickers = sorted({t for m in self._matches.values() for t in (m.spec.ticker_a, m.spec.ticker_b)})
        if not tickers:
            return
        positions = await self._x.positions(tickers)
        if positions is not None:
            self._positions.update(positions)

    # --- commands --------------------------------------------------------------------------------

    def _match(self, match_id: str) -> MatchRuntime:
        try:
            return self._matches[match_id]
        except KeyError:
            raise EngineError(f"there is no match {match_id!r}") from None

    async def _add_match(self, spec: MatchSpec) -> None:
        if spec.match_id in self._matches:
            raise EngineError(f"a match with id {spec.match_id!r} already exists", field="name")
        theo_a, theo_b = theo_prices(spec.theo)
        info = await self.describe_pair(spec.ticker_a, spec.ticker_b)
        for label, market in zip(("ticker_a", "ticker_b"), info.markets, strict=True):
            for other in self._by_ticker.get(market.ticker, ()):
                # two matches on one market would each see the other's bid as a competitor and outbid it
                raise EngineError(
                    f"{market.ticker} is already traded by match {self._matches[other].spec.name or other}; "
                    "edit that match instead",
                    field=label,
                )
        spec = replace(spec, ticker_a=info.markets[0].ticker, ticker_b=info.markets[1].ticker)
        spec = spec if spec.name else replace(spec, name=f"{info.team_a} vs {info.team_b}")
        runtime = MatchRuntime(spec, info.event_ticker, info.event_title, theo_a, theo_b)
        runtime.start_ms, runtime.start_source = info.start_ms, info.start_source
        runtime.three_way = info.three_way
        if spec.start_ms is not None:
            runtime.start_ms, runtime.start_source = spec.start_ms, "user"
        for market in info.markets:
            existing = self._markets.get(market.ticker)
            if existing is None:
                self._markets[market.ticker] = market
        self._matches[spec.match_id] = runtime
        self._index_tickers()
        await self._x.watch([spec.ticker_a, spec.ticker_b])
        self._rec.match(spec, runtime.status.value, runtime.reason, None, self._clock())
        self._log(Level.INFO, f"added {spec.name} ({spec.ticker_a} / {spec.ticker_b})", spec.match_id)
        self._emit(MatchStatusChanged(spec.match_id, runtime.status, runtime.reason, self._clock()))

    async def _start_match(self, match_id: str, dry_run: bool) -> None:
        match = self._match(match_id)
        if self._killing:
            raise EngineError("all orders are being pulled (kill all or shutdown); start again when done")
        if match.status in RUNNING or match.status is MatchStatus.STARTING:
            return
        self._set_status(match, MatchStatus.STARTING, "starting")
        if match.group_triggered:  # a triggered group rejects new orders: start over with a fresh one
            match.order_group_id, match.group_triggered = None, False
        if not dry_run and match.order_group_id is None:
            limit = Count(4 * max(match.spec.settings.inventory_max, match.spec.settings.contracts))
            market = self._markets[match.spec.ticker_a]
            try:
                match.order_group_id = await self._x.create_order_group(limit, market.exchange_index)
            except EngineError as error:
                self._set_status(match, MatchStatus.HALTED, f"could not create order group: {error}")
                raise
        match.memo = QuoteMemo()
        for warning in self.divergence_warnings(match.spec.match_id):
            self._log(Level.WARNING, warning, match_id)
        status = MatchStatus.DRY_RUN if dry_run else MatchStatus.QUOTING
        self._set_status(match, status, "dry run: deciding, not sending" if dry_run else "quoting")
        match.task = asyncio.create_task(self._run(match), name=f"runner-{match_id}")
        if match.spec.theo.from_feed:
            if self._feed is None:
                self._log(
                    Level.WARNING, "theo from the odds feed, but no odds source is configured", match_id
                )
            else:
                self._spawn(self._feed_loop(match), f"feed-{match_id}")
        match.wake.set()

    async def _stop_match(self, match: MatchRuntime, reason: str, final: MatchStatus) -> None:
        if match.status not in RUNNING and match.status is not MatchStatus.STARTING:
            if final is MatchStatus.HALTED:
                self._set_status(match, final, reason)
            return
        self._set_status(match, MatchStatus.STOPPING, reason)
        match.wake.set()
        await self._join_runner(match)
        left = await self._cancel_orders(self._orders.live(match.match_id))
        if left:
            self._log(
                Level.ERROR, f"{left} order(s) could not be cancelled — check the exchange", match.match_id
            )
        self._set_status(match, final, reason)

    def _update_match(self, update: cmd.UpdateMatch) -> None:
        match = self._match(update.match_id)
        spec = match.spec
        if update.theo is not None:
            theo_a, theo_b = theo_prices(update.theo)
            spec = replace(spec, theo=update.theo)
            if not update.theo.from_feed or theo_a is not None:
                match.theo_a, match.theo_b = theo_a, theo_b
                match.theo_priced_ms = None
            if update.theo.from_feed and not match.spec.theo.from_feed and match.status in RUNNING:
                match.spec = spec
                if self._feed is not None:
                    self._spawn(self._feed_loop(match), f"feed-{match.match_id}")
        if update.settings is not None:
            spec = replace(spec, settings=update.settings)
        match.spec = spec
        self._rec.match(spec, match.status.value, match.reason, match.order_group_id, self._clock())
        self._log(Level.INFO, "settings updated", match.match_id)
        match.wake.set()

    def _correct_inventory(self, correction: cmd.CorrectInventory) -> None:
        match = self._match(correction.match_id)
        try:
            match.inventory = match.inventory.corrected(
                correction.count_long_a, correction.count_long_b, correction.avg_cost_a, correction.avg_cost_b
            )
        except ValueError as error:
            raise EngineError(str(error), field="count_long_a") from None
        self._log(
            Level.WARNING,
            f"inventory corrected by hand: A {format_contracts(correction.count_long_a)}, "
            f"B {format_contracts(correction.count_long_b)}",
            match.match_id,
        )
        self._emit(InventoryChanged(match.match_id, match.inventory, self._clock()))
        match.wake.set()

    async def _delete_match(self, match_id: str) -> None:
        match = self._match(match_id)
        await self._stop_match(match, "deleted", MatchStatus.STOPPED)
        if self._orders.live(match_id):
            raise EngineError("orders of this match are still resting; kill all before deleting")
        if match.order_group_id:
            with contextlib.suppress(EngineError):
                await self._x.delete_order_group(match.order_group_id)
        del self._matches[match_id]
        self._index_tickers()
        self._rec.match_deleted(match_id)
        still_used = {t for m in self._matches.values() for t in (m.spec.ticker_a, m.spec.ticker_b)}
        gone = [t for t in (match.spec.ticker_a, match.spec.ticker_b) if t not in still_used]
        for ticker in gone:
            self._markets.pop(ticker, None)
        await self._x.unwatch(gone)
        self._log(Level.INFO, f"deleted {match.spec.name}", match_id)

    # --- the match runner -----------------------------------------------------------------------

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
            self._set_status(match, MatchStatus.HALTED, f"internal error: {error!r}")
            await self._cancel_orders(self._orders.live(match.match_id))

    async def _decide_and_act(self, match: MatchRuntime) -> None:
        now = self._clock()
        market_a = self._markets[match.spec.ticker_a]
        market_b = self._markets[match.spec.ticker_b]
        trip = guards.check(self._guard_context(match, market_a, market_b, now))
        if trip is not None and trip.action is GuardAction.HALT:
            self._trip(match, trip)
            return
        if trip is not None:  # PULL: no quotes until the condition clears by itself
            pulled = SideQuote(None, Count(0), Reason.THEO_STALE, trip.reason, None)
            decision = Decision(pulled, pulled, match.memo)
        else:
            decision = decide(
                self._side_input(market_a, match.theo_a, match.match_id, Side.A),
                self._side_input(market_b, match.theo_b, match.match_id, Side.B),
                self._quote_settings(match.spec, market_a, match.three_way),
                match.inventory,
                match.memo,
                now,
                match.start_ms,
            )
        match.memo = decision.memo
        self._record_decision(match, decision, now)
        if match.status is MatchStatus.DRY_RUN:
            return
        actions: list[Action] = []
        for side, quote in ((Side.A, decision.a), (Side.B, decision.b)):
            orders = self._orders.live(match.match_id, side)
            actions.extend(plan_side(side, quote.price, quote.size, orders))
        if actions:
            await asyncio.gather(*(self._apply(match, action) for action in order_actions(actions)))

    def _guard_context(
        self, match: MatchRuntime, market_a: MarketState, market_b: MarketState, now: int
    ) -> GuardContext:
        return GuardContext(
            now_ms=now,
            start_ms=match.start_ms,
            start_source=match.start_source,
            start_margin_ms=match.spec.settings.start_margin_ms,
            market_statuses=(market_a.status, market_b.status),
            feed_stale=market_a.stale or market_b.stale or market_a.scale_suspect or market_b.scale_suspect,
            feed_silent_ms=0,
            theo_age_ms=(now - match.theo_priced_ms) if match.theo_priced_ms is not None else None,
            theo_max_age_ms=self._feed.settings.max_age_ms if self._feed else 120_000,
            inventory=match.inventory,
            exchange_positions=self._persistent_drift(match, now),
            drift_tolerance=Count(0),
            order_group_triggered=match.group_triggered,
            mark_a=match.theo_a,
            mark_b=match.theo_b,
            max_loss_match=match.spec.settings.max_loss,
            session_pnl=Money(0),
            max_loss_session=None,
        )

    def _persistent_drift(self, match: MatchRuntime, now: int) -> tuple[Count, Count] | None:
        """Exchange positions, once they have disagreed with our inventory for longer than the grace
        period (a position update may arrive just before or after its fill)."""
        pos_a = self._positions.get(match.spec.ticker_a)
        pos_b = self._positions.get(match.spec.ticker_b)
        if pos_a is None or pos_b is None:
            return None
        inv = match.inventory
        if (pos_a, pos_b) == (inv.count_long_a, inv.count_long_b):
            match.drift_since_ms = None
            return None
        if match.drift_since_ms is None:
            match.drift_since_ms = now
        if now - match.drift_since_ms < DRIFT_GRACE_MS:
            return None
        return pos_a, pos_b

    def _trip(self, match: MatchRuntime, trip: GuardTrip) -> None:
        self._log(Level.WARNING, f"guard {trip.guard}: {trip.reason}", match.match_id)
        self._rec.guard_trip(match.match_id, trip.guard, trip.reason, self._clock())
        halted = SideQuote(None, Count(0), Reason.HALTED, trip.reason, None)
        self._record_decision(match, Decision(halted, halted, match.memo), self._clock())
        self._halt_soon(match, trip.reason)

    def _side_input(
        self, market: MarketState | None, theo: Price | None, match_id: str, side: Side
    ) -> SideInput:
        if market is None:
            return SideInput(theo, Book(), None, Count(0), TickGrid.linear_cent(), market_open=False)
        now = self._clock()
        mine: list[tuple[Price, Count]] = []
        own: list[OwnOrder] = []
        for order in self._orders.all(match_id):
            if order.side is not side or order.ticker != market.ticker:
                continue
            if order.is_live:
                own.append(order)
                if order.remaining > 0:
                    mine.append((order.price, order.remaining))
            if order.shadow is not None:  # what the book may still show of it from before our last write
                price, count, until_ms = order.shadow
                if now < until_ms:
                    mine.append((price, count))
                else:
                    order.shadow = None
        visible = market.book.without(own_bids=mine)
        resting = next((o for o in own if o.state is OrderState.RESTING), None)
        return SideInput(
            theo,
            visible,
            resting.price if resting else None,
            resting.remaining if resting else Count(0),
            market.grid,
            market_open=market.is_open,
        )

    @staticmethod
    def _quote_settings(
        spec: MatchSpec, market: MarketState | None, three_way: bool = False
    ) -> QuoteSettings:
        fee_type = market.fee_type if market is not None else FeeType.QUADRATIC
        multiplier = market.fee_multiplier if market is not None else Decimal(1)
        rebalance = not three_way and spec.theo.odds_draw is None
        return quote_settings(spec.settings, fee_type, multiplier, rebalance)

    def _record_decision(self, match: MatchRuntime, decision: Decision, now: int) -> None:
        """Keep the latest decision; log and journal a side only when its reason, price or size changed
        (details such as a retest countdown change every second and would drown the log)."""
        previous = match.decision
        match.decision = decision
        if not match.history or now - match.history[-1][0] >= HISTORY_STEP_MS:
            market_a = self._markets[match.spec.ticker_a]
            market_b = self._markets[match.spec.ticker_b]
            match.history.append(
                (now, match.theo_a, market_a.book.best_bid, match.theo_b, market_b.book.best_bid)
            )
        changed = False
        for side, quote, old in (
            ("a", decision.a, previous.a if previous else None),
            ("b", decision.b, previous.b if previous else None),
        ):
            if old is None or (quote.reason, quote.price, quote.size) != (old.reason, old.price, old.size):
                match.decisions.appendleft(
                    DecisionLogEntry(now, side, quote.reason.value, quote.detail, quote.price)
                )
                self._rec.decision(match.match_id, now, side, quote.reason.value, quote.detail, quote.price)
                changed = True
        if changed:
            self._emit(QuoteDecided(match.match_id, decision, now))

    # --- order actions ----------------------------------------------------------------------------

    async def _apply(self, match: MatchRuntime, action: Action) -> None:
        if isinstance(action, Create):
            await self._create(match, action)
        elif isinstance(action, Amend):
            await self._write(
                match,
                action.order,
                OrderAction.AMENDED,
                action.price,
                action.remaining,
                self._x.amend(
                    action.order, action.price, action.remaining, safer=action.priority is Priority.SAFER
                ),
            )
        elif isinstance(action, Decrease):
            await self._write(
                match,
                action.order,
                OrderAction.DECREASED,
                action.order.price,
                action.reduce_to,
                self._x.decrease(action.order, action.reduce_to),
            )
        elif isinstance(action, Cancel):
            await self._write(
                match,
                action.order,
                OrderAction.CANCELLED,
                action.order.price,
                Count(0),
                self._x.cancel(action.order),
            )

    async def _create(self, match: MatchRuntime, action: Create) -> None:
        order = OwnOrder(
            client_order_id=new_client_order_id(),
            match_id=match.match_id,
            side=action.side,
            ticker=match.ticker(action.side),
            price=action.price,
            initial=action.count,
            busy=True,
        )
        self._orders.add(order)
        self._rec.intent(order, self._clock())  # recorded before sending: a timeout is resolved by lookup
        intent = OrderIntent(
            order.ticker,
            order.price,
            order.initial,
            order.client_order_id,
            match.order_group_id,
            post_only=match.spec.settings.post_only,
            expiration_s=self._expiration_s(match),
        )
        outcome = await self._x.create(intent)
        order.busy = False
        self._after_write(match, order, OrderAction.PLACED, outcome)

    def _expiration_s(self, match: MatchRuntime) -> int | None:
        """Orders expire on the exchange a minute after the planned pull, so even ``kill -9`` is safe."""
        if match.start_ms is None:
            return None
        pull_ms = match.start_ms - match.spec.settings.start_margin_ms
        if pull_ms - self._clock() < 10_000:
            return None
        return pull_ms // 1000 + EXPIRY_AFTER_PULL_S

    async def _write(
        self,
        match: MatchRuntime,
        order: OwnOrder,
        kind: OrderAction,
        price: Price,
        remaining: Count,
        call: Awaitable[WriteOutcome],
    ) -> None:
        order.busy = True
        before = (order.price, order.remaining)
        try:
            outcome = await call
        finally:
            order.busy = False
        if outcome.ok:
            if before[1] > 0:
                order.shadow = (before[0], before[1], self._clock() + SHADOW_MS)
            order.price = price
            order.initial = (
                Count(order.filled + remaining) if kind is not OrderAction.CANCELLED else order.initial
            )
        self._after_write(match, order, kind, outcome)

    def _after_write(
        self, match: MatchRuntime, order: OwnOrder, kind: OrderAction, outcome: WriteOutcome
    ) -> None:
        now = self._clock()
        order.last_write_ms = now
        if outcome.order_id and order.order_id is None:
            self._orders.bind(order, outcome.order_id)
        if outcome.filled is not None and outcome.filled > order.filled:
            order.filled = outcome.filled
        if outcome.state is not None:
            order.state = outcome.state
        if order.state is OrderState.UNKNOWN and not order.busy:
            self._spawn(self._resolve_soon(match, order), f"resolve-{order.client_order_id}")
        action = kind if outcome.ok else OrderAction.REJECTED
        self._rec.order(order, action.value, outcome.detail, now)
        self._emit(
            OrderChanged(
                match.match_id,
                order.ticker,
                action,
                order.order_id,
                order.client_order_id,
                order.price,
                order.remaining,
                now,
                outcome.detail,
            )
        )
        if not outcome.ok:
            self._log(Level.WARNING, f"{kind.value} rejected: {outcome.detail}", match.match_id)
            if outcome.counts_as_rejection:
                match.rejections.append(now)
                if (
                    len(match.rejections) >= MAX_REJECTIONS
                    and now - match.rejections[0] < REJECTION_WINDOW_MS
                ):
                    self._halt_soon(
                        match, f"{MAX_REJECTIONS} rejected orders within a minute: {outcome.detail}"
                    )
            if outcome.halt_reason:
                self._halt_soon(match, outcome.halt_reason)
        match.wake.set()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run background work owned by the engine (cancelled on close)."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.append(task)
        task.add_done_callback(lambda done: done in self._tasks and self._tasks.remove(done))

    async def _resolve_soon(self, match: MatchRuntime, order: OwnOrder) -> None:
        """An order whose write got no answer: look it up (with back-off) before anything else is done."""
        for attempt in range(6):
            await asyncio.sleep(min(0.25 * 2**attempt, 4.0))
            if order.state is not OrderState.UNKNOWN or order.busy:
                return
            order.busy = True
            try:
                await self._x.resolve(order)
            finally:
                order.busy = False
            if order.state is not OrderState.UNKNOWN:
                self._log(
                    Level.INFO, f"order {order.client_order_id} resolved: {order.state.value}", match.match_id
                )
                match.wake.set()
                return

    def _halt_soon(self, match: MatchRuntime, reason: str) -> None:
        """Halt a match from inside its own runner (cannot await the runner from itself)."""
        if match.status in RUNNING:
            match.status = MatchStatus.STOPPING
            self._spawn(self._finish_halt(match, reason), f"halt-{match.match_id}")

    async def _finish_halt(self, match: MatchRuntime, reason: str) -> None:
        await self._join_runner(match)
        await self._cancel_orders(self._orders.live(match.match_id))
        self._set_status(match, MatchStatus.HALTED, reason)

    async def _join_runner(self, match: MatchRuntime) -> None:
        task = match.task
        if task is None or task is asyncio.current_task():
            return
        match.wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except Exception:
            log.exception("runner %s ended with an error", match.match_id)
        match.task = None

    async def _cancel_orders(self, orders: list[OwnOrder]) -> int:
        """Cancel these orders and verify with the exchange. Returns how many are still resting."""
        if not orders:
            return 0
        left = await self._x.cancel_and_verify(orders)
        now = self._clock()
        for order in orders:
            if order.order_id not in left:
                if order.state is not OrderState.EXECUTED:
                    order.state = OrderState.CANCELLED
                self._rec.order(order, "cancelled", "pulled", now)
                self._emit(
                    OrderChanged(
                        order.match_id,
                        order.ticker,
                        OrderAction.CANCELLED,
                        order.order_id,
                        order.client_order_id,
                        order.price,
                        Count(0),
                        now,
                        "pulled",
                    )
                )
        return len(left)

    async def _cancel_everything(self) -> int:
        """Cancel every order we know of plus any resting order the exchange shows as ours."""
        left = await self._cancel_orders(self._orders.live())
        try:
            _, stray = await self._x.cancel_all_ours()
        except KalshiError as error:
            self._log(Level.ERROR, f"could not verify that no orders rest: {error.user_message}")
            return left + 1
        if stray:
            self._log(Level.ERROR, f"{stray} order(s) still resting after cancel — check the exchange")
        return left + stray

    # --- exchange events --------------------------------------------------------------------------

    def _on_exchange_event(self, event: object) -> None:
        now = self._clock()
        if isinstance(event, BookChange):
            market = self._markets.get(event.ticker)
            if market is None:
                return
            if event.client_order_id is not None:  # the feed now shows our write: no shadow needed
                order = self._orders.by_client(event.client_order_id)
                if order is not None:
                    order.shadow = None
            market.book, market.stale, market.book_ts_ms = event.book, event.stale, now
            if (problem := market.check_scale()) is not None:
                self._log(Level.ERROR, problem)
            self._emit(BookUpdated(event.ticker, event.book, now, event.stale))
            self._wake_ticker(event.ticker)
        elif isinstance(event, FillSeen):
            self._on_fill(event)
        elif isinstance(event, OrderUpdate):
            self._on_order_update(event)
        elif isinstance(event, MarketStatus):
            market = self._markets.get(event.ticker)
            if market is not None and market.status != event.status:
                market.status = event.status
                self._log(Level.WARNING, f"{event.ticker} is now {event.status} ({event.detail})")
                self._wake_ticker(event.ticker)
        elif isinstance(event, PositionSeen):
            self._positions[event.ticker] = event.position
        elif isinstance(event, GroupTriggered):
            for match in self._matches.values():
                if match.order_group_id == event.order_group_id:
                    match.group_triggered = True
                    match.wake.set()
        elif isinstance(event, FeedStatus):
            self._feed_connected, self._feed_detail = event.connected, event.detail
            for ticker in event.stale_tickers:
                market = self._markets.get(ticker)
                if market is not None:
                    market.stale = True
                    self._wake_ticker(ticker)
            self._emit(FeedHealthChanged(event.connected, event.stale_tickers, event.detail, now))

    def _wake_ticker(self, ticker: str) -> None:
        for match_id in self._by_ticker.get(ticker, ()):
            match = self._matches.get(match_id)
            if match is not None and match.status in RUNNING:
                match.wake.set()

    def _index_tickers(self) -> None:
        """Rebuild ticker -> match ids (a book update wakes only the matches that trade it)."""
        self._by_ticker = {}
        for match in self._matches.values():
            for ticker in (match.spec.ticker_a, match.spec.ticker_b):
                self._by_ticker.setdefault(ticker, []).append(match.match_id)

    def _on_fill(self, fill: FillSeen) -> None:
        owner = self._fill_owner(fill)
        if owner is None:
            return  # not ours (another tool on the same account); drift shows in positions
        match, side, order = owner
        if fill.trade_id in match.seen_trades:
            return
        match.seen_trades.add(fill.trade_id)
        if fill.book_side != "bid":
            self._log(Level.WARNING, f"unexpected {fill.book_side} fill on {fill.ticker}", match.match_id)
            return
        view = FillView(
            fill.trade_id,
            fill.ticker,
            side.value,
            fill.price,
            fill.count,
            fill.fee,
            fill.is_taker,
            fill.ts_ms,
        )
        if not self._rec.fill(match.match_id, fill.order_id, view):
            return  # journaled before (seen by an earlier run): already in the inventory
        if order is not None:
            order.filled = Count(min(order.initial, order.filled + fill.count))
            if order.filled >= order.initial:
                order.state = OrderState.EXECUTED
        match.inventory = match.inventory.apply_fill(side, fill.price, fill.count, fill.fee)
        now = self._clock()
        match.fills.appendleft(view)
        self._emit(
            Filled(
                match.match_id,
                fill.ticker,
                side.value,
                fill.trade_id,
                fill.order_id,
                fill.price,
                fill.count,
                fill.fee,
                fill.is_taker,
                fill.ts_ms,
            )
        )
        self._emit(InventoryChanged(match.match_id, match.inventory, now))
        self._log(
            Level.INFO,
            f"filled {format_contracts(fill.count)} {side.value.upper()} @ {format_cents(fill.price)}",
            match.match_id,
        )
        match.wake.set()

    def _fill_owner(self, fill: FillSeen) -> tuple[MatchRuntime, Side, OwnOrder | None] | None:
        """Which match and side a fill belongs to: our live orders first, then the journal's history."""
        order = self._orders.by_order_id(fill.order_id) or self._orders.by_client(fill.client_order_id)
        if order is not None:
            match = self._matches.get(order.match_id)
            return (match, order.side, order) if match is not None else None
        if self._journal is None:
            return None
        record = self._journal.order_by_order_id(fill.order_id)
        if record is None and fill.client_order_id:
            record = self._journal.order_by_client_id(fill.client_order_id)
        match = self._matches.get(record.match_id) if record is not None else None
        if record is None or match is None:
            return None
        return match, Side(record.side), None

    def _on_order_update(self, update: OrderUpdate) -> None:
        order = self._orders.by_order_id(update.order_id) or self._orders.by_client(update.client_order_id)
        if order is None or order.busy:
            return
        if order.order_id is None and update.order_id:
            self._orders.bind(order, update.order_id)
        order.filled = max(order.filled, update.filled)
        if update.state is not OrderState.RESTING or order.state is OrderState.PENDING:
            order.state = update.state
        if update.state is OrderState.RESTING:
            order.price = update.price
            order.initial = Count(update.filled + update.remaining)
        match = self._matches.get(order.match_id)
        if match is not None:
            match.wake.set()

    # --- upkeep -----------------------------------------------------------------------------------

    async def _reconcile_orders(self) -> None:
        """Back up the WebSocket with a REST read: our orders that stopped resting without us hearing,
        and resting orders with our prefix that we do not know (cancelled at once)."""
        resting = await self._x.resting_order_ids()
        if resting is None:
            return
        settled_before = self._clock() - READ_LAG_MS  # REST reads lag writes: judge only older orders
        for order in self._orders.live():
            if (
                order.state is OrderState.RESTING
                and not order.busy
                and order.last_write_ms < settled_before
                and order.order_id not in resting
            ):
                order.busy = True
                try:
                    await self._x.resolve(order)
                finally:
                    order.busy = False
                if (match := self._matches.get(order.match_id)) is not None:
                    match.wake.set()
        known = {o.order_id for o in self._orders.all()}
        stray = [
            oid
            for oid, cid in resting.items()
            if oid not in known and (cid or "").startswith(CLIENT_ID_PREFIX)
        ]
        if stray:
            self._log(
                Level.WARNING,
                f"{len(stray)} resting order(s) of ours not tracked by this session: cancelling",
            )
            await self._x.cancel_all_ours(keep=frozenset(known))

    async def _upkeep(self) -> None:
        """Every few seconds: balance, positions, rate headroom, orders whose state is unknown; every
        15 s a REST read of resting orders backs up the WebSocket."""
        cycle = 0
        while True:
            await asyncio.sleep(5)
            try:
                await self._refresh_balance()
                await self.sync_positions()
                read, write = self._x.headroom()
                self._emit(RateHeadroom(read, write, self._clock()))
                cycle += 1
                if cycle % 3 == 0:
                    await self._reconcile_orders()
                    for match_id in self._matches:
                        self._orders.forget_finished(match_id)
                unknown = [o for o in self._orders.live() if o.state is OrderState.UNKNOWN and not o.busy]
                for order in unknown:
                    await self._x.resolve(order)
                    if (match := self._matches.get(order.match_id)) is not None:
                        match.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("upkeep failed: %r", error)

    async def _refresh_balance(self) -> None:
        balance = await self._x.balance()
        if balance is not None and balance != self._balance:
            self._balance = balance
            self._emit(BalanceChanged(balance, self._clock()))

    # --- events and views -------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")

    def _log(self, level: Level, text: str, match_id: str | None = None) -> None:
        now = self._clock()
        self._logs.append(LogLine(now, level, text, match_id))
        getattr(log, "warning" if level is Level.WARNING else level.value)(
            "%s%s", f"[{match_id}] " if match_id else "", text
        )
        self._emit(LogEvent(level, text, now, match_id))

    def _set_status(self, match: MatchRuntime, status: MatchStatus, reason: str) -> None:
        if (match.status, match.reason) == (status, reason):
            return
        match.status, match.reason = status, reason
        self._rec.match(match.spec, status.value, reason, match.order_group_id, self._clock())
        level = Level.WARNING if status is MatchStatus.HALTED else Level.INFO
        self._log(level, f"{status.value}: {reason}", match.match_id)
        self._emit(MatchStatusChanged(match.match_id, status, reason, self._clock()))

    def _match_view(self, match: MatchRuntime) -> MatchView:
        def market_view(ticker: str) -> MarketView | None:
            market = self._markets.get(ticker)
            if market is None:
                return None
            return MarketView(market.ticker, market.title, market.book, market.status, market.stale)

        orders = tuple(
            OrderView(
                o.client_order_id,
                o.order_id,
                o.ticker,
                o.side.value,
                o.price,
                o.remaining,
                o.filled,
                o.state.value,
            )
            for o in self._orders.all(match.match_id)
            if o.is_live
        )
        decision = match.decision
        return MatchView(
            spec=match.spec,
            status=match.status,
            status_reason=match.reason,
            event_ticker=match.event_ticker,
            market_a=market_view(match.spec.ticker_a),
            market_b=market_view(match.spec.ticker_b),
            theo_a=match.theo_a,
            theo_b=match.theo_b,
            quote_a=decision.a if decision else None,
            quote_b=decision.b if decision else None,
            inventory=match.inventory,
            orders=orders,
            fills=tuple(match.fills),
            decisions=tuple(match.decisions),
            history=tuple(match.history),
            start_ms=match.start_ms,
            start_source=match.start_source,
            theo_source=self._theo_source(match),
        )

    def _theo_source(self, match: MatchRuntime) -> str:
        if not match.spec.theo.from_feed:
            return describe_theo(match.spec.theo)
        if match.theo_priced_ms is None:
            return "odds feed: waiting for prices"
        age_s = max(0, self._clock() - match.theo_priced_ms) // 1000
        return f"feed: {match.theo_summary}, {age_s}s old"


def side_quote_text(quote: SideQuote | None) -> str:
    """One-line summary used by the headless printer and logs."""
    if quote is None:
        return "-"
    price = format_cents(quote.price) if quote.price is not None else "no quote"
    return f"{price} x{quote.size // COUNT_SCALE} ({quote.reason.value}: {quote.detail})"


__all__ = ["Engine", "MatchRuntime", "PairInfo", "Preview", "side_quote_text", "wall_clock_ms"]
