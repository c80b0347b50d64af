"""What can go wrong with an odds source, as exception types the engine and UI can act on.

Each type maps to one action: fix the key (fatal), wait for the quota reset, back off, skip the
event, or treat theo as stale. Messages name the source and say what to do; they never contain the
API key (``http.redact`` runs over any text that came from the wire or from httpx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kmm_tui.odds.matching import MatchDecision


class OddsSourceError(Exception):
    """Base class: ``source`` names the provider (``theoddsapi``, ``oddspapi``, ...)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class SourceConfigError(OddsSourceError):
    """Missing, invalid or deactivated key (or other settings): stop the source until the user fixes it."""


class QuotaExhausted(OddsSourceError):
    """No credits left (or the configured floor reached): the source is off until ``until_ms``."""

    def __init__(self, source: str, message: str, until_ms: int | None = None) -> None:
        super().__init__(source, message)
        self.until_ms = until_ms


class RateLimited(OddsSourceError):
    """Too many requests; retry after ``retry_after_ms`` (raised only once retries are used up)."""

    def __init__(self, source: str, message: str, retry_after_ms: int) -> None:
        super().__init__(source, message)
        self.retry_after_ms = retry_after_ms


class RequestRejected(OddsSourceError):
    """The provider refused our request as malformed (422/400): a bug on our side; do not retry."""

    def __init__(self, source: str, message: str, code: str | None = None) -> None:
        super().__init__(source, message)
        self.code = code


class NotFound(OddsSourceError):
    """Unknown sport or event at the provider: skip it."""


class SourceDown(OddsSourceError):
    """Server errors or timeouts persisted through the retries: theo from this source is stale."""


class NoOdds(OddsSourceError):
    """The event exists but no book offers a usable winner price right now."""


class MatchUnconfirmed(OddsSourceError):
    """The provider's event could not be matched with confidence; the user must confirm or pick one."""

    def __init__(self, source: str, message: str, decision: MatchDecision) -> None:
        super().__init__(source, message)
        self.decision = decision
