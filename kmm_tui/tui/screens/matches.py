"""Matches mode (home): one row per match with its quotes, position, P&L and the reason per side."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.tui.rows import MATCH_COLUMNS, Row, match_row
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.table import SyncTable

EMPTY_HINT = "No matches yet. Press [b]a[/b] to add one, or [b]2[/b] to pick markets in the scanner."


class MatchesScreen(ModeScreen):
    """Home. Enter opens the selected match's live view."""

    _rows: dict[str, tuple[MatchView, Row]] = {}  # noqa: RUF012 - replaced, never mutated, per instance

    def compose_body(self) -> ComposeResult:
        yield Static("Matches", classes="mode-title")
        yield SyncTable(MATCH_COLUMNS, id="matches")
        yield Static(EMPTY_HINT, id="matches-empty", classes="hint")

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        matches = view.matches if view is not None else ()
        previous, self._rows = self._rows, {}  # only the matches shown stay cached
        self.query_one("#matches", SyncTable).sync([self._row(m, previous) for m in matches])
        self.query_one("#matches-empty").display = not matches

    def _row(self, match: MatchView, previous: dict[str, tuple[MatchView, Row]]) -> Row:
        """A match's row, built again only for a new view of it: the engine's process hands over the
        same object for a match that did not change (``engine_process``), and a row depends on
        nothing but its view."""
        cached = previous.get(match.spec.match_id)
        row = cached[1] if cached is not None and cached[0] is match else match_row(match)
        self._rows[match.spec.match_id] = (match, row)
        return row

    def selected_match_id(self) -> str | None:
        return self.query_one("#matches", SyncTable).selected_key

    @on(DataTable.RowSelected, "#matches")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.kmm.open_live_view(str(event.row_key.value))
