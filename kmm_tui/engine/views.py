"""Snapshots for front-ends: one match's ``MatchView`` built from what each component holds.

Read-only: nothing here changes engine state, so a front-end may ask for a snapshot at any time.
"""

from __future__ import annotations

from collections.abc import Mapping

from kmm_tui.domain.prices import Count
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.marketdata import MarketData
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.pricing_inputs import describe_theo
from kmm_tui.engine.state import MatchView, OrderView


def match_view(
    match: MatchRuntime, data: MarketData, orders: OrderLedger, positions: Mapping[str, Count], now: int
) -> MatchView:
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
        )
        for o in orders.all(match.match_id)
        if o.is_live
    )
    decision = match.decision
    return MatchView(
        spec=match.spec,
        status=match.status,
        status_reason=match.reason,
        event_ticker=match.event_ticker,
        market_a=data.view(match.spec.ticker_a),
        market_b=data.view(match.spec.ticker_b),
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
        exchange_positions=(
            (positions[match.spec.ticker_a], positions[match.spec.ticker_b])
            if match.spec.ticker_a in positions and match.spec.ticker_b in positions
            else None
        ),
    )


def theo_source(match: MatchRuntime, now: int) -> str:
    """Where the match's theo comes from, for the match header."""
    if not match.spec.theo.from_feed:
        return describe_theo(match.spec.theo)
    if match.theo_priced_ms is None:
        return "odds feed: waiting for prices"
    age_s = max(0, now - match.theo_priced_ms) // 1000
    return f"feed: {match.theo_summary}, {age_s}s old"
