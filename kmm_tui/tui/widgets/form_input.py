"""Form fields that survive bursts and pastes: Tab/Enter move focus before the next key is routed,
editing keys run in order with the characters, save keys follow the keys typed before them, and a
tab-separated paste fills consecutive fields.

Why: Textual routes each key to the focused widget as it arrives, but a plain Tab binding runs only
after the key has bubbled back up from the old field. Keys that arrive in the same burst (a paste
without bracketed paste, keys bunched by SSH latency, the browser) were already routed to the old
field by then. Priority bindings run at the app, before the next key is routed.
"""

from __future__ import annotations

import re
from typing import ClassVar, Generic, TypeVar

from textual import events, on
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input

FIELD_SEPARATORS = re.compile(r"[\t\r\n]+")
ResultType = TypeVar("ResultType")


class FormInput(Input):
    """An Input that keeps a burst in order, and hands a tab-separated paste to the form.

    Input edits with bindings (backspace, delete, arrows, home/end): a binding runs only after the key
    has bubbled up to the app, so in a burst the characters typed after a backspace were inserted
    before it ran ("2", backspace, "4" gave "24"). Here the field's own bindings run as the key
    arrives, in order with the characters.
    """

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            event.prevent_default()  # not Input's own handler (next in the MRO)
            event.stop()
            await self.run_action(binding.action)
            return

    class PastedFields(Message):
        def __init__(self, field: FormInput, parts: list[str]) -> None:
            super().__init__()
            self.field = field
            self.parts = parts

    def _on_paste(self, event: events.Paste) -> None:
        parts = FIELD_SEPARATORS.split(event.text.strip("\r\n"))
        if len(parts) < 2:
            return  # Input's own handler (next in the MRO) inserts one value
        event.prevent_default()  # not Input's handler: it would insert the whole text here
        event.stop()
        self.post_message(self.PastedFields(self, parts))


class FormScreen(ModalScreen[ResultType], Generic[ResultType]):
    """A modal form: Tab, shift+Tab and Enter (in a field) move focus at once; pastes spread."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_field", show=False, priority=True),
        Binding("shift+tab", "previous_field", show=False, priority=True),
        Binding("enter", "submit_field", show=False, priority=True),
    ]

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_submit_field(self) -> None:
        if not isinstance(self.focused, Input):
            raise SkipAction()  # Enter presses the focused button or toggles the checkbox
        self.focus_next()

    @on(FormInput.PastedFields)
    def _spread_paste(self, event: FormInput.PastedFields) -> None:
        fields = [f for f in self.query(FormInput) if not f.disabled and f.display]  # hidden: not this shape
        start = fields.index(event.field) if event.field in fields else 0
        targets = fields[start : start + len(event.parts)]
        for index, (field, part) in enumerate(zip(targets, event.parts, strict=False)):
            if index == 0:
                field.insert_text_at_cursor(part)
            else:
                field.value = part
                field.cursor_position = len(part)
        if targets:
            targets[-1].focus()
