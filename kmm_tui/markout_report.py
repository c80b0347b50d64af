"""``kmm journal --markouts``: what every fill earned once the price moved, per match and per series.

Reads the journal's ``markouts``, ``markout_samples`` and ``closing_lines`` tables (read-only, next to
a trading engine) and prints, per match and per series: fills, mean spread captured, the mean markout
at each horizon with the share of fills that went against us and the edge really earned, the mean
closing line value, and the advisory edge that would have covered adverse selection beside the edge
in use. ``--csv`` writes one row per fill instead. Cents with two decimals, exact (``Decimal``).
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TextIO

from kmm_tui.domain.markouts import (
    DEFAULT_HORIZONS_MS,
    Basis,
    FillMarkout,
    Mark,
    fill_clv,
    mean_clv_cents,
    suggest_edge,
    summarize,
)
from kmm_tui.domain.prices import Price, format_cents, format_contracts, format_count
from kmm_tui.engine.journal import read_closing_lines, read_markouts

MARKOUT_SCHEMA = 2  # the journal schema that added the markout tables


def horizons_of(fills: Iterable[FillMarkout]) -> tuple[int, ...]:
    """The horizons the journal holds samples for (the engine's defaults before any sample)."""
    found = sorted({h for f in fills for h, _ in f.later})
    return tuple(found) or DEFAULT_HORIZONS_MS


def _h(ms: int) -> str:
    if ms % 60_000 == 0:
        return f"+{ms // 60_000}m"
    return f"+{ms // 1000}s" if ms % 1000 == 0 else f"+{ms}ms"


def _c(value: Decimal | Price | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:+}c"
    return f"{Decimal(value) / 100:+}c"


def _share(value: Decimal | None) -> str:
    return f"{int(value * 100)}%" if value is not None else "-"


def summary_rows(
    label: str,
    groups: Mapping[str, list[FillMarkout]],
    horizons: tuple[int, ...],
    closing: Mapping[str, tuple[Mark, Mark]],
    edges: Mapping[str, Price],
) -> list[tuple[str, ...]]:
    header = [label, "FILLS", "CONTRACTS", "SPREAD"]
    for h in horizons:
        header += [f"MARKOUT{_h(h)}", f"ADVERSE{_h(h)}", f"EARNED{_h(h)}"]
    header += ["CLV", "EDGE", "SUGGESTED"]
    rows = [tuple(header)]
    for key, fills in groups.items():
        summary = summarize(fills, horizons, Basis.MID)
        row = [key, str(summary.fills), format_contracts(summary.contracts), _c(summary.mean_spread_cents)]
        for stats in summary.horizons:
            row += [_c(stats.mean_markout_cents), _share(stats.adverse_share), _c(stats.mean_earned_cents)]
        suggested = suggest_edge(summary)
        edge = edges.get(key)
        row += [
            _c(mean_clv_cents(fills, closing)),
            format_cents(edge) if edge is not None else "-",
            format_cents(suggested) if suggested is not None else "-",
        ]
        rows.append(tuple(row))
    return rows


def print_report(
    db: sqlite3.Connection, match_id: str | None, edges: Mapping[str, Price], out: TextIO
) -> None:
    """Per-match and per-series tables (markouts against Kalshi's mid)."""
    fills = read_markouts(db, match_id)
    if not fills:
        print("no markouts yet: they are measured for fills booked live from this version on", file=out)
        return
    horizons = horizons_of(fills)
    closing = read_closing_lines(db)
    by_match: dict[str, list[FillMarkout]] = {}
    by_series: dict[str, list[FillMarkout]] = {}
    for fill in fills:
        by_match.setdefault(fill.match_id, []).append(fill)
        by_series.setdefault(fill.series, []).append(fill)
    print("Markouts against Kalshi's mid, cents per contract (+ = in our favour)", file=out)
    _table(summary_rows("MATCH", by_match, horizons, closing, edges), out)
    print("", file=out)
    _table(summary_rows("SERIES", by_series, horizons, closing, {}), out)


def write_report_csv(db: sqlite3.Connection, match_id: str | None, out: TextIO) -> int:
    """One row per fill: marks at fill time, markouts (mid and theo) per horizon, CLV. Returns rows."""
    fills = read_markouts(db, match_id)
    horizons = horizons_of(fills)
    closing = read_closing_lines(db)
    writer = csv.writer(out, lineterminator="\n")
    header = [
        "ts_ms",
        "match_id",
        "series",
        "ticker",
        "side",
        "price_cents",
        "count",
        "theo_cents",
        "mid_cents",
    ]
    header += ["spread_mid_cents"]
    header += [f"markout_mid_{h}ms_cents" for h in horizons] + [f"markout_theo_{h}ms_cents" for h in horizons]
    header += ["clv_cents", "trade_id"]
    writer.writerow(header)
    for f in fills:
        row = [f.ts_ms, f.match_id, f.series, f.ticker, f.side, _plain(f.price), format_count(f.count)]
        row += [_plain(f.at_fill.theo), _plain(f.at_fill.mid), _plain(f.spread(Basis.MID))]
        row += [_plain(f.markout(h, Basis.MID)) for h in horizons]
        row += [_plain(f.markout(h, Basis.THEO)) for h in horizons]
        row += [_plain(fill_clv(f, closing)), f.trade_id]
        writer.writerow(row)
    return len(fills)


def _plain(value: int | None) -> str:
    return str(Decimal(value) / 100) if value is not None else ""


def _table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
