"""The session recorder: what every decision was made from, written compactly while the engine runs.

The engine hands it each decision with its inputs (``StrategyRunner.tap``) and every event
(``Engine.listen``). Per match it keeps the last value written of each input and writes only changes:
a book as the levels that changed since the previous decision, theo, settings, grid, our resting bids
and inventory only when they differ. A decision whose quotes did not change is ``["D", t, mi]``.
Records are buffered and flushed as one gzip member every ``FLUSH_MS`` or ``FLUSH_RECORDS``; when the
file passes ``max_session_bytes`` recording stops with a ``C`` record (the engine goes on trading).
Nothing here may raise into the engine: an I/O error or a bug stops the recording with one log line.
The folder is owner-only (0700) and the files 0600, like the journal and the logs.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmm_tui.domain.book import Book, Level
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import TickGrid
from kmm_tui.domain.quoting import Decision, QuoteSettings, SideInput, SideQuote
from kmm_tui.engine.bus import Clock, wall_clock_ms
from kmm_tui.engine.events import Event, Filled, MatchStatusChanged, OrderChanged
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.strategy import DecideInputs
from kmm_tui.replay import format as fmt

log = logging.getLogger(__name__)

FLUSH_MS = 1_000
FLUSH_RECORDS = 4_000
COMPRESS_LEVEL = 1  # 4x cheaper than 6 for ~40 % more bytes: the engine's CPU is what is scarce
MB = 1024 * 1024
DEFAULT_MAX_SESSION_BYTES = 200 * MB
DEFAULT_MAX_TOTAL_BYTES = 2_000 * MB
_RECORDED_EVENTS = frozenset({Filled, OrderChanged, MatchStatusChanged})
_EMPTY_BOOK = Book()


@dataclass(slots=True)
class _MatchState:
    """The last value written for one match (a change writes a record, a repeat writes nothing).

    Flat fields rather than tuples: the hot path compares them one by one and allocates nothing (every
    container allocated per decision would also bring the engine's garbage collections forward)."""

    index: int
    tickers: tuple[str, str]
    runtime: MatchRuntime
    settings: QuoteSettings | None = None
    grid_a: TickGrid | None = None
    grid_b: TickGrid | None = None
    book_a: Book = _EMPTY_BOOK
    book_b: Book = _EMPTY_BOOK
    theo_a: int | None = None
    theo_b: int | None = None
    open_a: bool | None = None
    open_b: bool | None = None
    start_ms: int | None = None
    rest_price_a: int | None = None
    rest_size_a: int = -1
    rest_price_b: int | None = None
    rest_size_b: int = -1
    inventory: Inventory | None = None
    quote_a: SideQuote | None = None
    quote_b: SideQuote | None = None


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
    }


def _quote(quote: SideQuote) -> str:
    """A side's quote as ``[price,size,"reason"]`` (hand-built: this runs at every decision)."""
    price = "null" if quote.price is None else quote.price
    return f'[{price},{quote.size},"{quote.reason.value}"]'


def _book_record(t: int, i: int, side: int, old: Book, new: Book) -> str:
    bids = "" if new.bids == old.bids else _level_changes(old.bids, new.bids)
    asks = "" if new.asks == old.asks else _level_changes(old.asks, new.asks)
    return f'["B",{t},{i},{side},[{bids}],[{asks}]]'


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
        max_session_bytes: int = DEFAULT_MAX_SESSION_BYTES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        clock: Clock = wall_clock_ms,
    ) -> None:
        folder = fmt.sessions_dir(state_dir)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_ms / 1000))  # float-ok: a file name
        self.path = folder / f"{stamp}-{environment}-{os.getpid()}{fmt.SUFFIX}"
        self._state_dir = state_dir
        self._clock = clock  # the engine's: a fill is recorded when the engine learned of it
        self._start_ms = start_ms
        self._max_bytes = max_session_bytes
        self._max_total = max_total_bytes
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
        """Runs at every decision. A bug here must never stop trading: it stops the recording. A
        three-way match is not recorded: the format holds two outcomes per match (docs/replay.md)."""
        if not self.active:
            return
        try:
            if not match.three_way:
                self._decided(match, now_ms, inputs, decision)
        except Exception:
            log.exception("session recording stopped: recorder failed")
            self.active = False

    def _decided(
        self, match: MatchRuntime, now_ms: int, inputs: DecideInputs | None, decision: Decision
    ) -> None:
        """The common case (one book moved, nothing else) must stay a few microseconds: the rarely
        changing inputs are compared field by field without allocating, and the hot records are
        formatted by hand."""
        state = self._matches.get(id(match))
        if state is None or state.runtime is not match:
            state = self._declare(match, now_ms)
        t = now_ms - self._start_ms
        i = state.index
        add = self._buffer.append
        if inputs is None:
            kind = "H" if decision.a.reason.value == "halted" else "P"
            add(fmt.encode([kind, t, i, decision.a.detail]))
            state.quote_a = state.quote_b = None
            self._maybe_flush(now_ms)
            return
        a, b, settings = inputs
        if (
            a.resting_price != state.rest_price_a or a.resting_size != state.rest_size_a
            or b.resting_price != state.rest_price_b or b.resting_size != state.rest_size_b
            or match.inventory is not state.inventory or a.theo != state.theo_a or b.theo != state.theo_b
            or settings is not state.settings or a.grid is not state.grid_a or b.grid is not state.grid_b
            or a.market_open is not state.open_a or b.market_open is not state.open_b
            or match.start_ms != state.start_ms
        ):
            self._slow_records(state, t, match, a, b, settings)
        book, old = a.book, state.book_a
        if book is not old:
            if book.bids != old.bids or book.asks != old.asks:
                add(_book_record(t, i, 0, old, book))
            state.book_a = book
        book, old = b.book, state.book_b
        if book is not old:
            if book.bids != old.bids or book.asks != old.asks:
                add(_book_record(t, i, 1, old, book))
            state.book_b = book
        qa, qb, la, lb = decision.a, decision.b, state.quote_a, state.quote_b
        if (
            la is not None and lb is not None
            and qa.price == la.price and qa.size == la.size and qa.reason is la.reason
            and qb.price == lb.price and qb.size == lb.size and qb.reason is lb.reason
        ):
            add(f'["D",{t},{i}]')
        else:
            state.quote_a, state.quote_b = qa, qb
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
        if a.grid != state.grid_a:
            add(fmt.encode(["G", t, i, 0, [[g.start, g.end, g.step] for g in a.grid.bands]]))
        if b.grid != state.grid_b:
            add(fmt.encode(["G", t, i, 1, [[g.start, g.end, g.step] for g in b.grid.bands]]))
        state.grid_a, state.grid_b = a.grid, b.grid
        if a.theo != state.theo_a or b.theo != state.theo_b:
            state.theo_a, state.theo_b = a.theo, b.theo
            add(fmt.encode(["T", t, i, a.theo, b.theo]))
        if (a.market_open, b.market_open, match.start_ms) != (state.open_a, state.open_b, state.start_ms):
            state.open_a, state.open_b, state.start_ms = a.market_open, b.market_open, match.start_ms
            add(fmt.encode(["O", t, i, a.market_open, b.market_open, match.start_ms]))
        resting = (a.resting_price, a.resting_size, b.resting_price, b.resting_size)
        if resting != (state.rest_price_a, state.rest_size_a, state.rest_price_b, state.rest_size_b):
            state.rest_price_a, state.rest_size_a, state.rest_price_b, state.rest_size_b = resting
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
        try:
            self._on_event(event)
        except Exception:
            log.exception("session recording stopped: recorder failed")
            self.active = False

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Filled):  # its ts_ms is the exchange's clock: use ours, as every other record
            state = self._by_id.get(event.match_id)
            if state is not None:
                self._buffer.append(fmt.encode([
                    "F", self._clock() - self._start_ms, state.index, 0 if event.side == "a" else 1,
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
        self._maybe_flush(self._clock())  # events may come while no match decides (all stopped)

    def close(self, now_ms: int) -> None:
        """Write the end record and the last buffered records; a session in which no match ran leaves
        no file (nothing to replay, and ``kmm replay latest`` should find the last one that did)."""
        if not self.active:
            return
        self.active = False
        if not self._declared:
            self.path.unlink(missing_ok=True)
            return
        self._buffer.append(fmt.encode(["E", now_ms - self._start_ms]))
        self._flush()

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
            if self._written and self._written + len(member) > self._max_bytes:  # the header always goes
                reason = f"size cap of {self._max_bytes // 1024} KiB reached"
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
