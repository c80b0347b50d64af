"""A DataTable that is kept in sync with snapshot rows by key, touching only the cells that changed.

Why: redrawing whole tables from every snapshot would flicker, lose the cursor and cost CPU on a
2-core box over SSH. ``sync`` adds, removes and updates cells in place. Columns compete for the
width (``plan_columns``): by priority the essentials stay at 80 columns instead of scrolling
sideways, and wider terminals give the space to the flex columns (names, reasons, messages).

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


@dataclass(frozen=True, slots=True)
class Fit:
    """A cell with a long form for wide columns and a short form for narrow ones (reason → detail)."""

    short: Text | str
    long: Text | str


Cell = Text | str | Fit
CELL_PADDING = 2  # DataTable pads each cell by one space on either side
SCROLLBAR = 1


@dataclass(frozen=True, slots=True)
class Column:
    """A table column and how it competes for width.

    ``width``: for a fixed column the most it takes (longer text is cut with an ellipsis); for a flex
    column the least. ``min_width``: the terminal width from which it may appear. ``priority``: lower
    is kept first when the terminal is narrow. ``flex``: takes the space left over, up to its longest
    content (lower priority first). Columns with the same ``group`` appear together or not at all.
    ``optional``: shown only while some row has a cell for it (a three-way match's "If draw").
    """

    key: str
    label: str
    width: int | None = None
    min_width: int = 0
    priority: int = 0
    flex: bool = False
    group: str = ""
    optional: bool = False

    @property
    def grows(self) -> bool:
        return self.flex or self.width is None


def _plain(cell: Cell) -> str:
    if isinstance(cell, Fit):
        return _plain(cell.long)
    return cell.plain if isinstance(cell, Text) else cell


def _cell_key(cell: Cell) -> tuple[str, str]:
    if isinstance(cell, Fit):
        short, long = _cell_key(cell.short), _cell_key(cell.long)
        return long[0], f"{short}|{long[1]}"
    if isinstance(cell, Text):
        return cell.plain, f"{cell.style}|{cell.spans!r}"
    return cell, ""


def _truncated(cell: Cell, width: int | None) -> Text | str:
    if isinstance(cell, Fit):
        fits = width is None or cell_len(_plain(cell.long)) <= width
        cell = cell.long if fits else cell.short
    if width is None or cell_len(_plain(cell)) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


def plan_columns(
    columns: Sequence[Column], naturals: Mapping[str, int], width: int
) -> tuple[tuple[Column, int], ...]:
    """Which columns fit ``width`` cells and how wide each is, in display order (pure).

    Columns are taken by priority (a group at once) while they fit at their base width: the
    content's width capped at ``width`` (fixed), or at least ``width`` (flex). The space left over goes
    to flex columns up to their content, the lowest priority level first, shared within a level.
    """
    candidates = [
        c
        for c in columns
        if width + SCROLLBAR >= c.min_width and (not c.optional or naturals.get(c.key, 0) > 0)
    ]
    natural = {c.key: max(naturals.get(c.key, 0), cell_len(c.label)) for c in candidates}
    base = {
        c.key: min(c.width if c.width is not None else cell_len(c.label), natural[c.key]) for c in candidates
    }
    units: dict[str, list[Column]] = {}
    for column in candidates:
        units.setdefault(column.group or column.key, []).append(column)
    order = sorted(units.values(), key=lambda unit: min(c.priority for c in unit))
    used, chosen = 0, set()
    for unit in order:
        cost = sum(base[c.key] + CELL_PADDING for c in unit)
        if used + cost <= width:
            used += cost
            chosen.update(c.key for c in unit)
    widths = {key: base[key] for key in chosen}
    left = width - used
    for level in sorted({c.priority for c in candidates if c.key in chosen and c.grows}):
        flex = [c for c in candidates if c.key in chosen and c.grows and c.priority == level]
        while left > 0:
            hungry = [c for c in flex if widths[c.key] < natural[c.key]]
            if not hungry:
                break
            for column in hungry[:left]:
                widths[column.key] += 1
                left -= 1
    return tuple((c, widths[c.key]) for c in candidates if c.key in chosen)


class SyncTable(DataTable[Cell]):
    """Row-cursor table fed with ``sync([(row_key, {column_key: cell}), ...])``."""

    def __init__(
        self, columns: Sequence[Column], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._all_columns = tuple(columns)
        self._visible: tuple[Column, ...] = ()
        self._plan: tuple[tuple[Column, int], ...] = ()
        self._widths: dict[str, int] = {}
        self._naturals: dict[str, int] = {}
        self._grown = False
        self._rows_wanted: list[tuple[str, Mapping[str, Cell]]] = []
        self._cells: dict[str, dict[str, tuple[str, str]]] = {}
        self._sources: dict[str, Mapping[str, Cell]] = {}  # the row each key was last put from
        self._row_versions: dict[str, int] = {}
        self._cell_versions: dict[tuple[str, str], int] = {}
        self._changed_rows: list[str] = []  # rows whose cells _put changed since the last _apply
        self.filter_text = ""

    # --- columns ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._naturals = self._measure(self._rows_wanted)
        self._fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        self._naturals = self._measure(self._rows_wanted)  # shrink back to what the rows need now
        self._fit_columns()

    def _available(self) -> int:
        width = self.size.width or self.app.size.width
        return max(width - SCROLLBAR, 1)

    def _measure(self, rows: Sequence[tuple[str, Mapping[str, Cell]]]) -> dict[str, int]:
        naturals: dict[str, int] = {}
        for _, cells in rows:
            for key, cell in cells.items():
                length = cell_len(_plain(cell))
                if length > naturals.get(key, 0):
                    naturals[key] = length
        return naturals

    def _fit_columns(self) -> bool:
        """Re-plan the columns for the current width and content; True when the columns changed."""
        plan = plan_columns(self._all_columns, self._naturals, self._available())
        if plan == self._plan:
            return False
        selected = self.selected_key
        self._plan = plan
        self._visible = tuple(c for c, _ in plan)
        self._widths = {c.key: w for c, w in plan}
        self.clear(columns=True)
        self._cells.clear()
        for column, width in plan:
            self.add_column(column.label, key=column.key, width=width)
        self._apply(self._rows_wanted, selected)
        return True

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
        if not self._visible:
            return  # not laid out yet: on_mount measures the rows and fits the columns
        self._apply(self._rows_wanted, self.selected_key)
        if self._grown:  # some text outgrew its column: maybe there is room to show it
            self._grown = False
            self._fit_columns()

    def _note_length(self, key: str, cell: Cell) -> None:
        """Columns only grow between resizes (no flapping); a growth past the allotted width re-plans."""
        length = cell_len(_plain(cell))
        if length > self._naturals.get(key, 0):
            self._naturals[key] = length
            if length > self._widths.get(key, 0):
                self._grown = True

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
        self._changed_rows.clear()
        for key, cells in wanted:
            self._put(key, cells)
        for key in self._changed_rows:  # repaint those rows' lines only, not the whole table
            self.refresh_row(self.get_row_index(key))
        if selected is not None and selected in self._cells:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def _put(self, key: str, cells: Mapping[str, Cell]) -> None:
        old = self._cells.get(key)
        if old is not None and self._sources.get(key) is cells:
            return  # the very row shown (a screen's row cache): nothing to compare
        self._sources[key] = cells
        new = {c.key: _cell_key(cells.get(c.key, "")) for c in self._visible}
        if old is None:
            for column_key, cell in cells.items():
                self._note_length(column_key, cell)
            values = [_truncated(cells.get(c.key, ""), self._widths[c.key]) for c in self._visible]
            self.add_row(*values, key=key)
            self._cells[key] = new
            return
        if old == new:
            return
        row = self._data[RowKey(key)]
        for column in self._visible:
            if old.get(column.key) != new[column.key]:
                self._note_length(column.key, cells.get(column.key, ""))
                row[ColumnKey(column.key)] = _truncated(cells.get(column.key, ""), self._widths[column.key])
                cell_id = (key, column.key)
                self._cell_versions[cell_id] = self._cell_versions.get(cell_id, 0) + 1
        self._cells[key] = new
        self._row_versions[key] = self._row_versions.get(key, 0) + 1
        self._changed_rows.append(key)

    # --- per-row render caching (see the module docstring) -------------------------------------------

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A screen line is cached until its own row changes (not any cell of the table)."""
        structure = self._update_count
        try:
            row_key, _ = self._get_offsets(y)
            version = self._row_versions.get(str(row_key.value), 0) if row_key.value is not None else 0
        except LookupError:
            row_key, version = None, 0
        self._update_count = (structure, "line", row_key, version)  # type: ignore[assignment]
        try:
            return super()._render_line(y, x1, x2, base_style)
        finally:
            self._update_count = structure

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        """Row offsets depend on the table's structure only: keep them (and the ordered rows) cached."""
        current: Any = self._update_count
        self._update_count = current[0] if isinstance(current, tuple) else current
        try:
            return super()._get_offsets(y)
        finally:
            self._update_count = current

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
