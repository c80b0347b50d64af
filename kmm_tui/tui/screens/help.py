"""The ``?`` / F1 screen: every action with its effective key (after ``[keys]`` remapping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kmm_tui.tui.keymap import ACTIONS, display_key

EXTRA_KEYS = (
    ("Enter", "Matches: open the live view · Scanner: make a match from the market"),
    ("Esc", "Back / close the form or filter"),
    ("ctrl+p", "Command palette: every action by name"),
    ("Tab / shift+Tab", "Next / previous field or table"),
    ("m / r", "Scanner: make match / rescan"),
    ("v", "Log: show info lines too"),
    ("ctrl+s / ctrl+t", "Forms: save / save and start"),
    ("ctrl+o", "Setup form: fetch odds from the configured sources"),
)


def help_table(keys: Mapping[str, str]) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("Action")
    for action in ACTIONS:
        table.add_row(display_key(keys.get(action.id, action.key)), action.help)
    for key, text in EXTRA_KEYS:
        table.add_row(key, text)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close")]

    def __init__(self, keys: Mapping[str, str]) -> None:
        super().__init__(classes="modal")
        self.keys = dict(keys)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys (remap them in settings.toml [keys])"), classes="question")
            yield Static(help_table(self.keys))
