"""Wire-format helpers shared by the odds clients: ISO-8601 times ↔ Unix ms, decimal odds values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from kmm_tui.domain.theo import OddsError, parse_decimal_odds

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def datetime_ms(value: datetime) -> int:
    """Aware datetime → Unix ms, in integer arithmetic."""
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def iso_to_ms(text: str) -> int:
    """``2026-11-28T18:30:00.000Z`` / ``…+00:00`` → Unix ms; raises ValueError with the bad text."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValueError(f"not an ISO-8601 time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return datetime_ms(parsed)


def ms_to_iso(ms: int) -> str:
    """Unix ms → ``2026-11-28T18:30:00Z`` (what The Odds API and OddsPapi accept)."""
    whole = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_odds(value: object) -> Decimal:
    """A decimal-odds value from parsed JSON (Decimal or int) → validated Decimal > 1.

    Raises the domain ``OddsError`` (a ValueError) for booleans, strings we did not expect, ≤ 1, etc.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise OddsError(f"odds value {value!r} is not a number")
    return parse_decimal_odds(str(value))
