"""Who may call the control API: loopback only (unless explicitly allowed), a fresh random token per
start in ``<state dir>/api_token`` (0600), compared in constant time on every HTTP call and WebSocket.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from kmm_tui.control_api.errors import ControlApiError, error_response
from kmm_tui.paths import ensure_private_dir

TOKEN_FILE_NAME = "api_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
class BearerAuth:
    """ASGI middleware: every HTTP request and WebSocket needs the token, or gets a 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._authorized(scope):
            reason = f"missing or wrong token: send Authorization: Bearer <{TOKEN_FILE_NAME}>"
            response = error_response(401, reason)
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        candidates: list[bytes] = []
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                scheme, _, credential = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    candidates.append(credential.strip())
        if scope["type"] == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            candidates.extend(value.encode("latin-1") for value in query.get("token", ()))
        # compare every candidate (constant time each) so timing does not say which one matched
        matches = [hmac.compare_digest(candidate, self._token) for candidate in candidates]
        return any(matches)
def check_host(host: str, allow_remote: bool = False) -> str:
    """The address to bind. Anything but loopback needs ``allow_remote``: this API trades money."""
    if host == "localhost":
        return "127.0.0.1"
    if host in LOOPBACK_HOSTS or allow_remote:
        return host
    raise ControlApiError(
        f"the control API only listens on 127.0.0.1 (asked for {host}): anyone who can reach it can "
        "trade on your account; use an SSH tunnel to reach it from another machine"
    )


def write_token(state_dir: Path) -> tuple[str, Path]:
    """A fresh random token in ``<state dir>/api_token``, readable by the owner only (mode 600)."""
    token = secrets.token_urlsafe(32)
    ensure_private_dir(state_dir)
    path = state_dir / TOKEN_FILE_NAME
    temporary = state_dir / f".{TOKEN_FILE_NAME}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return token, path


def remove_token(path: Path, token: str) -> None:
    """Delete the token file unless another process already replaced it with its own."""
    with contextlib.suppress(OSError):
        if path.read_text().strip() == token:
            path.unlink()
