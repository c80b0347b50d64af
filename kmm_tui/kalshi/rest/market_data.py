"""Public market-data reads: exchange status, series, events, markets, order books, milestones.

None of these are signed; all are retried (reads are safe to repeat) and paged to the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from kmm_tui.kalshi.errors import BadResponse
from kmm_tui.kalshi.models import Event, ExchangeStatus, Market, Milestone, OrderBookSnapshot, Series
from kmm_tui.kalshi.rest.transport import RestTransport, _list_param, _secs, _seg

MAX_ORDERBOOKS_PER_CALL = 100


class MarketData(RestTransport):
    """The unsigned ``/exchange``, ``/series``, ``/events``, ``/markets`` and ``/milestones`` reads."""

    async def exchange_status(self) -> ExchangeStatus:
        return ExchangeStatus.from_wire(await self._call("GET", "/exchange/status"))

    async def get_series(self, ticker: str) -> Series:
        data = await self._call("GET", f"/series/{_seg(ticker)}")
        return Series.from_wire(self._obj(data, "series", f"series {ticker}"))

    async def list_series(self, *, category: str | None = None, tags: str | None = None) -> list[Series]:
        out: list[Series] = []
        async for _, items in self._pages("/series", "series", [("category", category), ("tags", tags)]):
            out.extend(Series.from_wire(item) for item in items)
        return out

    async def list_events(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        with_nested_markets: bool = False,
        with_milestones: bool = False,
        limit: int = 200,
    ) -> list[Event]:
        """Events (one per match). With milestones, each event's ``start_ms`` is filled when known."""
        params = [
            ("series_ticker", series_ticker),
            ("status", status),
            ("tickers", _list_param(tickers)),
            ("with_nested_markets", with_nested_markets or None),
            ("with_milestones", with_milestones or None),
            ("limit", limit),
        ]
        raw_events: list[Any] = []
        milestones: list[Milestone] = []
        async for page, items in self._pages("/events", "events", params):
            raw_events.extend(items)
            milestones.extend(Milestone.from_wire(m) for m in page.get("milestones") or [])
        return [Event.from_wire(item, milestones=milestones) for item in raw_events]

    async def get_event(self, event_ticker: str) -> Event:
        """The event and its markets (for the complete list of a large event use ``list_markets``)."""
        data = await self._call("GET", f"/events/{_seg(event_ticker)}")
        event = self._obj(data, "event", f"event {event_ticker}")
        markets = data.get("markets") if isinstance(data.get("markets"), list) else None
        return Event.from_wire(event, markets)

    async def iter_markets(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_close_ts_ms: int | None = None,
        max_close_ts_ms: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Market]:
        """Markets matching the filters, following the cursor. Query ``status`` is unopened/open/paused/
        closed/settled (the *returned* ``Market.status`` uses active/inactive/... instead)."""
        params = [
            ("series_ticker", series_ticker),
            ("event_ticker", event_ticker),
            ("status", status),
            ("tickers", _list_param(tickers)),
            ("min_close_ts", _secs(min_close_ts_ms)),
            ("max_close_ts", _secs(max_close_ts_ms)),
            ("mve_filter", "exclude"),
            ("limit", limit),
        ]
        async for _, items in self._pages("/markets", "markets", params):
            for item in items:
                yield Market.from_wire(item)

    async def list_markets(self, **filters: Any) -> list[Market]:
        """All pages of :meth:`iter_markets` as a list (same keyword filters)."""
        return [market async for market in self.iter_markets(**filters)]

    async def get_market(self, ticker: str) -> Market:
        data = await self._call("GET", f"/markets/{_seg(ticker)}")
        return Market.from_wire(self._obj(data, "market", f"market {ticker}"))

    async def get_orderbook(self, ticker: str, depth: int = 0) -> OrderBookSnapshot:
        data = await self._call("GET", f"/markets/{_seg(ticker)}/orderbook", params={"depth": depth or None})
        return OrderBookSnapshot.from_rest(data, ticker)

    async def get_orderbooks(self, tickers: Sequence[str]) -> dict[str, OrderBookSnapshot]:
        """Books of many markets (100 per call). Markets the exchange omits are absent from the result."""
        out: dict[str, OrderBookSnapshot] = {}
        unique = list(dict.fromkeys(tickers))
        for start in range(0, len(unique), MAX_ORDERBOOKS_PER_CALL):
            chunk = unique[start : start + MAX_ORDERBOOKS_PER_CALL]
            data = await self._call("GET", "/markets/orderbooks", params=[("tickers", t) for t in chunk])
            books = self._obj(data, "orderbooks", "order books")
            if not isinstance(books, list):
                raise BadResponse("order books: 'orderbooks' is not a list", code="bad_response")
            for item in books:
                snapshot = OrderBookSnapshot.from_rest(item)
                if snapshot.ticker is None:
                    raise BadResponse("order books: an entry lacks 'ticker'", code="bad_response")
                out[snapshot.ticker] = snapshot
        return out

    async def list_milestones(
        self,
        *,
        related_event_ticker: str | None = None,
        category: str | None = None,
        competition: str | None = None,
        type: str | None = None,
        minimum_start_ms: int | None = None,
        limit: int = 100,
    ) -> list[Milestone]:
        minimum = None
        if minimum_start_ms is not None:
            minimum = datetime.fromtimestamp(minimum_start_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = [
            ("limit", limit),
            ("related_event_ticker", related_event_ticker),
            ("category", category),
            ("competition", competition),
            ("type", type),
            ("minimum_start_date", minimum),
        ]
        out: list[Milestone] = []
        async for _, items in self._pages("/milestones", "milestones", params):
            out.extend(Milestone.from_wire(item) for item in items)
        return out
