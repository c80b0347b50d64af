"""The session file: one per engine session, a sequence of gzip members of JSON-lines records.

Why this shape: each flush writes one complete gzip member (``zlib`` with ``wbits=31``), so a crash loses
at most the records since the last flush and never the file, while a file cut in the middle of a member
(a truncated copy) or with flipped bytes fails its member's CRC and is refused. JSON arrays of ints and
short strings compress ~10:1 and need nothing beyond the standard library.

Line 1 is the header object ``{"format": "kmm-session", "version": 1, "start_ms": ..., ...}``; every
further line is one record ``[kind, t, ...]`` with ``t`` in ms since ``start_ms``. The kinds and their
fields are listed in ``KINDS`` and explained in docs/replay.md; a reader refuses a version it does not
know. Prices, counts and money are the domain's integer units (docs/CONVENTIONS.md).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMAT = "kmm-session"
VERSION = 1
SUFFIX = ".kmmrec"
SESSIONS_DIR = "sessions"

# kind -> fields after [kind, t]; docs/replay.md explains each one.
KINDS: dict[str, tuple[str, ...]] = {
    "M": ("mi", "match_id", "name", "ticker_a", "ticker_b", "three_way"),  # a match, first seen
    "S": ("mi", "settings"),  # the QuoteSettings decide() used (when they change)
    "G": ("mi", "side", "bands"),  # a side's tick grid [[start, end, step], ...] (when it changes)
    "B": ("mi", "side", "bids", "asks"),  # book without our bids: changed levels [[price, size]], 0 = gone
    "T": ("mi", "theo_a", "theo_b"),  # theo (when it changes)
    "O": ("mi", "open_a", "open_b", "start_ms"),  # markets open? scheduled start (when they change)
    "R": ("mi", "price_a", "size_a", "price_b", "size_b"),  # our resting bid as decide() saw it
    "I": ("mi", "long_a", "long_b", "cost_a", "cost_b", "fees_a", "fees_b"),  # inventory (when it changes)
    "D": ("mi", "quote_a", "quote_b"),  # one decision; quotes [price, size, reason], absent = unchanged
    "P": ("mi", "reason"),  # a guard pulled the quotes (no decide() call)
    "H": ("mi", "reason"),  # a guard halted the match
    "F": ("mi", "side", "price", "count", "fee", "is_taker", "trade_id"),  # one of our fills
    "X": ("mi", "side", "action", "price", "count"),  # one of our order changes
    "Z": ("mi", "status", "reason"),  # match status changed
    "C": ("reason",),  # recording stopped early (size cap)
    "E": (),  # clean end of the session
}


class RecordingError(Exception):
    """A session file that cannot be replayed; the message says what is wrong and what to do."""


def sessions_dir(state_dir: Path) -> Path:
    return state_dir / SESSIONS_DIR


def session_files(state_dir: Path) -> list[Path]:
    """Recorded sessions, oldest first (names start with the UTC start time)."""
    folder = sessions_dir(state_dir)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"))


def resolve_session(state_dir: Path, name: str) -> Path:
    """``name`` as a path, a file in the sessions folder, a unique prefix of one, or ``latest``."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    files = session_files(state_dir)
    if name == "latest":
        if not files:
            raise RecordingError(f"no recorded sessions in {sessions_dir(state_dir)} — run a match first")
        return files[-1]
    matches = [f for f in files if f.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RecordingError(
            f"no session {name!r} in {sessions_dir(state_dir)} — give a path, a name prefix or 'latest'"
        )
    raise RecordingError(f"{name!r} names {len(matches)} sessions — give more of the name")


def rotate(state_dir: Path, max_total_bytes: int, keep: Path | None = None) -> list[Path]:
    """Delete the oldest sessions until the folder fits ``max_total_bytes`` (never ``keep``)."""
    files = session_files(state_dir)
    sizes = {f: f.stat().st_size for f in files}
    total = sum(sizes.values())
    removed = []
    for file in files:
        if total <= max_total_bytes:
            break
        if file == keep:
            continue
        file.unlink(missing_ok=True)
        total -= sizes[file]
        removed.append(file)
    return removed


def encode(record: list[Any] | dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def compress_member(lines: list[str], level: int) -> bytes:
    """One complete gzip member holding ``lines`` (each ends with a newline)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    data = ("\n".join(lines) + "\n").encode()
    return packer.compress(data) + packer.flush()


def append(path: Path, member: bytes) -> None:
    """Append one member (no fsync: like the journal's WAL, a crash of the machine may lose the last
    flush, a crash of the process loses nothing written)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as file:
        file.write(member)


def read_lines(path: Path) -> Iterator[str]:
    """The text lines of a session file; a damaged or truncated file raises RecordingError."""
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
    except OSError:
        magic = b"\x1f\x8b"  # let the reader below say what is wrong
    if magic != b"\x1f\x8b":
        raise RecordingError(f"{path} is not a kmm session recording (not gzip-compressed)")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            yield from file
    except FileNotFoundError:
        raise RecordingError(f"{path} does not exist — list sessions with `kmm replay --list`") from None
    except EOFError:
        raise RecordingError(
            f"{path} is truncated (it ends inside a compressed block): the copy is incomplete — copy it "
            "again from the state directory"
        ) from None
    except (gzip.BadGzipFile, zlib.error, UnicodeDecodeError) as error:
        raise RecordingError(f"{path} is corrupted ({error}): it cannot be replayed") from None
    except OSError as error:
        raise RecordingError(f"{path} cannot be read ({error})") from None


def parse_header(line: str, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError(f"{path} is not a kmm session recording")
    version = header.get("version")
    if version != VERSION:
        raise RecordingError(
            f"{path} is format version {version}; this kmm reads version {VERSION} — "
            "replay it with the kmm that recorded it"
        )
    if not isinstance(header.get("start_ms"), int):
        raise RecordingError(f"{path} has no start time in its header: it is corrupted")
    return header
