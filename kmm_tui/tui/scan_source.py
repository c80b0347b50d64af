"""The Scanner mode's data source: the market scanner (``kmm_tui.scan``) over the app's REST client.

The TUI filters (sport, min spread, starts within) locally as the user types, so one scan fetches
every open market of the configured series (mode ``all``) and the rows are converted to the app's
``ScanRow``; ``r`` in the Scanner fetches again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.scan import model as scan_model
from kmm_tui.scan.catalogue import Catalogue
from kmm_tui.scan.scanner import Scanner
from kmm_tui.tui.port import ScanRow


def to_row(row: scan_model.ScanRow) -> ScanRow:
    return ScanRow(
        sport=row.sport,
        series=row.series,
        event_ticker=row.event_ticker,
        ticker=row.ticker,
        team=row.team,
        bid=row.bid,
        ask=row.ask,
        volume=row.volume,
        start_ms=row.start_ms,
        is_tie=row.is_tie,
    )


def scan_source(
    rest: KalshiRest, configured_series: Sequence[str], clock: Callable[[], int]
) -> Callable[[], Awaitable[Sequence[ScanRow]]]:
    """A zero-argument coroutine function the app calls for each (re)scan."""
    catalogue = Catalogue.packaged()
    scanner = Scanner(rest, catalogue)
    selection = catalogue.selection(configured_series)
    filters = scan_model.ScanFilter(mode=scan_model.Mode.ALL)

    async def scan() -> Sequence[ScanRow]:
        result = await scanner.scan(selection, filters, clock())
        return [to_row(row) for row in result.rows]

    return scan
