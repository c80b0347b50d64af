"""Scanner mode: one row per match (two teams, home/tie/away, or one YES/NO market) with a row per
outcome under it, filters, and one key (``m`` or Enter on any of its rows) to open the setup form for
the whole match. Events of no supported shape are listed with the reason and never offered.

Rows come from the market scanner (``kmm_tui.scan``, through ``tui/scan_source.py``); the marker of a
match this engine already has comes from the snapshots the app hands every screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input

from kmm_tui.domain.prices import (
    Count,
    Price,
    WireFormatError,
    format_cents,
    format_contracts,
    price_from_cents,
)
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.state import EngineView
from kmm_tui.scan.grouping import sort_ms
from kmm_tui.scan.model import SHAPE_LABELS, ScanMatch, ScanResult, StartTime, Unsupported
from kmm_tui.tui.format import DASH, cents, clock, start_in
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import Cell, Column, SyncTable
from kmm_tui.tui.widgets.text_line import TextLine

Row = tuple[str, dict[str, Cell]]
QUOTING = frozenset({MatchStatus.QUOTING, MatchStatus.DRY_RUN, MatchStatus.STARTING})
WIDE_SPREAD = price_from_cents(3)

SCAN_COLUMNS = (
    Column("ours", "Ours", 9, priority=1),
    Column("start", "Start", 18),
    Column("sport", "Sport", 10, priority=2),
    Column("match", "Match / outcome", 18, flex=True),
    Column("shape", "Shape", 6, priority=1),
    Column("bid", "Bid", 6),
    Column("ask", "Ask", 6),
    Column("spread", "Sprd", 5),
    Column("sum", "Bid Σ", 6, priority=1),
    Column("over", "Over", 6, priority=1),
    Column("depth", "Depth", 11, priority=2),
    Column("ticker", "Ticker", 34, priority=3),
)


class ScanFilterError(ValueError):
    """A filter box holds something that is not a number."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The filter boxes, parsed: sport/series fragment, minimum widest spread, start horizon."""

    sport: str = ""
    min_spread: Price | None = None
    horizon_ms: int | None = None


def parse_filters(sport: str, min_spread: str, within_hours: str) -> Filters:
    """Filter boxes → :class:`Filters`; a typo raises :class:`ScanFilterError` with the box's name."""
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
    return Filters(sport.strip().casefold(), spread, horizon)


def _passes(
    sport: str, series: str, start: StartTime, widest: Price, filters: Filters, now_ms: int
) -> bool:
    if filters.sport and filters.sport not in sport.casefold() and filters.sport not in series.casefold():
        return False
    if filters.min_spread is not None and widest < filters.min_spread:
        return False
    if filters.horizon_ms is None:
        return True
    return start.ms is not None and now_ms <= start.ms <= now_ms + filters.horizon_ms


def _start_key(start: StartTime) -> tuple[bool, int]:
    key = sort_ms(start)
    return key is None, key or 0


def filter_matches(result: ScanResult, filters: Filters, now_ms: int) -> list[ScanMatch]:
    """Matches passing every filter (min spread on the widest outcome), by start (unknown last)."""
    kept = [
        m
        for m in result.matches
        if _passes(m.sport, m.series, m.start, m.widest_spread, filters, now_ms)
    ]
    kept.sort(key=lambda m: (*_start_key(m.start), m.event_ticker, m.key))
    return kept


def filter_unsupported(result: ScanResult, filters: Filters, now_ms: int) -> list[Unsupported]:
    return [
        e for e in result.unsupported if _passes(e.sport, e.series, e.start, e.widest_spread, filters, now_ms)
    ]


def engine_marks(view: EngineView | None) -> dict[frozenset[str], str]:
    """What this engine does with each set of markets: ``● quoting`` while it quotes (or starts, or
    dry-runs), ``○ <status>`` for a match it has but does not quote."""
    if view is None:
        return {}
    marks: dict[frozenset[str], str] = {}
    for match in view.matches:
        dot = "●" if match.status in QUOTING else "○"
        marks[frozenset(match.spec.tickers)] = f"{dot} {match.status.value}"
    return marks


def _size(count: Count | None) -> str:
    return DASH if count is None else format_contracts(count)


def _start(start: StartTime, now_ms: int, tz: tzinfo | None) -> str:
    if start.ms is None:
        return DASH if start.eastern_date is None else f"{start.eastern_date:%b %d} (date)"
    return f"{clock(start.ms, tz, seconds=False)} ({start_in(start.ms, now_ms)})"


def match_rows(
    match: ScanMatch, now_ms: int, tz: tzinfo | None, marks: Mapping[frozenset[str], str]
) -> list[Row]:
    """The match's row (key ``match.key``) and one row per outcome (``key|side``) under it."""
    over = match.overround
    mark = marks.get(frozenset(match.tickers), "")
    rows: list[Row] = [
        (
            match.key,
            {
                "ours": Text(mark, style="green" if mark.startswith("●") else ""),
                "start": _start(match.start, now_ms, tz),
                "sport": match.sport,
                "match": Text(match.name, style="bold"),
                "shape": SHAPE_LABELS[match.shape],
                "bid": "",
                "ask": "",
                "spread": Text(
                    format_cents(match.widest_spread),
                    style="green" if match.widest_spread >= WIDE_SPREAD else "",
                ),
                "sum": format_cents(match.bid_sum),
                "over": DASH if over is None else ("+" if over > 0 else "") + format_cents(over),
                "depth": _size(match.depth),
                "ticker": match.event_ticker,
            },
        )
    ]
    for outcome in match.outcomes:
        rows.append(
            (
                f"{match.key}|{outcome.side}",
                {
                    "ours": "",
                    "start": "",
                    "sport": "",
                    "match": f"  {outcome.side} {outcome.label}",
                    "shape": "",
                    "bid": cents(outcome.bid),
                    "ask": cents(outcome.ask),
                    "spread": format_cents(outcome.spread),
                    "sum": "",
                    "over": "",
                    "depth": f"{_size(outcome.bid_size)} x {_size(outcome.ask_size)}",
                    "ticker": outcome.ticker,
                },
            )
        )
    return rows


def unsupported_row(event: Unsupported, now_ms: int, tz: tzinfo | None) -> Row:
    cells: dict[str, Cell] = dict.fromkeys((c.key for c in SCAN_COLUMNS), "")
    cells.update(
        start=_start(event.start, now_ms, tz),
        sport=event.sport,
        match=Text(f"{event.title}: not supported — {event.reason}", style="bright_black"),
        shape=DASH,
        ticker=event.event_ticker,
    )
    return f"unsupported|{event.event_ticker}", cells


def match_for_key(matches: Sequence[ScanMatch], key: str | None) -> ScanMatch | None:
    """The match a row belongs to: its own row or any of its outcome rows."""
    if key is None:
        return None
    wanted = key.rsplit("|", 1)[0] if "|" in key and not key.startswith("unsupported|") else key
    return next((m for m in matches if m.key == wanted), None)


class ScannerScreen(ModeScreen):
    AUTO_FOCUS = "#scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "make_match", "Make match"),
        Binding("r", "rescan", "Rescan"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._result: ScanResult | None = None
        self._shown: list[ScanMatch] = []
        self._unsupported: list[Unsupported] = []
        self._marks: dict[frozenset[str], str] = {}

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
        if self._result is None:
            self.action_rescan()

    def open_filter(self) -> None:
        self.query_one("#scan-sport", Input).focus()

    @work(exclusive=True, group="scan")
    async def action_rescan(self) -> None:
        hint = self.query_one("#scan-hint", TextLine)
        hint.show("scanning…")
        try:
            self._result = await self.kmm.load_scan()
        except Exception as error:  # the hint shows what to do; details go to the log file
            self.kmm.log_exception("scan failed", error)
            hint.show(f"scan failed: {error} — press r to retry")
            return
        self._refilter()

    @on(Input.Changed, "#scan-filters Input")
    def _filters_changed(self) -> None:
        self._refilter()

    @on(Input.Submitted, "#scan-filters Input")
    def _filters_done(self) -> None:
        self.main_table.focus()

    def _refilter(self) -> None:
        if self._result is None:
            return
        hint = self.query_one("#scan-hint", TextLine)
        now = self.kmm.now_ms()
        try:
            filters = parse_filters(
                self.query_one("#scan-sport", Input).value,
                self.query_one("#scan-spread", Input).value,
                self.query_one("#scan-hours", Input).value,
            )
        except ScanFilterError as error:
            hint.show(str(error))
            return
        self._shown = filter_matches(self._result, filters, now)
        self._unsupported = filter_unsupported(self._result, filters, now)
        skipped = f", {len(self._unsupported)} not supported" if self._unsupported else ""
        hint.show(
            f"{len(self._shown)} of {len(self._result.matches)} matches{skipped} — "
            "m or Enter on a match or any of its outcomes: set up the whole match"
        )
        self._sync(now)

    def _sync(self, now_ms: int) -> None:
        tz = self.kmm.tz
        rows = [row for m in self._shown for row in match_rows(m, now_ms, tz, self._marks)]
        rows += [unsupported_row(e, now_ms, tz) for e in self._unsupported]
        self.main_table.sync(rows)

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)  # rows come from scans; snapshots only mark our matches
        marks = engine_marks(view)
        if marks != self._marks:
            self._marks = marks
            self._sync(now_ms)

    def selected_prefill(self) -> dict[str, str] | None:
        """The selected match's tickers for the setup form (``ticker_a``, ``ticker_b`` and for a
        three-way match ``ticker_tie``), whichever of its rows is selected."""
        match = match_for_key(self._shown, self.main_table.selected_key)
        return None if match is None else match.form_tickers

    def action_make_match(self) -> None:
        key = self.main_table.selected_key
        if key is not None and key.startswith("unsupported|"):
            event = next((e for e in self._unsupported if f"unsupported|{e.event_ticker}" == key), None)
            reason = event.reason if event is not None else "its shape is not supported"
            self.notify(f"not a match kmm can quote: {reason}", severity="warning", timeout=8)
            return
        prefill = self.selected_prefill()
        if prefill is None:
            self.notify("select a match first (arrow keys), then press m", severity="warning")
            return
        self.kmm.open_match_form(prefill=prefill)

    @on(DataTable.RowSelected, "#scan")
    def _selected(self) -> None:
        self.action_make_match()
