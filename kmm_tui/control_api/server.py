"""Serving the control API on the engine's own event loop (uvicorn on a pre-bound socket), and
tearing it down with the token file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from kmm_tui.control_api.auth import check_host, remove_token, write_token
from kmm_tui.control_api.errors import ControlApiError
from kmm_tui.control_api.routes import ControlApi
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.model import MatchSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningApi:
    """Where a started control API listens and the token it wants."""

    url: str  # http://127.0.0.1:PORT
    token: str
    token_path: Path
    port: int

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/ws"



def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ControlApiError(
            f"the control API cannot listen on {host}:{port} ({error.strerror or error}); "
            "choose another --api PORT"
        ) from None
    sock.set_inheritable(True)
    return sock


class _DenialNoiseFilter(logging.Filter):
    """uvicorn's sans-io WebSocket logs an ERROR after every HTTP denial response (our 401 to a
    WebSocket without the token) although the denial was sent correctly; keep that out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


_DENIAL_NOISE = _DenialNoiseFilter()


@contextlib.asynccontextmanager
async def serve_control_api(
    engine: Engine,
    port: int,
    state_dir: Path,
    host: str = "127.0.0.1",
    *,
    allow_remote: bool = False,
    defaults: MatchSettings | None = None,
    devig: DevigMethod = DevigMethod.MULTIPLICATIVE,
) -> AsyncIterator[RunningApi]:
    """Serve the control API for ``engine`` on this event loop until the block exits.

    ``port`` 0 picks a free port (see ``api.url``). ``defaults`` fill settings a new match omits.
    Raises ControlApiError when the host is not loopback (without ``allow_remote``) or the port is busy.
    """
    bind_host = check_host(host, allow_remote)
    sock = _bind(bind_host, port)
    token, token_path = write_token(state_dir)
    api = ControlApi(engine, token, defaults=defaults, devig=devig)
    config = uvicorn.Config(
        api.app,
        log_config=None,  # our file logging stays as it is; nothing is printed to the terminal
        access_log=False,  # the WebSocket URL can carry the token
        lifespan="off",
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    # uvicorn would take over SIGINT/SIGTERM; the front-end owns signals (Ctrl-C pulls orders first).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addFilter(_DENIAL_NOISE)  # idempotent; harmless when left
    task = asyncio.create_task(server.serve(sockets=[sock]), name="control-api")
    try:
        while not server.started:
            if task.done():
                with contextlib.suppress(SystemExit):
                    task.result()
                raise ControlApiError(f"the control API could not start on {bind_host}:{port}; see the log")
            await asyncio.sleep(0.01)
        bound_port = sock.getsockname()[1]
        url_host = f"[{bind_host}]" if ":" in bind_host else bind_host
        running = RunningApi(f"http://{url_host}:{bound_port}", token, token_path, bound_port)
        log.info("control API listening on %s (token in %s)", running.url, token_path)
        yield running
    finally:
        server.should_exit = True
        try:
            await task
        except (Exception, SystemExit):
            log.exception("control API shutdown failed")
        sock.close()
        remove_token(token_path, token)
