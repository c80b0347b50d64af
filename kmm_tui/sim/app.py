"""The simulator's ASGI application: REST + WebSocket + admin, wrapped in the fault injector.

The injector also makes order writes ambiguous (``Fidelity.write_fail_*_pct``): a share of them
fails *before* the exchange sees them, and a share fails *after* the exchange applied them, as a 5xx,
a connection dropped mid-reply, or a hang past the client's timeout. Only the second kind can create
the double placements and orphaned orders a real client must survive (§5.6, §8).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kmm_tui.sim.admin import AdminApi
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.faults import Faults
from kmm_tui.sim.rest import PREFIX, RATE_LIMITED, RestApi
from kmm_tui.sim.rest_history import HistoryApi
from kmm_tui.sim.ws import Hub

ORDER_WRITES = PREFIX + "/portfolio/events/orders"
SERVER_ERRORS = (500, 502, 503, 504)
DROP_NOTE = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    """uvicorn reports a reply we cut on purpose as an error; an injected drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_NOTE


def _quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


def is_order_write(scope: Scope) -> bool:
    """Create, amend, decrease, cancel and the batches: every V2 write under /portfolio/events/orders."""
    return scope["method"] in ("POST", "DELETE", "PUT") and scope["path"].startswith(ORDER_WRITES)


async def _discard(message: Message) -> None:
    """The reply of a write whose answer is lost after it was applied."""


class FaultInjector:
    """ASGI middleware: injected latency, 5xx and 429 for REST calls (admin and WebSocket exempt),
    and ambiguous order writes."""

    def __init__(self, app: ASGIApp, ctx: SimContext) -> None:
        self.app = app
        self.ctx = ctx
        _quiet_uvicorn()

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
        fidelity = self.ctx.fidelity
        if is_order_write(scope):
            if fidelity.roll(fidelity.write_fail_before_pct):
                await self._fail(send)
                return
            if fidelity.roll(fidelity.write_fail_after_pct):
                await self.app(scope, receive, _discard)
                await self._fail(send)
                return
        await self.app(scope, receive, send)

    async def _fail(self, send: Send) -> None:
        """Answer a write with one of the configured failures (the caller decided when it happens)."""
        fidelity = self.ctx.fidelity
        kind = fidelity.rng.choice(fidelity.write_failures)
        if kind == "5xx":
            body = {"error": {"code": "internal_server_error", "message": "internal server error"}}
            await _send_json(send, fidelity.rng.choice(SERVER_ERRORS), body)
            return
        if kind == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ctx.stopping.wait(), fidelity.write_timeout_ms / 1000)
        await _drop(send)


async def _drop(send: Send) -> None:
    """Start a reply and never finish it: the server closes the connection mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )


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
        routes=[*HistoryApi(rest).routes(), *rest.routes(), hub.route(), *admin.routes()],
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
