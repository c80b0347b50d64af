"""Reference data the engine needs about a market before it quotes: grid, status, fees, event start.

Fee schedules are per series with per-event overrides; a series is read once per session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from kmm_tui.domain.fees import FeeType
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.markets import MarketState
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.rest import KalshiRest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventInfo:
    """What a match's shape is checked against: the event's markets and its exclusivity flag."""

    title: str
    start_ms: int | None
    market_tickers: tuple[str, ...]
    mutually_exclusive: bool


class Reference:
    """Market and event look-ups, in the engine's terms (``MarketState``, ``EngineError``)."""

    def __init__(self, rest: KalshiRest, clock: Callable[[], int]) -> None:
        self._rest = rest
        self._clock = clock
        self._series_fees: dict[str, tuple[FeeType, Decimal]] = {}

    async def load_market(self, ticker: str, *, field: str) -> MarketState:
        try:
            market = await self._rest.get_market(ticker)
        except kx.NotFoundError:
            raise EngineError(
                f"unknown ticker {ticker}: no such market on the exchange", field=field
            ) from None
        except kx.KalshiError as error:
            raise EngineError(f"could not load {ticker}: {error.user_message}", field=field) from None
        fee_type, multiplier = await self._fees(market.event_ticker)
        return MarketState(
            ticker=market.ticker,
            event_ticker=market.event_ticker,
            title=market.yes_sub_title or market.ticker,
            grid=market.grid,
            status=market.status,
            exchange_index=market.exchange_index,
            fee_type=fee_type,
            fee_multiplier=multiplier,
            rest_yes_ask=market.yes_ask,
            rest_read_ms=self._clock(),
        )

    async def _fees(self, event_ticker: str) -> tuple[FeeType, Decimal]:
        """Fee schedule of an event: its override, else its series' (cached per series)."""
        try:
            event = await self._rest.get_event(event_ticker)
        except kx.KalshiError as error:
            raise EngineError(f"could not load event {event_ticker}: {error.user_message}") from None
        if event.series_ticker not in self._series_fees:
            try:
                series = await self._rest.get_series(event.series_ticker)
                self._series_fees[event.series_ticker] = (_fee_type(series.fee_type), series.fee_multiplier)
            except kx.KalshiError:
                log.warning("series %s not readable; assuming maker fees apply", event.series_ticker)
                self._series_fees[event.series_ticker] = (FeeType.QUADRATIC_WITH_MAKER_FEES, Decimal(1))
        fee_type, multiplier = self._series_fees[event.series_ticker]
        if event.fee_type_override:
            fee_type = _fee_type(event.fee_type_override)
        if event.fee_multiplier_override is not None:
            multiplier = event.fee_multiplier_override
        return fee_type, multiplier

    async def load_event(self, event_ticker: str) -> EventInfo:
        """Event title, scheduled start from its milestone (None when the exchange has none), its markets
        (a soccer event: home, TIE, away) and whether they are mutually exclusive."""
        try:
            event = await self._rest.get_event(event_ticker)
        except kx.KalshiError as error:
            raise EngineError(f"could not load event {event_ticker}: {error.user_message}") from None
        start_ms = event.milestone.start_ms if event.milestone else None
        if start_ms is None:
            try:
                milestones = await self._rest.list_milestones(related_event_ticker=event_ticker, limit=10)
            except kx.KalshiError as error:
                log.warning("milestones for %s not readable: %s", event_ticker, error)
                milestones = []
            starts = [m.start_ms for m in milestones if m.start_ms is not None]
            start_ms = min(starts) if starts else None
        markets = tuple(m.ticker for m in event.markets)
        if not markets:  # nested list missing: page the event's markets (kalshi-api.md §4)
            try:
                markets = tuple(m.ticker for m in await self._rest.list_markets(event_ticker=event_ticker))
            except kx.KalshiError as error:
                raise EngineError(
                    f"could not list the markets of {event_ticker}: {error.user_message}"
                ) from None
        return EventInfo(event.title, start_ms, markets, event.mutually_exclusive)


def _fee_type(text: str) -> FeeType:
    try:
        return FeeType(text)
    except ValueError:
        log.warning("unknown fee type %r; assuming maker fees apply", text)
        return FeeType.QUADRATIC_WITH_MAKER_FEES
