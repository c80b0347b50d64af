"""Fault injection and scripted market events, as one-liners for tests and the demo.

``sim.faults.http_errors(5, status=503)`` makes the next five REST calls fail; ``rate_limit(10)`` the
next ten answer 429; ``latency_ms(2000)`` delays every REST reply; ``drop_websockets()`` cuts every
feed; ``skip_seq()`` makes the next sequenced WebSocket message jump; the rest drive the market:
pause/resume/close/settle a market, settle a whole event on a winner or a final score, move the
clock, pin a fair value. The admin HTTP endpoints call these.
"""

from __future__ import annotations

from kmm_tui.domain.prices import Price
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.settling import settle_event


class Faults:
    def __init__(self, ctx: SimContext) -> None:
        self._ctx = ctx

    # --- transport faults ----------------------------------------------------------------------

    def http_errors(self, n: int, status: int = 503) -> None:
        """The next ``n`` REST requests answer ``status`` (a 5xx) without touching the exchange."""
        if not 500 <= status <= 599:
            raise ValueError("http_errors injects server errors: status must be 500..599")
        self._ctx.faults.http_errors = n
        self._ctx.faults.http_error_status = status

    def rate_limit(self, n: int) -> None:
        """The next ``n`` REST requests answer 429 ``{"error":"too many requests"}``."""
        self._ctx.faults.rate_limited = n

    def latency_ms(self, ms: int) -> None:
        """Delay every REST reply by ``ms`` (0 turns it off)."""
        if ms < 0:
            raise ValueError("latency must be >= 0 ms")
        self._ctx.faults.latency_ms = ms

    def drop_websockets(self) -> None:
        """Close every WebSocket connection now (clients must reconnect and resubscribe)."""
        self._ctx.drop_websockets()

    def skip_seq(self, n: int = 1, by: int = 2) -> None:
        """The next ``n`` sequenced messages skip ``by`` sequence numbers (a gap the client must see)."""
        self._ctx.faults.skip_seq = n
        self._ctx.faults.skip_seq_by = by

    def clear(self) -> None:
        """Remove all pending transport faults."""
        state = self._ctx.faults
        state.http_errors = state.rate_limited = state.latency_ms = state.skip_seq = 0

    # --- market events -------------------------------------------------------------------------

    def pause_market(self, ticker: str) -> None:
        self._ctx.exchange.pause_market(ticker)

    def resume_market(self, ticker: str) -> None:
        self._ctx.exchange.resume_market(ticker)

    def close_market(self, ticker: str) -> None:
        self._ctx.exchange.close_market(ticker)

    def settle_market(self, ticker: str, result: str, value: Price | None = None) -> None:
        """Determine the market (``"yes"``/``"no"``, or ``"scalar"`` with a value) and pay out."""
        self._ctx.exchange.settle_market(ticker, result, value)

    def settle_event(
        self, event_ticker: str, *, winner: str | None = None, points: tuple[int, int] | None = None
    ) -> set[str]:
        """Settle every market of an event on a chosen outcome: ``winner="TIE"`` (a game's outcome code
        or market ticker) or the final score ``points=(112, 104)``; returns the tickers settled YES."""
        return settle_event(self._ctx.exchange, self._ctx.matches, event_ticker, winner=winner, points=points)

    def advance(self, seconds: float) -> None:
        """Jump the market clock; agents, starts and order expiries catch up immediately."""
        self._ctx.clock.advance(seconds)
        self._ctx.on_time()

    def set_fair(self, ticker: str, price: Price) -> None:
        """Pin the scenario's fair value for ``ticker`` (agents quote around it from the next step)."""
        if self._ctx.set_fair is None:
            raise RuntimeError("this simulator has no scenario agents to move")
        self._ctx.set_fair(ticker, price)
