"""The session recorder: what every decision was made from, written compactly while the engine runs.

The engine hands it each decision with its inputs (``StrategyRunner.tap``) and every event
(``Engine.listen``). Per match it keeps the last value written of each input and writes only changes:
a book as the levels that changed since the previous decision, theo, settings, grid, our resting bids
and inventory only when they differ. A decision whose quotes did not change is ``["D", t, mi]``.
Records are buffered and flushed as one gzip member every ``FLUSH_MS`` or ``FLUSH_RECORDS``; when the
file passes ``max_session_bytes`` recording stops with a ``C`` record (the engine goes on trading).
Nothing here may raise into the engine: an I/O error stops recording with one log line.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kmm_tui.domain.book import Book, Level
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import TickGrid
from kmm_tui.domain.quoting import Decision, QuoteSettings, SideInput, SideQuote
from kmm_tui.engine.events import Event, Filled, MatchStatusChanged, OrderChanged
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.strategy import DecideInputs
from kmm_tui.replay import format as fmt

log = logging.getLogger(__name__)

FLUSH_MS = 1_000
FLUSH_RECORDS = 4_000
COMPRESS_LEVEL = 6
DEFAULT_MAX_SESSION_MB = 200
DEFAULT_MAX_TOTAL_MB = 2_000
MB = 1024 * 1024
_RECORDED_EVENTS = frozenset({Filled, OrderChanged, MatchStatusChanged})


@dataclass(slots=True)
class _MatchState:
    """The last value written for one match (a change writes a record, a repeat writes nothing)."""

    index: int
    tickers: tuple[str, str]
    runtime: MatchRuntime
    slow: tuple[Any, ...] | None = None  # inputs that rarely change, compared in one go (see decided)
    settings: QuoteSettings | None = None
    grids: list[TickGrid | None] = field(default_factory=lambda: [None, None])
    books: list[Book] = field(default_factory=lambda: [Book(), Book()])
    theo: tuple[int | None, int | None] = (None, None)
    status: tuple[bool, bool, int | None] | None = None
    resting: tuple[int | None, int, int | None, int] | None = None
    inventory: Inventory | None = None
    quotes: tuple[Any, ...] | None = None


def settings_record(settings: QuoteSettings) -> dict[str, Any]:
    return {
        "edge": settings.edge,
        "contracts": settings.contracts,
        "inventory_max": settings.inventory_max,
        "retest_interval_ms": settings.retest_interval_ms,
        "backoff_ticks": settings.backoff_ticks,
        "max_join_depth": settings.max_join_depth,
        "fee_aware": settings.fee_aware,
        "fee_type": settings.fee_type.value,
        "fee_multiplier": str(settings.fee_multiplier),
        "start_margin_ms": settings.start_margin_ms,
        "rebalance": settings.rebalance,
    }


def _quote(quote: SideQuote) -> str:
    """A side's quote as ``[price,size,"reason"]`` (hand-built: this runs at every decision)."""
    price = "null" if quote.price is None else quote.price
    return f'[{price},{quote.size},"{quote.reason.value}"]'


def _level_changes(old: tuple[Level, ...], new: tuple[Level, ...]) -> str:
    """The levels that differ as ``[price,size],...`` (size 0: the level is gone)."""
    before = dict(old)
    parts = [f"[{price},{size}]" for price, size in new if before.pop(price, None) != size]
    parts.extend(f"[{price},0]" for price in before)
    return ",".join(parts)


class SessionRecorder:
    """Records one engine session to ``<state_dir>/sessions/<UTC start>-<environment>.kmmrec``."""

    def __init__(
        self,
        state_dir: Path,
        environment: str,
        *,
        start_ms: int,
        max_session_mb: int = DEFAULT_MAX_SESSION_MB,
        max_total_mb: int = DEFAULT_MAX_TOTAL_MB,
    ) -> None:
        folder = fmt.sessions_dir(state_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_ms / 1000))  # float-ok: a file name
        self.path = folder / f"{stamp}-{environment}-{os.getpid()}{fmt.SUFFIX}"
        self._state_dir = state_dir
        self._start_ms = start_ms
        self._max_bytes = max_session_mb * MB
        self._max_total = max_total_mb * MB
        self._matches: dict[int, _MatchState] = {}  # by id() of the runtime: the hot path's key
        self._by_id: dict[str, _MatchState] = {}
        self._declared: list[str] = []
        self._buffer: list[str] = [
            fmt.encode({"format": fmt.FORMAT, "version": fmt.VERSION, "start_ms": start_ms,
                        "environment": environment})
        ]
        self._flushed_ms = start_ms
        self._written = 0
        self.active = True
        fmt.rotate(state_dir, self._max_total)
        self._flush()

    # --- the engine's tap ---------------------------------------------------------------------------

    def decided(
        self, match: MatchRuntime, now_ms: int, inputs: DecideInputs | None, decision: Decision
    ) -> None:
        """Runs at every decision: the common case (one book moved, nothing else) must stay a few
        microseconds, so the rarely changing inputs are compared as one tuple and the hot records
        are formatted by hand."""
        if not self.active:
            return
        state = self._matches.get(id(match))
        if state is None or state.runtime is not match:
            state = self._declare(match, now_ms)
        t = now_ms - self._start_ms
        i = state.index
        add = self._buffer.append
        if inputs is None:
            kind = "H" if decision.a.reason.value == "halted" else "P"
            add(fmt.encode([kind, t, i, decision.a.detail]))
            state.quotes = None
            self._maybe_flush(now_ms)
            return
        a, b, settings = inputs
        slow = (settings, a.grid, b.grid, a.theo, b.theo, a.market_open, b.market_open, match.start_ms,
                a.resting_price, a.resting_size, b.resting_price, b.resting_size, match.inventory)
        if slow != state.slow:
            state.slow = slow
            self._slow_records(state, t, match, a, b, settings)
        books = state.books
        for side, book in ((0, a.book), (1, b.book)):
            old = books[side]
            if book is not old:
                same_bids = book.bids == old.bids
                same_asks = book.asks == old.asks
                if not (same_bids and same_asks):
                    bids = "" if same_bids else _level_changes(old.bids, book.bids)
                    asks = "" if same_asks else _level_changes(old.asks, book.asks)
                    add(f'["B",{t},{i},{side},[{bids}],[{asks}]]')
                books[side] = book
        qa, qb = decision.a, decision.b
        quotes = (qa.price, qa.size, qa.reason, qb.price, qb.size, qb.reason)
        if quotes == state.quotes:
            add(f'["D",{t},{i}]')
        else:
            state.quotes = quotes
            add(f'["D",{t},{i},{_quote(qa)},{_quote(qb)}]')
        if len(self._buffer) >= FLUSH_RECORDS or now_ms - self._flushed_ms >= FLUSH_MS:
            self._flushed_ms = now_ms
            self._flush()

    def _slow_records(
        self, state: _MatchState, t: int, match: MatchRuntime, a: SideInput, b: SideInput,
        settings: QuoteSettings,
    ) -> None:
        """Records for the inputs that rarely change: settings, grids, theo, status, our bids, inventory."""
        add = self._buffer.append
        i = state.index
        if settings is not state.settings:
            state.settings = settings
            add(fmt.encode(["S", t, i, settings_record(settings)]))
        for side, grid in ((0, a.grid), (1, b.grid)):
            if grid != state.grids[side]:
                add(fmt.encode(["G", t, i, side, [[g.start, g.end, g.step] for g in grid.bands]]))
            state.grids[side] = grid
        if (a.theo, b.theo) != state.theo:
            state.theo = (a.theo, b.theo)
            add(fmt.encode(["T", t, i, a.theo, b.theo]))
        status = (a.market_open, b.market_open, match.start_ms)
        if status != state.status:
            state.status = status
            add(fmt.encode(["O", t, i, *status]))
        resting = (a.resting_price, a.resting_size, b.resting_price, b.resting_size)
        if resting != state.resting:
            state.resting = resting
            add(fmt.encode(["R", t, i, *resting]))
        inventory = match.inventory
        if inventory != state.inventory:
            v = inventory
            add(fmt.encode(["I", t, i, v.count_long_a, v.count_long_b, v.cost_long_a, v.cost_long_b,
                            v.fees_a, v.fees_b]))
        state.inventory = inventory

    def on_event(self, event: Event) -> None:
        if not self.active or type(event) not in _RECORDED_EVENTS:  # most events are book updates
            return
        if isinstance(event, Filled):
            state = self._by_id.get(event.match_id)
            if state is not None:
                self._buffer.append(fmt.encode([
                    "F", event.ts_ms - self._start_ms, state.index, 0 if event.side == "a" else 1,
                    event.price, event.count, event.fee, event.is_taker, event.trade_id,
                ]))
        elif isinstance(event, OrderChanged):
            state = self._by_id.get(event.match_id)
            if state is not None and event.ticker in state.tickers:
                self._buffer.append(fmt.encode([
                    "X", event.ts_ms - self._start_ms, state.index, state.tickers.index(event.ticker),
                    event.action.value, event.price, event.count,
                ]))
        elif isinstance(event, MatchStatusChanged):
            state = self._by_id.get(event.match_id)
            if state is not None:
                self._buffer.append(fmt.encode([
                    "Z", event.ts_ms - self._start_ms, state.index, event.status.value, event.reason,
                ]))

    def close(self, now_ms: int) -> None:
        """Write the end record and the last buffered records."""
        if self.active:
            self._buffer.append(fmt.encode(["E", now_ms - self._start_ms]))
            self._flush()
            self.active = False

    # --- internals ----------------------------------------------------------------------------------

    def _declare(self, match: MatchRuntime, now_ms: int) -> _MatchState:
        spec = match.spec
        state = _MatchState(len(self._declared), (spec.ticker_a, spec.ticker_b), match)
        self._declared.append(match.match_id)
        self._matches[id(match)] = state
        self._by_id[match.match_id] = state
        self._buffer.append(fmt.encode([
            "M", now_ms - self._start_ms, state.index, match.match_id, spec.name, spec.ticker_a,
            spec.ticker_b, match.three_way,
        ]))
        return state

    def _maybe_flush(self, now_ms: int) -> None:
        if len(self._buffer) >= FLUSH_RECORDS or now_ms - self._flushed_ms >= FLUSH_MS:
            self._flushed_ms = now_ms
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        lines, self._buffer = self._buffer, []
        try:
            member = fmt.compress_member(lines, COMPRESS_LEVEL)
            if self._written + len(member) > self._max_bytes:
                reason = f"size cap {self._max_bytes // MB} MB reached"
                stop = fmt.encode(["C", self._flushed_ms - self._start_ms, reason])
                fmt.append(self.path, fmt.compress_member([stop], COMPRESS_LEVEL))
                log.warning("session recording stopped: %s passed its size cap", self.path)
                self.active = False
                return
            fmt.append(self.path, member)
            self._written += len(member)
            if self._written > self._max_total // 8:  # a long session: keep the folder under its cap
                fmt.rotate(self._state_dir, self._max_total, keep=self.path)
        except OSError as error:
            log.error("session recording stopped: cannot write %s (%s)", self.path, error)
            self.active = False
