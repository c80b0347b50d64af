"""Order books: REST and WebSocket snapshots and WebSocket deltas, per leg in each leg's own prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import (
    Count,
    Price,
    no_price,
    parse_count,
    parse_price,
)
from kmm_tui.kalshi.models.wire import (
    _as_dict,
    _bad,
    _count,
    _opt_nonempty,
    _price,
    _text,
    _time_ms,
    _wire,
)


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
