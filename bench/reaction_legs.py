"""Reaction, leg by leg: where the time goes between a competitor's delta and the reply to our amend.

``bench_scale.py`` measures reaction as the exchange's timestamp (ms) of a delta that moves the best
competing bid -> our process receiving the engine's ``OrderChanged`` AMENDED for that ticker. This
module follows each such move through the engine with ``time.perf_counter_ns`` stamps taken by thin
wrappers around the engine's own methods (bench only; the engine is not changed for it):

* feed: exchange ts -> the delta handed to the engine by the feed (wall clock, ms: the exchange's ts
  has ms resolution; ``precise_feed_ms`` replaces it by the driver's own ns stamp of the move, taken in
  the simulator's process just before the exchange applied it: the same clock, no truncation);
* wake: delta received -> the match's runner starts a pass (the first pass that begins after it);
* decide: pass start -> ``decide()`` returned (risk check, inputs, decision);
* hand: decision -> the amend handed to execution's write (reconciler, write gate);
* queue: handed -> the request starts on the write path (rate limiter, connection slot, signing);
* request: request start -> reply read (aiohttp, loopback, the simulator; ``server`` below is the part
  spent inside the simulator's ASGI app);
* emit: reply read -> ``OrderChanged`` received by the bench's listener.

Only moves whose stamps all arrive in order are counted in the legs (a reply already in flight when
the move arrived answers the move without being caused by it: counted in reaction, not in the legs).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.common import percentile
from kmm_tui.engine import strategy as strategy_module
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.reconciler import Action, Amend
from kmm_tui.kalshi.writepath import WritePath

KEPT = 10_000  # the simulator's newest stamps kept between two reads (a soak reads only at its end)
LEGS = ("feed", "wake", "decide", "hand", "queue", "request", "emit")
# the request leg: to the exchange (our write, loopback, the simulator's loop until it reads it), in the
# exchange (read -> reply written), back (loopback, our loop until it reads the reply, aiohttp)
REQUEST_PARTS = ("to_exchange", "in_exchange", "from_exchange")
# the first leg (precise): the move -> its delta leaving the exchange (the rest of the driver's burst,
# the writer's queue) -> our listener (loopback, our loop reading and parsing the frames before it)
FEED_PARTS = ("in_exchange_feed", "to_listener")


@dataclass(slots=True)
class Trace:
    """One best-bid move on one ticker, followed to the reply of our amend (perf_counter ns stamps)."""

    exchange_ms: int
    received_wall_ns: int
    received: int
    woken: int = 0
    decided: int = 0
    handed: int = 0
    sent: int = 0
    replied: int = 0
    order_id: str = ""


class LegTracer:
    """Open traces by ticker, stamped by wrappers installed around the engine's methods."""

    def __init__(self) -> None:
        self.open: dict[str, Trace] = {}
        self.done: list[tuple[str, Trace, int, int]] = []  # (ticker, trace, emitted ns, emitted wall ns)
        self._deciding: tuple[Trace, ...] = ()

    def moved(self, ticker: str, exchange_ms: int) -> None:
        if ticker not in self.open:
            self.open[ticker] = Trace(exchange_ms, time.time_ns(), time.perf_counter_ns())

    def answered(self, ticker: str, amended: bool) -> None:
        trace = self.open.pop(ticker, None)
        if trace is not None and amended:
            self.done.append((ticker, trace, time.perf_counter_ns(), time.time_ns()))

    def clear(self) -> None:
        self.open.clear()
        del self.done[:]

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the runner's pass, ``decide``, execution's apply and the write path's send."""
        runner_cls = strategy_module.StrategyRunner
        original_pass = runner_cls._decide_and_act
        original_decide = strategy_module.decide
        original_apply = Execution._apply
        original_send = WritePath.send
        tracer = self

        async def traced_pass(runner: Any, match: MatchRuntime) -> None:
            now = time.perf_counter_ns()
            woken = []
            for ticker in match.spec.tickers:
                trace = tracer.open.get(ticker)
                if trace is not None and not trace.woken:
                    trace.woken = now
                    woken.append(trace)
            tracer._deciding = tuple(woken)
            await original_pass(runner, match)

        def traced_decide(*args: Any, **kwargs: Any) -> Any:
            decision = original_decide(*args, **kwargs)
            now = time.perf_counter_ns()
            for trace in tracer._deciding:
                trace.decided = now
            tracer._deciding = ()
            return decision

        async def traced_apply(execution: Any, match: MatchRuntime, action: Action) -> None:
            if isinstance(action, Amend):
                trace = tracer.open.get(action.order.ticker)
                if trace is not None and trace.decided and not trace.handed:
                    trace.handed = time.perf_counter_ns()
            await original_apply(execution, match, action)

        async def traced_send(path: Any, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
            body = kwargs.get("body")
            ticker = body.get("ticker") if isinstance(body, dict) and url.endswith("/amend") else None
            trace = tracer.open.get(ticker) if ticker else None
            if trace is None or not trace.handed or trace.sent:
                return await original_send(path, method, url, **kwargs)
            trace.sent = time.perf_counter_ns()
            trace.order_id = url.rsplit("/", 2)[-2]
            try:
                return await original_send(path, method, url, **kwargs)
            finally:
                trace.replied = time.perf_counter_ns()

        runner_cls._decide_and_act = traced_pass  # type: ignore[method-assign]
        strategy_module.decide = traced_decide  # type: ignore[assignment]
        Execution._apply = traced_apply  # type: ignore[method-assign]
        WritePath.send = traced_send  # type: ignore[method-assign]
        try:
            yield
        finally:
            runner_cls._decide_and_act = original_pass  # type: ignore[method-assign]
            strategy_module.decide = original_decide  # type: ignore[assignment]
            Execution._apply = original_apply  # type: ignore[method-assign]
            WritePath.send = original_send  # type: ignore[method-assign]

    def legs(
        self,
        since: int,
        moves: dict[str, list[int]] | None = None,
        served: list[list[Any]] | None = None,
        sent: list[list[Any]] | None = None,
    ) -> dict[str, Any]:
        """p50/p99 (ms) of each leg over the traces done from index ``since``. ``moves``: ticker -> the
        driver's wall-clock ns stamps of its moves (the precise first leg and total); ``served``: the
        simulator's (order id, arrival ns, reply ns) of each amend, on the same monotonic clock as our
        stamps (``perf_counter`` is CLOCK_MONOTONIC on Linux): the request leg split in three; ``sent``:
        the simulator's (ticker, ts_ms, wall ns) of each move's delta leaving it: the first leg in two."""
        rows: dict[str, list[float]] = {leg: [] for leg in (*LEGS, *REQUEST_PARTS, *FEED_PARTS)}
        sent_at = {(ticker, ts): ns for ticker, ts, ns in sent or ()}
        precise_feed: list[float] = []
        precise_total: list[float] = []
        complete = 0
        traces = self.done[since:]
        by_order: dict[str, list[tuple[int, int]]] = {}
        for order_id, arrived, replied in served or ():
            by_order.setdefault(order_id, []).append((arrived, replied))
        for ticker, t, emitted, emitted_wall in traces:
            stamps = (t.received, t.woken, t.decided, t.handed, t.sent, t.replied, emitted)
            if not all(stamps) or any(b < a for a, b in itertools.pairwise(stamps)):
                continue
            complete += 1
            rows["feed"].append(t.received_wall_ns / 1e6 - t.exchange_ms)
            for leg, (a, b) in zip(LEGS[1:], itertools.pairwise(stamps), strict=True):
                rows[leg].append((b - a) / 1e6)
            server = next(
                (s for s in by_order.get(t.order_id, ()) if t.sent <= s[0] <= s[1] <= t.replied), None
            )
            if server is not None:
                for part, (a, b) in zip(
                    REQUEST_PARTS, itertools.pairwise((t.sent, *server, t.replied)), strict=True
                ):
                    rows[part].append((b - a) / 1e6)
            moved = _nearest(moves.get(ticker, ()) if moves else (), t.exchange_ms)
            if moved is not None:
                precise_feed.append((t.received_wall_ns - moved) / 1e6)
                precise_total.append((emitted_wall - moved) / 1e6)
                left = sent_at.get((ticker, t.exchange_ms))
                if left is not None and moved <= left <= t.received_wall_ns:
                    rows["in_exchange_feed"].append((left - moved) / 1e6)
                    rows["to_listener"].append((t.received_wall_ns - left) / 1e6)
        out: dict[str, Any] = {"n_moves_answered": len(traces), "n_complete": complete}
        for leg, values in rows.items():
            out[leg] = _p(values)
        out["engine_total"] = _p(
            [(e - t.received) / 1e6 for _, t, e, _ in traces if t.replied and e >= t.received]
        )
        out["precise_feed"] = _p(precise_feed)
        out["precise_reaction"] = _p(precise_total)
        return out


def _nearest(stamps: Any, exchange_ms: int, within_ms: int = 50) -> int | None:
    """The driver's stamp of the move the exchange stamped ``exchange_ms`` (moves on one market are
    seconds apart; the two clocks agree to a millisecond or two)."""
    best = None
    for ns in stamps:
        gap = abs(ns / 1e6 - exchange_ms)
        if gap <= within_ms and (best is None or gap < abs(best / 1e6 - exchange_ms)):
            best = ns
    return best


def _p(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    return {"p50": round(percentile(values, 50), 2), "p99": round(percentile(values, 99), 2)}


class ServerTimer:
    """In the simulator's process: how long an amend takes there, as ASGI middleware around its app.

    ``in_exchange``: the request's first bytes read by the HTTP server (uvicorn's ``data_received``,
    keyed by the connection's peer address) -> the reply handed to the socket; ``app``: the app's own
    part (the rest is parsing and waiting for the simulator's loop). Each amend is also kept as (order
    id, arrival ns, reply ns) for the engine's side to split its request leg. Also the simulator loop's
    lag (a 10 ms sleeper's overshoot). ``take`` returns what was measured since the previous call.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.arrived: dict[Any, int] = {}
        self.served: deque[list[Any]] = deque(maxlen=KEPT)
        self.app_ms: deque[float] = deque(maxlen=KEPT)
        self.lags_ms: deque[float] = deque(maxlen=KEPT)

    def install_arrivals(self) -> None:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        original = H11Protocol.data_received
        arrived = self.arrived

        def stamped(protocol: Any, data: bytes) -> None:
            arrived.setdefault(protocol.client, time.perf_counter_ns())
            original(protocol, data)

        H11Protocol.data_received = stamped  # type: ignore[method-assign]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter_ns()
        try:
            await self.app(scope, receive, send)
        finally:
            end = time.perf_counter_ns()
            arrived = self.arrived.pop(scope.get("client"), None)
            path = scope["path"]
            if path.endswith("/amend"):
                self.app_ms.append((end - start) / 1e6)
                if arrived is not None:
                    self.served.append([path.rsplit("/", 2)[-2], arrived, end])

    async def sample_lag(self, period_s: float = 0.01) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(period_s)
            self.lags_ms.append((time.perf_counter() - start - period_s) * 1000)

    def take(self) -> dict[str, Any]:
        out = {
            "in_exchange": _p([(end - arrived) / 1e6 for _, arrived, end in self.served]),
            "app": _p(list(self.app_ms)),
            "loop_lag": _p(list(self.lags_ms)),
            "n": len(self.app_ms),
            "served": list(self.served),
        }
        self.served.clear()
        self.app_ms.clear()
        self.lags_ms.clear()
        return out


_TS_MS = re.compile(r'"ts_ms":(\d+)')


class SendStamps:
    """In the simulator's process: when the delta of each best-bid move left the exchange (its WebSocket
    writer handed the frame to the socket), on the wall clock in ns. Splits the first leg in two: the
    exchange's part (the rest of the driver's burst, the writer's queue) and the way to our listener."""

    def __init__(self) -> None:
        self.waiting: dict[str, int] = {}  # ticker -> the move's ms: its delta carries that ts or later
        self.sent: deque[list[Any]] = deque(maxlen=KEPT)  # [ticker, the delta's ts_ms, sent wall ns]

    def moved(self, ticker: str, wall_ns: int) -> None:
        self.waiting.setdefault(ticker, wall_ns // 1_000_000)

    def install(self) -> None:
        from starlette.websockets import WebSocket

        original = WebSocket.send_text
        stamps = self

        async def stamped(websocket: Any, data: str) -> None:
            await original(websocket, data)
            if stamps.waiting and data.startswith('{"type":"orderbook_delta"'):
                start = data.find('"market_ticker":"') + 17
                ticker = data[start : data.find('"', start)]
                since = stamps.waiting.get(ticker)
                found = _TS_MS.search(data) if since is not None else None
                if since is not None and found is not None and int(found.group(1)) >= since:
                    stamps.sent.append([ticker, int(found.group(1)), time.time_ns()])
                    del stamps.waiting[ticker]

        WebSocket.send_text = stamped  # type: ignore[method-assign]

    def take(self) -> list[list[Any]]:
        sent = list(self.sent)
        self.sent.clear()
        return sent
