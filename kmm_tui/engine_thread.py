"""The engine on its own thread and event loop, with the app as a client (issue #18, item 3).

Why: on one loop every redraw of the app (tens of milliseconds with 50 live matches) delayed the feed
and the reaction to a competitor by as long (docs/benchmarks.md, `bench_tui.py`). With the engine on
its own loop the app's work only competes for the GIL, which Python hands over every switch interval.
Measured against a separate process (docs/benchmarks.md): a thread keeps the engine's safe-exit paths
as they are (one process, one journal, the same ``open_engine`` that always closes verified) and
needs no wire format for snapshots and commands.

The contract: the engine's state is only touched on its own loop. :class:`ThreadedEngine` satisfies
the app's ``EnginePort`` by crossing every call over with ``run_coroutine_threadsafe`` /
``call_soon_threadsafe``; snapshots are frozen dataclasses, safe to hand across. Events are queued on
the engine's side and delivered on the app's loop in batches (one wake-up of the app's loop per
batch, not per event, so a busy feed costs the engine a deque append per event).

Exit paths: :func:`engine_on_thread` closes the engine on its own loop whatever ends the app (quit
key, a signal the app's loop turned into ``app.exit``, a crash), through the opener's own close
(``open_engine``: every order pulled and verified), and waits for that before returning.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from kmm_tui.eventloop import loop_factory

T = TypeVar("T")
E = TypeVar("E", bound="Listenable")

CALL_TIMEOUT_S = 5.0  # a synchronous call (snapshot, preview) waits this long for the engine's loop


class Listenable(Protocol):
    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...


class EngineGone(RuntimeError):
    """The engine's loop has stopped: nothing can be asked of it any more."""


class ThreadedEngine(Generic[E]):
    """The app's view of an engine that runs on ``loop`` in another thread.

    Every method is called on the app's loop (the thread that made this object, or any thread that
    is not the engine's); each runs the engine's method on the engine's loop and hands back its
    result or exception.
    """

    def __init__(self, engine: E, loop: asyncio.AbstractEventLoop) -> None:
        self.engine = engine
        self.loop = loop
        self.environment: str = getattr(engine, "environment", "")
        self._last_snapshot: Any = None

    # --- crossing over -------------------------------------------------------------------------------

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a plain function on the engine's loop and wait for its result (short calls only)."""
        if self._on_engine_thread():
            return function(*args)
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(function(*args))
            except BaseException as error:  # handed to the caller, who raises it
                done.set_exception(error)

        try:
            self.loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop is closed
            raise EngineGone("the engine has stopped") from None
        return done.result(CALL_TIMEOUT_S)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine of the engine on the engine's loop, from the app's loop."""
        if self._on_engine_thread():
            return await coroutine
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError:
            coroutine.close()
            raise EngineGone("the engine has stopped") from None
        return await asyncio.wrap_future(future)

    def _on_engine_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    # --- the EnginePort surface ------------------------------------------------------------------------

    def snapshot(self) -> Any:
        """The engine's current snapshot, built on its loop; after the engine stopped, the last one."""
        try:
            self._last_snapshot = self.call(self.engine.snapshot)  # type: ignore[attr-defined]
        except (EngineGone, concurrent.futures.TimeoutError):
            if self._last_snapshot is None:
                raise
        return self._last_snapshot

    async def execute(self, command: Any) -> None:
        await self.run(self.engine.execute(command))  # type: ignore[attr-defined]

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Events reach ``callback`` on the caller's loop, in order, batched per wake-up."""
        target = asyncio.get_running_loop()
        pending: deque[Any] = deque()
        scheduled = False

        def deliver() -> None:
            nonlocal scheduled
            scheduled = False  # cleared before draining: an event queued from now on schedules again
            while pending:
                callback(pending.popleft())

        def on_engine_event(event: Any) -> None:  # on the engine's loop: an append, rarely a wake-up
            nonlocal scheduled
            pending.append(event)
            if not scheduled:
                scheduled = True
                with contextlib.suppress(RuntimeError):  # the app's loop has closed: nobody listens
                    target.call_soon_threadsafe(deliver)

        unlisten = self.call(self.engine.listen, on_engine_event)

        def stop() -> None:
            with contextlib.suppress(EngineGone, concurrent.futures.TimeoutError):
                self.call(unlisten)

        return stop

    async def describe_pair(self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> Any:
        return await self.run(self.engine.describe_pair(ticker_a, ticker_b, ticker_tie))  # type: ignore[attr-defined]

    def preview(self, spec: Any) -> Any:
        return self.call(self.engine.preview, spec)  # type: ignore[attr-defined]

    async def preview_live(self, spec: Any) -> Any:
        return await self.run(self.engine.preview_live(spec))  # type: ignore[attr-defined]

    async def feed_theo(
        self, ticker_a: str, ticker_b: str, method: Any, ticker_tie: str | None = None
    ) -> Any:
        return await self.run(
            self.engine.feed_theo(ticker_a, ticker_b, method, ticker_tie)  # type: ignore[attr-defined]
        )

    def confirm_pairing(self, choice: object, index: int) -> None:
        self.call(self.engine.confirm_pairing, choice, index)  # type: ignore[attr-defined]

    def on_engine(self, source: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
        """A coroutine function of the engine's side (the scanner's REST reads) callable from the app."""

        async def crossed() -> T:
            async def inner() -> T:
                return await source()

            return await self.run(inner())

        return crossed


Opener = Callable[[], contextlib.AbstractAsyncContextManager[E]]


@contextlib.asynccontextmanager
async def engine_on_thread(
    opener: Opener[E], *, name: str = "kmm-engine"
) -> AsyncIterator[ThreadedEngine[E]]:
    """Open the engine with ``opener`` on a new thread and loop (uvloop where installed); yield a client.

    On exit (normal or not) the engine thread leaves the opener's context, which closes the engine on
    its own loop (every order pulled, verified), and this waits for it. A start-up error is raised
    here, in the caller's thread, as the opener raised it.
    """
    caller = asyncio.get_running_loop()
    ready: asyncio.Future[tuple[E, asyncio.AbstractEventLoop, asyncio.Event]] = caller.create_future()
    finished: asyncio.Future[None] = caller.create_future()

    def hand(future: asyncio.Future[Any], value: Any = None, error: BaseException | None = None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

        with contextlib.suppress(RuntimeError):
            caller.call_soon_threadsafe(settle)

    abandoned = threading.Event()  # the caller gave up during start-up (cancelled): stop opening
    opening: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []

    async def serve() -> None:
        stop = asyncio.Event()
        task = asyncio.current_task()
        assert task is not None
        opening.append((asyncio.get_running_loop(), task))
        if abandoned.is_set():
            return
        async with opener() as engine:
            hand(ready, (engine, asyncio.get_running_loop(), stop))
            await stop.wait()

    def main() -> None:
        try:
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                runner.run(serve())
        except BaseException as error:
            hand(ready, error=error)
            hand(finished, error=error)
            return
        hand(ready, error=EngineGone("the engine stopped during start-up"))
        hand(finished)

    thread = threading.Thread(target=main, name=name)
    thread.start()
    try:
        engine, loop, stop = await ready
    except BaseException:
        # The opener is cancelled where it is (it closes what it opened). The flag is set before
        # ``opening`` is read and serve() appends before it checks the flag, so one of them sees it.
        abandoned.set()
        for engine_loop, task in opening:
            with contextlib.suppress(RuntimeError):
                engine_loop.call_soon_threadsafe(task.cancel)
        await asyncio.to_thread(thread.join)
        with contextlib.suppress(BaseException):
            await finished  # the same error as ``ready``'s, raised once
        raise
    try:
        yield ThreadedEngine(engine, loop)
    finally:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        try:
            await asyncio.shield(finished)
        finally:
            await asyncio.to_thread(thread.join)
