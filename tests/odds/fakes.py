"""A loopback provider for the odds-client tests: a real HTTP server on 127.0.0.1 serving fixtures.

Bodies are sent byte-for-byte from ``tests/fixtures/odds`` (so number text such as ``1.8`` reaches the
client's Decimal parser unchanged), with the status and headers the test chooses. Every request is
recorded (path, query, headers) so tests can assert what was — and was not — called.

One uvicorn server (on a background thread, started on first use) serves every fake provider under
its own path prefix; ``FakeProvider.transport()`` gives the client a transport that sends each request
over real loopback HTTP to that prefix, whatever host the client thinks it is calling.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import FIXTURES, load_fixture

NOW_ISO = "2026-11-28T16:05:00Z"


def iso_ms(text: str) -> int:
    """ISO-8601 → Unix ms, computed independently of the code under test."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def load_decimal(relative: str) -> Any:
    """A fixture parsed the way the clients parse the wire: non-integers as Decimal."""
    return json.loads((FIXTURES / relative).read_bytes(), parse_float=Decimal)


NOW_MS = iso_ms(NOW_ISO)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class Call:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeProvider:
    """Route table path → queue of replies (the last reply repeats once the queue is down to one)."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def add(
        self,
        path: str,
        *,
        fixture: str | None = None,
        body: Any = None,
        status: int = 200,
        headers: dict[str, str] | str | None = None,
        first: bool = False,
    ) -> FakeProvider:
        """Queue a reply for ``path`` (``first``: in front of those already queued)."""
        raw = (FIXTURES / "odds" / fixture).read_bytes() if fixture else json.dumps(body).encode()
        if isinstance(headers, str):
            headers = {k: str(v) for k, v in load_fixture(f"odds/{headers}").items()}
        hdrs = {"content-type": "application/json", **(headers or {})}
        queue = self.routes.setdefault(path, [])
        queue.insert(0 if first else len(queue), Reply(status, raw, hdrs))
        return self

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        self.calls.append(Call(path, dict(request.query_params), dict(request.headers)))
        queue = self.routes.get(path)
        if not queue:
            return Response(b'{"message":"no route in fake"}', status_code=599)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    def transport(self) -> httpx.AsyncBaseTransport:
        server = _LoopbackServer.shared()
        return _LoopbackTransport(server.port, server.register(self))


class _LoopbackServer:
    """The one fixture server of the test session: routes ``/<provider id>/<path>`` to its provider."""

    _instance: _LoopbackServer | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.providers: dict[str, FakeProvider] = {}
        self._ids = itertools.count(1)
        methods = ["GET", "POST", "PUT", "DELETE"]
        app = Starlette(routes=[Route("/{provider}/{path:path}", self._route, methods=methods)])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        # signal handlers can only be installed from the main thread; the test process owns its signals
        self.server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
        threading.Thread(target=self.server.run, name="odds-fixture-server", daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the odds fixture server did not start")
            time.sleep(0.01)
        self.port: int = self.server.servers[0].sockets[0].getsockname()[1]

    @classmethod
    def shared(cls) -> _LoopbackServer:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def register(self, provider: FakeProvider) -> str:
        provider_id = f"p{next(self._ids)}"
        self.providers[provider_id] = provider
        return provider_id

    async def _route(self, request: Request) -> Response:
        return await self.providers[request.path_params["provider"]].handle(request)


class _LoopbackTransport(httpx.AsyncBaseTransport):
    """Sends every request over real HTTP to the fixture server, under this provider's prefix."""

    def __init__(self, port: int, provider_id: str) -> None:
        self._base = f"http://127.0.0.1:{port}/{provider_id}"
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = httpx.URL(self._base + request.url.raw_path.decode("ascii"))
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"]
        forwarded = httpx.Request(request.method, url, headers=headers, content=await request.aread())
        return await self._inner.handle_async_request(forwarded)

    async def aclose(self) -> None:
        await self._inner.aclose()


class FakeClock:
    """Manual clock in Unix ms; ``sleep`` advances it and records each wait (seconds)."""

    def __init__(self, now_ms: int = NOW_MS) -> None:
        self.now_ms = now_ms
        self.sleeps: list[float] = []

    def __call__(self) -> int:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ms += round(seconds * 1000)
