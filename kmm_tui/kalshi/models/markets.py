"""Reference data: series (fee schedules), milestones (scheduled starts), markets
and events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kmm_tui.domain.prices import (
    PRICE_SCALE,
    Count,
    Price,
    TickGrid,
    WireFormatError,
)
from kmm_tui.kalshi.models.wire import (
    _as_dict,
    _bad,
    _decimal,
    _opt_count,
    _opt_int,
    _opt_price,
    _opt_text,
    _text,
    _tickers,
    _time_ms,
)


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
    # Totals/spreads: YES when the result is above ``floor_strike`` (``strike_type`` "greater").
    floor_strike: Decimal | None = None
    strike_type: str = ""

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
            floor_strike=None
            if data.get("floor_strike") is None
            else _decimal(data["floor_strike"], what, "floor_strike"),
            strike_type=_opt_text(data, "strike_type"),
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
