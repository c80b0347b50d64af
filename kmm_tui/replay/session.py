"""A recorded session read back: per match, its records in time order, checked line by line.

Every record is validated against ``format.KINDS`` (kind known, field count, times never going back), so
that a damaged file is refused with the line that is wrong instead of replaying garbage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kmm_tui.replay import format as fmt
from kmm_tui.replay.format import RecordingError


@dataclass(slots=True)
class RecordedMatch:
    """One match's records (``[kind, t_ms_absolute, mi, ...]``, time order)."""

    index: int
    match_id: str
    name: str
    tickers: tuple[str, str]
    three_way: bool
    records: list[list[Any]] = field(default_factory=list)

    @property
    def span_ms(self) -> int:
        return self.records[-1][1] - self.records[0][1] if self.records else 0


@dataclass(slots=True)
class Session:
    path: Path
    header: dict[str, Any]
    matches: list[RecordedMatch]
    start_ms: int
    end_ms: int
    complete: bool  # the recording ended cleanly (E record); False after a crash or the size cap
    note: str = ""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def match(self, name: str) -> RecordedMatch:
        """A match by id, name (case-insensitive) or ticker; RecordingError naming the choices."""
        wanted = name.casefold()
        for match in self.matches:
            names = (match.match_id, match.name, *match.tickers)
            if wanted in (n.casefold() for n in names):
                return match
        names = ", ".join(m.name or m.match_id for m in self.matches) or "none"
        raise RecordingError(f"no match {name!r} in {self.path.name} — recorded matches: {names}")



def load_session(path: Path) -> Session:
    lines = fmt.read_lines(path)
    try:
        first = next(lines)
    except StopIteration:
        raise RecordingError(f"{path} is empty: nothing was recorded") from None
    header = fmt.parse_header(first, path)
    start = header["start_ms"]
    matches: dict[int, RecordedMatch] = {}
    last_t = 0
    complete = False
    note = ""
    for number, line in enumerate(lines, start=2):
        record = _parse(line, number, path)
        kind, t = record[0], record[1]
        if t < last_t - 60_000:  # events carry exchange times (slightly out of order); a minute is damage
            raise RecordingError(
                f"{path} line {number}: time goes back {last_t - t} ms — the file is corrupted"
            )
        last_t = max(last_t, t)
        if kind == "E":
            complete = True
            continue
        if kind == "C":
            note = str(record[2])
            continue
        index = record[2]
        if kind == "M":
            tickers = (record[5], record[6])
            matches[index] = RecordedMatch(index, record[3], record[4], tickers, bool(record[7]))
            continue
        match = matches.get(index)
        if match is None:
            raise RecordingError(f"{path} line {number}: a record for match {index} before it was declared")
        record[1] = start + t
        match.records.append(record)
    ordered = sorted(matches.values(), key=lambda m: m.index)
    for match in ordered:
        match.records.sort(key=lambda r: r[1])  # stable: same-time records keep their written order
    return Session(path, header, ordered, start, start + last_t, complete, note)


def _parse(line: str, number: int, path: Path) -> list[Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise RecordingError(f"{path} line {number} is not a record: the file is corrupted") from None
    if not isinstance(record, list) or len(record) < 2 or not isinstance(record[1], int):
        raise RecordingError(f"{path} line {number} is not a record: the file is corrupted")
    kind = record[0]
    fields = fmt.KINDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise RecordingError(f"{path} line {number}: unknown record kind {kind!r} — the file is corrupted")
    if kind == "D":
        if len(record) not in (3, 5):
            raise RecordingError(f"{path} line {number}: a decision record has {len(record)} fields")
    elif len(record) != 2 + len(fields):
        raise RecordingError(
            f"{path} line {number}: a {kind!r} record has {len(record) - 2} fields, expected {len(fields)}"
        )
    if kind not in ("C", "E") and not isinstance(record[2], int):
        raise RecordingError(f"{path} line {number}: match index {record[2]!r} is not a number")
    return record
