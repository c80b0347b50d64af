"""REST endpoints under ``/trade-api/v2``: market data, portfolio reads, V2 order writes, groups.

Each handler parses wire strings into domain units, calls the exchange, and renders Kalshi's shapes
(``wire.py``). Private endpoints verify the signature and charge the account's token bucket first.
Error bodies use the four shapes of §8: nested ``{"error":{…}}``, flat ``{"code",…}`` for malformed
JSON, bare ``{"msg"}`` for query validation, and the 429 string.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kmm_tui.domain.prices import MONEY_SCALE, Count, Money, Price, WireFormatError, parse_count, parse_price
from kmm_tui.sim import errors, wire
from kmm_tui.sim.candles import CandleRecorder
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.exchange import AmendRequest, OrderRequest
from kmm_tui.sim.lag import ReadHistory
from kmm_tui.sim.model import STATUS_QUERY, Account, Market, Order
from kmm_tui.sim.ratelimit import (
    BATCH_CANCEL_COST_PER_ORDER,
    BATCH_CREATE_COST_PER_ORDER,
    CANCEL_COST,
    DEFAULT_COST,
    ENDPOINT_COSTS,
    GET_ORDER_COST,
    tier_limits,
)

PREFIX = "/trade-api/v2"
LEGACY_410 = {
    "error": {
        "code": "deprecated_v1_order_endpoint",
        "message": "Please switch to the V2 endpoints",
        "details": "https://docs.kalshi.com/api-reference/orders/create-order-v2",
    }
}
RATE_LIMITED = {"error": "too many requests"}
CENTI_CENT = MONEY_SCALE // 10_000  # transfer amounts are in centi-cents ($0.0001)


class QueryError(Exception):
    """Query parameter validation failure → bare ``{"msg": ...}`` 400."""


class BodyError(Exception):
    """Malformed JSON body → flat ``{"code":"bad_request",...}`` 400."""


class RateLimited(Exception):
    """Token bucket empty → 429 ``{"error":"too many requests"}``."""


def error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, SimError):
        return JSONResponse(exc.body(), status_code=exc.status)
    if isinstance(exc, QueryError):
        return JSONResponse({"msg": str(exc)}, status_code=400)
    if isinstance(exc, BodyError):
        return JSONResponse({"code": "bad_request", "message": "bad request", "details": str(exc)}, 400)
    if isinstance(exc, RateLimited):
        return JSONResponse(RATE_LIMITED, status_code=429)
    raise exc


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    """Garbage cursors silently restart from the beginning (Kalshi answers 200)."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return max(int(raw.removeprefix("o:")), 0) if raw.startswith("o:") else 0
    except (ValueError, UnicodeDecodeError):
        return 0


def _limit(request: Request, endpoint: str, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise QueryError(f"Parameter validation failed for {endpoint}: limit must be an integer")
    value = int(raw)
    if value > maximum:
        raise QueryError(
            f"Parameter validation failed for {endpoint}: Key: '{endpoint}Params.Limit' "
            f"Error:Field validation for 'Limit' failed on the 'lte' tag"
        )
    return value or default


def _page(items: list[Any], request: Request, endpoint: str, default: int, maximum: int) -> tuple[list, str]:
    limit = _limit(request, endpoint, default, maximum)
    start = _decode_cursor(request.query_params.get("cursor"))
    page = items[start : start + limit]
    nxt = _encode_cursor(start + limit) if start + limit < len(items) else ""
    return page, nxt


def csv_query(request: Request, name: str) -> list[str]:
    """Comma-separated and/or repeated query values."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(v for v in raw.split(",") if v)
    return out


def int_query(request: Request, name: str, endpoint: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"Parameter validation failed for {endpoint}: {name} must be an integer") from None


class RestApi:
    """Holds the context; its bound methods are the route endpoints."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.history = ReadHistory(ctx.exchange, ctx.clock.mono_ms)
        self.candles = CandleRecorder(ctx.exchange)

    def _market_json(self, market: Market) -> dict[str, Any]:
        return wire.market_json(self.ex, market, self.candles.day_ago(market.ticker, self.ctx.clock.now_ms()))

    @property
    def ex(self):
        return self.ctx.exchange

    # --- plumbing ------------------------------------------------------------------------------

    def _auth(self, request: Request) -> Account:
        headers = {k.lower(): v for k, v in request.headers.items()}
        account_id = self.ctx.keys.verify(headers, request.method, request.url.path, self.ctx.clock.wall_ms())
        return self.ex.account(account_id)

    def _charge(self, account: Account, kind: str, cost: int) -> None:
        if not self.ctx.limiter.allow(account.account_id, account.tier, kind, cost):
            raise RateLimited()

    def _charge_public(self, request: Request) -> None:
        """``Fidelity.public_rate_limit``: unsigned reads draw a read bucket per client address."""
        host = request.client.host if request.client else "unknown"
        if not self.ctx.limiter.allow(f"public:{host}", self.ctx.default_tier, "read", DEFAULT_COST):
            raise RateLimited()

    def private(self, request: Request, kind: str = "read", cost: int = DEFAULT_COST) -> Account:
        account = self._auth(request)
        self._charge(account, kind, cost)
        return account

    @staticmethod
    async def _json(request: Request, struct: str) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BodyError(f"invalid character in JSON body: {exc.msg} at offset {exc.pos}") from None
        if not isinstance(body, dict):
            raise BodyError(f"json: cannot unmarshal {type(body).__name__} into Go value of type {struct}")
        return body

    def wrap(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                self.ex.sweep()
                if self.ctx.fidelity.public_rate_limit and _is_public(request):
                    self._charge_public(request)
                return await handler(request)
            except (SimError, QueryError, BodyError, RateLimited) as exc:
                return error_response(exc)

        return endpoint

    # --- public market data --------------------------------------------------------------------

    async def exchange_status(self, request: Request) -> Response:
        shards = sorted({m.exchange_index for m in self.ex.markets.values()} | {0})
        names = {0: "Default", 1: "Combos", 2: "Crypto", 3: "Tennis and baseball"}
        return JSONResponse(
            {
                "exchange_active": self.ex.exchange_active,
                "trading_active": self.ex.trading_active,
                "exchange_index_statuses": [
                    {
                        "exchange_index": i,
                        "description": names.get(i, f"Shard {i}"),
                        "exchange_active": self.ex.exchange_active,
                        "trading_active": self.ex.trading_active,
                        "intra_exchange_transfers_active": True,
                    }
                    for i in shards
                ],
            }
        )

    async def user_data_timestamp(self, request: Request) -> Response:
        return JSONResponse({"as_of_time": wire.iso_ms(self.ctx.clock.now_ms())})

    async def series_list(self, request: Request) -> Response:
        category = request.query_params.get("category")
        tags = set(csv_query(request, "tags"))
        out = [
            wire.series_json(s)
            for s in self.ex.series.values()
            if (not category or s.category == category) and (not tags or tags & set(s.tags))
        ]
        return JSONResponse({"series": out})

    async def series_get(self, request: Request) -> Response:
        series = self.ex.series.get(request.path_params["ticker"])
        if series is None:
            raise errors.not_found()
        return JSONResponse({"series": wire.series_json(series)})

    def _event_markets(self, event_ticker: str) -> list[Any]:
        return [m for m in self.ex.markets.values() if m.event_ticker == event_ticker]

    def _status_filter(self, request: Request, endpoint: str) -> tuple[str, ...] | None:
        status = request.query_params.get("status")
        if not status:
            return None
        if status not in STATUS_QUERY:
            raise QueryError(
                f"Parameter validation failed for {endpoint}: status must be one of {', '.join(STATUS_QUERY)}"
            )
        return STATUS_QUERY[status]

    async def events_list(self, request: Request) -> Response:
        series_ticker = request.query_params.get("series_ticker")
        statuses = self._status_filter(request, "GetEvents")
        tickers = set(csv_query(request, "tickers")) or set(csv_query(request, "event_tickers"))
        nested = request.query_params.get("with_nested_markets") == "true"
        with_milestones = request.query_params.get("with_milestones") == "true"
        chosen = []
        for event in self.ex.events.values():
            if series_ticker and event.series_ticker != series_ticker:
                continue
            if tickers and event.event_ticker not in tickers:
                continue
            markets = self._event_markets(event.event_ticker)
            if statuses and not any(m.status in statuses for m in markets):
                continue
            chosen.append((event, markets))
        page, cursor = _page(chosen, request, "GetEvents", 200, 200)
        out: dict[str, Any] = {
            "events": [
                wire.event_json(e, [self._market_json(m) for m in ms] if nested else None) for e, ms in page
            ],
            "cursor": cursor,
        }
        if with_milestones:
            wanted = {e.event_ticker for e, _ in page}
            out["milestones"] = [
                wire.milestone_json(m) for m in self.ex.milestones.values() if wanted & set(m.event_tickers)
            ]
        return JSONResponse(out)

    async def event_get(self, request: Request) -> Response:
        event = self.ex.events.get(request.path_params["ticker"])
        if event is None:
            raise errors.not_found()
        markets = [self._market_json(m) for m in self._event_markets(event.event_ticker)]
        return JSONResponse({"event": wire.event_json(event), "markets": markets})

    async def markets_list(self, request: Request) -> Response:
        series_ticker = request.query_params.get("series_ticker")
        event_tickers = set(csv_query(request, "event_ticker"))
        statuses = self._status_filter(request, "GetMarkets")
        tickers = set(csv_query(request, "tickers"))
        min_close = int_query(request, "min_close_ts", "GetMarkets")
        max_close = int_query(request, "max_close_ts", "GetMarkets")
        chosen = []
        for market in self.ex.markets.values():
            if series_ticker and self.ex.series_of(market).ticker != series_ticker:
                continue
            if event_tickers and market.event_ticker not in event_tickers:
                continue
            if statuses and market.status not in statuses:
                continue
            if tickers and market.ticker not in tickers:
                continue
            if min_close is not None and market.close_ms // 1000 < min_close:
                continue
            if max_close is not None and market.close_ms // 1000 > max_close:
                continue
            chosen.append(market)
        page, cursor = _page(chosen, request, "GetMarkets", 100, 1000)
        return JSONResponse({"markets": [self._market_json(m) for m in page], "cursor": cursor})

    async def market_get(self, request: Request) -> Response:
        market = self.ex.market(request.path_params["ticker"])
        return JSONResponse({"market": self._market_json(market)})

    def _depth(self, request: Request) -> int:
        depth = int_query(request, "depth", "GetMarketOrderbook")
        if depth is None:
            return 0
        if not 0 <= depth <= 100:
            raise QueryError("Parameter validation failed for GetMarketOrderbook: depth must be 0..100")
        return depth

    async def orderbook_get(self, request: Request) -> Response:
        market = self.ex.market(request.path_params["ticker"])
        return JSONResponse({"orderbook_fp": wire.orderbook_fp(self.ex, market.ticker, self._depth(request))})

    async def orderbooks_get(self, request: Request) -> Response:
        tickers = csv_query(request, "tickers")
        if not tickers:
            raise QueryError("Parameter validation failed for GetMarketOrderbooks: tickers is required")
        if len(tickers) > 100:
            raise QueryError("Parameter validation failed for GetMarketOrderbooks: at most 100 tickers")
        depth = self._depth(request)
        books = []
        for ticker in tickers:
            market = self.ex.market(ticker)
            books.append({"ticker": market.ticker, "orderbook_fp": wire.orderbook_fp(self.ex, ticker, depth)})
        return JSONResponse({"orderbooks": books})

    async def trades_list(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker")
        min_ts = int_query(request, "min_ts", "GetTrades")
        max_ts = int_query(request, "max_ts", "GetTrades")
        trades = [
            t
            for t in reversed(self.ex.trades)
            if (not ticker or t.ticker == ticker)
            and (min_ts is None or t.created_ms >= min_ts * 1000)
            and (max_ts is None or t.created_ms <= max_ts * 1000)
        ]
        page, cursor = _page(trades, request, "GetTrades", 100, 1000)
        return JSONResponse({"trades": [wire.trade_json(t) for t in page], "cursor": cursor})

    async def milestones_list(self, request: Request) -> Response:
        if not request.query_params.get("limit"):
            raise QueryError(
                "Parameter validation failed for GetMilestones: Key: 'GetMilestonesParams.Limit' "
                "Error:Field validation for 'Limit' failed on the 'required' tag"
            )
        related = request.query_params.get("related_event_ticker")
        category = request.query_params.get("category")
        min_start = request.query_params.get("minimum_start_date")
        items = [
            m
            for m in self.ex.milestones.values()
            if (not related or related in m.event_tickers)
            and (not category or m.category == category)
            and (not min_start or wire.iso_s(m.start_ms) >= min_start)
        ]
        items.sort(key=lambda m: m.start_ms)
        page, cursor = _page(items, request, "GetMilestones", 100, 500)
        return JSONResponse({"milestones": [wire.milestone_json(m) for m in page], "cursor": cursor})

    async def milestone_get(self, request: Request) -> Response:
        milestone = self.ex.milestones.get(request.path_params["id"])
        if milestone is None:
            raise errors.not_found()
        return JSONResponse({"milestone": wire.milestone_json(milestone)})

    @staticmethod
    def _live_data(milestone: Any) -> dict[str, Any]:
        return {"milestone_id": milestone.id, "type": milestone.type, "details": {"status": milestone.status}}

    async def live_data(self, request: Request) -> Response:
        milestone = self.ex.milestones.get(request.path_params["id"])
        if milestone is None:
            raise errors.not_found()
        return JSONResponse({"live_data": self._live_data(milestone)})

    async def live_data_batch(self, request: Request) -> Response:
        ids = csv_query(request, "milestone_ids")
        found = [self.ex.milestones[i] for i in ids if i in self.ex.milestones]
        return JSONResponse({"live_datas": [self._live_data(m) for m in found]})

    # --- portfolio reads -----------------------------------------------------------------------

    def _read_at(self) -> int | None:
        """The moment this read's view of orders/fills/positions is from (None = live)."""
        lag = self.ctx.fidelity.read_lag()
        return self.history.as_of(lag) if lag > 0 else None

    async def balance(self, request: Request) -> Response:
        account = self.private(request)
        shard = int_query(request, "exchange_index", "GetBalance")
        if shard is not None and shard not in self.ex.shards():
            raise QueryError(f"Parameter validation failed for GetBalance: unknown exchange_index {shard}")
        return JSONResponse(wire.balance_json(self.ex, account, self.ctx.clock.now_ms(), shard))

    async def transfer(self, request: Request) -> Response:
        """``POST /portfolio/intra_exchange_instance_transfer``: move cash between shards (centi-cents)."""
        account = self.private(request, "write")
        body = await self._json(request, "IntraExchangeInstanceTransferRequest")
        for name in ("source_exchange_shard", "destination_exchange_shard", "amount"):
            value = body.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise errors.invalid_parameters(f"{name} is required and must be an integer")
        for name in ("source", "destination"):
            if body.get(name, "event_contract") != "event_contract":
                raise errors.invalid_parameters(f"{name} must be event_contract")
        self.ex.transfer(
            account.account_id,
            body["source_exchange_shard"],
            body["destination_exchange_shard"],
            Money(body["amount"] * CENTI_CENT),
        )
        return JSONResponse({"transfer_id": str(uuid.uuid4())})

    async def positions(self, request: Request) -> Response:
        account = self.private(request)
        ticker = request.query_params.get("ticker")
        event_ticker = set(csv_query(request, "event_ticker"))
        count_filter = set(csv_query(request, "count_filter"))
        settlement = request.query_params.get("settlement_status", "unsettled")
        seen = self.history.positions(account, self._read_at())
        tickers = []
        for t, pos in seen.items():
            if ticker and t != ticker:
                continue
            if event_ticker and self.ex.markets[t].event_ticker not in event_ticker:
                continue
            if (settlement == "unsettled" and pos.settled) or (settlement == "settled" and not pos.settled):
                continue
            if count_filter:
                keep = ("position" in count_filter and pos.position != 0) or (
                    "total_traded" in count_filter and pos.total_traded != 0
                )
                if not keep:
                    continue
            tickers.append(t)
        page, cursor = _page(tickers, request, "GetPositions", 100, 1000)
        return JSONResponse(
            {
                "cursor": cursor,
                "market_positions": [wire.position_json(self.ex, account, t, seen[t]) for t in page],
                "event_positions": wire.event_positions_json(self.ex, {t: seen[t] for t in page}),
            }
        )

    async def fills(self, request: Request) -> Response:
        account = self.private(request)
        tickers = set(csv_query(request, "ticker"))
        order_id = request.query_params.get("order_id")
        min_ts = int_query(request, "min_ts", "GetFills")
        max_ts = int_query(request, "max_ts", "GetFills")
        items = [
            f
            for f in reversed(self.history.fills(account, self._read_at()))
            if (not tickers or f.ticker in tickers)
            and (not order_id or f.order_id == order_id)
            and (min_ts is None or f.created_ms >= min_ts * 1000)
            and (max_ts is None or f.created_ms <= max_ts * 1000)
        ]
        page, cursor = _page(items, request, "GetFills", 100, 1000)
        return JSONResponse({"cursor": cursor, "fills": [wire.fill_json(f) for f in page]})

    async def orders_list(self, request: Request) -> Response:
        account = self.private(request)
        status = request.query_params.get("status")
        if status and status not in ("resting", "canceled", "executed"):
            raise QueryError(
                "Parameter validation failed for GetOrders: status must be resting|canceled|executed"
            )
        ticker = request.query_params.get("ticker")
        events = set(csv_query(request, "event_ticker"))
        if len(events) > 10:
            raise QueryError("Parameter validation failed for GetOrders: at most 10 event tickers")
        min_ts = int_query(request, "min_ts", "GetOrders")
        max_ts = int_query(request, "max_ts", "GetOrders")
        subaccount = int_query(request, "subaccount", "GetOrders")
        items = [
            o
            for o in sorted(
                self.history.orders(account, self._read_at()), key=lambda o: o.created_ms, reverse=True
            )
            if (not status or o.status == status)
            and (not ticker or o.ticker == ticker)
            and (not events or self.ex.markets[o.ticker].event_ticker in events)
            and (min_ts is None or o.created_ms >= min_ts * 1000)
            and (max_ts is None or o.created_ms <= max_ts * 1000)
            and (subaccount is None or o.subaccount == subaccount)
        ]
        page, cursor = _page(items, request, "GetOrders", 100, 1000)
        return JSONResponse({"orders": [wire.order_json(o) for o in page], "cursor": cursor})

    async def order_get(self, request: Request) -> Response:
        account = self.private(request, cost=GET_ORDER_COST)
        order = self.history.order(
            self.ex.order(account.account_id, request.path_params["order_id"]), self._read_at()
        )
        if order is None:  # placed after the moment this read sees
            raise errors.not_found()
        return JSONResponse({"order": wire.order_json(order)})

    async def queue_position(self, request: Request) -> Response:
        account = self.private(request)
        order = self.ex.order(account.account_id, request.path_params["order_id"])
        return JSONResponse({"queue_position_fp": wire.format_count(self._ahead(order))})

    async def queue_positions(self, request: Request) -> Response:
        """Queue positions of every resting order in the given markets (or events)."""
        account = self.private(request)
        tickers = set(csv_query(request, "market_tickers"))
        events = set(csv_query(request, "event_ticker"))
        if not tickers and not events:
            raise QueryError(
                "Parameter validation failed for GetOrderQueuePositions: "
                "market_tickers or event_ticker is required"
            )
        out = [
            {
                "order_id": o.order_id,
                "market_ticker": o.ticker,
                "queue_position_fp": wire.format_count(self._ahead(o)),
            }
            for o in account.orders.values()
            if o.status == "resting"
            and (o.ticker in tickers or self.ex.markets[o.ticker].event_ticker in events)
        ]
        return JSONResponse({"queue_positions": out})

    def _ahead(self, order: Order) -> int:
        """Contracts resting ahead of ``order`` at its price."""
        ahead = 0
        if order.status == "resting":
            for other in self.ex.books[order.ticker].level(order.side, order.price):
                if other is order:
                    break
                ahead += other.remaining
        return ahead

    async def settlements(self, request: Request) -> Response:
        account = self.private(request)
        ticker = request.query_params.get("ticker")
        items = [s for s in reversed(account.settlements) if not ticker or s.ticker == ticker]
        page, cursor = _page(items, request, "GetSettlements", 100, 1000)
        return JSONResponse({"cursor": cursor, "settlements": [wire.settlement_json(s) for s in page]})

    # --- order writes --------------------------------------------------------------------------

    def _strict(
        self, body: dict[str, Any], struct: str, flags: tuple[str, ...], strings: tuple[str, ...]
    ) -> None:
        """``Fidelity.strict_requests``: what Kalshi's Go decoder refuses (§3, §8) — a JSON number or
        anything else where a string belongs, a non-boolean flag, a price past 4 decimals or a count
        past 2 — answered with the flat ``bad_request`` body of a decode error."""
        if not self.ctx.fidelity.strict_requests:
            return
        for name in strings:
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                raise BodyError(_unmarshal(value, struct, name, "string"))
        for name in flags:
            value = body.get(name)
            if value is not None and not isinstance(value, bool):
                raise BodyError(_unmarshal(value, struct, name, "bool"))
        for name, places in (("price", 4), ("count", 2), ("reduce_by", 2), ("reduce_to", 2)):
            value = body.get(name)
            if isinstance(value, str) and "." in value and len(value.rsplit(".", 1)[1]) > places:
                raise BodyError(f"{struct}.{name}: {value!r} has more than {places} decimal places")

    def _order_request(self, body: dict[str, Any]) -> OrderRequest:
        """Validate a V2 create body (strings for price/count, required enums) into an OrderRequest."""
        _require_strings(
            body,
            ("ticker", "side", "price", "count", "time_in_force", "self_trade_prevention_type"),
            "CreateOrderV2Request",
        )
        self._strict(
            body,
            "CreateOrderV2Request",
            ("post_only", "cancel_order_on_pause", "reduce_only"),
            ("client_order_id", "order_group_id"),
        )
        expiration = body.get("expiration_time")
        if expiration is not None and (not isinstance(expiration, int) or isinstance(expiration, bool)):
            raise BodyError(
                "json: cannot unmarshal string into Go struct field "
                "CreateOrderV2Request.expiration_time of type int64"
            )
        cid = body.get("client_order_id")
        if cid is not None and (not isinstance(cid, str) or not cid or len(cid) > 64):
            raise errors.invalid_parameters("client_order_id must be a string of 1..64 characters")
        group = body.get("order_group_id")
        subaccount = body.get("subaccount", 0)
        if not isinstance(subaccount, int) or not 0 <= subaccount <= 63:
            raise errors.invalid_parameters("subaccount must be 0..63")
        return OrderRequest(
            ticker=body["ticker"],
            side=body["side"],
            price=_price(body["price"]),
            count=_count(body["count"]),
            time_in_force=body["time_in_force"],
            stp=body["self_trade_prevention_type"],
            client_order_id=cid,
            post_only=bool(body.get("post_only", False)),
            expiration_ms=None if expiration is None else expiration * 1000,
            cancel_on_pause=bool(body.get("cancel_order_on_pause", False)),
            order_group_id=group if isinstance(group, str) and group else None,
            subaccount=subaccount,
            reduce_only=bool(body.get("reduce_only", False)),
        )

    async def create_order(self, request: Request) -> Response:
        account = self.private(request, "write")
        body = await self._json(request, "CreateOrderV2Request")
        result = self.ex.create_order(account.account_id, self._order_request(body))
        return JSONResponse(wire.order_reply(result), status_code=201)

    async def batch_create(self, request: Request) -> Response:
        account = self._auth(request)
        body = await self._json(request, "BatchCreateOrdersV2Request")
        items = body.get("orders")
        if not isinstance(items, list) or not items:
            raise errors.invalid_parameters("orders must be a non-empty list")
        if len(items) > 20:
            raise errors.invalid_parameters("at most 20 orders per batch")
        self._charge(account, "write", BATCH_CREATE_COST_PER_ORDER * len(items))
        out = []
        for item in items:
            cid = item.get("client_order_id") if isinstance(item, dict) else None
            try:
                if not isinstance(item, dict):
                    raise errors.invalid_parameters("each order must be an object")
                result = self.ex.create_order(account.account_id, self._order_request(item))
                out.append(wire.order_reply(result))
            except (SimError, BodyError) as exc:
                err = (
                    exc.body()["error"]
                    if isinstance(exc, SimError)
                    else {"code": "bad_request", "message": "bad request", "details": str(exc)}
                )
                out.append(
                    {
                        "order_id": None,
                        "client_order_id": cid,
                        "fill_count": None,
                        "remaining_count": None,
                        "average_fill_price": None,
                        "average_fee_paid": None,
                        "ts_ms": None,
                        "error": err,
                    }
                )
        return JSONResponse({"orders": out}, status_code=201)

    async def amend_order(self, request: Request) -> Response:
        account = self.private(request, "write")
        body = await self._json(request, "AmendOrderV2Request")
        _require_strings(body, ("ticker", "side", "price", "count"), "AmendOrderV2Request")
        self._strict(body, "AmendOrderV2Request", (), ("client_order_id", "updated_client_order_id"))
        expiration = body.get("expiration_time")
        if expiration is not None and (not isinstance(expiration, int) or isinstance(expiration, bool)):
            raise BodyError("json: cannot unmarshal into Go struct field AmendOrderV2Request.expiration_time")
        now = self.ctx.clock.now_ms()
        if expiration and expiration * 1000 <= now:
            raise errors.invalid_parameters("expiration_time must be in the future (0 clears it)")
        req = AmendRequest(
            ticker=body["ticker"],
            side=body["side"],
            price=_price(body["price"]),
            count=_count(body["count"]),
            client_order_id=body.get("client_order_id"),
            updated_client_order_id=body.get("updated_client_order_id"),
            expiration_ms=expiration * 1000 if expiration else None,
            clear_expiration=expiration == 0,
        )
        result = self.ex.amend_order(account.account_id, request.path_params["order_id"], req)
        return JSONResponse(wire.order_reply(result))

    async def decrease_order(self, request: Request) -> Response:
        account = self.private(request, "write")
        body = await self._json(request, "DecreaseOrderV2Request")
        self._strict(body, "DecreaseOrderV2Request", (), ("market_ticker",))
        by = body.get("reduce_by")
        to = body.get("reduce_to")
        for name, value in (("reduce_by", by), ("reduce_to", to)):
            if (value is not None and not isinstance(value, str | int)) or isinstance(value, bool):
                raise BodyError(f"json: cannot unmarshal into Go struct field DecreaseOrderV2Request.{name}")
        ticker = body.get("market_ticker")
        self._check_route(
            self.ex.order(account.account_id, request.path_params["order_id"]),
            ticker if isinstance(ticker, str) else None,
            body.get("exchange_index"),
        )
        order = self.ex.decrease_order(
            account.account_id,
            request.path_params["order_id"],
            reduce_by=None if by is None else _count(by),
            reduce_to=None if to is None else _count(to),
        )
        return JSONResponse(
            {
                "order_id": order.order_id,
                "client_order_id": order.client_order_id,
                "remaining_count": wire.format_count(order.remaining),
                "ts_ms": self.ctx.clock.now_ms(),
            }
        )

    def _check_route(self, order: Order, ticker: str | None, exchange_index: Any = None) -> None:
        """A cancel/decrease names the order's market, or it is looked up on the wrong place: a wrong
        ticker is 404, and (``Fidelity.per_shard_cash``) so is a shard ≥ 1 order sent without
        ``market_ticker``/``exchange_index``, which routes to shard 0 (§5.8)."""
        if ticker and ticker != order.ticker:
            raise errors.not_found()
        shard_zero = str(exchange_index) != str(order.exchange_index)
        if self.ctx.fidelity.per_shard_cash and order.exchange_index != 0 and not ticker and shard_zero:
            raise errors.not_found()

    async def cancel_order(self, request: Request) -> Response:
        account = self.private(request, "write", CANCEL_COST)
        order_id = request.path_params["order_id"]
        order = self.ex.order(account.account_id, order_id)
        query = request.query_params
        self._check_route(order, query.get("market_ticker"), query.get("exchange_index"))
        order, reduced = self.ex.cancel_order(account.account_id, order_id)
        return JSONResponse(
            {
                "order_id": order.order_id,
                "client_order_id": order.client_order_id,
                "reduced_by": wire.format_count(reduced),
                "ts_ms": self.ctx.clock.now_ms(),
            }
        )

    async def batch_cancel(self, request: Request) -> Response:
        account = self._auth(request)
        body = await self._json(request, "BatchCancelOrdersV2Request")
        items = body.get("orders")
        if items is None and isinstance(body.get("ids"), list):
            items = [{"order_id": i} for i in body["ids"]]
        if not isinstance(items, list) or not items:
            raise errors.invalid_parameters("orders must be a non-empty list")
        self._charge(account, "write", BATCH_CANCEL_COST_PER_ORDER * len(items))
        out = []
        for item in items:
            order_id = item.get("order_id") if isinstance(item, dict) else None
            try:
                if not isinstance(order_id, str):
                    raise errors.invalid_parameters("order_id is required")
                order = self.ex.order(account.account_id, order_id)
                self._check_route(order, item.get("market_ticker"), item.get("exchange_index"))
                order, reduced = self.ex.cancel_order(account.account_id, order_id)
                out.append(
                    {
                        "order_id": order.order_id,
                        "client_order_id": order.client_order_id,
                        "reduced_by": wire.format_count(reduced),
                        "ts_ms": self.ctx.clock.now_ms(),
                    }
                )
            except SimError as exc:
                out.append(
                    {
                        "order_id": order_id,
                        "client_order_id": None,
                        "reduced_by": "0.00",
                        "ts_ms": None,
                        "error": exc.body()["error"],
                    }
                )
        return JSONResponse({"orders": out})

    async def cancel_all(self, request: Request) -> Response:
        account = self.private(request, "write")
        subaccount = int_query(request, "subaccount", "CancelAllOrders")
        self.ex.cancel_all(account.account_id, subaccount)
        return Response(status_code=204)

    async def legacy_write(self, request: Request) -> Response:
        return JSONResponse(LEGACY_410, status_code=410)

    # --- order groups --------------------------------------------------------------------------

    @staticmethod
    def _group_limit(body: dict[str, Any]) -> Count:
        if "contracts_limit_fp" in body:
            value = body["contracts_limit_fp"]
            if not isinstance(value, str):
                raise BodyError(
                    "json: cannot unmarshal number into Go struct field contracts_limit_fp of type string"
                )
            return _count(value)
        value = body.get("contracts_limit")
        if isinstance(value, int) and not isinstance(value, bool):
            return Count(value * 100)
        raise errors.invalid_parameters('send contracts_limit_fp ("50.00") or integer contracts_limit')

    async def group_create(self, request: Request) -> Response:
        account = self.private(request, "write")
        body = await self._json(request, "CreateOrderGroupRequest")
        index = body.get("exchange_index", 0)
        subaccount = body.get("subaccount", 0)
        if not isinstance(index, int) or not isinstance(subaccount, int):
            raise errors.invalid_parameters("exchange_index and subaccount must be integers")
        group = self.ex.create_order_group(account.account_id, self._group_limit(body), index, subaccount)
        return JSONResponse(
            {
                "order_group_id": group.group_id,
                "subaccount": group.subaccount,
                "exchange_index": group.exchange_index,
            },
            status_code=201,
        )

    async def group_list(self, request: Request) -> Response:
        account = self.private(request)
        return JSONResponse(
            {"order_groups": [wire.order_group_json(g, with_orders=False) for g in account.groups.values()]}
        )

    async def group_get(self, request: Request) -> Response:
        account = self.private(request)
        group = self.ex.order_group(account.account_id, request.path_params["group_id"])
        return JSONResponse(wire.order_group_json(group, with_orders=True))

    async def group_delete(self, request: Request) -> Response:
        account = self.private(request, "write")
        self.ex.delete_order_group(account.account_id, request.path_params["group_id"])
        return JSONResponse({})

    async def group_trigger(self, request: Request) -> Response:
        account = self.private(request, "write")
        await self._json(request, "TriggerOrderGroupRequest")
        self.ex.trigger_order_group(account.account_id, request.path_params["group_id"])
        return JSONResponse({})

    async def group_reset(self, request: Request) -> Response:
        account = self.private(request, "write")
        await self._json(request, "ResetOrderGroupRequest")
        self.ex.reset_order_group(account.account_id, request.path_params["group_id"])
        return JSONResponse({})

    async def group_limit(self, request: Request) -> Response:
        account = self.private(request, "write")
        body = await self._json(request, "UpdateOrderGroupLimitRequest")
        self.ex.set_order_group_limit(
            account.account_id, request.path_params["group_id"], self._group_limit(body)
        )
        return JSONResponse({})

    # --- account -------------------------------------------------------------------------------

    async def account_limits(self, request: Request) -> Response:
        account = self.private(request)
        limits = tier_limits(account.tier)
        return JSONResponse(
            {
                "usage_tier": account.tier,
                "read": {"refill_rate": limits.read_rate, "bucket_capacity": limits.read_capacity},
                "write": {"refill_rate": limits.write_rate, "bucket_capacity": limits.write_capacity},
                "grants": [],
            }
        )

    async def endpoint_costs(self, request: Request) -> Response:
        self.private(request)
        return JSONResponse(
            {
                "default_cost": DEFAULT_COST,
                "endpoint_costs": [{"method": m, "path": p, "cost": c} for m, p, c in ENDPOINT_COSTS],
            }
        )

    # --- routing -------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        w = self.wrap
        p = PREFIX
        spec: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
            ("/exchange/status", self.exchange_status, ["GET"]),
            ("/exchange/user_data_timestamp", self.user_data_timestamp, ["GET"]),
            ("/series", self.series_list, ["GET"]),
            ("/series/{ticker}", self.series_get, ["GET"]),
            ("/events", self.events_list, ["GET"]),
            ("/events/{ticker}", self.event_get, ["GET"]),
            ("/markets", self.markets_list, ["GET"]),
            ("/markets/trades", self.trades_list, ["GET"]),
            ("/markets/orderbooks", self.orderbooks_get, ["GET"]),
            ("/markets/{ticker}", self.market_get, ["GET"]),
            ("/markets/{ticker}/orderbook", self.orderbook_get, ["GET"]),
            ("/milestones", self.milestones_list, ["GET"]),
            ("/milestones/{id}", self.milestone_get, ["GET"]),
            ("/live_data/batch", self.live_data_batch, ["GET"]),
            ("/live_data/milestone/{id}", self.live_data, ["GET"]),
            ("/portfolio/balance", self.balance, ["GET"]),
            ("/portfolio/intra_exchange_instance_transfer", self.transfer, ["POST"]),
            ("/portfolio/positions", self.positions, ["GET"]),
            ("/portfolio/fills", self.fills, ["GET"]),
            ("/portfolio/settlements", self.settlements, ["GET"]),
            ("/portfolio/orders", self.orders_list, ["GET"]),
            ("/portfolio/orders", self.legacy_write, ["POST", "DELETE"]),
            ("/portfolio/orders/batched", self.legacy_write, ["POST", "DELETE"]),
            ("/portfolio/orders/queue_positions", self.queue_positions, ["GET"]),
            ("/portfolio/orders/{order_id}", self.order_get, ["GET"]),
            ("/portfolio/orders/{order_id}", self.legacy_write, ["DELETE", "POST"]),
            ("/portfolio/orders/{order_id}/amend", self.legacy_write, ["POST"]),
            ("/portfolio/orders/{order_id}/decrease", self.legacy_write, ["POST"]),
            ("/portfolio/orders/{order_id}/queue_position", self.queue_position, ["GET"]),
            ("/portfolio/events/orders", self.create_order, ["POST"]),
            ("/portfolio/events/orders", self.cancel_all, ["DELETE"]),
            ("/portfolio/events/orders/batched", self.batch_create, ["POST"]),
            ("/portfolio/events/orders/batched", self.batch_cancel, ["DELETE"]),
            ("/portfolio/events/orders/{order_id}", self.cancel_order, ["DELETE"]),
            ("/portfolio/events/orders/{order_id}/amend", self.amend_order, ["POST"]),
            ("/portfolio/events/orders/{order_id}/decrease", self.decrease_order, ["POST"]),
            ("/portfolio/order_groups", self.group_list, ["GET"]),
            ("/portfolio/order_groups/create", self.group_create, ["POST"]),
            ("/portfolio/order_groups/{group_id}", self.group_get, ["GET"]),
            ("/portfolio/order_groups/{group_id}", self.group_delete, ["DELETE"]),
            ("/portfolio/order_groups/{group_id}/trigger", self.group_trigger, ["PUT"]),
            ("/portfolio/order_groups/{group_id}/reset", self.group_reset, ["PUT"]),
            ("/portfolio/order_groups/{group_id}/limit", self.group_limit, ["PUT"]),
            ("/account/limits", self.account_limits, ["GET"]),
            ("/account/endpoint_costs", self.endpoint_costs, ["GET"]),
        ]
        # Merge handlers that share a path so one Route dispatches by method (Starlette matches the
        # first path hit; separate Routes per method would answer 405 for the second).
        by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
        for path, handler, methods in spec:
            for method in methods:
                by_path.setdefault(path, {})[method] = handler
        routes = []
        for path, handlers in by_path.items():
            routes.append(Route(p + path, w(_dispatch(handlers)), methods=list(handlers)))
        return routes


def _dispatch(
    handlers: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handlers[request.method](request)

    return endpoint


def _is_public(request: Request) -> bool:
    """Market data needs no key; /portfolio and /account do (and are metered per account)."""
    path = request.url.path.removeprefix(PREFIX)
    return request.method == "GET" and not path.startswith(("/portfolio", "/account"))


def _require_strings(body: dict[str, Any], names: tuple[str, ...], struct: str) -> None:
    """Kalshi V2 rejects JSON numbers for string fields with a flat bad_request (§3)."""
    for name in names:
        if name not in body or body[name] is None:
            raise errors.invalid_parameters(f"{name} is required")
        value = body[name]
        if not isinstance(value, str):
            kind = "number" if isinstance(value, int | float) and not isinstance(value, bool) else "value"
            raise BodyError(
                f"json: cannot unmarshal {kind} into Go struct field {struct}.{name} of type string"
            )


def _unmarshal(value: Any, struct: str, name: str, wanted: str) -> str:
    """Go's decode error for a JSON value of the wrong type."""
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int | float):
        kind = "number"
    elif isinstance(value, str):
        kind = "string"
    else:
        kind = "array" if isinstance(value, list) else "object"
    return f"json: cannot unmarshal {kind} into Go struct field {struct}.{name} of type {wanted}"


def _price(text: str) -> Price:
    try:
        return parse_price(text)
    except WireFormatError:
        raise errors.invalid_price() from None


def _count(text: str | int) -> Count:
    try:
        count = parse_count(text)
    except WireFormatError as exc:
        raise SimError(400, "invalid_order_size", "invalid order size", str(exc)) from None
    return count
