"""File logging under the state directory, with secrets scrubbed before anything reaches the disk.

Why a file and never the terminal: while the Textual app owns the screen, a stray ``StreamHandler``
would paint over it, so :func:`setup_logging` installs only a rotating file handler and removes
handlers that write to the process's stdout/stderr. Python warnings are routed into the log too.

Why redaction here and not at each call site: one forgotten ``log.debug(headers)`` must not leak a
request signature, a PEM private key or an odds API key (The Odds API puts ``apiKey=`` in the URL).
:class:`RedactingFilter` rewrites every record (message, arguments, traceback) on its way to the
file, and :func:`register_secret` lets code that learns a secret value at runtime (an odds key from
settings) have that exact string masked wherever it appears.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kmm_tui.paths import ensure_private_dir, log_file

MAX_BYTES = 5_000_000
BACKUP_COUNT = 5
REDACTED = "[REDACTED]"
_MIN_SECRET_LENGTH = 8
_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s: %(message)s"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Libraries that log full request URLs (query strings can hold keys) or chatty connection details.
_QUIET_LOGGERS = ("httpx", "httpcore", "websockets", "uvicorn.access", "asyncio")

_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (?<![\w-])
    (
      (?:[\w-]*?[_-])?api[_-]?key | apikey
      | kalshi-access-signature | signature
      | secret | client[_-]?secret | password | passwd | (?:access|auth|bearer)[_-]?token | token
      | private[_-]?key(?:[_-]?pem)? | authorization
    )
    (?![\w-])
    (['"]?\s*[:=]\s*(?:b?['"])?\s*(?:bearer\s+)?)
    ([^\s'",&;})\]]+)
    """
)
_LONG_BLOB = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{64,}={0,2}(?![A-Za-z0-9+/=])")

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value in every log line from now on (short values are ignored: too ambiguous)."""
    if value and len(value.strip()) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value.strip())


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with PEM blocks, signature/key fields, long base64 blobs and known secrets masked."""
    with _secrets_lock:
        known = sorted({*_secrets, *(s for s in extra_secrets if len(s) >= _MIN_SECRET_LENGTH)}, key=len)
    for secret in reversed(known):  # longest first, so a secret containing another is masked whole
        text = text.replace(secret, REDACTED)
    text = _PEM_BLOCK.sub("[REDACTED PEM]", text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _LONG_BLOB.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrite a record's final text (message with its arguments, traceback, stack) through :func:`redact`.

    The arguments are merged into the message first because a secret is usually an argument
    (``log.debug("headers %s", headers)``); the record then carries plain text and no ``args``.
    """

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._extra = tuple(extra_secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format must not lose the record (nor leak its args raw)
            message = f"{record.msg!s} (unformattable log arguments dropped)"
        record.msg = redact(message, self._extra)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._extra)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._extra)
        return True


class _UtcFormatter(logging.Formatter):
    converter = time.gmtime


def _is_terminal_handler(handler: logging.Handler) -> bool:
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    stream = getattr(handler, "stream", None)
    return stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)


def _create_private_file(path: Path) -> None:
    """Create the log file owner-only before the handler opens it (it may name positions and P&L)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)


def setup_logging(state: Path, level: int = logging.INFO, secrets: Iterable[str] = ()) -> Path:
    """Send all logging to ``<state>/logs/kmm.log`` (rotating), nothing to the terminal; return the path.

    Calling it again (tests, a second ``main()`` in one process) replaces the previous kmm handler.
    Raises ``OSError`` when the directory cannot be created or written: the caller reports that as
    "choose another --state-dir".
    """
    path = log_file(state)
    ensure_private_dir(path.parent)
    _create_private_file(path)
    for secret in secrets:
        register_secret(secret)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.set_name("kmm-file")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_UtcFormatter(_FORMAT, _DATE_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "kmm-file" or _is_terminal_handler(old):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.captureWarnings(True)
    return path


def registered_secrets() -> tuple[str, ...]:
    """Every value masked so far (handed to the engine's process, which logs to the same file)."""
    with _secrets_lock:
        return tuple(_secrets)


def yield_rotation() -> Callable[[], None]:
    """While another process (the engine's) writes and rotates the same log file, append to whichever
    file holds the name now instead of rotating it too: two rotating handlers on one file each rename
    it under the other. Returns the function that puts the rotating handler back."""
    root = logging.getLogger()
    rotating = next((h for h in root.handlers if h.get_name() == "kmm-file"), None)
    if not isinstance(rotating, logging.handlers.RotatingFileHandler):
        return lambda: None
    watched = logging.handlers.WatchedFileHandler(rotating.baseFilename, encoding="utf-8")
    watched.set_name("kmm-file")
    for log_filter in rotating.filters:
        watched.addFilter(log_filter)
    watched.setFormatter(rotating.formatter)
    root.removeHandler(rotating)
    root.addHandler(watched)

    def restore() -> None:
        root.removeHandler(watched)
        watched.close()
        if any(h.get_name() == "kmm-file" for h in root.handlers):
            return
        with rotating.lock or threading.Lock():  # its file may have been rotated away: open the name anew
            if rotating.stream is not None:
                rotating.stream.close()
                rotating.stream = None  # type: ignore[assignment]
        root.addHandler(rotating)

    return restore


def teardown_logging() -> None:
    """Remove and close the kmm file handler (tests; the CLI lets interpreter exit do it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "kmm-file":
            root.removeHandler(handler)
            handler.close()
    logging.captureWarnings(False)
