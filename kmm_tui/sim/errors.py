"""The exchange's error type: one exception that already knows its HTTP status and wire body.

Kalshi answers errors in four JSON shapes (§8 of the API notes). The matching engine raises
``SimError`` with the nested shape's fields; the HTTP layer renders it. Keeping status + code together
means the engine decides *what* went wrong once, and every transport reports it identically.
"""

from __future__ import annotations

from typing import Any


class SimError(Exception):
    """An exchange rejection: HTTP ``status``, machine ``code``, human ``message``, optional ``details``."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" ({details})" if details else ""))
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The nested ``{"error": {...}}`` body Kalshi uses for most errors."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            err["details"] = self.details
        return {"error": err}


def not_found() -> SimError:
    return SimError(404, "not_found", "not found")


def invalid_price() -> SimError:
    return SimError(400, "invalid_price", "invalid price")


def insufficient_balance() -> SimError:
    return SimError(400, "insufficient_balance", "insufficient balance")


def invalid_order(details: str) -> SimError:
    return SimError(400, "invalid_order", "invalid order", details)


def invalid_parameters(details: str) -> SimError:
    return SimError(400, "invalid_parameters", "invalid parameters", details)


def order_already_exists() -> SimError:
    return SimError(409, "order_already_exists", "order already exists")


def market_closed() -> SimError:
    return SimError(409, "market_closed", "market closed")


def market_inactive() -> SimError:
    return SimError(409, "market_inactive", "market inactive")
