"""The routes: HTTP endpoints and the WebSocket stream, each translating to engine commands and
snapshots; refusals become JSON errors and nothing internal reaches the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from kmm_tui.control_api.auth import BearerAuth
from kmm_tui.control_api.errors import ApiError, error_response
from kmm_tui.control_api.requests import (
    ADD_FIELDS,
    UPDATE_FIELDS,
    flag_field,
    match_tickers,
    parse_body,
    parse_settings,
    parse_theo,
    reject_unknown,
    text_field,
    whole_field,
)
from kmm_tui.control_api.wire import event_json, match_json, state_json
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import (
    Event,
)
from kmm_tui.engine.model import MatchSettings, MatchSpec
from kmm_tui.engine.state import (
    MatchView,
)
from kmm_tui.outcome_input import match_id_for, shape_of

log = logging.getLogger(__name__)


STATE_INTERVAL_S = 0.2  # at most 5 state messages a second per WebSocket client
KEEPALIVE_S = 2.0  # and at least one every 2 s, so a client can tell a quiet engine from a dead link
EVENT_QUEUE_MAX = 1000  # events buffered per WebSocket client before we drop (and say so)


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """Map refusals to JSON errors; log anything unexpected (the client sees no internals)."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error.status, error.reason, error.field)
        except EngineError as error:
            # a field means bad input (422); without one it is a state conflict, e.g. orders still resting
            return error_response(422 if error.field else 409, error.user_message, error.field)
        except Exception:
            log.exception("control API: %s %s failed", request.method, request.url.path)
            return error_response(500, "internal error in kmm; details are in the log file")

    return endpoint


class ControlApi:
    """Routes HTTP/WebSocket calls to one engine."""

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        defaults: MatchSettings | None = None,
        devig: DevigMethod = DevigMethod.MULTIPLICATIVE,
    ) -> None:
        self.engine = engine
        self._defaults = defaults or MatchSettings()
        self._devig = devig
        routes = [
            Route("/api/state", _guarded(self.state), methods=["GET"]),
            Route("/api/matches", _guarded(self.add_match), methods=["POST"]),
            Route("/api/matches/{match_id}", _guarded(self.get_match), methods=["GET"]),
            Route("/api/matches/{match_id}", _guarded(self.delete_match), methods=["DELETE"]),
            Route("/api/matches/{match_id}/start", _guarded(self.start_match), methods=["POST"]),
            Route("/api/matches/{match_id}/stop", _guarded(self.stop_match), methods=["POST"]),
            Route("/api/matches/{match_id}/settings", _guarded(self.update_settings), methods=["POST"]),
            Route("/api/kill", _guarded(self.kill), methods=["POST"]),
            Route("/api/risk/reset", _guarded(self.reset_risk), methods=["POST"]),
            WebSocketRoute("/ws", self.stream),
        ]
        not_found = {404: self._not_found, 405: self._not_allowed}
        self.app: ASGIApp = BearerAuth(
            Starlette(routes=routes, exception_handlers=not_found),  # type: ignore[arg-type]
            token,
        )

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    async def _not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, f"no such endpoint: {request.url.path}")

    @staticmethod
    async def _not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}")

    def _view(self, match_id: str) -> MatchView:
        view = next((m for m in self.engine.snapshot().matches if m.spec.match_id == match_id), None)
        if view is None:
            raise ApiError(404, f"there is no match {match_id!r}; GET /api/state lists them", "match_id")
        return view

    def _match_payload(self, match_id: str) -> dict[str, Any]:
        return {"id": match_id, "match": match_json(self._view(match_id))}

    # --- endpoints -------------------------------------------------------------------------------

    async def state(self, request: Request) -> Response:
        return JSONResponse(state_json(self.engine.snapshot()))

    async def get_match(self, request: Request) -> Response:
        return JSONResponse(self._match_payload(request.path_params["match_id"]))

    async def add_match(self, request: Request) -> Response:
        body = parse_body(await request.body())
        reject_unknown(body, ADD_FIELDS)
        ticker_a, ticker_b, ticker_tie = match_tickers(body)
        theo = parse_theo(body, None, self._devig, shape_of(ticker_a, ticker_b, ticker_tie))
        if theo is None:
            raise ApiError(422, "give decimal odds (odds_a, odds_b) or a theo in cents (theo_a)", "odds_a")
        settings = parse_settings(body, self._defaults)
        start, dry_run = bool(flag_field(body, "start")), bool(flag_field(body, "dry_run"))
        if dry_run and not start:
            raise ApiError(422, "dry_run only applies with \"start\": true", "dry_run")
        match_id = match_id_for(ticker_a, ticker_b, ticker_tie)
        if any(m.spec.match_id == match_id for m in self.engine.snapshot().matches):
            raise ApiError(409, f"{match_id} is already a match: change it with /settings", "ticker_b")
        spec = MatchSpec(
            match_id,
            ticker_a,
            ticker_b,
            theo,
            settings,
            name=(text_field(body, "name") or "").strip(),
            start_ms=whole_field(body, "start_ms", 0),
            ticker_tie=ticker_tie,
        )
        await self.engine.execute(cmd.AddMatch(spec))
        payload: dict[str, Any] = {"id": match_id}
        if start:
            try:
                await self.engine.execute(cmd.StartMatch(match_id, dry_run=dry_run))
            except EngineError as error:  # added but not started: say so, the match stays listed
                payload["start_error"] = error.user_message
        payload["match"] = match_json(self._view(match_id))
        return JSONResponse(payload, status_code=201)

    async def start_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        reject_unknown(body, frozenset({"dry_run"}))
        self._view(match_id)
        await self.engine.execute(cmd.StartMatch(match_id, dry_run=bool(flag_field(body, "dry_run"))))
        return JSONResponse(self._match_payload(match_id))

    async def stop_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        reject_unknown(body, frozenset({"reason"}))
        self._view(match_id)
        reason = (text_field(body, "reason") or "").strip() or "stopped via the control API"
        await self.engine.execute(cmd.StopMatch(match_id, reason))
        return JSONResponse(self._match_payload(match_id))

    async def update_settings(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        reject_unknown(body, UPDATE_FIELDS)
        spec = self._view(match_id).spec
        theo = parse_theo(body, spec.theo, self._devig, spec.shape)
        settings = parse_settings(body, spec.settings)
        if theo is None and settings == spec.settings:
            raise ApiError(422, f"nothing to change: give any of {', '.join(sorted(UPDATE_FIELDS))}")
        changed = settings if settings != spec.settings else None
        await self.engine.execute(cmd.UpdateMatch(match_id, theo=theo, settings=changed))
        return JSONResponse(self._match_payload(match_id))

    async def delete_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        self._view(match_id)
        await self.engine.execute(cmd.DeleteMatch(match_id))
        return JSONResponse({"id": match_id, "deleted": True})

    async def kill(self, request: Request) -> Response:
        left = await self.engine.kill_all("kill switch (control API)")
        return JSONResponse({"orders_left": left, "clean": left == 0})

    async def reset_risk(self, request: Request) -> Response:
        """Clear the account-limit latch (docs/guards.md); matches stay stopped until started."""
        account = self.engine.snapshot().account
        was = account.latched if account is not None else None
        await self.engine.execute(cmd.ResetAccountLimits())
        return JSONResponse({"reset": was is not None, "was": was})

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        subscriber = _Subscriber()
        unsubscribe = self.engine.listen(subscriber)
        sender = asyncio.create_task(subscriber.send_loop(websocket, self.engine), name="control-api-ws")
        receiver = asyncio.create_task(_drain(websocket), name="control-api-ws-receive")
        try:
            await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
        finally:
            unsubscribe()
            for task in (sender, receiver):
                task.cancel()
            for task in (sender, receiver):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    try:
                        await task
                    except (RuntimeError, OSError) as error:  # the client went away mid-send
                        log.debug("control API WebSocket closed: %r", error)
            if websocket.client_state is WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, OSError):
                    await websocket.close()


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects: the stream is one-way."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


class _Subscriber:
    """One WebSocket client's event buffer; the engine calls it, the send loop drains it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(EVENT_QUEUE_MAX)
        self.wake = asyncio.Event()
        self.dirty = True
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        self.dirty = True
        payload = event_json(event)
        if payload is not None:
            try:
                self.queue.put_nowait(payload)
            except asyncio.QueueFull:
                self.dropped += 1
        self.wake.set()

    async def send_loop(self, websocket: WebSocket, engine: Engine) -> None:
        loop = asyncio.get_running_loop()
        last_state = float("-inf")  # float-ok: loop time in seconds, not money
        while True:
            while not self.queue.empty():
                await websocket.send_json(self.queue.get_nowait())
            if self.dropped:
                await websocket.send_json({"type": "overflow", "dropped": self.dropped})
                self.dropped = 0
            since = loop.time() - last_state
            if (self.dirty and since >= STATE_INTERVAL_S) or since >= KEEPALIVE_S:
                self.dirty = False
                await websocket.send_json({"type": "state", "state": state_json(engine.snapshot())})
                last_state = loop.time()
                since = 0.0
            timeout = max(0.0, STATE_INTERVAL_S - since) if self.dirty else KEEPALIVE_S - since
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            self.wake.clear()
