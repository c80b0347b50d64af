"""Exchange state → Kalshi JSON shapes (the fixtures under ``tests/fixtures/kalshi`` are the spec).

Prices go out as 4-decimal dollar strings, counts as 2-decimal strings, money as 6-decimal dollar
strings, balances in integer cents, times as ISO-8601 UTC (and ``*_ts_ms`` where the API has them).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kmm_tui.domain.prices import (
    MONEY_SCALE,
    PRICE_SCALE,
    format_count,
    format_money,
    format_price,
)
from kmm_tui.sim.exchange import Exchange, OrderResult
from kmm_tui.sim.model import (
    Account,
    EventDef,
    Fill,
    Market,
    Milestone,
    Order,
    OrderGroup,
    Position,
    SeriesDef,
    Settlement,
    Trade,
)

CENT_MONEY = MONEY_SCALE // 100


def iso_ms(ms: int) -> str:
    """Unix ms → '2026-11-28T16:05:00.412000Z' (microsecond field, like Kalshi)."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}000Z"


@functools.lru_cache(maxsize=64)
def _iso_second(seconds: int) -> str:
    """The date and time of one second: every book delta is stamped, thousands in the same second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_s(ms: int) -> str:
    """Unix ms → '2026-11-28T18:30:00Z' (whole seconds, for schedule-like fields)."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def number(value: Decimal) -> int | float:
    """A JSON number for fields Kalshi sends as numbers (fee multipliers)."""
    return int(value) if value == value.to_integral_value() else float(value)


def cents(amount: int) -> int:
    """Money → whole cents, truncated toward zero (Kalshi's integer-cent fields)."""
    return int(amount / CENT_MONEY) if amount < 0 else amount // CENT_MONEY


# --- reference data -------------------------------------------------------------------------------


def series_json(series: SeriesDef) -> dict[str, Any]:
    return {
        "ticker": series.ticker,
        "frequency": "custom",
        "title": series.title,
        "category": series.category,
        "categories": [series.category],
        "tags": list(series.tags),
        "settlement_sources": [{"name": "Official league results", "url": "https://example.org/results"}],
        "contract_url": f"https://kalshi.com/contracts/{series.ticker.lower()}.pdf",
        "contract_terms_url": f"https://kalshi.com/contracts/{series.ticker.lower()}-terms.pdf",
        "product_metadata": {},
        "fee_type": series.fee_type,
        "fee_multiplier": number(series.fee_multiplier),
        "additional_prohibitions": [],
        "volume_fp": "0.00",
        "last_updated_ts": "2026-11-01T00:00:00Z",
        "exchange_index": series.exchange_index,
    }


def event_json(event: EventDef, markets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "sub_title": event.sub_title,
        "title": event.title,
        "collateral_return_type": event.collateral_return_type,
        "mutually_exclusive": event.mutually_exclusive,
        "strike_period": "",
        "product_metadata": {"competition": event.competition, "competition_scope": "Game"},
        "settlement_sources": [{"name": "Official league results", "url": "https://example.org/results"}],
        "last_updated_ts": "2026-11-01T00:00:00Z",
        "fee_type_override": event.fee_type_override,
        "fee_multiplier_override": (
            None if event.fee_multiplier_override is None else number(event.fee_multiplier_override)
        ),
        "exchange_index": event.exchange_index,
    }
    if markets is not None:
        out["markets"] = markets
    return out


def market_json(
    exchange: Exchange, market: Market, day_ago: tuple[int, int, int] = (0, 0, 0)
) -> dict[str, Any]:
    """The full market object (``rest/market_get.json``) with live top of book; ``day_ago`` is the
    (YES bid, YES ask, last price) of 24 h ago, reported as the ``previous_*`` fields."""
    bid, ask = exchange.top_of_book(market.ticker)
    yes_bid = bid[0] if bid else 0
    yes_ask = ask[0] if ask else PRICE_SCALE
    last = market.last_price or 0
    settle = market.settlement_value
    out: dict[str, Any] = {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": "binary",
        "title": market.title,
        "subtitle": "",
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.yes_sub_title,
        "created_time": iso_ms(market.created_ms),
        "updated_time": iso_ms(market.updated_ms or market.created_ms),
        "open_time": iso_s(market.open_ms),
        "close_time": iso_s(market.close_ms),
        "expected_expiration_time": iso_s(market.expected_expiration_ms),
        "expiration_time": iso_s(market.close_ms),
        "latest_expiration_time": iso_s(market.close_ms),
        "occurrence_datetime": iso_s(market.expected_expiration_ms),
        "settlement_timer_seconds": 300,
        "status": market.status,
        "yes_bid_dollars": format_price(yes_bid),
        "yes_bid_size_fp": format_count(bid[1] if bid else 0),
        "yes_ask_dollars": format_price(yes_ask),
        "yes_ask_size_fp": format_count(ask[1] if ask else 0),
        "no_bid_dollars": format_price(PRICE_SCALE - yes_ask),
        "no_ask_dollars": format_price(PRICE_SCALE - yes_bid),
        "last_price_dollars": format_price(last),
        "previous_yes_bid_dollars": format_price(day_ago[0]),
        "previous_yes_ask_dollars": format_price(day_ago[1]),
        "previous_price_dollars": format_price(day_ago[2]),
        "volume_fp": format_count(market.volume),
        "volume_24h_fp": format_count(market.volume),
        "open_interest_fp": format_count(market.open_interest),
        "notional_value_dollars": "1.0000",
        "result": market.result,
        "settlement_value_dollars": None if settle is None else format_price(settle),
        "can_close_early": True,
        "early_close_condition": "This market will close and expire after a winner is declared.",
        "expiration_value": "",
        "settlement_bounds_type": "default",
        "strike_type": market.strike_type,
        "custom_strike": dict(market.custom_strike),
        "rules_primary": market.rules_primary,
        "rules_secondary": (
            "If the match is postponed, the market stays open and closes after the rescheduled match "
            "(within two weeks). If it is cancelled before it starts, the market may resolve to a fair "
            "price under the rules."
        ),
        "price_level_structure": market.price_level_structure,
        "price_ranges": [dict(r) for r in market.price_ranges],
        "exchange_index": market.exchange_index,
    }
    if market.floor_strike is not None:  # totals and spreads: a JSON number, as Kalshi sends it
        out["floor_strike"] = number(market.floor_strike)
    return out


def milestone_json(milestone: Milestone) -> dict[str, Any]:
    details: dict[str, Any] = {"status": milestone.status, "league": milestone.league}
    if len(milestone.team_ids) >= 2:
        details["home_team_id"] = milestone.team_ids[0]
        details["away_team_id"] = milestone.team_ids[1]
    return {
        "id": milestone.id,
        "category": milestone.category,
        "type": milestone.type,
        "title": milestone.title,
        "start_date": iso_s(milestone.start_ms),
        "end_date": None,
        "related_event_tickers": list(milestone.event_tickers),
        "primary_event_tickers": list(milestone.event_tickers[:1]),
        "notification_message": f"{milestone.title} is starting",
        "source_id": None,
        "source_ids": {},
        "details": details,
        "last_updated_ts": iso_s(milestone.last_updated_ms),
    }


def levels(levels_map: dict[int, int], depth: int, *, invert: bool = False) -> list[list[str]]:
    """``[[price, count], ...]`` ascending (best last), the ``depth`` best levels (0 = all)."""
    items = [(PRICE_SCALE - p if invert else p, c) for p, c in levels_map.items() if c > 0]
    items.sort()
    if depth > 0:
        items = items[-depth:] if not invert else items[:depth]
    return [[format_price(p), format_count(c)] for p, c in items]


def orderbook_fp(exchange: Exchange, ticker: str, depth: int = 0) -> dict[str, Any]:
    """REST book; an empty side is ``[]``, or left out (``Fidelity.omit_empty_book_side``, as seen live)."""
    book = exchange.books[ticker]
    out: dict[str, Any] = {
        "yes_dollars": levels(book.yes_levels(), depth),
        "no_dollars": levels(book.no_levels(), depth),
    }
    if exchange.fidelity.omit_empty_book_side:
        out = {side: lv for side, lv in out.items() if lv}
    return out


def trade_json(trade: Trade) -> dict[str, Any]:
    outcome = "yes" if trade.taker_side == "bid" else "no"
    return {
        "trade_id": trade.trade_id,
        "ticker": trade.ticker,
        "count_fp": format_count(trade.count),
        "yes_price_dollars": format_price(trade.yes_price),
        "no_price_dollars": format_price(PRICE_SCALE - trade.yes_price),
        "taker_side": outcome,
        "taker_outcome_side": outcome,
        "taker_book_side": trade.taker_side,
        "created_time": iso_ms(trade.created_ms),
        "is_block_trade": False,
    }


# --- orders and portfolio -------------------------------------------------------------------------


def _average(total: int, count: int, places: int) -> str | None:
    """Per-contract average of a Money total over a Count (floored to ``places`` decimals)."""
    if count <= 0:
        return None
    return format_money(total * 100 // count, places)


def order_reply(result: OrderResult) -> dict[str, Any]:
    """201 body of create / 200 body of amend: counts without ``_fp``; averages once anything filled."""
    order = result.order
    out: dict[str, Any] = {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "fill_count": format_count(order.fill_count),
        "remaining_count": format_count(order.remaining),
        "ts_ms": result.ts_ms,
    }
    if order.fill_count > 0:
        yes_cost = order.taker_fill_cost + order.maker_fill_cost
        if order.side == "ask":  # report the YES price the order traded at
            yes_cost = PRICE_SCALE * order.fill_count - yes_cost
        out["average_fill_price"] = _average(yes_cost, order.fill_count, 4)
        out["average_fee_paid"] = _average(order.taker_fees + order.maker_fees, order.fill_count, 6)
    return out


def order_json(order: Order) -> dict[str, Any]:
    """The REST Order (``rest/orders_list.json``)."""
    outcome = order.outcome_side
    return {
        "order_id": order.order_id,
        "user_id": order.account_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "side": outcome,
        "action": "buy",
        "outcome_side": outcome,
        "book_side": order.side,
        "type": "limit",
        "status": order.status,
        "yes_price_dollars": format_price(order.price),
        "no_price_dollars": format_price(PRICE_SCALE - order.price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": format_money(order.taker_fill_cost),
        "maker_fill_cost_dollars": format_money(order.maker_fill_cost),
        "taker_fees_dollars": format_money(order.taker_fees),
        "maker_fees_dollars": format_money(order.maker_fees),
        "expiration_time": None if order.expiration_ms is None else iso_s(order.expiration_ms),
        "created_time": iso_ms(order.created_ms),
        "last_update_time": iso_ms(order.updated_ms),
        "self_trade_prevention_type": order.stp,
        "order_group_id": order.order_group_id,
        "cancel_order_on_pause": order.cancel_on_pause,
        "subaccount_number": order.subaccount,
        "exchange_index": order.exchange_index,
    }


def user_order_json(order: Order) -> dict[str, Any]:
    """The WS ``user_order`` message body (``ws/user_order.json``)."""
    outcome = order.outcome_side
    return {
        "order_id": order.order_id,
        "user_id": order.account_id,
        "ticker": order.ticker,
        "status": order.status,
        "side": outcome,
        "is_yes": outcome == "yes",
        "outcome_side": outcome,
        "book_side": order.side,
        "yes_price_dollars": format_price(order.price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": format_money(order.taker_fill_cost, 4),
        "maker_fill_cost_dollars": format_money(order.maker_fill_cost, 4),
        "taker_fees_dollars": format_money(order.taker_fees, 4),
        "maker_fees_dollars": format_money(order.maker_fees, 4),
        "client_order_id": order.client_order_id,
        "order_group_id": order.order_group_id,
        "self_trade_prevention_type": order.stp,
        "created_time": iso_ms(order.created_ms),
        "created_ts_ms": order.created_ms,
        "last_update_time": iso_ms(order.updated_ms),
        "last_updated_ts_ms": order.updated_ms,
        "expiration_time": None if order.expiration_ms is None else iso_s(order.expiration_ms),
        "expiration_ts_ms": order.expiration_ms,
        "subaccount_number": order.subaccount,
    }


def fill_json(fill: Fill) -> dict[str, Any]:
    """REST fill (``rest/fills.json``)."""
    outcome = fill.outcome_side
    return {
        "fill_id": fill.trade_id,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "side": outcome,
        "action": "buy",
        "outcome_side": outcome,
        "book_side": fill.side,
        "count_fp": format_count(fill.count),
        "yes_price_dollars": format_price(fill.yes_price),
        "no_price_dollars": format_price(PRICE_SCALE - fill.yes_price),
        "is_taker": fill.is_taker,
        "fee_cost": format_money(fill.fee),
        "created_time": iso_ms(fill.created_ms),
        "ts": fill.created_ms // 1000,
        "subaccount_number": fill.subaccount,
        "exchange_index": fill.exchange_index,
    }


def ws_fill_json(fill: Fill) -> dict[str, Any]:
    """WS ``fill`` message body (``ws/fill.json``)."""
    outcome = fill.outcome_side
    out: dict[str, Any] = {
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "market_ticker": fill.ticker,
        "exchange_index": fill.exchange_index,
        "is_taker": fill.is_taker,
        "side": outcome,
        "action": "buy",
        "purchased_side": outcome,
        "outcome_side": outcome,
        "book_side": fill.side,
        "yes_price_dollars": format_price(fill.yes_price),
        "count_fp": format_count(fill.count),
        "fee_cost": format_money(fill.fee),
        "post_position_fp": format_count(fill.post_position),
        "subaccount": fill.subaccount,
        "ts": fill.created_ms // 1000,
        "ts_ms": fill.created_ms,
    }
    if fill.client_order_id is not None:
        out["client_order_id"] = fill.client_order_id
    return out


def position_json(
    exchange: Exchange, account: Account, ticker: str, pos: Position | None = None
) -> dict[str, Any]:
    """REST market position; ``pos`` overrides the live one (a lagged read)."""
    pos = pos or account.position(ticker)
    return {
        "ticker": ticker,
        "exchange_index": exchange.markets[ticker].exchange_index,
        "total_traded_dollars": format_money(pos.total_traded),
        "position_fp": format_count(pos.position),
        "market_exposure_dollars": format_money(pos.cost),
        "realized_pnl_dollars": format_money(pos.realized_pnl),
        "fees_paid_dollars": format_money(pos.fees_paid),
        "last_updated_ts": iso_ms(pos.last_updated_ms),
    }


def ws_position_json(account: Account, ticker: str) -> dict[str, Any]:
    pos = account.position(ticker)
    return {
        "user_id": account.account_id,
        "market_ticker": ticker,
        "position_fp": format_count(pos.position),
        "position_cost_dollars": format_money(pos.cost),
        "realized_pnl_dollars": format_money(pos.realized_pnl),
        "fees_paid_dollars": format_money(pos.fees_paid),
        "position_fee_cost_dollars": format_money(pos.fees_paid),
        "volume_fp": format_count(pos.volume),
        "subaccount": 0,
    }


def event_positions_json(
    exchange: Exchange, positions_by_ticker: dict[str, Position]
) -> list[dict[str, Any]]:
    by_event: dict[str, list[str]] = {}
    for ticker in positions_by_ticker:
        by_event.setdefault(exchange.markets[ticker].event_ticker, []).append(ticker)
    out = []
    for event_ticker, members in by_event.items():
        positions = [positions_by_ticker[t] for t in members]
        out.append(
            {
                "event_ticker": event_ticker,
                "total_cost_dollars": format_money(sum(p.cost for p in positions)),
                "total_cost_shares_fp": format_count(sum(abs(p.position) for p in positions)),
                "event_exposure_dollars": format_money(sum(p.cost for p in positions)),
                "realized_pnl_dollars": format_money(sum(p.realized_pnl for p in positions)),
                "fees_paid_dollars": format_money(sum(p.fees_paid for p in positions)),
            }
        )
    return out


def balance_json(
    exchange: Exchange, account: Account, now_ms: int, shard: int | None = None
) -> dict[str, Any]:
    """``balance`` = available cash in cents; ``portfolio_value`` = market value of open positions in
    cents (each held contract marked at its leg's last traded price, at cost before any trade).

    ``balance_breakdown`` lists the available cash per exchange shard (§5.8); with ``shard`` the reply
    covers that shard only (``?exchange_index=N``).
    """
    shards = sorted(exchange.shards() | set(account.shard_cash)) if shard is None else [shard]
    available = account.available if shard is None else account.available_on(shard)
    value = sum(
        market_value(exchange.markets[t], p)
        for t, p in account.positions.items()
        if shard is None or exchange.markets[t].exchange_index == shard
    )
    breakdown = [
        {"exchange_index": idx, "balance": format_money(account.available_on(idx), 4)} for idx in shards
    ]
    return {
        "balance": cents(available),
        "balance_dollars": format_money(available, 4),
        "portfolio_value": cents(value),
        "updated_ts": now_ms // 1000,
        "balance_breakdown": breakdown,
    }


def market_value(market: Market, pos: Position) -> int:
    """Money a position is worth at the last price (YES held at p, NO held at 1 − p)."""
    if pos.position == 0 or market.last_price is None:
        return pos.cost
    leg = market.last_price if pos.position > 0 else PRICE_SCALE - market.last_price
    return leg * abs(pos.position)


def settlement_json(settlement: Settlement) -> dict[str, Any]:
    return {
        "ticker": settlement.ticker,
        "exchange_index": settlement.exchange_index,
        "event_ticker": settlement.event_ticker,
        "market_result": settlement.result,
        "yes_count_fp": format_count(settlement.yes_count),
        "yes_total_cost_dollars": format_money(settlement.yes_cost),
        "no_count_fp": format_count(settlement.no_count),
        "no_total_cost_dollars": format_money(settlement.no_cost),
        "revenue": cents(settlement.revenue),
        "settled_time": iso_ms(settlement.settled_ms),
        "fee_cost": "0.000000",
        "value": settlement.value // 100,
    }


def order_group_json(group: OrderGroup, *, with_orders: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "is_auto_cancel_enabled": True,
        "contracts_limit_fp": format_count(group.limit),
        "exchange_index": group.exchange_index,
    }
    if with_orders:
        out["orders"] = list(group.order_ids)
    else:
        out = {"id": group.group_id, **out}
    return out
