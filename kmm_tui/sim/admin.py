"""Admin endpoints under ``/admin``: faults, market control, competitor orders, full state dump.

No authentication, so only loopback clients are served (anything else gets 403). Bodies are JSON;
prices and counts use the same dollar/count strings as the trading API.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kmm_tui.domain.prices import WireFormatError, parse_count, parse_price
from kmm_tui.sim import wire
from kmm_tui.sim.changes import apply_event_change, apply_market_change, schedule_series_fees
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.exchange import OrderRequest
from kmm_tui.sim.faults import Faults
from kmm_tui.sim.lines import GAME
from kmm_tui.sim.scenario import MatchState
from kmm_tui.sim.settling import parse_settle

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
COMPETITOR_BALANCE = 10_000_000 * 1_000_000


class AdminApi:
    def __init__(self, ctx: SimContext, faults: Faults) -> None:
        self.ctx = ctx
        self.faults = faults

    def competitor_account(self, name: str) -> str:
        """A named competitor's account id (created on first use with a large balance)."""
        account_id = f"competitor-{name}"
        if account_id not in self.ctx.exchange.accounts:
            self.ctx.exchange.open_account(account_id, COMPETITOR_BALANCE, "prestige", name=name)  # type: ignore[arg-type]
        return account_id

    def wrap(
        self, handler: Callable[[Request, dict[str, Any]], Awaitable[Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            host = request.client.host if request.client else ""
            if host not in LOOPBACK:
                return JSONResponse(
                    {"error": {"code": "forbidden", "message": "admin is loopback only"}}, 403
                )
            try:
                raw = await request.body()
                body = json.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
                result = await handler(request, body)
            except SimError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (ValueError, KeyError, TypeError, WireFormatError) as exc:
                return JSONResponse({"error": {"code": "bad_request", "message": str(exc)}}, 400)
            return JSONResponse(result if result is not None else {"ok": True})

        return endpoint

    async def set_faults(self, request: Request, body: dict[str, Any]) -> Any:
        """``{"http_errors": n, "status": 503, "rate_limit": n, "latency_ms": ms, "skip_seq": n,
        "drop_websockets": true, "clear": true}`` — any subset."""
        if body.get("clear"):
            self.faults.clear()
        if "http_errors" in body:
            self.faults.http_errors(int(body["http_errors"]), int(body.get("status", 503)))
        if "rate_limit" in body:
            self.faults.rate_limit(int(body["rate_limit"]))
        if "latency_ms" in body:
            self.faults.latency_ms(int(body["latency_ms"]))
        if "skip_seq" in body:
            self.faults.skip_seq(int(body["skip_seq"]))
        if body.get("drop_websockets"):
            self.faults.drop_websockets()
        return None

    async def market_action(self, request: Request, body: dict[str, Any]) -> Any:
        ticker = request.path_params["ticker"]
        action = request.path_params["action"]
        self.ctx.exchange.market(ticker)
        if action == "pause":
            self.faults.pause_market(ticker)
        elif action == "resume":
            self.faults.resume_market(ticker)
        elif action == "close":
            self.faults.close_market(ticker)
        elif action == "settle":
            value = body.get("value")
            self.faults.settle_market(
                ticker, str(body["result"]), None if value is None else parse_price(value)
            )
        elif action == "fair":
            self.faults.set_fair(ticker, parse_price(body["price"]))
        elif action in ("price_levels", "metadata", "close_time"):
            apply_market_change(self.ctx.exchange, ticker, action, body)
        else:
            raise ValueError(
                f"unknown action {action!r}: use pause, resume, close, settle, fair, price_levels, "
                "metadata or close_time"
            )
        return None

    async def event_action(self, request: Request, body: dict[str, Any]) -> Any:
        """``POST /admin/events/{event_ticker}/metadata`` ``{"title","sub_title"}``, ``/fees``
        ``{"fee_type_override","fee_multiplier_override"}``, or ``/settle`` ``{"winner": "TIE"}`` |
        ``{"points": [112, 104]}`` (answers the tickers settled yes)."""
        action = request.path_params["action"]
        if action == "settle":
            winner, points = parse_settle(body)
            yes = self.faults.settle_event(request.path_params["event_ticker"], winner=winner, points=points)
            return {"yes": sorted(yes)}
        kind = {"metadata": "event_metadata", "fees": "event_fees"}.get(action)
        if kind is None:
            raise ValueError(f"unknown event action {action!r}: use metadata, fees or settle")
        apply_event_change(self.ctx.exchange, request.path_params["event_ticker"], kind, body)
        return None

    async def series_fee_change(self, request: Request, body: dict[str, Any]) -> Any:
        """``POST /admin/series/{ticker}/fee_change {"fee_type","fee_multiplier","in":"10m"}``."""
        schedule_series_fees(self.ctx.exchange, request.path_params["ticker"], body)
        return None

    async def advance(self, request: Request, body: dict[str, Any]) -> Any:
        self.faults.advance(float(body["seconds"]))
        return {"now_ms": self.ctx.clock.now_ms()}

    async def competitor_order(self, request: Request, body: dict[str, Any]) -> Any:
        account_id = self.competitor_account(str(body.get("name", "default")))
        result = self.ctx.exchange.create_order(
            account_id,
            OrderRequest(
                ticker=body["ticker"],
                side=body["side"],
                price=parse_price(body["price"]),
                count=parse_count(body["count"]),
                time_in_force=body.get("time_in_force", "good_till_canceled"),
                stp="maker",
            ),
        )
        return wire.order_reply(result)

    async def competitor_cancel(self, request: Request, body: dict[str, Any]) -> Any:
        account_id = self.competitor_account(request.query_params.get("name", "default"))
        order, reduced = self.ctx.exchange.cancel_order(account_id, request.path_params["order_id"])
        return {"order_id": order.order_id, "reduced_by": wire.format_count(reduced)}

    async def create_account(self, request: Request, body: dict[str, Any]) -> Any:
        cents = int(body.get("balance_cents", 1_000_000))
        key_type = body.get("key_type", "rsa")
        account = self.ctx.create_account(cents * 10_000, body.get("tier"), key_type=key_type)
        return {
            "key_id": account.key_id,
            "user_id": account.user_id,
            "private_key_pem": account.private_key_pem.decode(),
            "key_path": None if account.key_path is None else str(account.key_path),
        }

    async def state(self, request: Request, body: dict[str, Any]) -> Any:
        return state_json(self.ctx)

    async def fidelity(self, request: Request, body: dict[str, Any]) -> Any:
        """GET: the switches; POST ``{"read_lag_ms": 400, ...}`` or ``{"preset": "adversarial"}``."""
        if request.method == "POST":
            self.ctx.fidelity.update(body)
        return self.ctx.fidelity.as_dict()

    def routes(self) -> list[Route]:
        w = self.wrap
        return [
            Route("/admin/faults", w(self.set_faults), methods=["POST"]),
            Route("/admin/markets/{ticker}/{action}", w(self.market_action), methods=["POST"]),
            Route("/admin/events/{event_ticker}/{action}", w(self.event_action), methods=["POST"]),
            Route("/admin/series/{ticker}/fee_change", w(self.series_fee_change), methods=["POST"]),
            Route("/admin/clock/advance", w(self.advance), methods=["POST"]),
            Route("/admin/competitor/orders", w(self.competitor_order), methods=["POST"]),
            Route("/admin/competitor/orders/{order_id}", w(self.competitor_cancel), methods=["DELETE"]),
            Route("/admin/accounts", w(self.create_account), methods=["POST"]),
            Route("/admin/state", w(self.state), methods=["GET"]),
            Route("/admin/fidelity", w(self.fidelity), methods=["GET", "POST"]),
        ]


def match_json(match: MatchState) -> dict[str, Any]:
    """A scenario match's fair values now: per market for a game (home, away, TIE: they sum to $1);
    for a total or spread also the line they follow (``line``: expected total or first team's margin)
    and each market's strike."""
    out: dict[str, Any] = {
        "event_ticker": match.event_ticker,
        "kind": match.kind,
        "fair_dollars": {t: wire.format_price(f) for t, f in zip(match.tickers, match.fair, strict=True)},
    }
    if match.kind != GAME:
        out["line"] = str(match.centre)
        out["scale"] = str(match.spec.scale)
        out["strikes"] = {t: str(o.strike) for t, o in zip(match.tickers, match.outcomes, strict=True)}
    return out


def state_json(ctx: SimContext) -> dict[str, Any]:
    """Everything: markets with books, the scenario's fair values, and per account balance, orders,
    positions and fills."""
    ex = ctx.exchange
    now = ctx.clock.now_ms()
    return {
        "now_ms": now,
        "markets": {
            t: {
                "status": m.status,
                "result": m.result,
                "orderbook_fp": wire.orderbook_fp(ex, t),
                "volume_fp": wire.format_count(m.volume),
                "open_interest_fp": wire.format_count(m.open_interest),
            }
            for t, m in ex.markets.items()
        },
        "milestones": [wire.milestone_json(m) for m in ex.milestones.values()],
        "matches": [match_json(m) for m in ctx.matches],
        "accounts": {
            a.account_id: {
                "tier": a.tier,
                "balance": wire.balance_json(ex, a, now),
                "cash_dollars": wire.format_money(a.cash),
                "reserved_dollars": wire.format_money(a.reserved),
                "orders": [wire.order_json(o) for o in a.orders.values()],
                "positions": [wire.position_json(ex, a, t) for t in a.positions],
                "fills": [wire.fill_json(f) for f in a.fills],
                "order_groups": [
                    {**wire.order_group_json(g, with_orders=True), "id": g.group_id, "triggered": g.triggered}
                    for g in a.groups.values()
                ],
            }
            for a in ex.accounts.values()
        },
    }
