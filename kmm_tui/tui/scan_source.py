"""The Scanner mode's data source: the market scanner (``kmm_tui.scan``) over the app's REST client.

The TUI filters (sport, min spread, starts within) locally as the user types, so one scan fetches
every open market of the configured series (mode ``all``) and hands the whole :class:`ScanResult`
(matches of every shape and the events of no supported shape) to the screen; ``r`` fetches again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.scan.catalogue import Catalogue
from kmm_tui.scan.model import Mode, ScanFilter, ScanResult
from kmm_tui.scan.scanner import Scanner

ScanSource = Callable[[], Awaitable[ScanResult]]


def scan_source(rest: KalshiRest, configured_series: Sequence[str], clock: Callable[[], int]) -> ScanSource:
    """A zero-argument coroutine function the app calls for each (re)scan."""
    catalogue = Catalogue.packaged()
    scanner = Scanner(rest, catalogue)
    selection = catalogue.selection(configured_series)
    filters = ScanFilter(mode=Mode.ALL)

    async def scan() -> ScanResult:
        return await scanner.scan(selection, filters, clock())

    return scan
