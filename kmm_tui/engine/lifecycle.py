"""Match lifecycle: add, start, stop, update, delete and restore matches, and stop them all.

Each step touches several components in a fixed order — market data (track and index the markets),
execution (order group, pulling orders), the strategy runner (start and join the runner) — and the
match's status changes only through ``match.set_status``. The facade turns commands into these calls;
restart recovery calls ``restore`` and ``resume`` directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import format_cents
from kmm_tui.domain.quoting import MIN_EDGE, QuoteMemo
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import Level, MatchStatusChanged
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.marketdata import MarketData, PairInfo
from kmm_tui.engine.match import RUNNING, Matches, MatchRuntime, join_runner, set_status
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, Shape
from kmm_tui.engine.pricing_inputs import OutcomeTheos, outcome_theos
from kmm_tui.engine.strategy import StrategyRunner


class Lifecycle:
    """Every match's status transitions (engine loop only)."""

    def __init__(
        self,
        bus: Bus,
        port: ExchangePort,
        matches: Matches,
        data: MarketData,
        execution: Execution,
        strategy: StrategyRunner,
    ) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self._data = data
        self._execution = execution
        self._strategy = strategy
        self.killing = False  # no match may start while every order is being pulled

    def match(self, match_id: str) -> MatchRuntime:
        try:
            return self._matches[match_id]
        except KeyError:
            raise EngineError(f"there is no match {match_id!r}") from None

    def match_ids(self) -> set[str]:
        return set(self._matches)

    def divergence_warnings(self, match: MatchRuntime) -> list[str]:
        return self._data.match_divergence(match.spec, (match.theo_a, match.theo_b, match.theo_t))

    async def add(self, spec: MatchSpec) -> None:
        if spec.match_id in self._matches:
            raise EngineError(f"a match with id {spec.match_id!r} already exists", field="name")
        check_settings(spec.settings)
        theos = outcome_theos(spec.theo, spec.ticker_tie is not None)
        info = await self._data.describe_pair(spec.ticker_a, spec.ticker_b, spec.ticker_tie)
        labels = ("ticker_a", "ticker_tie", "ticker_b") if info.three_way else ("ticker_a", "ticker_b")
        for label, market in zip(labels, info.markets, strict=False):
            for other in self._data.by_ticker.get(market.ticker, ()):
                # two matches on one market would each see the other's bid as a competitor and outbid it
                raise EngineError(
                    f"{market.ticker} is already traded by match {self._matches[other].spec.name or other}; "
                    "edit that match instead",
                    field=label,
                )
        spec = replace(
            spec,
            ticker_a=info.markets[0].ticker,
            ticker_b=info.markets[-1].ticker,
            ticker_tie=info.markets[1].ticker if info.three_way else None,
        )
        spec = spec if spec.name else replace(spec, name=default_name(info))
        runtime = self._register(spec, info, theos)
        await self._x.watch(list(spec.tickers))
        self._bus.rec.match(spec, runtime.status.value, runtime.reason, None, self._bus.clock())
        self._bus.log(Level.INFO, f"added {spec.name} ({' / '.join(spec.tickers)})", spec.match_id)
        self._bus.emit(MatchStatusChanged(spec.match_id, runtime.status, runtime.reason, self._bus.clock()))

    def _register(self, spec: MatchSpec, info: PairInfo, theos: OutcomeTheos) -> MatchRuntime:
        runtime = MatchRuntime(spec, info.event_ticker, info.event_title, theos[0], theos[1])
        runtime.theo_t = theos[2]
        runtime.start_ms, runtime.start_source = info.start_ms, info.start_source
        if spec.start_ms is not None:
            runtime.start_ms, runtime.start_source = spec.start_ms, "user"
        self._data.track(info.markets)
        self._matches[spec.match_id] = runtime
        self._data.index()
        return runtime

    async def start(self, match_id: str, dry_run: bool) -> None:
        match = self.match(match_id)
        if self.killing:
            raise EngineError("all orders are being pulled (kill all or shutdown); start again when done")
        if match.active:
            return
        set_status(self._bus, match, MatchStatus.STARTING, "starting")
        try:
            await self._execution.open_group(
                match, self._data.markets[match.spec.ticker_a].exchange_index, dry_run=dry_run
            )
        except EngineError as error:
            set_status(self._bus, match, MatchStatus.HALTED, f"could not create order group: {error}")
            raise
        match.memo = QuoteMemo()
        for warning in self.divergence_warnings(match):
            self._bus.log(Level.WARNING, warning, match_id)
        status = MatchStatus.DRY_RUN if dry_run else MatchStatus.QUOTING
        set_status(self._bus, match, status, "dry run: deciding, not sending" if dry_run else "quoting")
        self._strategy.start(match)

    async def stop(self, match: MatchRuntime, reason: str, final: MatchStatus) -> None:
        if not match.active:
            if final is MatchStatus.HALTED:
                set_status(self._bus, match, final, reason)
            return
        set_status(self._bus, match, MatchStatus.STOPPING, reason)
        self._execution.drop_unsent([match])
        match.wake.set()
        await join_runner(match)
        left = await self._execution.cancel_orders(self._execution.orders.live(match.match_id))
        if left:
            self._bus.log(
                Level.ERROR, f"{left} order(s) could not be cancelled — check the exchange", match.match_id
            )
        set_status(self._bus, match, final, reason)

    def update(self, update: cmd.UpdateMatch) -> None:
        match = self.match(update.match_id)
        spec = match.spec
        if update.settings is not None:
            check_settings(update.settings)
        if update.theo is not None:
            theos = outcome_theos(update.theo, match.three_way)
            spec = replace(spec, theo=update.theo)
            if not update.theo.from_feed or theos[0] is not None:
                match.set_theos(theos)
                match.theo_priced_ms = None
            if update.theo.from_feed and not match.spec.theo.from_feed and match.status in RUNNING:
                match.spec = spec
                if self._strategy.feed is not None:
                    self._strategy.follow_feed(match)
        if update.settings is not None:
            spec = replace(spec, settings=update.settings)
        match.spec = spec
        self._bus.rec.match(spec, match.status.value, match.reason, match.order_group_id, self._bus.clock())
        self._bus.log(Level.INFO, "settings updated", match.match_id)
        match.wake.set()

    async def delete(self, match_id: str) -> None:
        match = self.match(match_id)
        await self.stop(match, "deleted", MatchStatus.STOPPED)
        if self._execution.orders.live(match_id):
            raise EngineError("orders of this match are still resting; kill all before deleting")
        await self._execution.close_group(match)
        del self._matches[match_id]
        self._data.index()
        self._bus.rec.match_deleted(match_id)
        gone = self._data.forget_unused(match.spec.tickers)
        await self._x.unwatch(gone)
        self._bus.log(Level.INFO, f"deleted {match.spec.name}", match_id)

    async def stop_all(self, reason: str) -> int:
        """Stop every running match, then pull every order of ours. Returns orders left (0 = clean).

        The writes the matches had not sent are dropped first (``Execution.drop_unsent``), so joining
        the runners waits only for writes already on the wire, and the cancels go out at once."""
        self._bus.log(Level.WARNING, f"kill all: {reason}")
        stopping = [match for match in self._matches.values() if match.active]
        for match in stopping:
            set_status(self._bus, match, MatchStatus.STOPPING, reason)
            match.wake.set()
        self._execution.drop_unsent(stopping)
        await asyncio.gather(*(join_runner(m) for m in self._matches.values()))
        left = await self._execution.cancel_everything()
        for match in self._matches.values():
            if match.status is MatchStatus.STOPPING:
                set_status(self._bus, match, MatchStatus.STOPPED, reason)
        return left

    # --- restart recovery ---------------------------------------------------------------------------

    async def restore(
        self,
        spec: MatchSpec,
        status: MatchStatus,
        reason: str,
        inventory: Inventory,
        seen_trades: set[str],
        order_group_id: str | None = None,
    ) -> None:
        """Re-create a journaled match (not quoting) with the inventory its fills add up to."""
        info = await self._data.describe_pair(spec.ticker_a, spec.ticker_b, spec.ticker_tie)
        runtime = self._register(spec, info, outcome_theos(spec.theo, spec.ticker_tie is not None))
        runtime.inventory, runtime.seen_trades = inventory, set(seen_trades)
        runtime.status, runtime.reason = status, reason
        runtime.order_group_id = order_group_id
        await self._x.watch(list(spec.tickers))
        self._bus.rec.match(spec, status.value, reason, order_group_id, self._bus.clock())
        self._bus.emit(MatchStatusChanged(spec.match_id, status, reason, self._bus.clock()))

    async def resume(self, match_id: str, fresh_within_s: float = 5.0) -> None:
        """Start a restored match again (``adopt`` recovery), reporting rather than raising.

        Waits (briefly) for fresh books first: started on a stale book, the stale-feed guard would pull
        the very orders that were adopted.
        """
        match = self.match(match_id)
        await self._data.wait_fresh(match.spec.tickers, fresh_within_s)
        try:
            await self.start(match_id, dry_run=False)
        except EngineError as error:
            self._bus.log(Level.WARNING, f"could not resume: {error.user_message}", match_id)


def default_name(info: PairInfo) -> str:
    """A match's name when the trader gave none: the teams (a single market: the event and the market)."""
    if info.shape is Shape.YES_NO:
        return f"{info.event_title}: {info.team_a}"
    return f"{info.team_a} vs {info.team_b}"


def check_settings(settings: MatchSettings) -> None:
    """Refuse settings no match may quote with (the pricing core would refuse them on every decision)."""
    if settings.edge < MIN_EDGE:
        raise EngineError(
            f"edge must be at least one tick ({format_cents(MIN_EDGE)}): a zero edge completes pairs that "
            "lose after fees",
            field="edge",
        )
