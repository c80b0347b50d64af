"""Line numbers for settings errors: ``tomllib`` reports no positions for values, so this small
scanner maps every table header and key of the file text to its line (``settings.toml:LINE: …``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kmm_tui.config.schema import Loc

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _parse_key(text: str, start: int = 0) -> tuple[list[str], int] | None:
    """Parse a (dotted, possibly quoted) TOML key at ``text[start:]``; return (parts, end) or None."""
    parts: list[str] = []
    i, n = start, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote:
                j += 2 if quote == '"' and text[j] == "\\" else 1
            if j >= n:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            match = _BARE_KEY.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, i


def _scan_value(text: str, state: str | None, depth: int) -> tuple[str | None, int]:
    """Follow strings and brackets through ``text``; return (open multi-line string quote, bracket depth).

    Lets the index skip the inside of multi-line arrays and strings, whose lines may look like keys.
    """
    i, n = 0, len(text)
    while i < n:
        if state is not None:
            end = text.find(state, i)
            if end < 0:
                return state, depth
            i = end + 3
            state = None
            continue
        ch = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            state = text[i : i + 3]
            i += 3
        elif ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
            i += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
            i += 1
        else:
            i += 1
    return state, depth


class LineIndex:
    """Line of each table header and key, addressed like the parsed document.

    ``("kalshi",)`` is the ``[kalshi]`` header, ``("defaults", "edge_cents")`` a key, and
    ``("matches", 1, "odds_a")`` a key in the second ``[[matches]]`` table. Keys inside inline tables
    and arrays are not indexed: :meth:`line` falls back to the nearest enclosing entry.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Loc, int] = {}
        self._aot: dict[Loc, int] = {}
        table: Loc = ()
        state: str | None = None
        depth = 0
        for lineno, raw in enumerate(text.splitlines(), 1):
            if state is not None or depth > 0:
                state, depth = _scan_value(raw, state, depth)
                continue
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("[["):
                parsed = _parse_key(stripped, 2)
                if parsed and parsed[0]:
                    names = parsed[0]
                    key = (*self._resolve(names[:-1]), names[-1])
                    index = self._aot.get(key, 0)
                    self._aot[key] = index + 1
                    table = (*key, index)
                    self._lines.setdefault(table, lineno)
                    self._lines.setdefault(key, lineno)
                continue
            if stripped.startswith("["):
                parsed = _parse_key(stripped, 1)
                if parsed and parsed[0]:
                    table = self._resolve(parsed[0])
                    self._lines.setdefault(table, lineno)
                continue
            parsed = _parse_key(stripped)
            if parsed is None:
                continue
            parts, end = parsed
            if end >= len(stripped) or stripped[end] != "=":
                continue
            for k in range(1, len(parts) + 1):
                self._lines.setdefault((*table, *parts[:k]), lineno)
            state, depth = _scan_value(stripped[end + 1 :], None, 0)

    def _resolve(self, names: Sequence[str]) -> Loc:
        out: list[str | int] = []
        for name in names:
            out.append(name)
            count = self._aot.get(tuple(out))
            if count:
                out.append(count - 1)
        return tuple(out)

    def line(self, loc: Loc) -> int:
        for k in range(len(loc), 0, -1):
            found = self._lines.get(loc[:k])
            if found is not None:
                return found
        return 1
