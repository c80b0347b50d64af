"""Typed values of the Kalshi API in domain units, and the one place wire strings become them.

Wire prices are dollar strings (``"0.5500"``), counts fixed-point strings (``"10.00"``), money dollar
strings (``"2.200000"``) or, on a few old fields, integer cents; times are ISO strings, Unix seconds or
Unix ms depending on the field. Everything here comes out as ``Price``/``Count``/``Money`` integers and
``*_ms`` ints so no caller ever touches a wire string or a float.

Parsing is tolerant by design: unknown keys are ignored, optional keys may be absent or null, and
deprecated fields (``side``, ``action``, ``is_yes``, ``ts`` ...) are used only as fall-backs. A missing
*required* key or a malformed number raises :class:`~kmm_tui.kalshi.errors.BadResponse`, naming the
field, because acting on a half-understood order or fill is worse than stopping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import (
    PRICE_SCALE,
    Count,
    Money,
    Price,
    TickGrid,
    WireFormatError,
    format_count,
    format_price,
    money_from_cents,
    no_price,
    parse_count,
    parse_money,
    parse_price,
)
from kmm_tui.kalshi.errors import BadResponse, KalshiError, error_from_item

BookSide = Literal["bid", "ask"]
OrderStatus = Literal["resting", "canceled", "executed"]
TimeInForce = Literal["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_\-:+=/]{1,64}$")

__all__ = [
    "AccountLimits",
    "Balance",
    "BatchItemResult",
    "BookDelta",
    "CreateOrderSpec",
    "Event",
    "EventFeeUpdate",
    "ExchangeStatus",
    "Fill",
    "Lifecycle",
    "Market",
    "Milestone",
    "Order",
    "OrderAck",
    "OrderBookSnapshot",
    "OrderGroup",
    "OrderGroupUpdate",
    "Position",
    "Series",
    "ShardStatus",
    "format_count",
    "format_price",
    "parse_count",
    "parse_money",
    "parse_price",
]


# --- field readers --------------------------------------------------------------------------------


def _bad(what: str, field_name: str, problem: str) -> BadResponse:
    return BadResponse(f"{what}: field {field_name!r} {problem}", code="bad_response")


def _req(data: Mapping[str, Any], key: str, what: str) -> Any:
    value = data.get(key)
    if value is None:
        raise _bad(what, key, "is missing")
    return value


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _req(data, key, what)
    if not isinstance(value, str) or not value:
        raise _bad(what, key, f"is not a non-empty string: {value!r}")
    return value


def _opt_text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _opt_nonempty(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _int(value: Any, what: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(what, key, f"is not an integer: {value!r}")
    return value


def _opt_int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _wire(parse: Any, value: Any, what: str, key: str) -> Any:
    if isinstance(value, (float, bool)):
        raise _bad(what, key, f"is a JSON number {value!r}, expected a decimal string")
    try:
        return parse(value)
    except WireFormatError as exc:
        raise _bad(what, key, str(exc)) from None


def _price(data: Mapping[str, Any], key: str, what: str) -> Price:
    return _wire(parse_price, _req(data, key, what), what, key)


def _opt_price(data: Mapping[str, Any], key: str, what: str) -> Price | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_price, value, what, key)


def _count(data: Mapping[str, Any], key: str, what: str) -> Count:
    return _wire(parse_count, _req(data, key, what), what, key)


def _opt_count(data: Mapping[str, Any], key: str, what: str) -> Count | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_count, value, what, key)


def _money(data: Mapping[str, Any], key: str, what: str, default: Money | None = None) -> Money:
    value = data.get(key)
    if value is None or value == "":
        if default is not None:
            return default
        raise _bad(what, key, "is missing")
    return _wire(parse_money, value, what, key)


def _opt_money(data: Mapping[str, Any], key: str, what: str) -> Money | None:
    value = data.get(key)
    return None if value is None or value == "" else _wire(parse_money, value, what, key)


def _decimal(value: Any, what: str, key: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _bad(what, key, f"is not a number: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        raise _bad(what, key, f"is not a number: {value!r}")
    return result


def iso_to_ms(text: str) -> int:
    """``"2026-11-28T16:05:00.412377Z"`` -> Unix ms (truncated). Raises ValueError on junk."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def _time_ms(
    data: Mapping[str, Any],
    what: str,
    *,
    ms: Sequence[str] = (),
    iso: Sequence[str] = (),
    seconds: Sequence[str] = (),
) -> int | None:
    """First present of: integer-ms keys, ISO keys, integer-second keys (in that order of trust)."""
    for key in ms:
        value = data.get(key)
        if value is not None:
            return _int(value, what, key)
    for key in iso:
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                return iso_to_ms(value)
            except ValueError:
                raise _bad(what, key, f"is not an ISO time: {value!r}") from None
    for key in seconds:
        value = data.get(key)
        if value is not None:
            return _int(value, what, key) * 1000
    return None


def _as_dict(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadResponse(f"{what}: expected a JSON object, got {type(data).__name__}", code="bad_response")
    return data


def _list(data: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        if value is None:
            raise _bad(what, key, "is missing")
        raise _bad(what, key, f"is not a list: {type(value).__name__}")
    return value


def _book_side(data: Mapping[str, Any], what: str) -> BookSide:
    """``book_side`` if present, else derived from the deprecated ``side``/``action`` (or ``is_yes``)."""
    value = data.get("book_side")
    if value in ("bid", "ask"):
        return value  # type: ignore[return-value]
    side = data.get("outcome_side") or data.get("side") or data.get("purchased_side")
    if side is None and isinstance(data.get("is_yes"), bool):
        side = "yes" if data["is_yes"] else "no"
    action = data.get("action") or "buy"
    if side in ("yes", "no") and action in ("buy", "sell"):
        return "bid" if (side == "yes") == (action == "buy") else "ask"
    raise _bad(what, "book_side", f"is missing or unknown: {value!r}")


def _yes_price(data: Mapping[str, Any], what: str, key: str = "yes_price_dollars") -> Price:
    if data.get(key) is not None:
        return _price(data, key, what)
    if data.get("no_price_dollars") is not None:
        return no_price(_price(data, "no_price_dollars", what))
    raise _bad(what, key, "is missing")


def _tickers(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


# --- exchange, series, events, milestones, markets -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardStatus:
    exchange_index: int
    exchange_active: bool
    trading_active: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    """``GET /exchange/status``: trading is possible only when both flags are true (per shard too)."""

    exchange_active: bool
    trading_active: bool
    shards: tuple[ShardStatus, ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> ExchangeStatus:
        data = _as_dict(data, "exchange status")
        shards = tuple(
            ShardStatus(
                _opt_int(item, "exchange_index"),
                bool(item.get("exchange_active", False)),
                bool(item.get("trading_active", False)),
                _opt_text(item, "description"),
            )
            for item in data.get("exchange_index_statuses") or []
            if isinstance(item, Mapping)
        )
        return cls(bool(data.get("exchange_active", False)), bool(data.get("trading_active", False)), shards)

    def shard_trading(self, exchange_index: int) -> bool:
        """Trading open on one shard (unknown shard -> the global flags)."""
        for shard in self.shards:
            if shard.exchange_index == exchange_index:
                return shard.exchange_active and shard.trading_active
        return self.exchange_active and self.trading_active


@dataclass(frozen=True, slots=True)
class Series:
    """A market template; it carries the fee schedule (``fee_type``, ``fee_multiplier``)."""

    ticker: str
    title: str
    category: str
    tags: tuple[str, ...]
    fee_type: str
    fee_multiplier: Decimal
    exchange_index: int = 0

    @classmethod
    def from_wire(cls, data: Any) -> Series:
        data = _as_dict(data, "series")
        what = f"series {data.get('ticker')!r}"
        multiplier = data.get("fee_multiplier")
        return cls(
            ticker=_text(data, "ticker", what),
            title=_opt_text(data, "title"),
            category=_opt_text(data, "category"),
            tags=_tickers(data, "tags"),
            fee_type=_text(data, "fee_type", what),
            fee_multiplier=Decimal(1) if multiplier is None else _decimal(multiplier, what, "fee_multiplier"),
            exchange_index=_opt_int(data, "exchange_index"),
        )


@dataclass(frozen=True, slots=True)
class Milestone:
    """A scheduled happening (a match). ``start_ms`` is the only reliable scheduled start time."""

    id: str
    category: str
    type: str
    title: str
    start_ms: int | None
    end_ms: int | None
    status: str | None
    primary_event_tickers: tuple[str, ...]
    related_event_tickers: tuple[str, ...]
    last_updated_ms: int | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Milestone:
        data = _as_dict(data, "milestone")
        what = f"milestone {data.get('id')!r}"
        details = data.get("details")
        status = details.get("status") if isinstance(details, Mapping) else None
        return cls(
            id=_text(data, "id", what),
            category=_opt_text(data, "category"),
            type=_opt_text(data, "type"),
            title=_opt_text(data, "title"),
            start_ms=_time_ms(data, what, iso=("start_date",)),
            end_ms=_time_ms(data, what, iso=("end_date",)),
            status=status if isinstance(status, str) else None,
            primary_event_tickers=_tickers(data, "primary_event_tickers"),
            related_event_tickers=_tickers(data, "related_event_tickers"),
            last_updated_ms=_time_ms(data, what, iso=("last_updated_ts",)),
        )

    def concerns(self, event_ticker: str) -> bool:
        return event_ticker in self.primary_event_tickers or event_ticker in self.related_event_tickers


@dataclass(frozen=True, slots=True)
class Market:
    """One binary market. Top of book: a bid of 0 or an ask of $1 on the wire means "none" -> None."""

    ticker: str
    event_ticker: str
    status: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    yes_bid: Price | None
    yes_bid_size: Count | None
    yes_ask: Price | None
    yes_ask_size: Count | None
    no_bid: Price | None
    no_ask: Price | None
    last_price: Price | None
    volume: Count
    open_interest: Count
    open_time_ms: int | None
    close_time_ms: int | None
    expected_expiration_ms: int | None
    grid: TickGrid
    price_level_structure: str
    exchange_index: int
    result: str
    settlement_value: Price | None = None
    can_close_early: bool = False
    custom_strike: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> Market:
        data = _as_dict(data, "market")
        what = f"market {data.get('ticker')!r}"
        ranges = data.get("price_ranges")
        if isinstance(ranges, list) and ranges:
            try:
                grid = TickGrid.from_price_ranges(ranges)
            except WireFormatError as exc:
                raise _bad(what, "price_ranges", str(exc)) from None
        else:
            grid = TickGrid.linear_cent()  # whole cents are valid on every grid (kalshi-api.md §3)
        strike = data.get("custom_strike")
        return cls(
            ticker=_text(data, "ticker", what),
            event_ticker=_text(data, "event_ticker", what),
            status=_text(data, "status", what),
            title=_opt_text(data, "title"),
            yes_sub_title=_opt_text(data, "yes_sub_title"),
            no_sub_title=_opt_text(data, "no_sub_title"),
            yes_bid=_none_if(_opt_price(data, "yes_bid_dollars", what), 0),
            yes_bid_size=_opt_count(data, "yes_bid_size_fp", what),
            yes_ask=_none_if(_opt_price(data, "yes_ask_dollars", what), PRICE_SCALE),
            yes_ask_size=_opt_count(data, "yes_ask_size_fp", what),
            no_bid=_none_if(_opt_price(data, "no_bid_dollars", what), 0),
            no_ask=_none_if(_opt_price(data, "no_ask_dollars", what), PRICE_SCALE),
            last_price=_none_if(_opt_price(data, "last_price_dollars", what), 0),
            volume=_opt_count(data, "volume_fp", what) or Count(0),
            open_interest=_opt_count(data, "open_interest_fp", what) or Count(0),
            open_time_ms=_time_ms(data, what, iso=("open_time",)),
            close_time_ms=_time_ms(data, what, iso=("close_time",)),
            expected_expiration_ms=_time_ms(data, what, iso=("expected_expiration_time",)),
            grid=grid,
            price_level_structure=_opt_text(data, "price_level_structure"),
            exchange_index=_opt_int(data, "exchange_index"),
            result=_opt_text(data, "result"),
            settlement_value=_opt_price(data, "settlement_value_dollars", what),
            can_close_early=bool(data.get("can_close_early", False)),
            custom_strike=tuple((str(k), str(v)) for k, v in strike.items() if v is not None)
            if isinstance(strike, Mapping)
            else (),
        )

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def _none_if(value: Price | None, sentinel: int) -> Price | None:
    return None if value is None or value == sentinel else value


@dataclass(frozen=True, slots=True)
class Event:
    """One match: its markets (one per outcome) and, if milestones were asked for, its scheduled start."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool
    collateral_return_type: str
    fee_type_override: str | None
    fee_multiplier_override: Decimal | None
    exchange_index: int
    markets: tuple[Market, ...] = ()
    milestone: Milestone | None = None

    @property
    def start_ms(self) -> int | None:
        """Scheduled start from the milestone, if one was attached."""
        return self.milestone.start_ms if self.milestone else None

    @classmethod
    def from_wire(
        cls, data: Any, markets: Sequence[Any] | None = None, milestones: Sequence[Milestone] = ()
    ) -> Event:
        data = _as_dict(data, "event")
        what = f"event {data.get('event_ticker')!r}"
        ticker = _text(data, "event_ticker", what)
        nested = markets if markets is not None else data.get("markets") or []
        override = data.get("fee_multiplier_override")
        primary = [m for m in milestones if ticker in m.primary_event_tickers]
        related = [m for m in milestones if m.concerns(ticker)]
        fee_type_override = data.get("fee_type_override")
        return cls(
            event_ticker=ticker,
            series_ticker=_opt_text(data, "series_ticker"),
            title=_opt_text(data, "title"),
            sub_title=_opt_text(data, "sub_title"),
            mutually_exclusive=bool(data.get("mutually_exclusive", False)),
            collateral_return_type=_opt_text(data, "collateral_return_type"),
            fee_type_override=fee_type_override
            if isinstance(fee_type_override, str) and fee_type_override
            else None,
            fee_multiplier_override=None
            if override is None
            else _decimal(override, what, "fee_multiplier_override"),
            exchange_index=_opt_int(data, "exchange_index"),
            markets=tuple(Market.from_wire(item) for item in nested),
            milestone=(primary or related or [None])[0],
        )


# --- order books --------------------------------------------------------------------------------


def _levels(raw: Any, what: str, key: str) -> dict[Price, Count]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _bad(what, key, f"is not a list of levels: {type(raw).__name__}")
    levels: dict[Price, Count] = {}
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) < 2:
            raise _bad(what, key, f"has a malformed level {entry!r}")
        price = _wire(parse_price, entry[0], what, key)
        size = _wire(parse_count, entry[1], what, key)
        if size > 0:
            levels[price] = Count(levels.get(price, 0) + size)
    return levels


@dataclass(frozen=True, slots=True)
class OrderBookSnapshot:
    """Bids per leg, ``{price: count}`` in each leg's own prices (NO levels are NO-leg prices)."""

    ticker: str | None
    yes: Mapping[Price, Count] = field(default_factory=dict)
    no: Mapping[Price, Count] = field(default_factory=dict)

    def book(self) -> Book:
        return Book.from_legs(self.yes, self.no)

    @classmethod
    def from_rest(cls, data: Any, ticker: str | None = None) -> OrderBookSnapshot:
        """``{"orderbook_fp": {"yes_dollars": [...], "no_dollars": [...]}}`` (a side may be absent)."""
        data = _as_dict(data, "order book")
        what = f"order book {ticker or data.get('ticker')!r}"
        inner = data.get("orderbook_fp")
        if inner is None:
            raise _bad(what, "orderbook_fp", "is missing")
        inner = _as_dict(inner, what)
        return cls(
            ticker or _opt_nonempty(data, "ticker"),
            _levels(inner.get("yes_dollars"), what, "yes_dollars"),
            _levels(inner.get("no_dollars"), what, "no_dollars"),
        )

    @classmethod
    def from_ws(cls, msg: Any, *, use_yes_price: bool = False) -> OrderBookSnapshot:
        """WS ``orderbook_snapshot`` ``msg``. With ``use_yes_price`` NO levels arrive at 1 - p: undo it."""
        msg = _as_dict(msg, "order book snapshot")
        what = f"order book snapshot {msg.get('market_ticker')!r}"
        no = _levels(msg.get("no_dollars_fp"), what, "no_dollars_fp")
        if use_yes_price:
            no = {no_price(p): c for p, c in no.items()}
        return cls(
            _text(msg, "market_ticker", what), _levels(msg.get("yes_dollars_fp"), what, "yes_dollars_fp"), no
        )


@dataclass(frozen=True, slots=True)
class BookDelta:
    """One WS ``orderbook_delta``: signed ``delta`` at ``price`` on one leg (NO-leg price for ``no``)."""

    ticker: str
    side: Literal["yes", "no"]
    price: Price
    delta: Count
    ts_ms: int | None
    client_order_id: str | None = None

    @classmethod
    def from_ws(cls, msg: Any, *, use_yes_price: bool = False) -> BookDelta:
        msg = _as_dict(msg, "order book delta")
        what = f"order book delta {msg.get('market_ticker')!r}"
        side = msg.get("side")
        if side not in ("yes", "no"):
            raise _bad(what, "side", f"is not yes/no: {side!r}")
        price = _price(msg, "price_dollars", what)
        if use_yes_price and side == "no":
            price = no_price(price)
        return cls(
            ticker=_text(msg, "market_ticker", what),
            side=side,
            price=price,
            delta=_count(msg, "delta_fp", what),
            ts_ms=_time_ms(msg, what, ms=("ts_ms",)),
            client_order_id=_opt_nonempty(msg, "client_order_id"),
        )


# --- orders and fills ---------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """``GET /account/limits``: the usage tier and both buckets' refill rate and capacity."""

    usage_tier: str
    read_rate: int
    read_capacity: int
    write_rate: int
    write_capacity: int

    @classmethod
    def from_wire(cls, data: Any) -> AccountLimits:
        data = _as_dict(data, "account limits")
        what = "account limits"

        def number(section: str, key: str) -> int:
            part = _as_dict(_req(data, section, what), what)
            value = _int(_req(part, key, what), what, f"{section}.{key}")
            if value <= 0:
                raise _bad(what, f"{section}.{key}", f"is not positive: {value}")
            return value

        return cls(
            usage_tier=_opt_text(data, "usage_tier", "unknown"),
            read_rate=number("read", "refill_rate"),
            read_capacity=number("read", "bucket_capacity"),
            write_rate=number("write", "refill_rate"),
            write_capacity=number("write", "bucket_capacity"),
        )


# --- WebSocket-only payloads --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """``market_lifecycle_v2``: a market opened, paused, moved its close, was decided or re-gridded."""

    ticker: str
    event_type: str
    is_deactivated: bool | None = None
    close_ms: int | None = None
    result: str | None = None
    settlement_value: Price | None = None
    grid: TickGrid | None = None

    @classmethod
    def from_ws(cls, msg: Any) -> Lifecycle:
        msg = _as_dict(msg, "market lifecycle")
        what = f"market lifecycle {msg.get('market_ticker')!r}"
        ranges = msg.get("price_ranges")
        grid = None
        if isinstance(ranges, list) and ranges:
            try:
                grid = TickGrid.from_price_ranges(ranges)
            except WireFormatError as exc:
                raise _bad(what, "price_ranges", str(exc)) from None
        deactivated = msg.get("is_deactivated")
        result = msg.get("result")
        return cls(
            ticker=_text(msg, "market_ticker", what),
            event_type=_text(msg, "event_type", what),
            is_deactivated=deactivated if isinstance(deactivated, bool) else None,
            close_ms=_time_ms(msg, what, seconds=("close_ts",)),
            result=result if isinstance(result, str) else None,
            settlement_value=_opt_price(msg, "settlement_value", what),
            grid=grid,
        )


@dataclass(frozen=True, slots=True)
class EventFeeUpdate:
    """WS ``event_fee_update``: an event's fee override changed (None = override removed)."""

    event_ticker: str
    fee_type_override: str | None
    fee_multiplier_override: Decimal | None

    @classmethod
    def from_ws(cls, msg: Any) -> EventFeeUpdate:
        msg = _as_dict(msg, "event fee update")
        what = f"event fee update {msg.get('event_ticker')!r}"
        multiplier = msg.get("fee_multiplier_override")
        return cls(
            event_ticker=_text(msg, "event_ticker", what),
            fee_type_override=_opt_nonempty(msg, "fee_type_override"),
            fee_multiplier_override=None
            if multiplier is None
            else _decimal(multiplier, what, "fee_multiplier_override"),
        )


@dataclass(frozen=True, slots=True)
class OrderGroupUpdate:
    """WS ``order_group_updates``: created / triggered / reset / deleted / limit_updated."""

    order_group_id: str
    event_type: str
    contracts_limit: Count | None
    ts_ms: int | None

    @classmethod
    def from_ws(cls, msg: Any) -> OrderGroupUpdate:
        msg = _as_dict(msg, "order group update")
        what = f"order group update {msg.get('order_group_id')!r}"
        return cls(
            order_group_id=_text(msg, "order_group_id", what),
            event_type=_text(msg, "event_type", what),
            contracts_limit=_opt_count(msg, "contracts_limit_fp", what),
            ts_ms=_time_ms(msg, what, ms=("ts_ms",)),
        )


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
