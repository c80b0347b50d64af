"""A Static that skips identical updates, so per-tick rendering costs nothing when nothing changed.

Plain strings are shown as they are, never parsed as markup: engine and exchange messages contain
brackets ("add an API key under [odds] in settings.toml") that markup would swallow.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class TextLine(Static):
    # A line whose size its CSS fixes (``height: 1``) never needs a layout pass when its text
    # changes: that pass re-renders the whole screen (every table line), not just this line.
    FIXED_SIZE = False

    def __init__(self, text: str | Text = "", *, id: str | None = None, classes: str | None = None) -> None:
        text = Text(text) if isinstance(text, str) else text
        super().__init__(text, id=id, classes=classes)
        self._last = (text.plain, repr(text.spans))

    def show(self, text: str | Text) -> None:
        text = Text(text) if isinstance(text, str) else text
        key = (text.plain, repr(text.spans))
        if key != self._last:
            self._last = key
            self.update(text, layout=not self.FIXED_SIZE)
