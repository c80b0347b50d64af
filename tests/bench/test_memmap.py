"""bench/memmap.py: the soak's breakdown of resident memory and of the engine's collections."""

import tracemalloc
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bench import memmap

SMAPS = """\
55d000000000-55d000021000 rw-p 00000000 00:00 0                          [heap]
Rss:                 120 kB
7f0004000000-7f0004200000 rw-p 00000000 00:00 0
Rss:                 600 kB
7f0004200000-7f0008000000 ---p 00000000 00:00 0
Rss:                   0 kB
7f0010000000-7f0010001000 ---p 00000000 00:00 0
Rss:                   0 kB
7f0010001000-7f0010801000 rw-p 00000000 00:00 0
Rss:                  40 kB
7f0010900000-7f0010a00000 rw-p 00000000 00:00 0
Rss:                1024 kB
7f0011000000-7f0011100000 r-xp 00000000 fe:00 1234                       /usr/lib/libsqlite3.so.0.8.6
Rss:                 300 kB
7f0011200000-7f0011208000 rw-s 00000000 fe:00 99                         /tmp/x/journal.sqlite3-shm
Rss:                  32 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  36 kB
"""


def test_resident_memory_is_grouped_by_kind_of_mapping(tmp_path: Path) -> None:
    smaps = tmp_path / "smaps"
    smaps.write_text(SMAPS)
    assert memmap.smaps_groups(str(smaps)) == {
        "[heap]": 120,
        "anon glibc thread arenas": 600,  # starts on a 64 MiB boundary
        "anon guard/reserved": 0,
        "anon thread stacks": 40,  # right above a guard page
        "anon other (obmalloc, large mallocs)": 1024,
        "file .so libsqlite3.so.0.8.6": 300,
        "file journal.sqlite3-shm": 32,
        "[stack]": 36,
    }
    assert memmap.summarize(memmap.smaps_groups(str(smaps)))["file .so (all)"] == 300
    assert memmap.smaps_groups(str(tmp_path / "missing")) == {}


@dataclass
class _Match:
    history: deque[int] = field(default_factory=lambda: deque(maxlen=3))


@dataclass
class _Engine:
    matches: dict[str, _Match] = field(default_factory=dict)


def test_collection_sizes_are_summed_over_items_and_the_growth_ranked() -> None:
    engine = _Engine({"m1": _Match(), "m2": _Match()})
    before = memmap.container_sizes({"engine": engine}, walk=lambda obj: isinstance(obj, _Match | _Engine))
    for match in engine.matches.values():
        match.history.extend(range(5))  # bounded: three each
    engine.matches["m3"] = _Match()
    after = memmap.container_sizes({"engine": engine}, walk=lambda obj: isinstance(obj, _Match | _Engine))
    assert after == {"engine.matches": 3, "engine.matches[*].history": 6}
    assert memmap.grown(before, after) == [
        ("engine.matches[*].history", 0, 6),
        ("engine.matches", 2, 3),
    ]


def test_tracemalloc_diff_names_the_line_that_allocated() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = [bytes(1000) for _ in range(200)]  # ~200 KB alive at the second snapshot
        top = memmap.tracemalloc_diff(before, tracemalloc.take_snapshot(), top=1)
    finally:
        tracemalloc.stop()
    assert len(kept) == 200
    [row] = top
    assert row["site"].endswith("test_memmap.py:" + str(_line_of("kept = [bytes(1000)")))
    assert row["size_diff_kib"] > 190 and row["count_diff"] >= 200


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1) if text in line)
