"""A Static that skips identical updates, so per-tick rendering costs nothing when nothing changed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class TextLine(Static):
    def __init__(self, text: str | Text = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(text, id=id, classes=classes)
        self._last = (text.plain, repr(text.spans)) if isinstance(text, Text) else (text, "")

    def show(self, text: str | Text) -> None:
        key = (text.plain, repr(text.spans)) if isinstance(text, Text) else (text, "")
        if key != self._last:
            self._last = key
            self.update(text)
