"""Matches mode (home): one row per match with its quotes, position, P&L and the reason per side."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from kmm_tui.engine.state import EngineView
from kmm_tui.tui.rows import MATCH_COLUMNS, match_row
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import SyncTable

EMPTY_HINT = "No matches yet. Press [b]a[/b] to add one, or [b]2[/b] to pick markets in the scanner."


class MatchesScreen(ModeScreen):
    """Home. Enter opens the selected match's live view."""

    def compose_body(self) -> ComposeResult:
        yield Static("Matches", classes="mode-title")
        yield SyncTable(MATCH_COLUMNS, id="matches")
        yield Static(EMPTY_HINT, id="matches-empty", classes="hint")

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        matches = view.matches if view is not None else ()
        self.query_one("#matches", SyncTable).sync([match_row(m) for m in matches])
        self.query_one("#matches-empty").display = not matches

    def selected_match_id(self) -> str | None:
        return self.query_one("#matches", SyncTable).selected_key

    @on(DataTable.RowSelected, "#matches")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.kmm.open_live_view(str(event.row_key.value))
