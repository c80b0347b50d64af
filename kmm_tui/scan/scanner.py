"""The market scanner: the one implementation behind ``kmm scan`` and the TUI's Scanner mode.

For each selected series it fetches, concurrently, the open markets (``GET /markets``: top of book,
sizes and volume come with them, so no order-book calls) and the open events with milestones
(``GET /events?with_nested_markets=true&with_milestones=true``: titles, scheduled starts, the
``mutually_exclusive`` flag and every market of the event, open or not, which decide a match's shape).
At most ``concurrency`` requests are in flight; the client's rate limiter still paces them within the
account's read budget, so a wide scan queues instead of earning 429s. Everything after the fetch is
pure (``grouping.py``).

Errors are the client's :class:`~kmm_tui.kalshi.errors.KalshiError`: one failing series fails the
scan, because a silently partial list would hide markets the user expects to see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from kmm_tui.kalshi.models import Event, Market
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.scan.catalogue import Catalogue, SeriesEntry, expand_prefixes
from kmm_tui.scan.grouping import ScanEvent, apply_filters, build_events
from kmm_tui.scan.model import ScanFilter, ScanResult

DEFAULT_CONCURRENCY = 8
T = TypeVar("T")


async def _all(*calls: Awaitable[Any]) -> list[Any]:
    """Like ``asyncio.gather``, but the first failure cancels the rest and waits for them, so a failed
    scan stops sending requests at once and leaves nothing running."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Scanner:
    """Scan series through a :class:`KalshiRest` (public endpoints: no key needed)."""

    def __init__(
        self, rest: KalshiRest, catalogue: Catalogue | None = None, *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"scanner concurrency must be at least 1 (got {concurrency})")
        self.rest = rest
        self.catalogue = catalogue or Catalogue.packaged()
        self._limit = asyncio.Semaphore(concurrency)

    async def _bounded(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` once a slot is free (the request is only created then, so a cancelled scan
        leaves no never-started coroutine behind)."""
        async with self._limit:
            return await call()

    async def resolve(self, selection: Sequence[SeriesEntry]) -> tuple[SeriesEntry, ...]:
        """Expand prefix entries against the exchange's series list (one extra request, only if needed)."""
        if not any(entry.prefix for entry in selection):
            return tuple(selection)
        series = await self._bounded(self.rest.list_series)
        return expand_prefixes(selection, (s.ticker for s in series))

    async def _series(self, entry: SeriesEntry) -> tuple[list[Market], list[Event]]:
        rest, ticker = self.rest, entry.ticker
        markets, events = await _all(
            self._bounded(lambda: rest.list_markets(series_ticker=ticker, status="open")),
            self._bounded(
                lambda: rest.list_events(
                    series_ticker=ticker, status="open", with_nested_markets=True, with_milestones=True
                )
            ),
        )
        return markets, events

    async def fetch(
        self, selection: Sequence[SeriesEntry]
    ) -> tuple[tuple[SeriesEntry, ...], list[ScanEvent], int]:
        """All events of the selected series, unfiltered: ``(series scanned, events, markets seen)``."""
        resolved = await self.resolve(selection)
        results = await _all(*(self._series(entry) for entry in resolved))
        events: list[ScanEvent] = []
        seen = 0
        for entry, (markets, raw_events) in zip(resolved, results, strict=True):
            by_ticker = {event.event_ticker: event for event in raw_events}
            open_markets = [m for m in markets if m.is_active]
            seen += len(open_markets)
            events.extend(build_events(entry, open_markets, by_ticker))
        return resolved, events, seen

    async def scan(self, selection: Sequence[SeriesEntry], filters: ScanFilter, now_ms: int) -> ScanResult:
        """Fetch, group, filter and order. ``now_ms`` is the clock the game-day window is measured from."""
        resolved, events, seen = await self.fetch(selection)
        rows, matches, unsupported = apply_filters(events, filters, now_ms)
        series = tuple(e.ticker for e in resolved)
        return ScanResult(rows, matches, series, seen, now_ms, filters, unsupported)
