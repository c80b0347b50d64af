"""Price history per market: one-minute candles of trades and of the top of book.

Feeds ``GET /series/{s}/markets/{t}/candlesticks`` and ``GET /markets/candlesticks`` (periods of 1,
60 or 1440 minutes built from the minute candles) and the markets' ``previous_*`` fields (the top of
book and last price a day ago). The recorder listens to the exchange's trade and ticker events, so it
sees every change of the book's top and every print, stamped with the market clock.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Any

from kmm_tui.domain.prices import PRICE_SCALE, format_count, format_price
from kmm_tui.sim.events import SimEvent, TickerEvent, TradeEvent
from kmm_tui.sim.exchange import Exchange

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
PERIODS = (1, 60, 1440)


@dataclass(slots=True)
class Ohlc:
    open: int
    high: int
    low: int
    close: int

    @classmethod
    def start(cls, value: int) -> Ohlc:
        return cls(value, value, value, value)

    def add(self, value: int) -> None:
        self.high = max(self.high, value)
        self.low = min(self.low, value)
        self.close = value

    def merge(self, later: Ohlc) -> None:
        self.high = max(self.high, later.high)
        self.low = min(self.low, later.low)
        self.close = later.close

    def json(self) -> dict[str, str]:
        return {
            "open_dollars": format_price(self.open),
            "high_dollars": format_price(self.high),
            "low_dollars": format_price(self.low),
            "close_dollars": format_price(self.close),
        }


@dataclass(slots=True)
class Candle:
    """One minute (or a merged period) of one market."""

    yes_bid: Ohlc
    yes_ask: Ohlc
    price: Ohlc | None = None
    volume: int = 0
    notional: int = 0  # Σ price × count, for the mean
    open_interest: int = 0
    previous_price: int | None = None  # last print before this period

    def copy(self) -> Candle:
        price = None if self.price is None else replace(self.price)
        return replace(self, yes_bid=replace(self.yes_bid), yes_ask=replace(self.yes_ask), price=price)


@dataclass(slots=True)
class MarketHistory:
    minutes: list[int] = field(default_factory=list)  # ascending minute indexes of ``candles``
    candles: list[Candle] = field(default_factory=list)
    last_price: int | None = None


class CandleRecorder:
    """Keeps the minute candles of every market, in memory, for the life of the simulator."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.history: dict[str, MarketHistory] = {}
        exchange.listeners.append(self.on_event)

    def on_event(self, event: SimEvent) -> None:
        if isinstance(event, TickerEvent):
            self._candle(event.ticker, event.ts_ms)
        elif isinstance(event, TradeEvent):
            trade = event.trade
            candle = self._candle(trade.ticker, trade.created_ms)
            if candle.price is None:
                candle.price = Ohlc.start(trade.yes_price)
            else:
                candle.price.add(trade.yes_price)
            candle.volume += trade.count
            candle.notional += trade.yes_price * trade.count
            self.history[trade.ticker].last_price = trade.yes_price

    def _top(self, ticker: str) -> tuple[int, int]:
        book = self.exchange.books[ticker]
        bid, ask = book.best_bid(), book.best_ask()
        return (bid or 0), (PRICE_SCALE if ask is None else ask)

    def _candle(self, ticker: str, ts_ms: int) -> Candle:
        """The current minute's candle, updated with the current top of book."""
        history = self.history.setdefault(ticker, MarketHistory())
        minute = ts_ms // MINUTE_MS
        bid, ask = self._top(ticker)
        oi = self.exchange.markets[ticker].open_interest
        if history.minutes and history.minutes[-1] >= minute:
            candle = history.candles[-1]
            candle.yes_bid.add(bid)
            candle.yes_ask.add(ask)
        else:
            candle = Candle(Ohlc.start(bid), Ohlc.start(ask), previous_price=history.last_price)
            history.minutes.append(minute)
            history.candles.append(candle)
        candle.open_interest = oi
        return candle

    # --- reads ---------------------------------------------------------------------------------

    def candles(self, ticker: str, start_s: int, end_s: int, period_min: int) -> list[dict[str, Any]]:
        """Candles whose period ends within [start_s, end_s], oldest first (Kalshi's shape)."""
        history = self.history.get(ticker)
        if history is None:
            return []
        merged: dict[int, Candle] = {}
        for minute, candle in zip(history.minutes, history.candles, strict=True):
            bucket = minute // period_min
            end = (bucket + 1) * period_min * 60
            if not start_s <= end <= end_s:
                continue
            have = merged.get(bucket)
            if have is None:
                merged[bucket] = candle.copy()
            else:
                _merge(have, candle)
        return [_candle_json(c, (b + 1) * period_min * 60) for b, c in sorted(merged.items())]

    def day_ago(self, ticker: str, now_ms: int) -> tuple[int, int, int]:
        """(YES bid, YES ask, last price) as they stood 24 h ago; zeros before any history."""
        history = self.history.get(ticker)
        if history is None:
            return 0, 0, 0
        i = bisect_right(history.minutes, (now_ms - DAY_MS) // MINUTE_MS)
        if i == 0:
            return 0, 0, 0
        candle = history.candles[i - 1]
        last = candle.price.close if candle.price is not None else candle.previous_price
        return candle.yes_bid.close, candle.yes_ask.close, last or 0


def _merge(into: Candle, later: Candle) -> None:
    into.yes_bid.merge(later.yes_bid)
    into.yes_ask.merge(later.yes_ask)
    if later.price is not None:
        if into.price is None:
            into.price = replace(later.price)
        else:
            into.price.merge(later.price)
    into.volume += later.volume
    into.notional += later.notional
    into.open_interest = later.open_interest


def _candle_json(candle: Candle, end_s: int) -> dict[str, Any]:
    price: dict[str, Any] = {}
    if candle.price is not None:
        price = candle.price.json()
        price["mean_dollars"] = format_price(candle.notional // candle.volume if candle.volume else 0)
    if candle.previous_price is not None:
        price["previous_dollars"] = format_price(candle.previous_price)
    return {
        "end_period_ts": end_s,
        "yes_bid": candle.yes_bid.json(),
        "yes_ask": candle.yes_ask.json(),
        "price": price,
        "volume_fp": format_count(candle.volume),
        "open_interest_fp": format_count(candle.open_interest),
    }
