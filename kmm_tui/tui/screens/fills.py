"""Fills & P&L mode: every fill across matches with fees, and per-match realized / MTM / outcome P&L."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kmm_tui.engine.state import EngineView
from kmm_tui.tui.markout_cells import account_line
from kmm_tui.tui.rows import FILL_COLUMNS, TOTAL_COLUMNS, all_fills, fill_row, total_row, totals_summary
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine


class FillsScreen(ModeScreen):
    def compose_body(self) -> ComposeResult:
        yield Static("Fills & P&L", classes="mode-title")
        yield SyncTable(FILL_COLUMNS, id="fills")
        yield Static("Per match", classes="section-title")
        yield SyncTable(TOTAL_COLUMNS, id="totals")
        yield TextLine(id="totals-summary")
        yield TextLine(id="account-risk")

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        matches = view.matches if view is not None else ()
        tz = self.kmm.tz
        self.query_one("#fills", SyncTable).sync([fill_row(m, f, tz) for m, f in all_fills(matches)[:500]])
        self.query_one("#totals", SyncTable).sync([total_row(m) for m in matches])
        self.query_one("#totals-summary", TextLine).show(totals_summary(matches))
        account = self.query_one("#account-risk", TextLine)
        account.display = view is not None and view.account is not None
        account.show(account_line(view.account if view else None))

    def selected_match_id(self) -> str | None:
        totals = self.query_one("#totals", SyncTable)
        if totals.has_focus:
            return totals.selected_key
        key = self.query_one("#fills", SyncTable).selected_key
        return key.split("|", 1)[0] if key else None
