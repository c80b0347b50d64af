"""Portfolio: our fills, positions and balance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kmm_tui.domain.prices import (
    Count,
    Money,
    Price,
    money_from_cents,
)
from kmm_tui.kalshi.models.wire import (
    BookSide,
    _as_dict,
    _bad,
    _book_side,
    _count,
    _first,
    _int,
    _money,
    _opt_count,
    _opt_int,
    _opt_money,
    _opt_nonempty,
    _req,
    _text,
    _time_ms,
    _yes_price,
)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders (REST ``/portfolio/fills`` or WS ``fill``).

    ``fill_id`` (= ``trade_id``) is the dedupe key; ``yes_price`` is the YES price; ``fee`` is the total
    fee charged for this fill; ``post_position`` (WS only) is the position after it.
    """

    fill_id: str
    order_id: str
    ticker: str
    book_side: BookSide
    yes_price: Price
    count: Count
    is_taker: bool
    fee: Money
    created_ms: int
    client_order_id: str | None = None
    post_position: Count | None = None
    exchange_index: int = 0

    @classmethod
    def from_wire(cls, data: Any) -> Fill:
        data = _as_dict(data, "fill")
        fill_id = _first(data, "fill_id", "trade_id")
        what = f"fill {fill_id!r}"
        if not isinstance(fill_id, str) or not fill_id:
            raise _bad(what, "fill_id", "is missing (no fill_id or trade_id)")
        ticker = _first(data, "ticker", "market_ticker")
        if not isinstance(ticker, str) or not ticker:
            raise _bad(what, "ticker", "is missing (no ticker or market_ticker)")
        created = _time_ms(data, what, ms=("ts_ms",), iso=("created_time",), seconds=("ts",))
        if created is None:
            raise _bad(what, "created_time", "is missing (no ts_ms, created_time or ts)")
        is_taker = data.get("is_taker")
        if not isinstance(is_taker, bool):
            raise _bad(what, "is_taker", f"is not a boolean: {is_taker!r}")
        return cls(
            fill_id=fill_id,
            order_id=_text(data, "order_id", what),
            ticker=ticker,
            book_side=_book_side(data, what),
            yes_price=_yes_price(data, what),
            count=_count(data, "count_fp", what),
            is_taker=is_taker,
            fee=_money(data, "fee_cost", what, Money(0)),
            created_ms=created,
            client_order_id=_opt_nonempty(data, "client_order_id"),
            post_position=_opt_count(data, "post_position_fp", what),
            exchange_index=_opt_int(data, "exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one market: ``position`` > 0 holds YES, < 0 holds NO (REST or WS)."""

    ticker: str
    position: Count
    market_exposure: Money
    realized_pnl: Money
    fees_paid: Money
    total_traded: Money | None = None
    exchange_index: int = 0
    last_updated_ms: int | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Position:
        data = _as_dict(data, "position")
        ticker = _first(data, "ticker", "market_ticker")
        what = f"position {ticker!r}"
        if not isinstance(ticker, str) or not ticker:
            raise _bad(what, "ticker", "is missing")
        exposure_key = (
            "market_exposure_dollars" if "market_exposure_dollars" in data else "position_cost_dollars"
        )
        zero = Money(0)
        return cls(
            ticker=ticker,
            position=_count(data, "position_fp", what),
            market_exposure=_money(data, exposure_key, what, zero),
            realized_pnl=_money(data, "realized_pnl_dollars", what, zero),
            fees_paid=_money(data, "fees_paid_dollars", what, zero),
            total_traded=_opt_money(data, "total_traded_dollars", what),
            exchange_index=_opt_int(data, "exchange_index"),
            last_updated_ms=_time_ms(data, what, iso=("last_updated_ts",)),
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """Cash available to trade (``available``), portfolio value, per-shard cash (shards need pre-funding)."""

    available: Money
    portfolio_value: Money
    updated_ms: int | None
    by_shard: tuple[tuple[int, Money], ...] = ()

    def shard(self, exchange_index: int) -> Money | None:
        for index, amount in self.by_shard:
            if index == exchange_index:
                return amount
        return None

    @classmethod
    def from_wire(cls, data: Any) -> Balance:
        data = _as_dict(data, "balance")
        what = "balance"
        if data.get("balance_dollars") is not None:
            available = _money(data, "balance_dollars", what)
        else:  # integer cents (truncated); prefer balance_dollars when sent
            available = money_from_cents(_int(_req(data, "balance", what), what, "balance"))
        portfolio = data.get("portfolio_value")
        shards = tuple(
            (_opt_int(item, "exchange_index"), _money(item, "balance", what))
            for item in data.get("balance_breakdown") or []
            if isinstance(item, Mapping)
        )
        return cls(
            available=available,
            portfolio_value=money_from_cents(_int(portfolio, what, "portfolio_value"))
            if portfolio is not None
            else Money(0),
            updated_ms=_time_ms(data, what, seconds=("updated_ts",)),
            by_shard=shards,
        )
