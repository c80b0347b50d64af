"""Snapshots for front-ends: one match's ``MatchView`` built from what each component holds.

Read-only: nothing here changes engine state, so a front-end may ask for a snapshot at any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kmm_tui.domain.prices import Count
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.marketdata import MarketData
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.model import MatchSpec, Shape
from kmm_tui.engine.pricing_inputs import describe_theo
from kmm_tui.engine.state import MatchView, OrderView


def match_view(
    match: MatchRuntime,
    data: MarketData,
    orders: OrderLedger,
    positions: Mapping[str, Count],
    now: int,
    markouts: Mapping[str, Any] | None = None,
) -> MatchView:
    """One match's view; ``markouts``: its markout fields, from the engine's markout book."""
    spec = match.spec
    live = tuple(
        OrderView(
            o.client_order_id,
            o.order_id,
            o.ticker,
            o.side.value,
            o.price,
            o.remaining,
            o.filled,
            o.state.value,
            o.book_side,
            f"{spec.label(o.side)} bid" if spec.shape is Shape.YES_NO else spec.label(o.side),
        )
        for o in orders.all(match.match_id)
        if o.is_live
    )
    decision = match.decision
    three_way = match.three_way
    return MatchView(
        spec=spec,
        status=match.status,
        status_reason=match.reason,
        event_ticker=match.event_ticker,
        market_a=data.view(spec.ticker_a),
        market_b=data.view(spec.ticker_b),
        theo_a=match.theo_a,
        theo_b=match.theo_b,
        quote_a=decision.a if decision else None,
        quote_b=decision.b if decision else None,
        inventory=match.inventory,
        orders=live,
        fills=tuple(match.fills),
        decisions=tuple(match.decisions),
        history=tuple(match.history),
        start_ms=match.start_ms,
        start_source=match.start_source,
        theo_source=theo_source(match, now),
        exchange_positions=exchange_positions(spec, positions),
        market_t=data.view(spec.ticker_tie) if spec.ticker_tie is not None else None,
        theo_t=match.theo_t if three_way else None,
        quote_t=decision.t if decision and three_way else None,
        **(markouts or {}),
    )


def exchange_positions(spec: MatchSpec, positions: Mapping[str, Count]) -> tuple[Count, ...] | None:
    """The exchange's positions for a match's view (see ``MatchView.exchange_positions``)."""
    if any(t not in positions for t in spec.tickers):
        return None
    if spec.shape is Shape.YES_NO:
        net = positions[spec.ticker_a]
        return Count(max(net, 0)), Count(max(-net, 0))
    found = (positions[spec.ticker_a], positions[spec.ticker_b])
    return (*found, positions[spec.ticker_tie]) if spec.ticker_tie is not None else found


def theo_source(match: MatchRuntime, now: int) -> str:
    """Where the match's theo comes from, for the match header."""
    if not match.spec.theo.from_feed:
        return describe_theo(match.spec.theo)
    if match.theo_priced_ms is None:
        return "odds feed: waiting for prices"
    age_s = max(0, now - match.theo_priced_ms) // 1000
    return f"feed: {match.theo_summary}, {age_s}s old"
