"""Orders: what the exchange reports about them (orders, write acks, batch results, order groups) and
the bodies of the writes we send (validated before sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kmm_tui.domain.prices import (
    PRICE_SCALE,
    Count,
    Money,
    Price,
    format_count,
    format_price,
)
from kmm_tui.kalshi.errors import BadResponse, KalshiError, error_from_item
from kmm_tui.kalshi.models.wire import (
    _CLIENT_ID_RE,
    BookSide,
    SelfTradePrevention,
    TimeInForce,
    _as_dict,
    _bad,
    _book_side,
    _count,
    _decimal,
    _first,
    _money,
    _opt_count,
    _opt_int,
    _opt_nonempty,
    _opt_text,
    _text,
    _tickers,
    _time_ms,
    _yes_price,
)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as ``GET /portfolio/orders`` or WS ``user_order`` reports it. ``price`` is the YES price."""

    order_id: str
    client_order_id: str | None
    ticker: str
    book_side: BookSide
    price: Price
    initial_count: Count
    fill_count: Count
    remaining_count: Count
    status: str
    order_group_id: str | None
    created_ms: int | None
    last_update_ms: int | None
    expiration_ms: int | None
    maker_fill_cost: Money
    taker_fill_cost: Money
    maker_fees: Money
    taker_fees: Money
    exchange_index: int = 0
    self_trade_prevention_type: str = ""

    @property
    def is_resting(self) -> bool:
        return self.status == "resting" and self.remaining_count > 0

    @property
    def fees(self) -> Money:
        return Money(self.maker_fees + self.taker_fees)

    @classmethod
    def from_wire(cls, data: Any) -> Order:
        data = _as_dict(data, "order")
        what = f"order {data.get('order_id')!r}"
        fill = _count(data, "fill_count_fp", what)
        remaining = _count(data, "remaining_count_fp", what)
        initial = _opt_count(data, "initial_count_fp", what)
        zero = Money(0)
        return cls(
            order_id=_text(data, "order_id", what),
            client_order_id=_opt_nonempty(data, "client_order_id"),
            ticker=_text(data, "ticker", what) if data.get("ticker") else _text(data, "market_ticker", what),
            book_side=_book_side(data, what),
            price=_yes_price(data, what),
            initial_count=initial if initial is not None else Count(fill + remaining),
            fill_count=fill,
            remaining_count=remaining,
            status=_text(data, "status", what),
            order_group_id=_opt_nonempty(data, "order_group_id"),
            created_ms=_time_ms(data, what, ms=("created_ts_ms",), iso=("created_time",)),
            last_update_ms=_time_ms(data, what, ms=("last_updated_ts_ms",), iso=("last_update_time",)),
            expiration_ms=_time_ms(data, what, ms=("expiration_ts_ms",), iso=("expiration_time",)),
            maker_fill_cost=_money(data, "maker_fill_cost_dollars", what, zero),
            taker_fill_cost=_money(data, "taker_fill_cost_dollars", what, zero),
            maker_fees=_money(data, "maker_fees_dollars", what, zero),
            taker_fees=_money(data, "taker_fees_dollars", what, zero),
            exchange_index=_opt_int(data, "exchange_index"),
            self_trade_prevention_type=_opt_text(data, "self_trade_prevention_type"),
        )


@dataclass(frozen=True, slots=True)
class OrderAck:
    """Reply to create/amend/decrease/cancel. Fields a given reply lacks are None.

    ``average_fill_price`` (dollars) and ``average_fee_paid`` (dollars per contract) are averages, not
    grid prices, so they stay exact ``Decimal``s; use fills for accounting.
    """

    order_id: str
    client_order_id: str | None
    fill_count: Count | None = None
    remaining_count: Count | None = None
    reduced_by: Count | None = None
    ts_ms: int | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None

    @property
    def cancelled_on_arrival(self) -> bool:
        """Create reply with 0 filled and 0 remaining: STP, IOC with nothing to hit, or post-only cross."""
        return self.fill_count == 0 and self.remaining_count == 0

    @classmethod
    def from_wire(cls, data: Any) -> OrderAck:
        data = _as_dict(data, "order reply")
        what = f"order reply {data.get('order_id')!r}"
        avg_price = data.get("average_fill_price")
        avg_fee = data.get("average_fee_paid")
        return cls(
            order_id=_text(data, "order_id", what),
            client_order_id=_opt_nonempty(data, "client_order_id"),
            fill_count=_opt_count(data, "fill_count", what),
            remaining_count=_opt_count(data, "remaining_count", what),
            reduced_by=_opt_count(data, "reduced_by", what),
            ts_ms=_time_ms(data, what, ms=("ts_ms",)),
            average_fill_price=None if avg_price is None else _decimal(avg_price, what, "average_fill_price"),
            average_fee_paid=None if avg_fee is None else _decimal(avg_fee, what, "average_fee_paid"),
        )


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """A per-match kill switch: ``contracts_limit`` matched in 15 s triggers it (None = not reported)."""

    order_group_id: str
    contracts_limit: Count | None = None
    is_auto_cancel_enabled: bool | None = None
    order_ids: tuple[str, ...] = ()
    exchange_index: int = 0

    @classmethod
    def from_wire(cls, data: Any, order_group_id: str | None = None) -> OrderGroup:
        data = _as_dict(data, "order group")
        group_id = order_group_id or _first(data, "order_group_id", "id")
        what = f"order group {group_id!r}"
        if not isinstance(group_id, str) or not group_id:
            raise _bad(what, "order_group_id", "is missing")
        limit = _opt_count(data, "contracts_limit_fp", what)
        if limit is None and isinstance(data.get("contracts_limit"), int):
            limit = Count(data["contracts_limit"] * 100)
        auto = data.get("is_auto_cancel_enabled")
        return cls(
            order_group_id=group_id,
            contracts_limit=limit,
            is_auto_cancel_enabled=auto if isinstance(auto, bool) else None,
            order_ids=_tickers(data, "orders"),
            exchange_index=_opt_int(data, "exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class BatchItemResult:
    """One item of a batch create/cancel reply: ``ack`` or ``error`` (exactly one is set)."""

    index: int
    ack: OrderAck | None
    error: KalshiError | None
    order_id: str | None = None
    client_order_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def from_wire(cls, index: int, data: Any, *, status: int | None = None) -> BatchItemResult:
        if not isinstance(data, Mapping):
            err = BadResponse(f"batch item {index} is not an object", code="bad_response", status=status)
            return cls(index, None, err)
        order_id = _opt_nonempty(data, "order_id")
        client_id = _opt_nonempty(data, "client_order_id")
        if data.get("error") is not None:
            return cls(index, None, error_from_item(data["error"], status=status), order_id, client_id)
        try:
            ack = OrderAck.from_wire(data)
        except BadResponse as exc:
            return cls(index, None, exc, order_id, client_id)
        return cls(index, ack, None, ack.order_id, ack.client_order_id)


# --- requests -----------------------------------------------------------------------------------


def check_client_order_id(client_order_id: str) -> str:
    """Client ids must be unique forever; stay within FIX's charset/length (UUID4 is ideal)."""
    if not isinstance(client_order_id, str) or not _CLIENT_ID_RE.match(client_order_id):
        raise ValueError(
            f"client_order_id {client_order_id!r} must be 1-64 characters of A-Z a-z 0-9 _ - : + = / "
            "(use a UUID4)"
        )
    return client_order_id


def _check_side(side: str) -> BookSide:
    if side not in ("bid", "ask"):
        raise ValueError(f"side must be 'bid' (buy YES) or 'ask' (sell YES / buy NO), got {side!r}")
    return side  # type: ignore[return-value]


def _check_price(price: int) -> Price:
    if isinstance(price, bool) or not isinstance(price, int) or not 0 < price < PRICE_SCALE:
        raise ValueError(
            f"price must be a Price strictly between 0 and {PRICE_SCALE} (YES terms), got {price!r}"
        )
    return Price(price)


def _check_count(count: int, what: str = "count") -> Count:
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ValueError(f"{what} must be a positive Count (hundredths of a contract), got {count!r}")
    return Count(count)


def check_expiration_ts(expiration_ts: int | None) -> int | None:
    """``expiration_time`` is Unix **seconds** on the wire; catch a millisecond value passed by mistake."""
    if expiration_ts is None:
        return None
    if isinstance(expiration_ts, bool) or not isinstance(expiration_ts, int) or expiration_ts <= 0:
        raise ValueError(f"expiration_ts must be Unix seconds, got {expiration_ts!r}")
    if expiration_ts > 100_000_000_000:
        raise ValueError(f"expiration_ts {expiration_ts} looks like milliseconds; pass Unix seconds")
    return expiration_ts


@dataclass(frozen=True, slots=True)
class CreateOrderSpec:
    """A V2 create (also one item of a batch create). ``price`` is the YES price; ``side`` is bid/ask."""

    ticker: str
    side: BookSide
    price: Price
    count: Count
    client_order_id: str
    time_in_force: TimeInForce = "good_till_canceled"
    post_only: bool = False
    self_trade_prevention_type: SelfTradePrevention = "taker_at_cross"
    order_group_id: str | None = None
    cancel_order_on_pause: bool = True
    expiration_ts: int | None = None

    def __post_init__(self) -> None:
        if not self.ticker:
            raise ValueError("ticker is empty")
        _check_side(self.side)
        _check_price(self.price)
        _check_count(self.count)
        check_client_order_id(self.client_order_id)
        if self.time_in_force not in ("good_till_canceled", "immediate_or_cancel", "fill_or_kill"):
            raise ValueError(f"unknown time_in_force {self.time_in_force!r}")
        if self.self_trade_prevention_type not in ("taker_at_cross", "maker"):
            raise ValueError(f"unknown self_trade_prevention_type {self.self_trade_prevention_type!r}")
        check_expiration_ts(self.expiration_ts)
        if self.expiration_ts is not None and self.time_in_force != "good_till_canceled":
            raise ValueError("expiration_ts is only allowed with time_in_force good_till_canceled")

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side,
            "price": format_price(self.price),
            "count": format_count(self.count),
            "time_in_force": self.time_in_force,
            "self_trade_prevention_type": self.self_trade_prevention_type,
            "post_only": self.post_only,
            "cancel_order_on_pause": self.cancel_order_on_pause,
        }
        if self.order_group_id:
            body["order_group_id"] = self.order_group_id
        if self.expiration_ts is not None:
            body["expiration_time"] = self.expiration_ts
        return body


def amend_body(
    ticker: str,
    side: str,
    price: int,
    count_total: int,
    *,
    client_order_id: str | None = None,
    updated_client_order_id: str | None = None,
    expiration_ts: int | None = None,
) -> dict[str, Any]:
    """Amend body. ``count_total`` = already filled + desired remaining (the exchange's definition)."""
    body: dict[str, Any] = {
        "ticker": ticker,
        "side": _check_side(side),
        "price": format_price(_check_price(price)),
        "count": format_count(_check_count(count_total, "count_total")),
    }
    if client_order_id is not None:
        body["client_order_id"] = check_client_order_id(client_order_id)
    if updated_client_order_id is not None:
        body["updated_client_order_id"] = check_client_order_id(updated_client_order_id)
    if expiration_ts is not None:
        body["expiration_time"] = 0 if expiration_ts == 0 else check_expiration_ts(expiration_ts)
    return body


def decrease_body(*, reduce_to: int | None, reduce_by: int | None, market_ticker: str) -> dict[str, Any]:
    if (reduce_to is None) == (reduce_by is None):
        raise ValueError("decrease needs exactly one of reduce_to or reduce_by")
    body: dict[str, Any] = {"market_ticker": market_ticker}
    if reduce_to is not None:
        if isinstance(reduce_to, bool) or not isinstance(reduce_to, int) or reduce_to < 0:
            raise ValueError(f"reduce_to must be a Count >= 0, got {reduce_to!r}")
        body["reduce_to"] = format_count(reduce_to)
    else:
        body["reduce_by"] = format_count(_check_count(reduce_by, "reduce_by"))  # type: ignore[arg-type]
    return body
