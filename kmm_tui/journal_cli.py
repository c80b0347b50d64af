"""``kmm journal``: what the engine recorded — the matches, one match's history, fills as CSV.

Read-only on purpose: the journal is opened with SQLite's ``mode=ro``, so this command can run next
to a trading engine (WAL lets readers and the one writer coexist) and can never alter the record the
engine relies on for restart recovery. Each environment has its own journal (``--env``, default the
settings' environment; see ``bootstrap.journal_path``). Times are shown in UTC (like the log file),
prices in cents, counts in contracts and money in dollars, all exact; the CSV keeps the exchange's
fixed-point forms.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from kmm_tui.bootstrap import journal_path
from kmm_tui.config import Settings, UserError
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import (
    cost,
    format_cents,
    format_contracts,
    format_count,
    format_dollars,
    format_money,
    format_price,
)
from kmm_tui.engine.journal import MIGRATIONS, JournalFill, spec_from_json
from kmm_tui.engine.model import MatchSpec, Shape
from kmm_tui.markout_report import MARKOUT_SCHEMA, print_report, write_report_csv
from kmm_tui.outcome_input import OUTCOME_WORDS, pnl_label
from kmm_tui.run_report import inventory_json

EXIT_OK = 0
CSV_COLUMNS = (
    "time_utc",
    "ts_ms",
    "match_id",
    "match_name",
    "ticker",
    "side",
    "price_cents",
    "price_dollars",
    "count",
    "cost_dollars",
    "fee_dollars",
    "is_taker",
    "trade_id",
    "order_id",
)


class JournalCliError(UserError):
    """Something the user can fix (wrong path, unknown match, unwritable CSV); the CLI prints it as
    one line ``kmm journal: …`` and exits 2."""


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One match as the journal knows it. ``spec`` is None for a deleted match that left records."""

    match_id: str
    spec: MatchSpec | None
    status: str
    reason: str
    fills: int

    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None and self.spec.name else ""

    @property
    def tickers(self) -> str:
        """'A / B'; 'HOME / TIE / AWAY' for a three-way match; the one ticker of a YES/NO market."""
        return " / ".join(self.spec.tickers) if self.spec is not None else "-"


@dataclass(frozen=True, slots=True)
class HistoryLine:
    ts_ms: int
    kind: str  # order | fill | decision | guard
    text: str


# --- reading ---------------------------------------------------------------------------------------


class JournalReader:
    """Read-only queries over the journal database (the engine's ``Journal`` is the only writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as error:
            raise JournalCliError(f"cannot read the journal {path}: {error}") from None
        if version > len(MIGRATIONS):
            raise JournalCliError(
                f"the journal {path} was written by a newer kmm (schema {version}); upgrade kmm to read it"
            )
        if version < 1:
            raise JournalCliError(f"{path} is not a kmm journal (no schema); check --state-dir")

    def close(self) -> None:
        self._db.close()

    def matches(self) -> list[MatchRecord]:
        """Saved matches in the order they were added, then ids that only remain in fills or orders."""
        counts = dict(self._db.execute("SELECT match_id, COUNT(*) FROM fills GROUP BY match_id"))
        records = [
            MatchRecord(match_id, spec_from_json(spec_json), status, reason, counts.get(match_id, 0))
            for match_id, spec_json, status, reason in self._db.execute(
                "SELECT match_id, spec_json, status, reason FROM matches ORDER BY rowid"
            )
        ]
        known = {record.match_id for record in records}
        orphans = self._db.execute(
            "SELECT match_id FROM fills UNION SELECT match_id FROM order_events "
            "UNION SELECT match_id FROM decisions ORDER BY 1"
        )
        records.extend(
            MatchRecord(match_id, None, "deleted", "", counts.get(match_id, 0))
            for (match_id,) in orphans
            if match_id not in known
        )
        return records

    def markouts(
        self, record: MatchRecord | None, records: list[MatchRecord], csv_path: Path | None, out: TextIO
    ) -> None:
        """``--markouts``: the markout tables, or one CSV row per fill (markout_report.py)."""
        if int(self._db.execute("PRAGMA user_version").fetchone()[0]) < MARKOUT_SCHEMA:
            raise JournalCliError("this journal predates markouts: none were measured")
        match_id = record.match_id if record else None
        if csv_path is None:
            edges = {r.match_id: r.spec.settings.edge for r in records if r.spec is not None}
            print_report(self._db, match_id, edges, out)
        elif str(csv_path) == "-":
            write_report_csv(self._db, match_id, out)
        else:
            try:
                with csv_path.open("w", newline="", encoding="utf-8") as handle:
                    rows = write_report_csv(self._db, match_id, handle)
            except OSError as error:
                raise JournalCliError(f"cannot write {csv_path}: {error.strerror or error}") from None
            print(f"wrote {rows} fill markout(s) to {csv_path}", file=out)

    def fills(self, match_id: str | None = None) -> list[JournalFill]:
        query = (
            "SELECT trade_id, match_id, order_id, ticker, side, price, count, fee, is_taker, ts_ms FROM fills"
        )
        params: tuple[str, ...] = ()
        if match_id is not None:
            query += " WHERE match_id = ?"
            params = (match_id,)
        rows = self._db.execute(query + " ORDER BY ts_ms, trade_id", params)
        return [JournalFill(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9]) for r in rows]

    def history(self, match_id: str) -> list[HistoryLine]:
        """Orders, fills, decisions and guard trips of one match, oldest first, in words."""
        lines: list[HistoryLine] = []
        for ts, kind, cid, price, count, detail, side, ticker in self._db.execute(
            "SELECT e.ts_ms, e.kind, e.client_order_id, e.price, e.count, e.detail, o.side, o.ticker "
            "FROM order_events e LEFT JOIN orders o ON o.client_order_id = e.client_order_id "
            "WHERE e.match_id = ? ORDER BY e.id",
            (match_id,),
        ):
            what = f"{kind:<9} {_side(side)} {ticker or '?'}"
            if price is not None:
                what += f" {format_cents(price)}"
            if count is not None:
                what += f" x{format_contracts(count)}"
            if detail:
                what += f" ({detail})"
            lines.append(HistoryLine(ts, "order", f"{what}  [{cid}]"))
        for fill in self.fills(match_id):
            lines.append(HistoryLine(fill.ts_ms, "fill", _fill_text(fill)))
        for ts, side, reason, detail, price in self._db.execute(
            "SELECT ts_ms, side, reason, detail, price FROM decisions WHERE match_id = ? ORDER BY id",
            (match_id,),
        ):
            quote = format_cents(price) if price is not None else "no quote"
            lines.append(HistoryLine(ts, "decision", f"{_side(side)} {quote} {reason}: {detail}"))
        for ts, guard, reason in self._db.execute(
            "SELECT ts_ms, guard, reason FROM guard_trips WHERE match_id = ? ORDER BY id", (match_id,)
        ):
            lines.append(HistoryLine(ts, "guard", f"{guard}: {reason}"))
        lines.sort(key=lambda line: line.ts_ms)  # stable: same-millisecond lines keep their kind order
        return lines


def _side(side: str | None) -> str:
    return side.upper() if side else "?"


def _fill_text(fill: JournalFill) -> str:
    role = "taker" if fill.is_taker else "maker"
    return (
        f"{_side(fill.side)} {fill.ticker} {format_contracts(fill.count)} @ {format_cents(fill.price)} "
        f"fee {_usd(fill.fee)} {role}  [trade {fill.trade_id}]"
    )


def _usd(amount: int) -> str:
    """Exact dollars for people: '-$1.141', '$0.0035' (never rounded: this is a record)."""
    return f"{'-' if amount < 0 else ''}${format_dollars(abs(amount))}"


def utc_time(ts_ms: int) -> str:
    """Unix ms -> '2026-11-28 13:30:05.123Z' (integer arithmetic: no float seconds)."""
    moment = datetime.fromtimestamp(ts_ms // 1000, tz=UTC) + timedelta(milliseconds=ts_ms % 1000)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def find_match(records: list[MatchRecord], wanted: str) -> MatchRecord:
    """By exact id, then exact name (any case), then a unique part of a name or id."""
    key = wanted.strip().casefold()
    for test in (
        lambda r: r.match_id.casefold() == key,
        lambda r: r.name.casefold() == key,
        lambda r: key in r.name.casefold() or key in r.match_id.casefold(),
    ):
        found = [record for record in records if test(record)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(record.name or record.match_id for record in found)
            raise JournalCliError(f"{wanted!r} matches several matches ({names}): give the id")
    listed = ", ".join(record.name or record.match_id for record in records) or "none"
    raise JournalCliError(f"no match {wanted!r} in the journal (matches: {listed})")


# --- printing ----------------------------------------------------------------------------------------


def print_matches(records: list[MatchRecord], out: TextIO) -> None:
    if not records:
        print("the journal has no matches yet", file=out)
        return
    rows = [("ID", "NAME", "TICKERS", "STATUS", "FILLS")]
    for record in records:
        status = f"{record.status} ({record.reason})" if record.reason else record.status
        rows.append((record.match_id, record.name or "-", record.tickers, status, str(record.fills)))
    _table(rows, out)


def _table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip(), file=out)


def print_match(
    record: MatchRecord, fills: list[JournalFill], history: list[HistoryLine], out: TextIO
) -> None:
    print(f"Match    {record.name or '-'}  (id {record.match_id})", file=out)
    status = f"{record.status}: {record.reason}" if record.reason else record.status
    print(f"Status   {status}", file=out)
    spec = record.spec
    if spec is not None:
        print(f"Tickers  {_tickers_text(spec)}", file=out)
        print(f"Theo     {_theo_text(spec)}", file=out)
        s = spec.settings
        print(
            f"Settings edge {format_cents(s.edge)}, {format_contracts(s.contracts)} contracts, inventory max "
            f"{format_contracts(s.inventory_max)}, start margin {_duration(s.start_margin_ms)}",
            file=out,
        )
    print(f"Fills    {len(fills)}{_position(fills, spec)}", file=out)
    print(f"History  ({len(history)} lines, UTC)", file=out)
    for line in history:
        print(f"  {utc_time(line.ts_ms)}  {line.kind:<8} {line.text}", file=out)


def _duration(ms: int) -> str:
    if ms % 60_000 == 0:
        return f"{ms // 60_000} min"
    return f"{ms // 1000}.{ms % 1000:03d}".rstrip("0").rstrip(".") + " s"


def _tickers_text(spec: MatchSpec) -> str:
    if spec.shape is Shape.YES_NO:
        return f"{spec.ticker_a} (A = YES / over, B = NO / under)"
    if spec.shape is Shape.THREE_WAY:
        return f"home {spec.ticker_a}  draw {spec.ticker_tie}  away {spec.ticker_b}"
    return f"A {spec.ticker_a}  B {spec.ticker_b}"


def _theo_text(spec: MatchSpec) -> str:
    theo = spec.theo
    if theo.is_manual:
        by_side = {Side.A: theo.theo_a, Side.T: theo.theo_tie, Side.B: theo.theo_b}
        typed = [format_cents(by_side[s]) if by_side[s] is not None else "implied" for s in spec.outcomes]
        return f"manual {' / '.join(typed)}"
    draw = f" draw {theo.odds_draw}" if theo.odds_draw is not None else ""
    return f"odds {theo.odds_a} / {theo.odds_b}{draw} ({theo.method.value})"


def fills_inventory(fills: Iterable[JournalFill]) -> Inventory:
    """The position the journaled fills add up to (raises ValueError on an impossible fill)."""
    inventory = Inventory()
    for fill in fills:
        inventory = inventory.apply_fill(Side(fill.side), fill.price, fill.count, fill.fee)
    return inventory


def _outcomes(spec: MatchSpec | None, inventory: Inventory) -> tuple[tuple[Side, ...], Shape]:
    """The match's outcomes (a deleted match's spec is gone: a tie held makes it three-way)."""
    if spec is not None:
        return spec.outcomes, spec.shape
    if inventory.count_long_t:
        return (Side.A, Side.T, Side.B), Shape.THREE_WAY
    return (Side.A, Side.B), Shape.TEAMS


def _position(fills: Iterable[JournalFill], spec: MatchSpec | None = None) -> str:
    """Position and settlement P&L per outcome rebuilt from the journaled fills (what this match
    bought): 'if A wins' for two teams, 'if home / if draw / if away', 'if over / if under'."""
    try:
        inventory = fills_inventory(fills)
    except ValueError as error:
        return f" (position not computable: {error})"
    if inventory == Inventory():
        return ""
    outcomes, shape = _outcomes(spec, inventory)
    words = OUTCOME_WORDS[shape]
    parts = []
    for side in outcomes:
        avg = inventory.avg_cost(side)
        average = f" @ avg cost {format_cents(avg)}" if avg else ""  # fees included
        parts.append(f"long {words[side]} {format_contracts(inventory.count_long(side))}{average}")
    pnl = ", ".join(f"{pnl_label(shape, side)} {_usd(inventory.pnl_if(side))}" for side in outcomes)
    return f": {', '.join(parts)}; fees {_usd(inventory.fees)}; P&L {pnl}"


def write_csv(fills: list[JournalFill], names: dict[str, str], out: TextIO) -> None:
    """Fills with exact values: prices in cents and dollars, counts and money in fixed point."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for fill in fills:
        writer.writerow(
            (
                utc_time(fill.ts_ms),
                fill.ts_ms,
                fill.match_id,
                names.get(fill.match_id, ""),
                fill.ticker,
                fill.side,
                format_cents(fill.price).removesuffix("c"),
                format_price(fill.price),
                format_count(fill.count),
                format_money(cost(fill.price, fill.count)),
                format_money(fill.fee),
                "true" if fill.is_taker else "false",
                fill.trade_id,
                fill.order_id,
            )
        )


def record_json(record: MatchRecord) -> dict[str, Any]:
    spec = record.spec
    return {
        "match_id": record.match_id,
        "name": record.name or None,
        "ticker_a": spec.ticker_a if spec is not None else None,
        "ticker_b": spec.ticker_b if spec is not None else None,
        "ticker_tie": spec.ticker_tie if spec is not None else None,
        "shape": spec.shape.value if spec is not None else None,
        "status": record.status,
        "reason": record.reason or None,
        "fills": record.fills,
    }


def fill_json(fill: JournalFill) -> dict[str, Any]:
    return {
        "ts_ms": fill.ts_ms,
        "time_utc": utc_time(fill.ts_ms),
        "ticker": fill.ticker,
        "side": fill.side,
        "price": format_price(fill.price),
        "count": format_count(fill.count),
        "cost": format_money(cost(fill.price, fill.count)),
        "fee": format_money(fill.fee),
        "is_taker": fill.is_taker,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
    }


def journal_json(
    records: list[MatchRecord],
    record: MatchRecord | None,
    fills: list[JournalFill],
    history: list[HistoryLine],
) -> dict[str, Any]:
    """``kmm journal --json``: every match, or (``--match``) one with its fills, position and history;
    prices, counts and money as exact strings."""
    if record is None:
        return {"matches": [record_json(r) for r in records]}
    inventory = fills_inventory(fills)
    outcomes, _ = _outcomes(record.spec, inventory)
    return {
        "match": record_json(record),
        "fills": [fill_json(fill) for fill in fills],
        "position": inventory_json(inventory, outcomes),
        "history": [{"ts_ms": line.ts_ms, "kind": line.kind, "text": line.text} for line in history],
    }


# --- the command -------------------------------------------------------------------------------------


def run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    environment = getattr(args, "env", None) or settings.environment.value
    path = journal_path(Path(args.state_dir), environment)
    if not path.is_file():
        raise JournalCliError(
            f"no {environment} journal at {path}: nothing has traded on {environment} with this state "
            "directory — pick another with --state-dir or --env"
        )
    reader = JournalReader(path)
    try:
        records = reader.matches()
        record = find_match(records, args.match) if getattr(args, "match", None) else None
        csv_path: Path | None = getattr(args, "csv", None)
        if getattr(args, "markouts", False):
            reader.markouts(record, records, csv_path, out)
        elif getattr(args, "json", False):
            if csv_path is not None:
                raise JournalCliError("--json and --csv both choose the output — keep one of them")
            fills = reader.fills(record.match_id) if record is not None else []
            history = reader.history(record.match_id) if record is not None else []
            json.dump(journal_json(records, record, fills, history), out, indent=2)
            out.write("\n")
        elif csv_path is not None:
            fills = reader.fills(record.match_id if record else None)
            names = {r.match_id: r.name for r in records}
            if str(csv_path) == "-":
                write_csv(fills, names, out)
            else:
                try:
                    with csv_path.open("w", newline="", encoding="utf-8") as handle:
                        write_csv(fills, names, handle)
                except OSError as error:
                    raise JournalCliError(f"cannot write {csv_path}: {error.strerror or error}") from None
                print(f"wrote {len(fills)} fill(s) to {csv_path}", file=out)
        elif record is not None:
            print_match(record, reader.fills(record.match_id), reader.history(record.match_id), out)
        else:
            print_matches(records, out)
    except sqlite3.DatabaseError as error:
        raise JournalCliError(f"cannot read the journal {path}: {error}") from None
    finally:
        reader.close()
    return EXIT_OK


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point for ``kmm journal`` (dispatched from kmm_tui.cli; ``args.state_dir`` is resolved)."""
    return run(args, settings, sys.stdout)


__all__ = ["JournalCliError", "JournalReader", "find_match", "main", "run", "utc_time", "write_csv"]
