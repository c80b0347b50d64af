"""Scanner mode: markets by sport/series with bid/ask/spread/volume/start, filters, and one key (``m``
or Enter) to turn the selected market and its opponent into a match setup."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input

from kmm_tui.domain.prices import Price, WireFormatError, price_from_cents
from kmm_tui.engine.state import EngineView
from kmm_tui.tui.port import ScanRow
from kmm_tui.tui.rows import SCAN_COLUMNS, scan_row
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine

TIE_WORDS = ("TIE", "DRAW")


class ScanFilterError(ValueError):
    """A filter box holds something that is not a number."""


def parse_filters(sport: str, min_spread: str, within_hours: str) -> tuple[str, Price | None, int | None]:
    """Filter boxes → (sport fragment, minimum spread as Price, horizon in ms)."""
    spread: Price | None = None
    horizon: int | None = None
    if min_spread.strip():
        try:
            spread = price_from_cents(min_spread.strip())
        except WireFormatError as error:
            raise ScanFilterError(f"min spread: {error}") from None
    if within_hours.strip():
        try:
            hours = Decimal(within_hours.strip())
        except InvalidOperation:
            raise ScanFilterError(f"starting within: {within_hours!r} is not a number of hours") from None
        if not hours.is_finite() or hours < 0:
            raise ScanFilterError("starting within: hours must be 0 or more")
        horizon = int(hours * 3_600_000)
    return sport.strip().casefold(), spread, horizon


def filter_rows(
    rows: Sequence[ScanRow], sport: str, min_spread: Price | None, horizon_ms: int | None, now_ms: int
) -> list[ScanRow]:
    """Rows passing every filter, sorted by start time then ticker (unknown starts last)."""
    kept = []
    for row in rows:
        if sport and sport not in row.sport.casefold() and sport not in row.series.casefold():
            continue
        if min_spread is not None and (row.spread is None or row.spread < min_spread):
            continue
        if horizon_ms is not None and (
            row.start_ms is None or not now_ms <= row.start_ms <= now_ms + horizon_ms
        ):
            continue
        kept.append(row)
    kept.sort(key=lambda r: (r.start_ms is None, r.start_ms or 0, r.event_ticker, r.ticker))
    return kept


def opponent(rows: Sequence[ScanRow], chosen: ScanRow) -> ScanRow | None:
    """The other team's market in the same event (a tie/draw market is never the opponent)."""
    same = [r for r in rows if r.event_ticker == chosen.event_ticker and r.ticker != chosen.ticker]
    teams = [r for r in same if not r.is_tie and not any(r.ticker.endswith(f"-{w}") for w in TIE_WORDS)]
    return (teams or same or [None])[0]


class ScannerScreen(ModeScreen):
    AUTO_FOCUS = "#scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "make_match", "Make match"),
        Binding("r", "rescan", "Rescan"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[ScanRow] = []
        self._loaded = False

    def compose_body(self) -> ComposeResult:
        yield TextLine("Scanner", classes="mode-title", id="scan-title")
        with Horizontal(id="scan-filters"):
            yield Input(placeholder="sport / series", id="scan-sport", compact=True)
            yield Input(placeholder="min spread ¢", id="scan-spread", compact=True)
            yield Input(placeholder="starts within h", id="scan-hours", compact=True)
        yield TextLine("", id="scan-hint", classes="hint")
        yield SyncTable(SCAN_COLUMNS, id="scan")

    @property
    def main_table(self) -> SyncTable:
        return self.query_one("#scan", SyncTable)

    def on_mount(self) -> None:
        if not self._loaded:
            self.action_rescan()

    def open_filter(self) -> None:
        self.query_one("#scan-sport", Input).focus()

    @work(exclusive=True, group="scan")
    async def action_rescan(self) -> None:
        hint = self.query_one("#scan-hint", TextLine)
        hint.show("scanning…")
        try:
            self._rows = list(await self.kmm.load_scan())
        except Exception as error:  # the hint shows what to do; details go to the log file
            self.kmm.log_exception("scan failed", error)
            hint.show(f"scan failed: {error} — press r to retry")
            return
        self._loaded = True
        self._refilter()

    @on(Input.Changed, "#scan-filters Input")
    def _filters_changed(self) -> None:
        self._refilter()

    @on(Input.Submitted, "#scan-filters Input")
    def _filters_done(self) -> None:
        self.main_table.focus()

    def _refilter(self) -> None:
        hint = self.query_one("#scan-hint", TextLine)
        now = self.kmm.now_ms()
        try:
            sport, spread, horizon = parse_filters(
                self.query_one("#scan-sport", Input).value,
                self.query_one("#scan-spread", Input).value,
                self.query_one("#scan-hours", Input).value,
            )
        except ScanFilterError as error:
            hint.show(str(error))
            return
        rows = filter_rows(self._rows, sport, spread, horizon, now)
        hint.show(
            f"{len(rows)} of {len(self._rows)} markets — m or Enter: make a match from the selected market"
        )
        self.main_table.sync([scan_row(r, now) for r in rows])

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)  # rows come from scans, not snapshots

    def selected_pair(self) -> tuple[str, str] | None:
        """The selected market and its opponent, as (ticker_a, ticker_b) for the setup form."""
        key = self.main_table.selected_key
        chosen = next((r for r in self._rows if r.ticker == key), None)
        if chosen is None:
            return None
        other = opponent(self._rows, chosen)
        return chosen.ticker, other.ticker if other else ""

    def action_make_match(self) -> None:
        pair = self.selected_pair()
        if pair is None:
            self.notify("select a market first (arrow keys), then press m", severity="warning")
            return
        self.kmm.open_match_form(prefill={"ticker_a": pair[0], "ticker_b": pair[1]})

    @on(DataTable.RowSelected, "#scan")
    def _selected(self) -> None:
        self.action_make_match()
