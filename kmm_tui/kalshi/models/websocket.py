"""Payloads only the WebSocket sends: market lifecycle changes, fee updates and order-group events."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kmm_tui.domain.prices import (
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
    _opt_nonempty,
    _opt_price,
    _text,
    _time_ms,
)


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
