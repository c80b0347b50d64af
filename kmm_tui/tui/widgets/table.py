"""A DataTable that is kept in sync with snapshot rows by key, touching only the cells that changed.

Why: redrawing whole tables from every snapshot would flicker, lose the cursor and cost CPU on a
2-core box over SSH. ``sync`` adds, removes and updates cells in place; columns that do not fit the
terminal are dropped (each column says from which screen width it appears), so 80x24 degrades to
the essentials instead of scrolling sideways.

Render caching: Textual's ``DataTable.update_cell`` bumps one table-wide counter that is part of every
render cache key, so changing one cell re-renders every visible cell (≈ 90 % of a frame with 50 live
matches). ``SyncTable`` writes changed cells directly and keeps a version per row and per cell instead;
the row and cell caches are keyed by those versions, so only the cells that changed are rendered
again. The row's cell renderables (``_get_row_renderables``, keyed by counter and row index) are
keyed by the row's version: keyed by a cell's version instead, a quiet cell reaching version N
reused the row cached when a busy neighbour (the best bid) reached N, and the home table showed a
stale status, position and reasons while the best bid kept moving. This relies on DataTable
internals of the pinned Textual (8.2.8): ``_data``, ``_update_count``, ``_render_line``,
``_render_line_in_row``, ``_get_row_renderables`` and ``_render_cell``; ``tests/tui`` checks that
the rendered text follows every change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

Cell = Text | str


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; shown only when the terminal is at least ``min_width`` columns wide."""

    key: str
    label: str
    width: int | None = None
    min_width: int = 0


def _cell_key(cell: Cell) -> tuple[str, str]:
    if isinstance(cell, Text):
        return cell.plain, f"{cell.style}|{cell.spans!r}"
    return cell, ""


def _truncated(cell: Cell, width: int | None) -> Cell:
    if width is None:
        return cell
    text = cell if isinstance(cell, Text) else Text(cell)
    if len(text.plain) > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
    return text


class SyncTable(DataTable[Cell]):
    """Row-cursor table fed with ``sync([(row_key, {column_key: cell}), ...])``."""

    def __init__(
        self, columns: Sequence[Column], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._all_columns = tuple(columns)
        self._visible: tuple[Column, ...] = ()
        self._rows_wanted: list[tuple[str, Mapping[str, Cell]]] = []
        self._cells: dict[str, dict[str, tuple[str, str]]] = {}
        self._row_versions: dict[str, int] = {}
        self._cell_versions: dict[tuple[str, str], int] = {}
        self._cell_updates = 0
        self.filter_text = ""

    # --- columns ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._fit_columns(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns(self.app.size.width)

    def _fit_columns(self, width: int) -> None:
        visible = tuple(c for c in self._all_columns if width >= c.min_width)
        if visible == self._visible:
            return
        selected = self.selected_key
        self._visible = visible
        self.clear(columns=True)
        self._cells.clear()
        for column in visible:
            self.add_column(column.label, key=column.key, width=column.width)
        self._apply(self._rows_wanted, selected)

    @property
    def visible_columns(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._visible)

    # --- rows -------------------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        key = self.ordered_rows[row].key.value
        return key

    def select_key(self, key: str) -> None:
        if key in self._cells:
            self.move_cursor(row=self.get_row_index(key))

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().casefold()
        self._apply(self._rows_wanted, self.selected_key)

    def sync(self, rows: Sequence[tuple[str, Mapping[str, Cell]]]) -> None:
        """Make the table show ``rows`` in this order, updating only changed cells."""
        self._rows_wanted = list(rows)
        if self._visible:
            self._apply(self._rows_wanted, self.selected_key)

    def _matches_filter(self, cells: Mapping[str, Cell]) -> bool:
        if not self.filter_text:
            return True
        haystack = " ".join(_cell_key(c)[0] for c in cells.values()).casefold()
        return all(word in haystack for word in self.filter_text.split())

    def _apply(self, rows: Sequence[tuple[str, Mapping[str, Cell]]], selected: str | None) -> None:
        wanted = [(key, cells) for key, cells in rows if self._matches_filter(cells)]
        wanted_keys = [key for key, _ in wanted]
        keep = set(wanted_keys)
        for key in [k for k in self._cells if k not in keep]:
            self.remove_row(key)
            del self._cells[key]
            self._row_versions.pop(key, None)
            for column in self._all_columns:
                self._cell_versions.pop((key, column.key), None)
        current_order = [r.key.value for r in self.ordered_rows]
        expected_prefix = [k for k in wanted_keys if k in self._cells]
        if current_order != expected_prefix:
            # Rows changed order (e.g. newest-first fills): rebuild rows, keep the cursor on its key.
            self.clear()
            self._cells.clear()
        changed = self._cell_updates
        for key, cells in wanted:
            self._put(key, cells)
        if self._cell_updates != changed:
            self.refresh()
        if selected is not None and selected in self._cells:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def _put(self, key: str, cells: Mapping[str, Cell]) -> None:
        new = {c.key: _cell_key(cells.get(c.key, "")) for c in self._visible}
        old = self._cells.get(key)
        if old is None:
            values = [_truncated(cells.get(c.key, ""), c.width) for c in self._visible]
            self.add_row(*values, key=key)
            self._cells[key] = new
            return
        if old == new:
            return
        row = self._data[RowKey(key)]
        for column in self._visible:
            if old.get(column.key) != new[column.key]:
                row[ColumnKey(column.key)] = _truncated(cells.get(column.key, ""), column.width)
                cell_id = (key, column.key)
                self._cell_versions[cell_id] = self._cell_versions.get(cell_id, 0) + 1
                if column.width is None:
                    self._grow_column(column.key, new[column.key][0])
        self._cells[key] = new
        self._row_versions[key] = self._row_versions.get(key, 0) + 1
        self._cell_updates += 1

    def _grow_column(self, key: str, plain: str) -> None:
        """An auto-width column widens for longer content; that changes every row, so drop all caches."""
        column = self.columns[ColumnKey(key)]
        width = cell_len(plain)
        if width > column.content_width:
            column.content_width = width
            self._require_update_dimensions = True
            self._update_count += 1

    # --- per-row render caching (see the module docstring) -------------------------------------------

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        structure = self._update_count
        self._update_count = (structure, self._cell_updates)  # type: ignore[assignment]
        try:
            return super()._render_line(y, x1, x2, base_style)
        finally:
            self._update_count = structure

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> Any:
        current: Any = self._update_count
        structure = current[0] if isinstance(current, tuple) else current
        version = self._row_versions.get(row_key.value, 0) if row_key.value is not None else 0
        self._update_count = (structure, version)  # type: ignore[assignment]
        try:
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        finally:
            self._update_count = current

    def _get_row_renderables(self, row_index: int) -> Any:
        current: Any = self._update_count
        structure = current[0] if isinstance(current, tuple) else current
        version = 0
        if row_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            if row_key is not None:
                version = self._row_versions.get(str(row_key.value), 0)
        self._update_count = (structure, "row", version)  # type: ignore[assignment]
        try:
            return super()._get_row_renderables(row_index)
        finally:
            self._update_count = current

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        current: Any = self._update_count
        structure = current[0] if isinstance(current, tuple) else current
        version = 0
        if row_index >= 0 and column_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            column_key = self._column_locations.get_key(column_index)
            if row_key is not None and column_key is not None:
                version = self._cell_versions.get((str(row_key.value), str(column_key.value)), 0)
        self._update_count = (structure, version)  # type: ignore[assignment]
        try:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        finally:
            self._update_count = current
