"""The replay report: the original run beside each replayed setting, the fidelity line and the speed.

``replay_session`` does the work (pure apart from the clock it is given for the speed-up); ``text`` and
``as_json`` render it. Money stays exact: micro-dollar ints in JSON, ``format_usd`` in text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kmm_tui.domain.prices import COUNT_SCALE, Count, Price, format_cents, format_contracts, format_usd
from kmm_tui.replay.runner import (
    DecisionCheck,
    FillRow,
    Outcome,
    Overrides,
    check_decisions,
    recorded_outcome,
    simulate,
)
from kmm_tui.replay.session import RecordedMatch, Session

FILL_MATCH_MS = 5_000  # a replayed fill matches a recorded one on the same side and price within this


@dataclass(frozen=True, slots=True)
class FillAgreement:
    recorded: Count
    replayed: Count
    matched: Count  # contracts of replayed fills that have a recorded twin (side, price, ±FILL_MATCH_MS)


@dataclass(frozen=True, slots=True)
class MatchReport:
    match: RecordedMatch
    decisions: DecisionCheck
    fills: FillAgreement
    rows: tuple[Outcome, ...]  # recorded first, then the recorded settings replayed, then each variant


@dataclass(frozen=True, slots=True)
class Report:
    session: Session
    matches: tuple[MatchReport, ...]
    replays: int
    elapsed_ns: int

    @property
    def speedup(self) -> int | None:
        """Recorded time replayed (every match under every setting) over the wall time it took."""
        if self.elapsed_ns <= 0:
            return None
        return sum(m.match.span_ms for m in self.matches) * 1_000_000 * self.replays // self.elapsed_ns


def variants(
    edges: Sequence[Price | None],
    sizes: Sequence[Count | None],
    limits: Sequence[Count | None],
    retests: Sequence[int | None],
) -> list[Overrides]:
    """Every combination of the given values (a sweep); None keeps the recorded value."""
    return [Overrides(*combo) for combo in itertools.product(edges, sizes, limits, retests)]


def label(overrides: Overrides) -> str:
    parts = []
    if overrides.edge is not None:
        parts.append(f"edge {format_cents(overrides.edge)}")
    if overrides.contracts is not None:
        parts.append(f"size {format_contracts(overrides.contracts)}")
    if overrides.inventory_max is not None:
        parts.append(f"inv max {format_contracts(overrides.inventory_max)}")
    if overrides.retest_interval_ms is not None:
        parts.append(f"retest {overrides.retest_interval_ms // 1000}s")
    return ", ".join(parts) or "recorded settings"


def agreement(recorded: list[FillRow], replayed: list[FillRow]) -> FillAgreement:
    unused = list(recorded)
    matched = 0
    for fill in replayed:
        for twin in unused:
            near = abs(twin.ts_ms - fill.ts_ms) <= FILL_MATCH_MS
            if near and twin.side is fill.side and twin.price == fill.price:
                matched += min(twin.count, fill.count)
                unused.remove(twin)
                break
    return FillAgreement(Count(sum(f.count for f in recorded)), Count(sum(f.count for f in replayed)),
                         Count(matched))


def replay_session(
    session: Session,
    matches: Sequence[RecordedMatch],
    overrides: Sequence[Overrides],
    clock_ns: Callable[[], int],
) -> Report:
    reports = []
    started = clock_ns()
    for match in matches:
        original = recorded_outcome(match)
        same = simulate(match, Overrides(), "replay")
        rows = [original, same]
        rows.extend(simulate(match, o, label(o)) for o in overrides if o != Overrides())
        fills = agreement(original.fills, same.fills)
        reports.append(MatchReport(match, check_decisions(match), fills, tuple(rows)))
    elapsed = clock_ns() - started
    replays = 1 + sum(1 for o in overrides if o != Overrides())
    return Report(session, tuple(reports), replays, elapsed)


# --- rendering -------------------------------------------------------------------------------------

COLUMNS = ("setting", "fills", "A", "B", "pairs", "P&L if A", "P&L if B", "fees", "markout 30s", "writes")


def _cells(row: Outcome) -> list[str]:
    inv = row.inventory
    return [
        row.label,
        str(len(row.fills)),
        format_contracts(inv.count_long_a),
        format_contracts(inv.count_long_b),
        format_contracts(inv.locked_pairs),
        format_usd(inv.pnl_if_a_wins),
        format_usd(inv.pnl_if_b_wins),
        format_usd(inv.fees),
        format_usd(row.markout),
        str(row.writes),
    ]


def fidelity_line(report: MatchReport) -> str:
    d, f = report.decisions, report.fills
    same = "identical" if d.total and d.identical == d.total else "DIFFERENT"
    line = (f"fidelity: decisions {same} ({d.identical}/{d.total}); contracts filled: recorded "
            f"{format_contracts(f.recorded)}, replayed {format_contracts(f.replayed)}, matched "
            f"{format_contracts(f.matched)} (same side and price within {FILL_MATCH_MS // 1000}s)")
    if d.first_difference:
        line += f"; first difference {d.first_difference}"
    return line


def text(report: Report) -> str:
    session = report.session
    out = [f"session {session.path.name}: {len(session.matches)} match(es), "
           f"{session.duration_ms // 1000}s recorded" + ("" if session.complete else " (no clean end)")
           + (f"; {session.note}" if session.note else "")]
    for match_report in report.matches:
        match = match_report.match
        out.append("")
        out.append(f"{match.name or match.match_id}  ({match.tickers[0]} / {match.tickers[1]})")
        table = [list(COLUMNS), *(_cells(r) for r in match_report.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
        for row in table:
            first = row[0].ljust(widths[0])
            out.append("  ".join([first, *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]))
        out.append(fidelity_line(match_report))
    speed = report.speedup
    out.append("")
    out.append(f"replayed {report.replays} setting(s) in {report.elapsed_ns // 1_000_000} ms"
               + (f": {speed}x real time" if speed is not None else ""))
    return "\n".join(out)


def _row_json(row: Outcome) -> dict[str, Any]:
    inv = row.inventory
    settings = row.settings
    return {
        "setting": row.label,
        "edge": settings.edge if settings else None,
        "contracts": settings.contracts if settings else None,
        "inventory_max": settings.inventory_max if settings else None,
        "retest_interval_ms": settings.retest_interval_ms if settings else None,
        "fills": [[f.ts_ms, f.side.value, f.price, f.count, f.fee] for f in row.fills],
        "long_a": inv.count_long_a,
        "long_b": inv.count_long_b,
        "locked_pairs": inv.locked_pairs,
        "pnl_if_a_wins": inv.pnl_if_a_wins,
        "pnl_if_b_wins": inv.pnl_if_b_wins,
        "fees": inv.fees,
        "markout_30s": row.markout,
        "marked_fills": row.marked_fills,
        "writes": row.writes,
        "max_exposure": row.max_exposure,
        "pnl_curve": row.pnl_curve,
    }


def as_json(report: Report) -> dict[str, Any]:
    """Units: prices $0.0001, counts 1/100 contract, money micro-dollars, times Unix ms."""
    return {
        "session": str(report.session.path),
        "start_ms": report.session.start_ms,
        "duration_ms": report.session.duration_ms,
        "complete": report.session.complete,
        "replays": report.replays,
        "elapsed_ms": report.elapsed_ns // 1_000_000,
        "speedup": report.speedup,
        "matches": [
            {
                "match_id": m.match.match_id,
                "name": m.match.name,
                "tickers": list(m.match.tickers),
                "decisions": {"total": m.decisions.total, "identical": m.decisions.identical,
                              "first_difference": m.decisions.first_difference},
                "fills": {"recorded": m.fills.recorded, "replayed": m.fills.replayed,
                          "matched": m.fills.matched},
                "rows": [_row_json(r) for r in m.rows],
            }
            for m in report.matches
        ],
        "units": {"price": "1/10000 USD", "count": f"1/{COUNT_SCALE} contract", "money": "1/1000000 USD"},
    }


def pnl_samples(curve: Sequence[tuple[int, int]], start_ms: int, end_ms: int, width: int) -> list[int]:
    """The P&L curve (marked to theo after each fill) as ``width`` evenly spaced samples from start to
    end: each sample is the last value at or before its time (0 before the first fill). For sparklines."""
    if width <= 0:
        return []
    span = max(end_ms - start_ms, 1)
    samples, at, value = [], 0, 0
    for step in range(1, width + 1):
        until = start_ms + span * step // width
        while at < len(curve) and curve[at][0] <= until:
            value = curve[at][1]
            at += 1
        samples.append(value)
    return samples
