"""The engine in its own process, with the app as its client (issue #18, item 3).

Why: on a thread of the app's process the engine waited for the GIL whenever the app drew (~5 ms a
frame), which doubled its feed delay's tail with 50 live matches (docs/benchmarks.md). In its own
process (``kmm_tui/engine_host.py``) nothing the app does can hold it up; the two share a socket.

:class:`ProcessEngine` is the app's ``EnginePort``. Calls cross as messages and their replies come
back on a reader thread, so the app's synchronous calls (``preview``) can wait for them.
``snapshot()`` never waits once the first view is in: it returns the newest view the engine sent. The
engine sends one whenever something changed (at most every 100 ms, and every second regardless), and
right before each call's reply, so what a command did is on the very next snapshot. Events come in
batches right after the view that reflects them and are delivered on the app's loop in order, so the
redraw an event asks for shows its effect (book updates are coalesced to the last of a batch: the app
only redraws for them).

Exit paths, all closing the engine in its process (every order pulled and verified) before
:func:`engine_in_process` returns: the app's normal end or a crash (``close`` is sent and the engine's
``closed`` awaited); SIGTERM/SIGHUP (both processes get them from a closed terminal; each closes);
the app killed outright (the socket ends and the engine closes on its own). If the engine's process
dies, calls fail with :class:`EngineGone` and ``on_lost`` (called on the reader thread) tells the app.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from kmm_tui.engine_wire import (
    HEADER,
    WireError,
    body_length,
    exception_from_wire,
    frame,
    register_fast_pickling,
    unframe,
)

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 5.0  # a synchronous call (preview, the first snapshot) waits this long
CLOSE_TIMEOUT_S = 90.0  # closing pulls and verifies every order; a hung exchange reply takes 10 s each


class EngineGone(RuntimeError):
    """The engine's process has ended: nothing can be asked of it any more."""


class ProcessEngine:
    """The app's view of an engine running in another process."""

    def __init__(self, sock: socket.socket, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.environment = ""
        self.resting_at_close: int | None = None
        self.on_lost: Callable[[], None] | None = None
        self._sock = sock
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, concurrent.futures.Future[Any]] = {}
        self._listeners: list[tuple[asyncio.AbstractEventLoop, Callable[[Any], None]]] = []
        self._view: Any = None
        self._view_seq = 0
        self._logs: tuple[Any, ...] = ()
        self._matches: dict[str, Any] = {}
        self._view_ready = threading.Condition()
        self._closing = False
        self._gone = threading.Event()
        self._ready: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._closed: concurrent.futures.Future[int | None] = concurrent.futures.Future()
        self._reader = threading.Thread(target=self._read, name="kmm-engine-link", daemon=True)
        self._reader.start()

    # --- the EnginePort surface ------------------------------------------------------------------------

    def snapshot(self) -> Any:
        """The newest view the engine sent; waits only for the very first (sent with ``ready``)."""
        if self._view is None:
            with self._view_ready:
                arrived = self._view_ready.wait_for(
                    lambda: self._view is not None or self._gone.is_set(), CALL_TIMEOUT_S
                )
            if not arrived:
                raise EngineGone("the engine sent no state in time")
            if self._view is None:
                raise EngineGone("the engine has stopped")
        return self._view

    async def execute(self, command: Any) -> None:
        await self._call("execute", command)

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Events reach ``callback`` on the caller's loop, in order, one wake-up per batch."""
        entry = (asyncio.get_running_loop(), callback)
        self._listeners.append(entry)

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(entry)

        return stop

    async def describe_pair(self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> Any:
        return await self._call("describe_pair", ticker_a, ticker_b, ticker_tie)

    def preview(self, spec: Any) -> Any:
        return self._call_now("preview", spec)

    async def preview_live(self, spec: Any) -> Any:
        return await self._call("preview_live", spec)

    async def feed_theo(
        self, ticker_a: str, ticker_b: str, method: Any, ticker_tie: str | None = None
    ) -> Any:
        return await self._call("feed_theo", ticker_a, ticker_b, method, ticker_tie)

    def confirm_pairing(self, choice: object, index: int) -> None:
        self._call_now("confirm_pairing", choice, index)

    async def extra(self, name: str, *args: Any) -> Any:
        """A service the engine's opener provided (``engine_host.provide``): the scanner, a bench probe."""
        return await self._call("extra", name, *args)

    # --- calls -----------------------------------------------------------------------------------------

    def _start_call(self, method: str, *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        call_id = next(self._ids)
        self._pending[call_id] = future
        try:
            if self._gone.is_set():  # checked after registering: the reader's sweep cannot miss it
                raise OSError("gone")
            self._send(("call", call_id, method, args))
        except OSError:
            self._pending.pop(call_id, None)
            _fail(future, EngineGone("the engine has stopped"))
        return future

    async def _call(self, method: str, *args: Any) -> Any:
        return await asyncio.wrap_future(self._start_call(method, *args))

    def _call_now(self, method: str, *args: Any) -> Any:
        return self._start_call(method, *args).result(CALL_TIMEOUT_S)

    def _send(self, message: tuple[Any, ...]) -> None:
        data = frame(message)
        with self._send_lock:
            self._sock.sendall(data)

    # --- the reader thread -----------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            while True:
                message = unframe(self._exactly(body_length(self._exactly(HEADER.size))))
                self._dispatch(message)
        except (ConnectionError, OSError, EOFError):
            pass  # the engine's process closed its end: it has ended (or is ending)
        except Exception:  # a message this side cannot take: the link is unusable, say why in the log
            log.exception("the link to the engine's process broke")
        finally:
            self._on_gone()

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self._sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ConnectionError("the engine's process closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "view":
            self._take_view(*message[1:])
        elif kind == "events":
            self._deliver(message[1])
        elif kind == "reply":
            _, call_id, ok, value = message
            future = self._pending.pop(call_id, None)
            if future is None:
                return
            with contextlib.suppress(concurrent.futures.InvalidStateError):  # the caller gave up
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(exception_from_wire(value))
        elif kind == "ready":
            self.environment = message[1]
            with contextlib.suppress(concurrent.futures.InvalidStateError):  # the app gave up waiting
                self._ready.set_result(message[1])
        elif kind == "failed":
            _fail(self._ready, exception_from_wire(message[1]))
        elif kind == "closed":
            self.resting_at_close = message[1]

    def _take_view(
        self, seq: int, header: bytes, parts: list[tuple[str, bytes | None]], logs_changed: bool
    ) -> None:
        """The new view. A match sent as None is unchanged: the object the app already holds is kept
        (so a screen can tell it need not redraw it); the log comes only when it changed."""
        if seq <= self._view_seq:
            raise WireError(f"view {seq} after view {self._view_seq}")
        head = pickle.loads(header)
        if logs_changed:
            self._logs = head.logs
        matches = []
        for match_id, data in parts:
            if data is not None:
                matches.append(pickle.loads(data))
            elif match_id in self._matches:
                matches.append(self._matches[match_id])
            else:
                raise WireError(f"view {seq} keeps match {match_id!r}, which the app never got")
        self._matches = {m.spec.match_id: m for m in matches}
        view = dataclasses.replace(head, matches=tuple(matches), logs=self._logs)
        with self._view_ready:
            self._view_seq = seq
            self._view = view
            self._view_ready.notify_all()

    def _deliver(self, events: list[Any]) -> None:
        for loop, callback in list(self._listeners):

            def run(callback: Callable[[Any], None] = callback) -> None:
                for event in events:
                    callback(event)

            with contextlib.suppress(RuntimeError):  # the app's loop has closed: nobody listens
                loop.call_soon_threadsafe(run)

    def _on_gone(self) -> None:
        self._gone.set()
        with self._view_ready:
            self._view_ready.notify_all()
        for call_id in list(self._pending):
            future = self._pending.pop(call_id, None)
            if future is not None:
                _fail(future, EngineGone("the engine has stopped"))
        _fail(self._ready, EngineGone("the engine's process ended during start-up"))
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            self._closed.set_result(self.resting_at_close)
        if not self._closing and self.on_lost is not None:
            self.on_lost()

    # --- life ------------------------------------------------------------------------------------------

    async def wait_ready(self) -> str:
        return await asyncio.wrap_future(self._ready)

    async def close(self) -> int | None:
        """Ask the engine to close (every order pulled, verified) and wait for its process to end."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._send(("close",))
        try:
            await asyncio.wait_for(asyncio.wrap_future(self._closed), CLOSE_TIMEOUT_S)
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.error("the engine's process did not close in %.0f s: killing it; orders may remain "
                      "on the exchange until the next start reconciles them", CLOSE_TIMEOUT_S)
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
        finally:
            with contextlib.suppress(OSError):
                self._sock.close()
        return self.resting_at_close


def _fail(future: concurrent.futures.Future[Any], error: BaseException) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # settled meanwhile
        future.set_exception(error)


def yield_the_cpu(niceness: int) -> None:
    """Lower this process's (the app's) scheduling priority below the engine's, which was started
    at the priority the app had. On a machine whose cores are busy, the kernel then runs the engine
    first when both are ready: drawing the screen waits a little, never a quote. An unprivileged
    process may always lower its own priority; it cannot raise it back."""
    with contextlib.suppress(OSError):
        os.nice(niceness)


def _spawn(theirs: socket.socket, stderr: Path | None) -> subprocess.Popen[bytes]:
    """The engine's process, holding the other end of the socket; never writing to the terminal."""
    err = open(stderr, "ab") if stderr is not None else None  # noqa: SIM115 - the child holds its own
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "kmm_tui.engine_host", "--fd", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    finally:
        if err is not None:
            err.close()


@contextlib.asynccontextmanager
async def engine_in_process(
    opener: str,
    argument: Any,
    *,
    log_to: tuple[Path, int] | None = None,
    secrets: tuple[str, ...] = (),
    stderr: Path | None = None,
    app_niceness: int = 0,
) -> AsyncIterator[ProcessEngine]:
    """Start the engine's process, open the engine there with ``opener(argument)`` (``"module:function"``,
    an async context manager factory), and yield its client. On exit (normal or not) the engine is
    closed in its process and the process has ended. A start-up error is raised here as the opener
    raised it."""
    register_fast_pickling()
    ours, theirs = socket.socketpair()
    try:
        process = _spawn(theirs, stderr)
    finally:
        theirs.close()
    if app_niceness > 0:
        yield_the_cpu(app_niceness)
    engine = ProcessEngine(ours, process)
    start = {
        "opener": opener,
        "argument": argument,
        "sys_path": list(sys.path),
        "log": None if log_to is None else (str(log_to[0]), log_to[1]),
        "secrets": secrets,
    }
    try:
        engine._send(("start", start))
        await engine.wait_ready()
    except BaseException:
        await engine.close()
        raise
    try:
        yield engine
    finally:
        await engine.close()
