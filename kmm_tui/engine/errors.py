"""Errors the engine reports to front-ends: always a sentence a trader can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Bad input or an impossible request. ``field`` names the offending input for forms."""

    def __init__(self, user_message: str, field: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.field = field
