"""Settle a whole event on a chosen outcome: a winner (a game's team or its TIE) or a final score.

The admin API (``POST /admin/events/{event}/settle``), the test facade (``sim.faults.settle_event``)
and a scenario ``[[change]] kind = "settle"`` all come here, so a soccer draw, a total under its
strike or a spread not covered settles the same way whoever asks: the outcome's markets YES, every
other market of the event NO (``Exchange.settle_event``), paying $1 per YES or NO contract held.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.lines import yes_outcomes
from kmm_tui.sim.scenario import MatchState


def settle_event(
    exchange: Exchange,
    matches: Sequence[MatchState],
    event_ticker: str,
    *,
    winner: str | None = None,
    points: tuple[int, int] | None = None,
) -> set[str]:
    """Settle ``event_ticker``; returns the tickers that settled YES. ``winner`` is a market ticker or
    its outcome code (``"TIE"``, ``"ARS"``); ``points`` the final score, first team first (as the event
    title names them): totals settle on the sum, spreads on the margin, games on who scored more."""
    if (winner is None) == (points is None):
        raise ValueError("send exactly one of winner (an outcome code or market ticker) or points [a, b]")
    event = exchange.events.get(event_ticker)
    if event is None:
        raise ValueError(f"unknown event {event_ticker!r}")
    if winner is not None:
        if not event.mutually_exclusive:
            raise ValueError(f"{event_ticker} is a totals/spreads event: settle it with points [a, b]")
        ticker = winner if winner.startswith(f"{event_ticker}-") else f"{event_ticker}-{winner}"
        if exchange.markets.get(ticker) is None or exchange.markets[ticker].event_ticker != event_ticker:
            raise ValueError(f"{winner!r} is not an outcome of {event_ticker}")
        yes = {ticker}
    else:
        assert points is not None
        match = next((m for m in matches if m.event_ticker == event_ticker), None)
        if match is None:
            raise ValueError(f"{event_ticker} is not a scenario match: settle it with winner")
        flags = yes_outcomes(match.kind, match.outcomes, points)
        yes = {t for t, flag in zip(match.tickers, flags, strict=True) if flag}
    exchange.settle_event(event_ticker, yes)
    return yes


def parse_settle(fields: dict[str, Any]) -> tuple[str | None, tuple[int, int] | None]:
    """``{"winner": "TIE"}`` or ``{"points": [2, 2]}`` (admin body or scenario ``[[change]]``)."""
    winner = fields.get("winner")
    raw = fields.get("points")
    if winner is not None and not isinstance(winner, str):
        raise ValueError("winner must be an outcome code or market ticker string")
    if raw is None:
        return winner, None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in raw)
    ):
        raise ValueError("points must be the final score as two whole numbers, first team first: [2, 1]")
    return winner, (raw[0], raw[1])
