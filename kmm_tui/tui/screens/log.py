"""Log mode: warnings, errors and guard trips with time and match (``v`` also shows info lines);
Enter opens a line in full."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from kmm_tui.engine.state import EngineView, LogLine
from kmm_tui.tui.format import clock
from kmm_tui.tui.rows import LOG_COLUMNS, log_key, log_rows, match_name
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.screens.message import MessageScreen
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine


class LogScreen(ModeScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("v", "toggle_info", "Info lines")]

    def __init__(self) -> None:
        super().__init__()
        self.include_info = False
        self._lines: dict[str, tuple[LogLine, str]] = {}  # row key → line and match name, for Enter

    def compose_body(self) -> ComposeResult:
        yield TextLine("Log — warnings and errors (v: show info too)", classes="mode-title", id="log-title")
        yield SyncTable(LOG_COLUMNS, id="log")

    def action_toggle_info(self) -> None:
        self.include_info = not self.include_info
        title = (
            "Log — everything (v: warnings only)"
            if self.include_info
            else "Log — warnings and errors (v: show info too)"
        )
        self.query_one("#log-title", TextLine).show(title)
        self.kmm.render_now()

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        if view is None:
            return
        names = {m.spec.match_id: match_name(m) for m in view.matches}
        seen: dict[str, int] = {}
        self._lines = {
            log_key(line, seen): (line, names.get(line.match_id, line.match_id) if line.match_id else "")
            for line in view.logs
        }
        table = self.query_one("#log", SyncTable)
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        table.sync(log_rows(view.logs, names, self.kmm.tz, include_info=self.include_info))
        if at_end and table.row_count:
            table.move_cursor(row=table.row_count - 1)  # newest last: follow the tail unless scrolled up

    @on(DataTable.RowSelected, "#log")
    def _open_line(self, event: DataTable.RowSelected) -> None:
        found = self._lines.get(str(event.row_key.value))
        if found is None:
            return
        line, name = found
        title = f"{clock(line.ts_ms, self.kmm.tz)} {line.level.value.upper()}  {name or 'all matches'}"
        self.app.push_screen(MessageScreen(title, line.text))
