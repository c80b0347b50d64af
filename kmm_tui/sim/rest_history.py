"""Public history and schedule endpoints: exchange schedule, series fee changes, candlesticks.

What a scanner or engine reads to plan rather than to trade. Candles come from the
``CandleRecorder`` the REST API owns (it also feeds the markets' ``previous_*`` fields). These routes
go before ``RestApi``'s so ``/series/fee_changes`` and ``/markets/candlesticks`` win over the
``/series/{ticker}`` and ``/markets/{ticker}`` patterns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kmm_tui.sim import errors, wire
from kmm_tui.sim.candles import PERIODS
from kmm_tui.sim.rest import PREFIX, QueryError, RestApi, csv_query, int_query
from kmm_tui.sim.scenario import EASTERN


class HistoryApi:
    """Bound methods are the endpoints; ``RestApi.wrap`` gives them its sweep, limits and errors."""

    def __init__(self, rest: RestApi) -> None:
        self.rest = rest

    async def exchange_schedule(self, request: Request) -> Response:
        """Open around the clock, with the weekly maintenance window (Thursdays 03:00–05:00 ET, §7)."""
        now = self.rest.ctx.clock.now_ms()
        local = datetime.fromtimestamp(now // 1000, EASTERN)
        days_ahead = (3 - local.weekday()) % 7
        start = (local + timedelta(days=days_ahead)).replace(hour=3, minute=0, second=0, microsecond=0)
        if start <= local:
            start += timedelta(days=7)
        all_day = [{"open_time": "00:00", "close_time": "24:00"}]
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        hours = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2027-01-01T00:00:00Z"}
        hours.update({day: all_day for day in days})  # type: ignore[dict-item]
        window = {
            "start_datetime": wire.iso_s(int(start.timestamp() * 1000)),
            "end_datetime": wire.iso_s(int((start + timedelta(hours=2)).timestamp() * 1000)),
        }
        return JSONResponse({"schedule": {"standard_hours": [hours], "maintenance_windows": [window]}})

    async def series_fee_changes(self, request: Request) -> Response:
        series_ticker = request.query_params.get("series_ticker")
        historical = request.query_params.get("show_historical") == "true"
        now = self.rest.ctx.clock.now_ms()
        changes = [
            {
                "id": c.id,
                "series_ticker": c.series_ticker,
                "fee_type": c.fee_type,
                "fee_multiplier": wire.number(c.fee_multiplier),
                "scheduled_ts": wire.iso_s(c.scheduled_ms),
            }
            for c in self.rest.ex.fee_changes
            if (not series_ticker or c.series_ticker == series_ticker)
            and (historical or c.scheduled_ms > now)
        ]
        return JSONResponse({"series_fee_change_arr": changes})

    def _candle_query(self, request: Request, endpoint: str) -> tuple[int, int, int]:
        start = int_query(request, "start_ts", endpoint)
        end = int_query(request, "end_ts", endpoint)
        period = int_query(request, "period_interval", endpoint)
        if start is None or end is None or period is None:
            raise QueryError(
                f"Parameter validation failed for {endpoint}: "
                "start_ts, end_ts and period_interval are required"
            )
        if period not in PERIODS:
            raise QueryError(
                f"Parameter validation failed for {endpoint}: period_interval must be 1, 60 or 1440"
            )
        return start, end, period

    async def candlesticks(self, request: Request) -> Response:
        market = self.rest.ex.market(request.path_params["ticker"])
        if self.rest.ex.series_of(market).ticker != request.path_params["series"]:
            raise errors.not_found()
        start, end, period = self._candle_query(request, "GetMarketCandlesticks")
        candles = self.rest.candles.candles(market.ticker, start, end, period)
        return JSONResponse({"ticker": market.ticker, "candlesticks": candles})

    async def candlesticks_batch(self, request: Request) -> Response:
        tickers = csv_query(request, "market_tickers")
        if not tickers or len(tickers) > 100:
            raise QueryError(
                "Parameter validation failed for BatchGetMarketCandlesticks: 1..100 market_tickers"
            )
        start, end, period = self._candle_query(request, "BatchGetMarketCandlesticks")
        out = [
            {
                "market_ticker": t,
                "candlesticks": self.rest.candles.candles(self.rest.ex.market(t).ticker, start, end, period),
            }
            for t in tickers
        ]
        return JSONResponse({"markets": out})

    def routes(self) -> list[Route]:
        spec: list[tuple[str, Callable[[Request], Awaitable[Response]]]] = [
            ("/exchange/schedule", self.exchange_schedule),
            ("/series/fee_changes", self.series_fee_changes),
            ("/series/{series}/markets/{ticker}/candlesticks", self.candlesticks),
            ("/markets/candlesticks", self.candlesticks_batch),
        ]
        return [Route(PREFIX + path, self.rest.wrap(handler), methods=["GET"]) for path, handler in spec]
