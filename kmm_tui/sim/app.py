"""The simulator's ASGI application: REST + WebSocket + admin, wrapped in the fault injector."""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kmm_tui.sim.admin import AdminApi
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.faults import Faults
from kmm_tui.sim.rest import PREFIX, RATE_LIMITED, RestApi
from kmm_tui.sim.ws import Hub


class FaultInjector:
    """ASGI middleware: injected latency, 5xx and 429 for REST calls (admin and WebSocket exempt)."""

    def __init__(self, app: ASGIApp, ctx: SimContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.ctx.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.http_errors > 0:
            faults.http_errors -= 1
            body = {"error": {"code": "internal_server_error", "message": "injected fault: server error"}}
            await _send_json(send, faults.http_error_status, body)
            return
        if faults.rate_limited > 0:
            faults.rate_limited -= 1
            await _send_json(send, 429, RATE_LIMITED)
            return
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def build_app(ctx: SimContext, faults: Faults) -> tuple[ASGIApp, Hub]:
    """Assemble routes; returns the app and the WebSocket hub (the server closes it on shutdown)."""
    hub = Hub(ctx)
    rest = RestApi(ctx)
    admin = AdminApi(ctx, faults)
    app = Starlette(
        routes=[*rest.routes(), hub.route(), *admin.routes()],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    return FaultInjector(app, ctx), hub


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths answer Kalshi's nested 404 body, not Starlette's plain text."""
    return JSONResponse({"error": {"code": "not_found", "message": "not found"}}, status_code=404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, HTTPException) else "method not allowed"
    return JSONResponse(
        {"error": {"code": "method_not_allowed", "message": "method not allowed", "details": detail}},
        status_code=405,
    )
