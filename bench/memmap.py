"""Where a process's memory is: resident pages per kind of mapping, glibc's heap, engine collections.

The soak (bench_scale.py ``--soak-minutes``) judges RSS alone; when it grows, this says which memory
grows. ``/proc/self/smaps`` gives each mapping's resident size; mappings are grouped by kind:
``[heap]`` (the main malloc arena, brk), the thread arenas of glibc (each a 64 MiB-aligned anonymous
reservation a thread's mallocs are served from), thread stacks (an anonymous mapping right above its
guard page), other anonymous memory (Python's obmalloc arenas and large mallocs, which the kernel
merges into shared mappings), ``[stack]`` and file-backed mappings by file (the SQLite ``-shm``,
shared libraries). ``mallinfo2`` adds glibc's own account: bytes in use and bytes free inside its
arenas (free but resident is fragmentation). ``container_sizes`` walks the engine's objects and
reports the length of every list/dict/set/deque they hold, by attribute path, to rule the engine's
own collections in or out. Linux only; elsewhere the functions return empty results.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import sys
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

ARENA_ALIGN = 64 * 2**20  # glibc's HEAP_MAX_SIZE on 64-bit: a thread arena's heap starts on this boundary
_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$")


def smaps_groups(path: str = "/proc/self/smaps") -> dict[str, int]:
    """Resident KiB per kind of mapping (see the module docstring); '' when /proc is missing."""
    try:
        text = Path(path).read_text()
    except OSError:
        return {}
    groups: dict[str, int] = {}
    kind = ""
    prev_end, prev_guard = -1, False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header is not None:
            start, end = int(header[1], 16), int(header[2], 16)
            perms, inode, name = header[3], int(header[4]), header[5].strip()
            kind = _kind(start, perms, inode, name, prev_end == start and prev_guard)
            prev_end, prev_guard = end, perms == "---p" and inode == 0 and not name
        elif line.startswith("Rss:"):
            groups[kind] = groups.get(kind, 0) + int(line.split()[1])
    return groups


def _kind(start: int, perms: str, inode: int, name: str, above_guard: bool) -> str:
    if name in ("[heap]", "[stack]"):
        return name
    if name.startswith("["):
        return "kernel " + name
    if inode == 0 and not name:
        if perms == "---p":
            return "anon guard/reserved"
        if start % ARENA_ALIGN == 0:
            return "anon glibc thread arenas"
        if above_guard:
            return "anon thread stacks"
        return "anon other (obmalloc, large mallocs)"
    base = name.rsplit("/", 1)[-1]
    if ".so" in base:
        return "file .so " + base
    return "file " + base


def summarize(groups: dict[str, int]) -> dict[str, int]:
    """The groups with every shared library folded into one 'file .so (all)' line, in KiB."""
    out: dict[str, int] = {}
    for kind, kib in groups.items():
        key = "file .so (all)" if kind.startswith("file .so ") else kind
        out[key] = out.get(key, 0) + kib
    return dict(sorted(out.items(), key=lambda item: -item[1]))


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost",
    )]


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def malloc_kib() -> dict[str, int]:
    """glibc's account over all arenas in KiB: obtained from the system (sbrk + arena heaps), mmapped
    chunks, in use, free inside the arenas; {} without glibc."""
    if _LIBC is None:
        return {}
    info = _LIBC.mallinfo2()
    return {
        "arenas_kib": info.arena // 1024,
        "mmapped_kib": info.hblkhd // 1024,
        "in_use_kib": info.uordblks // 1024,
        "free_in_arenas_kib": info.fordblks // 1024,
    }


def python_blocks() -> int:
    """Memory blocks Python's allocator has handed out and not freed (objects and their buffers)."""
    return sys.getallocatedblocks()


_CONTAINERS = (list, dict, set, frozenset, deque, bytearray)
_WALKED_MODULES = ("kmm_tui", "aiohttp", "yarl", "multidict", "asyncio", "sqlite3")


def container_sizes(
    roots: dict[str, object],
    walk: Callable[[object], bool] | None = None,
    max_depth: int = 6,
    max_items: int = 2_000,
) -> dict[str, int]:
    """Length of every container reachable from ``roots`` through the objects ``walk`` accepts (by
    default the project's, aiohttp's and asyncio's), by attribute path; items of a container are
    walked as ``[*]`` and their sizes summed, so ``engine._matches[*].history`` is the total over all
    matches. A container's items are queued as one iterator, not one entry each: the walk must not
    itself allocate megabytes (it runs inside the soak it measures)."""
    walkable = walk or _walkable
    sizes: dict[str, int] = {}
    seen: set[int] = set()
    todo: deque[tuple[str, Iterator[object], int]] = deque(
        (path, iter((obj,)), 0) for path, obj in roots.items()
    )
    while todo:
        path, objects, depth = todo.popleft()
        for obj in objects:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, _CONTAINERS):
                sizes[path] = sizes.get(path, 0) + len(obj)
                if depth < max_depth and not isinstance(obj, bytearray):
                    items: Iterable[object] = obj.values() if isinstance(obj, dict) else obj
                    todo.append((path + "[*]", _followed(items, walkable, max_items), depth + 1))
            elif depth < max_depth:
                children = [(name, value) for name, value in _attributes(obj)
                            if walkable(value) or isinstance(value, _CONTAINERS)]
                if not children:  # a leaf (one of thousands of log entries): nothing to remember
                    seen.discard(id(obj))
                for name, value in children:
                    todo.append((f"{path}.{name}", iter((value,)), depth + 1))
    return sizes


def _followed(items: Iterable[object], walkable: Callable[[object], bool], limit: int) -> Iterator[object]:
    """The first ``limit`` items worth walking: containers and accepted objects."""
    return (item for item in islice(items, limit) if walkable(item) or isinstance(item, _CONTAINERS))


def _walkable(obj: object) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith(_WALKED_MODULES) or module == "bench.bench_scale"


def _attributes(obj: object) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        out.extend(attrs.items())
    for slot in _slots(type(obj)):
        value = getattr(obj, slot, _MISSING)
        if value is not _MISSING:
            out.append((slot, value))
    return out


_MISSING = object()


@cache
def _slots(cls: type) -> tuple[str, ...]:
    """Every slot name of a class and its bases (once per class: the walk meets thousands of each)."""
    names: list[str] = []
    for base in cls.__mro__:
        slots = base.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return tuple(name for name in names if name != "__dict__")


def grown(before: dict[str, int], after: dict[str, int], top: int = 15) -> list[tuple[str, int, int]]:
    """(key, before, after) of the ``top`` keys that grew the most."""
    rows = [(key, before.get(key, 0), value) for key, value in after.items()]
    rows.sort(key=lambda row: row[1] - row[2])
    return [row for row in rows[:top] if row[2] > row[1]]


def tracemalloc_diff(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = 15
) -> list[dict[str, Any]]:
    """The Python allocation sites whose live bytes grew the most between two snapshots."""
    stats = after.compare_to(before, "lineno")
    out = []
    for stat in stats[:top]:
        frame = stat.traceback[0]
        out.append({
            "site": f"{frame.filename}:{frame.lineno}",
            "size_diff_kib": round(stat.size_diff / 1024, 1),
            "count_diff": stat.count_diff,
        })
    return out
