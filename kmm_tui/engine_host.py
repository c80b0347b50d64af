"""The engine's own process: ``python -m kmm_tui.engine_host --fd N``, started by ``engine_process``.

Why a process (issue #18, item 3): on a thread of the app's process, every frame the app drew held
the GIL for milliseconds and the engine waited for it, so a busy screen doubled the feed delay's
tail. Here the app shares nothing with the engine but a socket.

Life of the process:
1. read the start message: which opener (``"module:function"``) to call with which argument, the
   app's ``sys.path``, where to log;
2. open the engine with it (a start-up error goes back as ``failed`` and the process exits);
3. serve until the app says ``close``, the socket ends (the app is gone: kill -9, a crash, a closed
   terminal) or SIGTERM/SIGHUP arrives: calls (commands, previews, look-ups) each on their own task,
   snapshot requests built a few matches at a time so the feed is never kept waiting for a whole
   snapshot, and engine events forwarded in batches (book updates coalesced: the app only redraws);
4. leave the opener's context, which closes the engine (every order pulled and verified), say
   ``closed`` with the orders still resting, and exit.
SIGINT is ignored: ctrl+c in a terminal goes to the whole process group, and the app decides.

Messages (tuples, ``engine_wire``): from the app ``("start", payload)``, ``("call", id, method,
args)``, ``("close",)``; to the app ``("ready", environment)``, ``("failed", error)``,
``("view", seq, header, [(match id, view or None)], logs_changed)``, ``("reply", id, ok, value)``,
``("events", list)``, ``("closed", resting)``. A reply always follows a view built after the call,
so what a command did is on the app's next snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import inspect
import logging
import os
import pickle
import signal
import socket
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kmm_tui.engine.events import BookUpdated
from kmm_tui.engine_wire import (
    HEADER,
    body_length,
    exception_to_wire,
    frame,
    register_fast_pickling,
    unframe,
)

log = logging.getLogger(__name__)

CALLS = frozenset(
    {"execute", "describe_pair", "preview", "preview_live", "feed_theo", "confirm_pairing", "extra"}
)
VIEW_CHUNK = 8  # matches built (and pickled) per turn of the loop: ~0.3 ms, then the feed may run
VIEW_INTERVAL_S = 0.1  # views go out on change at most this often: the app redraws at 10 Hz
VIEW_HEARTBEAT_S = 1.0
EVENTS_WAITING = 10_000  # events queued for a view that the app does not take (see Host.on_event)
SLOW_READER_BYTES = 8 * 1024 * 1024  # the app stopped reading: snapshots wait, events and replies do not

_extras: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Make ``function`` callable from the app as ``ProcessEngine.extra(name, ...)`` (an opener's
    services beyond the engine: the scanner's source, a bench's probe)."""
    _extras[name] = function


class Host:
    """One engine served to one app over one connection."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.engine: Any = None
        self.stop = asyncio.Event()
        self._seq = 0
        self._view_task: asyncio.Task[None] | None = None
        self._events: deque[Any] = deque(maxlen=EVENTS_WAITING)
        self._book_event: BookUpdated | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._logs_sent: tuple[int, Any] = (-1, None)
        self._last_view = 0.0
        self._sent: dict[str, bytes] = {}

    def send(self, message: tuple[Any, ...]) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(message))

    # --- incoming ----------------------------------------------------------------------------------

    async def read(self, reader: asyncio.StreamReader) -> None:
        """Dispatch the app's messages until it says close or the connection ends."""
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                message = unframe(await reader.readexactly(body_length(header)))
                kind = message[0]
                if kind == "close":
                    break
                if self.engine is None:
                    continue  # still opening: nothing to serve yet (the app waits for ready first)
                if kind == "call":
                    task = asyncio.create_task(self.call(*message[1:]))
                    self._calls.add(task)
                    task.add_done_callback(self._calls.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.warning("the app's connection ended: closing the engine")
        finally:
            self.stop.set()

    async def call(self, call_id: int, method: str, args: tuple[Any, ...]) -> None:
        try:
            if method not in CALLS:
                raise ValueError(f"unknown call {method!r}")
            if method == "extra":
                function: Callable[..., Any] = _extras[args[0]]
                args = args[1:]
            else:
                function = getattr(self.engine, method)
            result = function(*args)
            if inspect.isawaitable(result):
                result = await result
            reply: tuple[Any, ...] = ("reply", call_id, True, result)
            frame(reply)  # a result that cannot cross fails here, as an error reply
        except Exception as error:
            reply = ("reply", call_id, False, exception_to_wire(error))
        self.send_view_now()
        self.send(reply)

    # --- outgoing ----------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def send_view_now(self) -> None:
        """A whole view at once (after a call: the reply must follow a view that shows its effect)."""
        seq, events = self._next_seq(), self.take_events()
        self._send_view(seq, self._pickled(self.engine.match_views(self.engine.match_ids())))
        self._send_events(events)

    @staticmethod
    def _pickled(views: tuple[Any, ...]) -> list[tuple[str, bytes]]:
        return [(view.spec.match_id, pickle.dumps(view, pickle.HIGHEST_PROTOCOL)) for view in views]

    def _send_view(self, seq: int, built: list[tuple[str, bytes]]) -> None:
        """The view: per match its pickled view, or None where it is byte for byte the one the app got
        last (the app keeps that object: it need neither unpickle nor redraw it), then the header (all
        but the matches). The log (150 lines) crosses only when it changed.

        Views go out in the order of their numbers (see :meth:`send_view_in_chunks`), so "the one the
        app got last" is the last one sent."""
        parts: list[tuple[str, bytes | None]] = [
            (match_id, None if self._sent.get(match_id) == data else data) for match_id, data in built
        ]
        self._sent = dict(built)  # a match gone from the view is forgotten: back, it crosses whole
        header = self.engine.snapshot(matches=())
        logs = header.logs
        marker = (len(logs), logs[-1] if logs else None)
        logs_changed = marker[0] != self._logs_sent[0] or marker[1] is not self._logs_sent[1]
        if logs_changed:
            self._logs_sent = marker  # holds the last line: its identity cannot be reused meanwhile
        else:
            header = dataclasses.replace(header, logs=())
        self.send(("view", seq, pickle.dumps(header, pickle.HIGHEST_PROTOCOL), parts, logs_changed))
        self._last_view = asyncio.get_running_loop().time()

    async def send_view_in_chunks(self) -> None:
        """A view built VIEW_CHUNK matches per turn of the loop, then the events it reflects.

        Its number and the events are taken before the first match is built: events that come in
        meanwhile wait for the next view (which they ask for), so the app never redraws for an event
        on a view that may predate it. If a call's view went out meanwhile, this one is dropped (its
        events wait for the next): views never go out of order."""
        if self.writer.transport.get_write_buffer_size() > SLOW_READER_BYTES:
            return  # the app is not reading: the next change or heartbeat asks again
        seq, events = self._next_seq(), self.take_events()
        ids = self.engine.match_ids()
        built: list[tuple[str, bytes]] = []
        for start in range(0, len(ids), VIEW_CHUNK):
            built += self._pickled(self.engine.match_views(ids[start : start + VIEW_CHUNK]))
            await asyncio.sleep(0)
        if seq != self._seq:
            self._requeue(events)
            return
        self._send_view(seq, built)
        self._send_events(events)

    def view_due(self) -> None:
        """Something changed: a view goes out within VIEW_INTERVAL_S of the last one (one at a time)."""
        if self._view_task is None and self.engine is not None:
            self._view_task = asyncio.create_task(self._push_view())

    async def _push_view(self) -> None:
        try:
            wait = self._last_view + VIEW_INTERVAL_S - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.send_view_in_chunks()
        finally:
            self._view_task = None
        if self._events or self._book_event is not None:
            self.view_due()

    async def heartbeat(self) -> None:
        """Views also go out while nothing changes: ages ("8s old") and clocks in them move on."""
        while True:
            await asyncio.sleep(VIEW_HEARTBEAT_S)
            self.view_due()

    def on_event(self, event: Any) -> None:
        """Queued until the next view has gone out. Book updates only wake the app's redraw: the
        newest stands for all. The queue is bounded (an app that stopped reading, suspended with
        ctrl+z, must not grow the engine's memory): past EVENTS_WAITING the oldest go, and the views
        still carry the state they told of."""
        if isinstance(event, BookUpdated):
            self._book_event = event
        else:
            self._events.append(event)
        self.view_due()

    def take_events(self) -> list[Any]:
        events = list(self._events)
        self._events.clear()
        if self._book_event is not None:
            events.append(self._book_event)
            self._book_event = None
        return events

    def _requeue(self, events: list[Any]) -> None:
        """Events taken for a view that was dropped wait for the next one, ahead of newer ones."""
        newer, book = list(self._events), self._book_event
        self._events.clear()
        for event in [*events, *newer]:
            self.on_event(event)
        if book is not None:
            self._book_event = book

    def _send_events(self, events: list[Any]) -> None:
        if events:
            self.send(("events", events))

    def cancel_calls(self) -> None:
        """Calls still running when the engine closes get no reply: the app stops waiting for them when
        the connection ends."""
        for task in list(self._calls):
            task.cancel()

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()


async def host(sock: socket.socket, start: dict[str, Any]) -> int:
    """Open the engine, serve it until told to stop, close it; the process's exit status."""
    reader, writer = await asyncio.open_connection(sock=sock)
    server = Host(writer)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, server.stop.set)
    opener = _resolve(start["opener"])
    reading = asyncio.create_task(server.read(reader))
    status = 0

    async def life() -> None:
        async with opener(start["argument"]) as engine:
            server.engine = engine
            unlisten = engine.listen(server.on_event)
            server.send(("ready", getattr(engine, "environment", "")))
            server.send_view_now()
            beating = asyncio.create_task(server.heartbeat())
            await server.drain()
            from kmm_tui.gc_tuning import freeze_after_startup

            freeze_after_startup()
            try:
                await server.stop.wait()
            finally:
                beating.cancel()
                unlisten()
                server.cancel_calls()
        try:
            server.send_view_now()  # the app's last view is the closed engine (0 resting, stopped)
            resting = engine.snapshot().resting_orders
        except Exception:  # the count is a report; the close itself has verified
            log.exception("the closed engine's last view could not be sent")
            resting = None
        server.send(("closed", resting))

    living = asyncio.create_task(life())
    stopping = asyncio.create_task(server.stop.wait())
    try:
        await asyncio.wait({living, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not living.done() and server.engine is None:
            living.cancel()  # told to stop while opening: the opener closes what it opened
        await living
    except asyncio.CancelledError:
        status = 1
        server.send(("failed", exception_to_wire(RuntimeError("start-up abandoned"))))
    except Exception as error:
        status = 1
        if server.engine is None:
            log.info("engine start-up failed: %s", error)
            server.send(("failed", exception_to_wire(error)))
        else:
            log.exception("the engine failed while closing")
    finally:
        stopping.cancel()
        reading.cancel()
        await server.drain()
        writer.close()
    return status


def _resolve(reference: str) -> Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]:
    module_name, _, name = reference.partition(":")
    return getattr(importlib.import_module(module_name), name)  # type: ignore[no-any-return]


def _read_start(sock: socket.socket) -> dict[str, Any]:
    def exactly(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the app closed the connection before starting the engine")
            data += chunk
        return data

    message = unframe(exactly(body_length(exactly(HEADER.size))))
    if message[0] != "start":
        raise ConnectionError(f"expected a start message, got {message[0]!r}")
    start: dict[str, Any] = message[1]
    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kmm engine host")
    parser.add_argument("--fd", type=int, required=True)
    fd = parser.parse_args(argv).fd
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.umask(0o077)
    sock = socket.socket(fileno=fd)
    start = _read_start(sock)
    for path in reversed(start.get("sys_path", [])):
        if path not in sys.path:
            sys.path.insert(0, path)
    logging_to: tuple[str, int] | None = start.get("log")
    if logging_to is not None:
        from kmm_tui.logsetup import register_secret, setup_logging

        setup_logging(Path(logging_to[0]), logging_to[1])
        for secret in start.get("secrets", ()):
            register_secret(secret)
    register_fast_pickling()
    from kmm_tui.eventloop import loop_factory

    sock.setblocking(False)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(host(sock, start))


if __name__ == "__main__":
    # Run as ``-m`` this file is ``__main__``; openers import ``kmm_tui.engine_host`` (``provide``),
    # which must be the module that serves them, not a second copy.
    from kmm_tui.engine_host import main as host_main

    sys.exit(host_main())
