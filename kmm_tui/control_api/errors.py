"""Errors of the control API: a refusal of the request (``ApiError`` -> JSON ``{"field", "reason"}``)
and a setup problem the user must fix (``ControlApiError``, one line on the terminal).
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from kmm_tui.config import UserError


class ControlApiError(UserError):
    """The control API cannot start as asked (host not allowed, port busy); the message says what to do."""


class ApiError(Exception):
    """A request the API refuses: HTTP status, the reason in words, and the offending body field."""

    def __init__(self, status: int, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field


def error_response(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"field": field, "reason": reason}, status_code=status)
