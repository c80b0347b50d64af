"""Wire formats of the control API's answers: engine snapshots and events -> JSON with exact numbers
(prices as cent strings ``"55.5"``, counts as contract strings, money as dollar strings).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import (
    CENT,
    Count,
    Price,
    format_contracts,
    format_dollars,
)
from kmm_tui.domain.quoting import SideQuote
from kmm_tui.engine.events import (
    BalanceChanged,
    Event,
    FeedHealthChanged,
    Filled,
    InventoryChanged,
    LogEvent,
    MatchStatusChanged,
    OrderChanged,
    QuoteDecided,
)
from kmm_tui.engine.model import MatchSettings, Shape, TheoInput
from kmm_tui.engine.state import (
    AccountView,
    DecisionLogEntry,
    EngineView,
    FillView,
    LogLine,
    MarketView,
    MatchView,
    OrderView,
)

BOOK_DEPTH = 10
RECENT_FILLS = 50
RECENT_DECISIONS = 20
RECENT_LOGS = 50


def cents_text(price: int) -> str:
    """Price -> cents without a unit, exact: 5500 -> "55", 5550 -> "55.5", 5555 -> "55.55"."""
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), CENT)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{f'{frac:02d}'.rstrip('0')}"


def contracts_text(count: int) -> str:
    """Count -> contracts without a unit, exact: 1000 -> "10", 1050 -> "10.5"."""
    return format_contracts(count)


def dollars_text(amount: int) -> str:
    """Money -> dollars, exact, at least two decimals: 12_340_000 -> "12.34", 3_500 -> "0.0035"."""
    return format_dollars(amount)


def _cents_or_none(price: int | None) -> str | None:
    return None if price is None else cents_text(price)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")




def state_json(view: EngineView) -> dict[str, Any]:
    """The whole engine state (``GET /api/state`` and the WebSocket's ``state`` messages)."""
    return {
        "environment": view.environment,
        "ts_ms": view.ts_ms,
        "balance": None if view.balance is None else dollars_text(view.balance),
        "feed": {"connected": view.feed_connected, "detail": view.feed_detail},
        # display only: percent of the rate-limit buckets left, rounded
        "rate_headroom_pct": {
            "read": round(view.read_headroom * 100),  # float-ok: display only
            "write": round(view.write_headroom * 100),  # float-ok: display only
        },
        "resting_orders": view.resting_orders,
        "matches": [match_json(match) for match in view.matches],
        "logs": [log_json(line) for line in view.logs[-RECENT_LOGS:]],
        "account": account_json(view.account),
    }


def account_json(account: AccountView | None) -> dict[str, Any] | None:
    """Account-wide limits: the latch and the room left under each limit (dollars; None = no limit)."""
    if account is None:
        return None
    return {
        "latched": account.latched,
        "headroom": {
            name: None if room is None else dollars_text(room) for name, room in account.headroom()
        },
    }


def match_json(match: MatchView) -> dict[str, Any]:
    """One match. ``shape`` says which outcomes it has: ``teams`` (a, b), ``three_way`` (a = home,
    t = draw, b = away: ``theo``, ``markets`` and ``quotes`` gain ``t``) or ``yes_no`` (a = YES, b = NO
    of the one market ``ticker_a == ticker_b``; market ``b`` is that same market)."""
    spec = match.spec
    three_way = spec.shape is Shape.THREE_WAY
    return {
        "id": spec.match_id,
        "name": spec.name,
        "shape": spec.shape.value,
        "status": match.status.value,
        "status_reason": match.status_reason,
        "event_ticker": match.event_ticker,
        "ticker_a": spec.ticker_a,
        "ticker_b": spec.ticker_b,
        "ticker_tie": spec.ticker_tie,
        "start_ms": match.start_ms,
        "start_source": match.start_source,
        "theo": {
            "a": _cents_or_none(match.theo_a),
            "b": _cents_or_none(match.theo_b),
            **({"t": _cents_or_none(match.theo_t)} if three_way else {}),
            "input": theo_input_json(spec.theo),
        },
        "settings": settings_json(spec.settings),
        "markets": {
            "a": market_json(match.market_a),
            "b": market_json(match.market_b),
            **({"t": market_json(match.market_t)} if three_way else {}),
        },
        "quotes": {
            "a": quote_json(match.quote_a),
            "b": quote_json(match.quote_b),
            **({"t": quote_json(match.quote_t)} if three_way else {}),
        },
        "inventory": inventory_json(match.inventory, spec.outcomes),
        "orders": [order_json(order) for order in match.orders],
        "fills": [fill_json(fill) for fill in match.fills[:RECENT_FILLS]],
        "decisions": [decision_json(entry) for entry in match.decisions[:RECENT_DECISIONS]],
        "markouts": markouts_json(match),
    }


def theo_input_json(theo: TheoInput) -> dict[str, Any]:
    return {
        "odds_a": _decimal_text(theo.odds_a),
        "odds_b": _decimal_text(theo.odds_b),
        "odds_draw": _decimal_text(theo.odds_draw),
        "theo_a": _cents_or_none(theo.theo_a),
        "theo_b": _cents_or_none(theo.theo_b),
        "theo_tie": _cents_or_none(theo.theo_tie),
        "method": theo.method.value,
    }


def settings_json(settings: MatchSettings) -> dict[str, Any]:
    return {
        "edge": cents_text(settings.edge),
        "contracts": contracts_text(settings.contracts),
        "inventory_max": contracts_text(settings.inventory_max),
        "start_margin_ms": settings.start_margin_ms,
        "retest_interval_ms": settings.retest_interval_ms,
        "backoff_ticks": settings.backoff_ticks,
        "fee_aware": settings.fee_aware,
        "post_only": settings.post_only,
        "max_loss": None if settings.max_loss is None else dollars_text(settings.max_loss),
        "burst_fills": settings.burst_fills,
        "burst_window_ms": settings.burst_window_ms,
        "burst_cooloff_ms": settings.burst_cooloff_ms,
        "line_move_theo": _cents_or_none(settings.line_move_theo),
        "line_move_mid": _cents_or_none(settings.line_move_mid),
        "line_move_window_ms": settings.line_move_window_ms,
        "line_move_hold_ms": settings.line_move_hold_ms,
        "line_move_confirm": settings.line_move_confirm,
    }


def markouts_json(match: MatchView) -> dict[str, Any] | None:
    """Markouts against Kalshi's mid (cents per contract, + = in our favour) and the advisory edge."""
    summary = match.markouts
    if summary is None:
        return None
    return {
        "fills": summary.fills,
        "mean_spread": _decimal_text(summary.mean_spread_cents),
        "horizons": [
            {
                "horizon_ms": h.horizon_ms,
                "fills": h.fills,
                "mean_markout": _decimal_text(h.mean_markout_cents),
                "adverse_share": _decimal_text(h.adverse_share),
                "mean_earned": _decimal_text(h.mean_earned_cents),
            }
            for h in summary.horizons
        ],
        "closing": None if match.closing is None else [_cents_or_none(p) for p in match.closing],
        "suggested_edge": _cents_or_none(match.suggested_edge),
    }


def _levels(levels: tuple[tuple[Price, Count], ...]) -> list[list[str]]:
    return [[cents_text(price), contracts_text(size)] for price, size in levels[:BOOK_DEPTH]]


def book_json(book: Book) -> dict[str, Any]:
    return {
        "best_bid": _cents_or_none(book.best_bid),
        "best_ask": _cents_or_none(book.best_ask),
        "bids": _levels(book.bids),
        "asks": _levels(book.asks),
    }


def market_json(market: MarketView | None) -> dict[str, Any] | None:
    if market is None:
        return None
    return {
        "ticker": market.ticker,
        "title": market.title,
        "status": market.status,
        "stale": market.stale,
        **book_json(market.book),
    }


def quote_json(quote: SideQuote | None) -> dict[str, Any] | None:
    if quote is None:
        return None
    return {
        "price": _cents_or_none(quote.price),
        "size": contracts_text(quote.size),
        "reason": quote.reason.value,
        "detail": quote.detail,
        "ceiling": _cents_or_none(quote.ceiling),
    }


def inventory_json(inventory: Inventory, outcomes: tuple[Side, ...] | None = None) -> dict[str, Any]:
    """Counts, costs and settlement P&L. The two-team keys are always there; the draw's (``long_t``,
    ``avg_cost_t``, ``cost_t``) when the match is three-way or holds any; with the match's
    ``outcomes`` (a match view, not the inventory event, which does not carry them) also ``pnl_if`` per
    outcome, ``worst_pnl`` and ``locked_sets``."""
    document = {
        "long_a": contracts_text(inventory.count_long_a),
        "long_b": contracts_text(inventory.count_long_b),
        "avg_cost_a": _cents_or_none(inventory.avg_cost_a),
        "avg_cost_b": _cents_or_none(inventory.avg_cost_b),
        "cost_a": dollars_text(inventory.cost_long_a),
        "cost_b": dollars_text(inventory.cost_long_b),
        "fees": dollars_text(inventory.fees),
        "net_exposure": contracts_text(inventory.net_exposure),
        "locked_pairs": contracts_text(inventory.locked_pairs),
        "locked_profit": dollars_text(inventory.locked_profit),
        "pnl_if_a_wins": dollars_text(inventory.pnl_if_a_wins),
        "pnl_if_b_wins": dollars_text(inventory.pnl_if_b_wins),
    }
    if (outcomes is not None and Side.T in outcomes) or inventory.count_long_t:
        document.update(
            long_t=contracts_text(inventory.count_long_t),
            avg_cost_t=_cents_or_none(inventory.avg_cost(Side.T)),
            cost_t=dollars_text(inventory.cost_long_t),
        )
    if outcomes is not None:
        document.update(
            pnl_if={side.value: dollars_text(inventory.pnl_if(side)) for side in outcomes},
            worst_pnl=dollars_text(inventory.worst_pnl(outcomes)),
            locked_sets=contracts_text(inventory.locked_sets(outcomes)),
        )
    return document


def order_json(order: OrderView) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "order_id": order.order_id,
        "ticker": order.ticker,
        "side": order.side,
        "label": order.label,
        "book_side": order.book_side,
        "price": cents_text(order.price),
        "remaining": contracts_text(order.remaining),
        "filled": contracts_text(order.filled),
        "state": order.state,
    }


def fill_json(fill: FillView) -> dict[str, Any]:
    return {
        "trade_id": fill.trade_id,
        "ticker": fill.ticker,
        "side": fill.side,
        "price": cents_text(fill.price),
        "count": contracts_text(fill.count),
        "fee": dollars_text(fill.fee),
        "is_taker": fill.is_taker,
        "ts_ms": fill.ts_ms,
    }


def decision_json(entry: DecisionLogEntry) -> dict[str, Any]:
    return {
        "ts_ms": entry.ts_ms,
        "side": entry.side,
        "reason": entry.reason,
        "detail": entry.detail,
        "price": _cents_or_none(entry.price),
    }


def log_json(line: LogLine) -> dict[str, Any]:
    return {"ts_ms": line.ts_ms, "level": line.level.value, "text": line.text, "match_id": line.match_id}


def event_json(event: Event) -> dict[str, Any] | None:
    """One engine event as a WebSocket ``event`` message; None for what the state already carries
    at a bounded rate (book updates, rate headroom)."""
    match event:
        case Filled():
            return {
                "type": "event",
                "event": "fill",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "ticker": event.ticker,
                "side": event.side,
                "trade_id": event.trade_id,
                "order_id": event.order_id,
                "price": cents_text(event.price),
                "count": contracts_text(event.count),
                "fee": dollars_text(event.fee),
                "is_taker": event.is_taker,
            }
        case OrderChanged():
            return {
                "type": "event",
                "event": "order",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "action": event.action.value,
                "ticker": event.ticker,
                "order_id": event.order_id,
                "client_order_id": event.client_order_id,
                "price": _cents_or_none(event.price),
                "count": contracts_text(event.count),
                "detail": event.detail,
            }
        case MatchStatusChanged():
            return {
                "type": "event",
                "event": "status",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "status": event.status.value,
                "reason": event.reason,
            }
        case LogEvent():
            return {
                "type": "event",
                "event": "log",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "level": event.level.value,
                "text": event.text,
            }
        case QuoteDecided():
            return {
                "type": "event",
                "event": "decision",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "a": quote_json(event.decision.a),
                "b": quote_json(event.decision.b),
                **({"t": quote_json(event.decision.t)} if event.decision.t is not None else {}),
            }
        case InventoryChanged():
            return {
                "type": "event",
                "event": "inventory",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "inventory": inventory_json(event.inventory),
            }
        case FeedHealthChanged():
            return {
                "type": "event",
                "event": "feed",
                "ts_ms": event.ts_ms,
                "connected": event.connected,
                "stale_tickers": list(event.stale_tickers),
                "detail": event.detail,
            }
        case BalanceChanged():
            return {
                "type": "event",
                "event": "balance",
                "ts_ms": event.ts_ms,
                "balance": dollars_text(event.balance),
            }
    return None
