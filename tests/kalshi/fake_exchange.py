"""A small Kalshi-shaped ASGI app built from the fixtures, for driving the real client over httpx.

It verifies request signatures with the test key's public half (so a wrong signing path fails like on
the exchange), records every request, can be scripted to answer the next N requests of an endpoint
with an error, and remembers client order ids so a repeated create gets the real 409.
``FlakyTransport`` wraps the ASGI transport to lose responses (timeouts/connection errors) *after*
the app has acted, which is the dangerous case for creates.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import load_fixture

PREFIX = "/trade-api/v2"
MARKETS_CURSOR = "bWFya2V0cy1wYWdlLTI"


def rest(name: str) -> Any:
    return load_fixture(f"kalshi/rest/{name}")


def error(name: str) -> Any:
    return load_fixture(f"kalshi/errors/{name}")


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeKalshi:
    public_key: rsa.RSAPublicKey
    key_id: str
    requests: list[Recorded] = field(default_factory=list)
    faults: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    client_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route(PREFIX + "/{path:path}", self._endpoint, methods=["GET", "POST", "PUT", "DELETE"])]
        )

    def fail_next(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        """Answer the next requests to ``method path`` (relative to the prefix) with these errors."""
        self.faults.setdefault((method, path), []).extend(answers)

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- plumbing -------------------------------------------------------------------------------

    def _verify(self, request: Request) -> Response | None:
        headers = request.headers
        signature = headers.get("KALSHI-ACCESS-SIGNATURE")
        timestamp = headers.get("KALSHI-ACCESS-TIMESTAMP")
        if not signature or not timestamp:
            return JSONResponse(error("auth_missing_signature_401.json"), status_code=401)
        if headers.get("KALSHI-ACCESS-KEY") != self.key_id:
            return JSONResponse(error("auth_unknown_key_401.json"), status_code=401)
        message = f"{timestamp}{request.method}{request.url.path}".encode()
        try:
            self.public_key.verify(
                base64.b64decode(signature),
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return JSONResponse(error("auth_bad_signature_401.json"), status_code=401)
        return None

    async def _endpoint(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        raw = await request.body()
        body = json.loads(raw) if raw else None
        self.requests.append(
            Recorded(
                request.method, path, list(request.query_params.multi_items()), dict(request.headers), body
            )
        )
        if path.startswith(("/portfolio", "/account")):
            refused = self._verify(request)
            if refused is not None:
                return refused
        queued = self.faults.get((request.method, path))
        if queued:
            status, payload = queued.pop(0)
            if isinstance(payload, bytes | str):
                return Response(payload, status_code=status)
            return JSONResponse(payload, status_code=status)
        return self._route(request.method, path, request, body)

    # --- the exchange's answers -------------------------------------------------------------------

    def _route(self, method: str, path: str, request: Request, body: Any) -> Response:
        query = request.query_params
        parts = path.strip("/").split("/")
        ok = JSONResponse
        if method == "GET":
            if path == "/exchange/status":
                return ok(rest("exchange_status.json"))
            if path == "/series":
                return ok(rest("series_list.json"))
            if parts[0] == "series" and len(parts) == 2:
                return ok(rest("series_get.json"))
            if path == "/events":
                return ok(rest("events_list.json"))
            if parts[0] == "events" and len(parts) == 2:
                return ok(rest("event_get.json"))
            if path == "/markets":
                cursor = query.get("cursor")
                if cursor is None:
                    return ok(rest("markets_list.json"))
                if cursor == MARKETS_CURSOR:
                    return ok(
                        {"markets": [rest("market_get_tennis_shard3_tapered.json")["market"]], "cursor": ""}
                    )
                return ok(error("param_validation_bare_400.json"), status_code=400)
            if path == "/markets/orderbooks":
                wanted = query.getlist("tickers")
                books = [b for b in rest("orderbooks_multi_get.json")["orderbooks"] if b["ticker"] in wanted]
                return ok({"orderbooks": books})
            if parts[0] == "markets" and len(parts) == 3 and parts[2] == "orderbook":
                return ok(rest("orderbook_get.json"))
            if parts[0] == "markets" and len(parts) == 2:
                for name in ("market_get.json", "market_get_tennis_shard3_tapered.json"):
                    market = rest(name)
                    if market["market"]["ticker"] == parts[1]:
                        return ok(market)
                return ok(error("not_found_404.json"), status_code=404)
            if path == "/milestones":
                return ok(rest("milestones_list.json"))
            if path == "/account/limits":
                return ok(rest("account_limits.json"))
            if path == "/account/endpoint_costs":
                return ok(rest("account_endpoint_costs.json"))
            if path == "/portfolio/balance":
                return ok(rest("balance.json"))
            if path == "/portfolio/positions":
                return ok(rest("positions.json"))
            if path == "/portfolio/fills":
                fills = rest("fills.json")["fills"]
                if query.get("cursor") == "page2":
                    return ok({"fills": fills[1:], "cursor": ""})
                return ok({"fills": fills[:1], "cursor": "page2"})
            if path == "/portfolio/orders":
                return ok(rest("orders_list.json"))
            if parts[:2] == ["portfolio", "orders"] and len(parts) == 3:
                return ok(rest("order_get.json"))
            if path == "/portfolio/order_groups":
                return ok(rest("order_groups_list.json"))
            if parts[:2] == ["portfolio", "order_groups"] and len(parts) == 3:
                return ok(rest("order_group_get.json"))
        if method == "POST":
            if path == "/portfolio/orders":
                return ok(error("legacy_endpoint_410.json"), status_code=410)
            if path == "/portfolio/events/orders":
                return self._create(body)
            if path == "/portfolio/events/orders/batched":
                return ok({"orders": [self._create_item(item) for item in body["orders"]]}, status_code=201)
            if parts[:3] == ["portfolio", "events", "orders"] and parts[-1] == "amend":
                return ok(rest("order_amend_response.json"))
            if parts[:3] == ["portfolio", "events", "orders"] and parts[-1] == "decrease":
                return ok(rest("order_decrease_response.json"))
            if path == "/portfolio/order_groups/create":
                return ok(rest("order_group_create_response.json"), status_code=201)
        if method == "DELETE":
            if path == "/portfolio/events/orders":
                return Response(status_code=204)
            if path == "/portfolio/events/orders/batched":
                answers = []
                for item in body["orders"]:
                    if item["order_id"].startswith("00000000"):
                        answers.append(
                            {
                                "order_id": item["order_id"],
                                "client_order_id": None,
                                "reduced_by": "0.00",
                                "ts_ms": None,
                                "error": {"code": "not_found", "message": "not found"},
                            }
                        )
                    else:
                        answers.append(
                            {
                                "order_id": item["order_id"],
                                "client_order_id": "c",
                                "reduced_by": "1.00",
                                "ts_ms": 1795882000120,
                            }
                        )
                return ok({"orders": answers})
            if parts[:3] == ["portfolio", "events", "orders"] and len(parts) == 4:
                if not query.get("market_ticker"):
                    return ok(error("bad_request_flat_400.json"), status_code=400)
                return ok(rest("order_cancel_response.json"))
            if parts[:2] == ["portfolio", "order_groups"] and len(parts) == 3:
                return ok({})
        if method == "PUT" and parts[:2] == ["portfolio", "order_groups"] and len(parts) == 4:
            return ok({})
        return ok(error("not_found_404.json"), status_code=404)

    def _create_item(self, order: dict[str, Any]) -> dict[str, Any]:
        for key in ("price", "count"):
            if not isinstance(order.get(key), str):
                return {
                    "order_id": None,
                    "client_order_id": order.get("client_order_id"),
                    "error": {"code": "bad_request", "message": "bad request"},
                }
        client_id = order["client_order_id"]
        if client_id in self.client_ids:
            return {
                "order_id": None,
                "client_order_id": client_id,
                "error": {"code": "order_already_exists", "message": "order already exists"},
            }
        if (Decimal(order["price"]) * 100) % 1:  # whole cents only on this fake grid
            return {
                "order_id": None,
                "client_order_id": client_id,
                "error": {"code": "invalid_price", "message": "invalid price"},
            }
        self.client_ids.add(client_id)
        return {
            "order_id": f"oid-{client_id}",
            "client_order_id": client_id,
            "fill_count": "0.00",
            "remaining_count": order["count"] if "." in order["count"] else order["count"] + ".00",
            "ts_ms": 1795881900412,
        }

    def _create(self, body: dict[str, Any]) -> Response:
        for key in ("ticker", "side", "price", "count", "time_in_force", "self_trade_prevention_type"):
            if key not in body:
                return JSONResponse(error("bad_request_flat_400.json"), status_code=400)
        item = self._create_item(body)
        if "error" in item:
            status = 409 if item["error"]["code"] == "order_already_exists" else 400
            return JSONResponse({"error": item["error"]}, status_code=status)
        return JSONResponse(item, status_code=201)


class FlakyTransport(httpx.AsyncBaseTransport):
    """Delegates to ``inner``; the next scripted failures for a path are raised instead of answering.

    ``("after", exc)`` forwards the request first (the exchange acts) and then loses the response;
    ``("before", exc)`` fails before anything reaches the exchange.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.script: dict[str, list[tuple[str, Exception]]] = {}

    def lose(self, path: str, when: str, exc: Exception) -> None:
        self.script.setdefault(PREFIX + path, []).append((when, exc))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        queued = self.script.get(request.url.path)
        if queued:
            when, exc = queued.pop(0)
            if when == "after":
                response = await self.inner.handle_async_request(request)
                await response.aread()
            raise exc
        return await self.inner.handle_async_request(request)
