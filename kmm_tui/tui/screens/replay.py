"""Replay mode: recorded sessions, and what other edges would have earned on them (docs/replay.md).

The upper table lists the session files (newest first); Enter replays the selected one with its own
settings and with each edge typed in the edge line (comma list of cents), in a worker thread so the
app stays responsive. The lower table is the same side-by-side report as ``kmm replay`` — one row per
match and setting — with a sparkline of P&L (marked to theo) over the session, on one scale per match.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input

from kmm_tui.domain.prices import WireFormatError, format_contracts, format_usd, price_from_cents
from kmm_tui.replay import format as fmt
from kmm_tui.replay.report import Report, pnl_samples, replay_session, variants
from kmm_tui.replay.session import load_session
from kmm_tui.tui.format import sparkline, usd
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import Cell, Column, SyncTable
from kmm_tui.tui.widgets.text_line import TextLine

SPARK_WIDTH = 24
DEFAULT_EDGES = "1,2,3,4"

SESSION_COLUMNS = (
    Column("name", "Session"),
    Column("size", "Size", 10),
)
RESULT_COLUMNS = (
    Column("match", "Match", 22),
    Column("setting", "Setting", 18),
    Column("fills", "Fills", 6),
    Column("long", "Long A/B", 11),
    Column("pairs", "Pairs", 6),
    Column("pnl_a", "P&L if A", 10),
    Column("pnl_b", "P&L if B", 10),
    Column("fees", "Fees", 8, min_width=110),
    Column("markout", "Markout", 9, min_width=120),
    Column("spark", "P&L over the session", SPARK_WIDTH),
)


def parse_edges(text: str) -> list[int]:
    """The edge line: cents, comma separated (empty: only the recorded settings)."""
    edges = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            price = price_from_cents(item)
        except WireFormatError as error:
            raise ValueError(f"edge {item!r}: {error}") from None
        if price < 10:
            raise ValueError(f"edge {item!r} must be at least 0.1 cent")
        edges.append(price)
    return edges


def fidelity_summary(report: Report) -> str:
    """Decisions identical across the session's matches (the first line of the fidelity check)."""
    total = sum(m.decisions.total for m in report.matches)
    same = sum(m.decisions.identical for m in report.matches)
    word = "identical" if total and same == total else "DIFFERENT"
    return f"fidelity: decisions {word} ({same}/{total})"


def result_rows(report: Report) -> list[tuple[str, dict[str, Cell]]]:
    rows: list[tuple[str, dict[str, Cell]]] = []
    for match_report in report.matches:
        match = match_report.match
        start, end = match.records[0][1], match.records[-1][1]
        curves = [pnl_samples(row.pnl_curve, start, end, SPARK_WIDTH) for row in match_report.rows]
        low = min((min(c) for c in curves), default=0)
        high = max((max(c) for c in curves), default=0)
        for index, (row, curve) in enumerate(zip(match_report.rows, curves, strict=True)):
            inv = row.inventory
            cells: dict[str, Cell] = {
                "match": (match.name or match.match_id) if index == 0 else "",
                "setting": row.label,
                "fills": str(len(row.fills)),
                "long": f"{format_contracts(inv.count_long_a)}/{format_contracts(inv.count_long_b)}",
                "pairs": format_contracts(inv.locked_pairs),
                "pnl_a": usd(inv.pnl_if_a_wins),
                "pnl_b": usd(inv.pnl_if_b_wins),
                "fees": format_usd(inv.fees),
                "markout": usd(row.markout),
                "spark": Text(sparkline(curve, SPARK_WIDTH, low, high), style="cyan"),
            }
            rows.append((f"{match.index}:{index}", cells))
    return rows


class ReplayScreen(ModeScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "rescan", "Rescan sessions")]
    AUTO_FOCUS = "#replay-sessions"

    def compose_body(self) -> ComposeResult:
        yield TextLine("Replay — recorded sessions (Enter: replay with the edges below; r: rescan)",
                       classes="mode-title")
        yield SyncTable(SESSION_COLUMNS, id="replay-sessions")
        yield Input(value=DEFAULT_EDGES, placeholder="edges to compare, in cents: 1,2,3,4", id="replay-edges")
        yield TextLine("", id="replay-status")
        yield SyncTable(RESULT_COLUMNS, id="replay-results")

    def on_mount(self) -> None:
        self.action_rescan()

    @property
    def main_table(self) -> SyncTable:
        return self.query_one("#replay-sessions", SyncTable)

    def _folder(self) -> Path | None:
        return self.kmm.sessions_dir

    def action_rescan(self) -> None:
        folder = self._folder()
        files = sorted(folder.glob(f"*{fmt.SUFFIX}"), reverse=True) if folder and folder.is_dir() else []
        rows: list[tuple[str, dict[str, Cell]]] = [
            (f.name, {"name": f.name, "size": f"{f.stat().st_size // 1024 + 1} KiB"}) for f in files
        ]
        self.main_table.sync(rows)
        if not files:
            where = folder if folder is not None else "the state directory"
            self.query_one("#replay-status", TextLine).show(f"no recorded sessions in {where}")

    @on(DataTable.RowSelected, "#replay-sessions")
    def _session_chosen(self, event: DataTable.RowSelected) -> None:
        self._start(event.row_key.value)

    @on(Input.Submitted, "#replay-edges")
    def _edges_changed(self) -> None:
        self._start(self.main_table.selected_key)

    def _start(self, name: str | None) -> None:
        folder = self._folder()
        status = self.query_one("#replay-status", TextLine)
        if name is None or folder is None:
            status.show("select a session first")
            return
        try:
            edges = parse_edges(self.query_one("#replay-edges", Input).value)
        except ValueError as error:
            status.show(Text(str(error), style="red"))
            return
        status.show(f"replaying {name} …")
        self._replay(folder / name, edges)

    @work(thread=True, exclusive=True, group="replay")
    def _replay(self, path: Path, edges: list[int]) -> None:
        try:
            session = load_session(path)
            overrides = variants(edges or [None], [None], [None], [None])
            report = replay_session(session, session.matches, overrides, time.perf_counter_ns)
        except (fmt.RecordingError, ValueError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._show, report)

    def _failed(self, message: str) -> None:
        self.query_one("#replay-status", TextLine).show(Text(message, style="red"))
        self.query_one("#replay-results", SyncTable).sync([])

    def _show(self, report: Report) -> None:
        name = report.session.path.name
        if not report.matches:
            text = f"{name}: no match ran in this session"
        else:
            fidelity = fidelity_summary(report)
            speed = f", {report.speedup}x real time" if report.speedup is not None else ""
            text = f"{name}: {len(report.matches)} match(es){speed}; {fidelity}"
        self.query_one("#replay-status", TextLine).show(text)
        self.query_one("#replay-results", SyncTable).sync(result_rows(report))
