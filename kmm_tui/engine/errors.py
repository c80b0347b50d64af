"""Errors the engine reports to front-ends: always a sentence a trader can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Bad input or an impossible request. ``field`` names the offending input for forms."""

    def __init__(self, user_message: str, field: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.field = field


class PairingNeeded(EngineError):
    """The odds sources found candidate events for a match but none with enough confidence: the user
    must say which one it is (``choices``: per source, its candidates) before theo can come from them."""

    def __init__(self, user_message: str, choices: tuple[object, ...]) -> None:
        super().__init__(user_message, field="odds_a")
        self.choices = choices


class MarginAboveCap(EngineError):
    """Typed odds whose bookmaker margin is above the match's cap: usually a typo or a stale price.
    A front-end may ask the user and resubmit with ``TheoInput.margin_confirmed``."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message, field="odds_a")
