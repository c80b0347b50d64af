"""What every mode screen shares: the status bar on top, a filter line, the footer, snapshot rendering.

Screens never poll the engine themselves. The app takes one snapshot per tick (≤ 10 Hz) and hands it
to the screen on top via ``show_view``; a screen that comes back into view asks for the latest one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from kmm_tui.engine.state import EngineView
from kmm_tui.tui.widgets.banner import AlertBanner
from kmm_tui.tui.widgets.fills_line import FillsLine
from kmm_tui.tui.widgets.status_bar import StatusBar
from kmm_tui.tui.widgets.table import SyncTable

if TYPE_CHECKING:
    from kmm_tui.tui.app import KmmApp


class ViewScreen(Screen[None]):
    """A screen that renders engine snapshots."""

    @property
    def kmm(self) -> KmmApp:
        from kmm_tui.tui.app import KmmApp

        assert isinstance(self.app, KmmApp)
        return self.app

    _chrome: tuple[list[StatusBar], list[AlertBanner], list[FillsLine]] | None = None

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        """Render one snapshot. Must be cheap and idempotent: it runs up to 10 times a second."""
        chrome = self._chrome
        if chrome is None:  # composed once: a DOM query per tick walked every card and row
            chrome = (list(self.query(StatusBar)), list(self.query(AlertBanner)), list(self.query(FillsLine)))
            if chrome[0]:  # every view screen has a status bar: it is composed, keep the lists
                self._chrome = chrome
        bars, banners, lines = chrome
        for bar in bars:
            bar.show(view, now_ms, self.kmm.tz)
        names = {m.spec.match_id: m.spec.name or m.spec.match_id for m in view.matches} if view else {}
        for banner in banners:
            banner.show_alerts(self.kmm.alerts, names, self.kmm.tz, self.kmm.ack_key)
        for line in lines:
            line.show_fills(self.kmm.recent_fills, names, now_ms)

    def on_mount(self) -> None:
        # the app skips screens still mounting; draw the first frame as soon as this one is up
        self.call_after_refresh(self.kmm.render_now)

    def on_screen_resume(self) -> None:
        self.kmm.render_now()

    def selected_match_id(self) -> str | None:
        """The match the user is pointing at, for the match actions (add/edit/start/stop/...)."""
        return None


class ModeScreen(ViewScreen):
    """A top-level mode: status bar, body, a hidden filter line that ``/`` opens, and the footer."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close_filter", "Close filter", show=False)]
    AUTO_FOCUS = "SyncTable"

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield AlertBanner()
        yield from self.compose_body()
        yield FillsLine()
        with Horizontal(id="filter-bar", classes="filter hidden"):
            yield Static("filter ▸", id="filter-label")
            yield Input(
                placeholder="type to narrow the table · Enter keeps it · Esc clears it",
                id="filter",
                compact=True,
            )
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    @property
    def main_table(self) -> SyncTable:
        return self.query(SyncTable).first()

    def open_filter(self) -> None:
        self.query_one("#filter-bar").remove_class("hidden")
        self.query_one("#filter", Input).focus()

    def action_close_filter(self) -> None:
        """Esc clears an active filter wherever the focus is (the table must never stay filtered)."""
        box = self.query_one("#filter", Input)
        if not box.value and self.query_one("#filter-bar").has_class("hidden"):
            return
        box.value = ""
        self.main_table.set_filter("")
        self._mark_filter("")
        self.query_one("#filter-bar").add_class("hidden")
        self.main_table.focus()

    def _mark_filter(self, text: str) -> None:
        """The bar stays visible (highlighted) while a filter narrows the table."""
        bar = self.query_one("#filter-bar")
        bar.set_class(bool(text.strip()), "active")
        label = "filtered ▸" if text.strip() else "filter ▸"
        self.query_one("#filter-label", Static).update(label)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.main_table.set_filter(event.value)
        self._mark_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#filter-bar").add_class("hidden")
        self.main_table.focus()
