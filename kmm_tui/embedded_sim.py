"""An embedded simulator on its own thread, for synchronous front-ends that need an exchange URL.

``kmm scan`` and ``kmm odds coverage`` read public market data from whatever environment is chosen. In
``sim`` there is no address until a simulator runs; this starts one (scripted traders on, so books look
alive) on a private event loop in a daemon thread and yields its REST and WebSocket URLs. Keeping this
in a top-level front-end module keeps the scanner and odds layers free of any dependency on the
simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from kmm_tui.sim import SimServer

START_TIMEOUT_S = 15.0


@contextlib.contextmanager
def simulator_thread(scenario: str | None = None) -> Iterator[tuple[str, str]]:
    """Run a SimServer in a background thread; yields ``(rest_url, ws_url)``; stops it on exit."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    urls: list[str] = []
    failure: list[BaseException] = []

    async def serve() -> None:
        try:
            async with SimServer(scenario, agents=True) as sim:
                urls.extend((sim.base_url, sim.ws_url))
                ready.set()
                await stop.wait()
        except BaseException as error:  # reported to the caller's thread below
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="kmm-sim", daemon=True)
    thread.start()
    try:
        if not ready.wait(START_TIMEOUT_S):
            raise OSError("the embedded simulator did not start in time")
        if failure:
            raise OSError(f"the embedded simulator could not start: {failure[0]}")
        yield urls[0], urls[1]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
