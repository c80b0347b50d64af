"""The engine's local control API: HTTP + WebSocket on 127.0.0.1, guarded by a bearer token.

Why it exists: scripts and the old dashboard drive the same engine the TUI and ``kmm run`` use, so
the API only translates JSON into engine commands and snapshots into JSON; it never trades itself.
It runs on the engine's own asyncio loop (uvicorn serving pre-bound sockets), so a command from
HTTP is applied exactly like a key press in the TUI.

Why these rules:

* loopback only (unless the caller explicitly allows another host): this API can trade real money;
* a fresh random token per start in ``<state dir>/api_token`` (mode 600), compared in constant time,
  required on every call (``Authorization: Bearer``; the WebSocket may use ``?token=`` because
  browsers cannot set headers on WebSockets);
* exact numbers: request bodies are parsed with ``Decimal`` (never float) and responses carry
  prices as cent strings (``"55.5"``), counts as contract strings (``"10"``) and money as dollar
  strings (``"12.34"``, more decimals when exact needs them);
* every failure is JSON ``{"field": ..., "reason": ...}``; unexpected errors are logged to the log
  file and answered with a 500 that names no internals.

The wire schema is documented in ``docs/control-api.md``. One job per module: :mod:`.errors`,
:mod:`.wire` (answers), :mod:`.requests` (bodies -> commands), :mod:`.auth` (host and token),
:mod:`.routes` and :mod:`.server`; this package re-exports the public names.
"""

from __future__ import annotations

from kmm_tui.control_api.auth import LOOPBACK_HOSTS, TOKEN_FILE_NAME, check_host, write_token
from kmm_tui.control_api.errors import ApiError, ControlApiError
from kmm_tui.control_api.requests import parse_body, parse_settings, parse_theo
from kmm_tui.control_api.routes import ControlApi
from kmm_tui.control_api.server import RunningApi, serve_control_api
from kmm_tui.control_api.wire import (
    cents_text,
    contracts_text,
    dollars_text,
    event_json,
    match_json,
    state_json,
)

__all__ = [
    "LOOPBACK_HOSTS",
    "TOKEN_FILE_NAME",
    "ApiError",
    "ControlApi",
    "ControlApiError",
    "RunningApi",
    "cents_text",
    "check_host",
    "contracts_text",
    "dollars_text",
    "event_json",
    "match_json",
    "parse_body",
    "parse_settings",
    "parse_theo",
    "serve_control_api",
    "state_json",
    "write_token",
]
