"""How a :class:`ScanResult` is shown: a fixed-width table for people, a versioned JSON document for
scripts (schema in docs/scanner.md; ``schema`` changes only when a field changes meaning or goes away).

JSON carries exact values only: prices as Kalshi-style dollar strings (``"0.5500"``), sizes as
contract strings with two decimals (``"10.00"``), times as Unix ms plus an ISO-8601 UTC copy. No floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from kmm_tui.domain.prices import Count, Price, format_cents, format_contracts, format_count, format_price
from kmm_tui.scan.model import (
    SHAPE_LABELS,
    Outcome,
    ScanMatch,
    ScanResult,
    ScanRow,
    Shape,
    StartSource,
    StartTime,
    Unsupported,
)

JSON_SCHEMA = "kmm.scan/2"
DASH = "-"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- table ---------------------------------------------------------------------------------------------


def start_text(start: StartTime, now_ms: int, tz: tzinfo | None = None) -> str:
    """``"Nov 28 19:30 EST (in 2h05m)"`` in ``tz`` (None: the machine's local zone, as the app shows
    times); a ticker-based time ends in ``?`` (a guess), a date-only start reads ``"Nov 28 (date only)"``
    (the US-Eastern date the ticker carries)."""
    if start.ms is None:
        if start.eastern_date is None:
            return "unknown"
        return f"{start.eastern_date:%b %d} (date only)"
    moment = datetime.fromtimestamp(start.ms // 1000, tz=UTC)
    local = moment.astimezone(tz) if tz is not None else moment.astimezone()
    guess = "?" if start.source is StartSource.TICKER_TIME else ""
    return f"{local:%b %d %H:%M} {local:%Z}{guess} ({relative(start.ms - now_ms)})"


def relative(delta_ms: int) -> str:
    minutes = abs(delta_ms) // 60_000
    hours, mins = divmod(minutes, 60)
    text = f"{hours}h{mins:02d}m" if hours else f"{mins}m"
    return f"in {text}" if delta_ms >= 0 else f"{text} ago"


def cents_text(price: Price) -> str:
    """Exact cents without the unit, as ``--theo-a``/``--min-spread`` take them: ``2050`` -> ``"20.5"``."""
    return format_cents(price).removesuffix("c")


def run_command(match: ScanMatch, theo: Sequence[Price] | None, flags: Sequence[str] = ()) -> str:
    """The ``kmm run`` line for ``match`` on the exchange the scan read: ``--ticker-a/--ticker-b`` for two
    teams, ``--tickers HOME,TIE,AWAY`` for three-way, ``--ticker`` for one YES/NO market. ``theo`` is in
    the match's outcome order (A, B; or home, tie, away; or YES, NO); without it the fair value flags
    are missing."""
    if match.shape is Shape.THREE_WAY:
        words = ["kmm", "run", "--tickers", ",".join(o.ticker for o in match.outcomes)]
    elif match.shape is Shape.YES_NO:
        words = ["kmm", "run", "--ticker", match.a.ticker]
    else:
        words = ["kmm", "run", "--ticker-a", match.a.ticker, "--ticker-b", match.b.ticker]
    if theo is not None:
        by_side = dict(zip((o.side for o in match.outcomes), theo, strict=True))
        words += ["--theo-a", cents_text(by_side["A"]), "--theo-b", cents_text(by_side["B"])]
        if "T" in by_side:
            words += ["--theo-tie", cents_text(by_side["T"])]
    return " ".join([*words, *flags])


def _cents(price: Price | None) -> str:
    return DASH if price is None else format_cents(price)


def _size(count: Count | None) -> str:
    return DASH if count is None else format_contracts(count)


def _signed(price: Price | None) -> str:
    if price is None:
        return DASH
    return ("+" if price > 0 else "") + format_cents(price)


def saved_marks(saved: Iterable[Any]) -> dict[frozenset[str], str]:
    """Markers for matches saved in settings.toml (``[[matches]]``), keyed by their set of markets."""
    marks: dict[frozenset[str], str] = {}
    for match in saved:
        tickers = (match.ticker_a, match.ticker_b, getattr(match, "ticker_tie", None))
        marks[frozenset(t for t in tickers if t)] = "saved"
    return marks


def mark_of(match: ScanMatch, marks: Mapping[frozenset[str], str]) -> str:
    """The marker for ``match`` (e.g. ``"saved"``, ``"quoting"``), matched on its exact set of markets:
    a YES/NO match on one market of a two-team event is a different match."""
    return marks.get(frozenset(match.tickers), "")


TABLE_HEADER = (
    "START",
    "SPORT",
    "MATCH",
    "SHAPE",
    "OUTCOME",
    "TICKER",
    "BID",
    "ASK",
    "SPREAD",
    "DEPTH",
    "BID SUM",
    "OVERROUND",
    "VOLUME",
    "MARK",
)
NUMERIC = frozenset({6, 7, 8, 9, 10, 11, 12})


def _match_lines(
    match: ScanMatch, now_ms: int, tz: tzinfo | None, mark: str
) -> list[tuple[str, ...]]:
    """A match's block: its first line carries the match (start, name, shape, bid sum, overround,
    marker) and the first outcome, the next lines one outcome each."""
    lines = []
    for index, outcome in enumerate(match.outcomes):
        first = index == 0
        lines.append(
            (
                start_text(match.start, now_ms, tz) if first else "",
                match.sport if first else "",
                match.name if first else "",
                SHAPE_LABELS[match.shape] if first else "",
                f"{outcome.side} {outcome.label}",
                outcome.ticker,
                _cents(outcome.bid),
                _cents(outcome.ask),
                format_cents(outcome.spread),
                f"{_size(outcome.bid_size)} x {_size(outcome.ask_size)}",
                format_cents(match.bid_sum) if first else "",
                _signed(match.overround) if first else "",
                format_contracts(outcome.row.volume),
                mark if first else "",
            )
        )
    return lines


def format_table(
    result: ScanResult,
    tz: tzinfo | None = None,
    marks: Mapping[frozenset[str], str] | None = None,
) -> str:
    """One block per match (a line per outcome), then the events of no supported shape with why."""
    lines: list[tuple[str, ...]] = [TABLE_HEADER]
    for match in result.matches:
        lines += _match_lines(match, result.now_ms, tz, mark_of(match, marks or {}))
    widths = [max(len(line[i]) for line in lines) for i in range(len(TABLE_HEADER))]
    out = [
        "  ".join(
            cell.rjust(widths[i]) if i in NUMERIC else cell.ljust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    summary = _summary(result)
    if not result.matches and not result.unsupported:
        return f"No markets match the filters. {summary}\n{_hint(result)}".rstrip()
    legend = (
        "START: local time; '?' = time read from the ticker (a guess). BID SUM: every outcome's best bid "
        "added; OVERROUND: every outcome's best ask added, minus 100c. A NO outcome's bid is 100c - YES ask."
    )
    body = [*out, ""] if result.matches else []
    return "\n".join([*body, *_unsupported_lines(result), summary, legend])


def _unsupported_lines(result: ScanResult) -> list[str]:
    if not result.unsupported:
        return []
    lines = [f"Not supported ({len(result.unsupported)}; never offered as a match):"]
    for event in result.unsupported:
        lines.append(f"  {event.event_ticker} ({event.sport}, {event.title}): {event.reason}")
    return [*lines, ""]


def _plural(count: int, word: str, plural: str) -> str:
    return f"{count} {word if count == 1 else plural}"


def _summary(result: ScanResult) -> str:
    shapes = ", ".join(
        f"{sum(1 for m in result.matches if m.shape is shape)} {SHAPE_LABELS[shape]}" for shape in Shape
    )
    return (
        f"{_plural(len(result.rows), 'market', 'markets')}, "
        f"{_plural(len(result.matches), 'match', 'matches')} ({shapes}), "
        f"{len(result.unsupported)} not supported ({result.filters.mode.value}; "
        f"{result.markets_seen} open markets in {len(result.series)} series scanned)"
    )


def _hint(result: ScanResult) -> str:
    if result.filters.mode.value == "game-day" and result.markets_seen:
        return "Nothing starts in the next 24 hours: try --mode all."
    return ""


# --- JSON ----------------------------------------------------------------------------------------------


def _price(value: Price | None) -> str | None:
    return None if value is None else format_price(value)


def _count(value: Count | None) -> str | None:
    return None if value is None else format_count(value)


def start_json(start: StartTime) -> dict[str, Any]:
    return {
        "start_ms": start.ms,
        "start": None if start.ms is None else _iso(start.ms),
        "start_date_eastern": None if start.eastern_date is None else start.eastern_date.isoformat(),
        "start_source": start.source.value,
    }


def row_json(row: ScanRow) -> dict[str, Any]:
    return {
        "sport": row.sport_key,
        "sport_label": row.sport,
        "series": row.series,
        "event_ticker": row.event_ticker,
        "event_title": row.event_title,
        "ticker": row.ticker,
        "team": row.team,
        "is_tie": row.is_tie,
        "bid": _price(row.bid),
        "bid_size": _count(row.bid_size),
        "ask": _price(row.ask),
        "ask_size": _count(row.ask_size),
        "spread": format_price(row.spread),
        "volume": format_count(row.volume),
        "open_interest": format_count(row.open_interest),
        **start_json(row.start),
    }


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "side": outcome.side,
        "label": outcome.label,
        "ticker": outcome.ticker,
        "is_no": outcome.is_no,
        "bid": _price(outcome.bid),
        "bid_size": _count(outcome.bid_size),
        "ask": _price(outcome.ask),
        "ask_size": _count(outcome.ask_size),
        "spread": format_price(outcome.spread),
    }


def match_json(match: ScanMatch, run_flags: Sequence[str] = (), mark: str = "") -> dict[str, Any]:
    return {
        "sport": match.sport_key,
        "sport_label": match.sport,
        "series": match.series,
        "event_ticker": match.event_ticker,
        "title": match.title,
        "name": match.name,
        "shape": match.shape.value,
        "ticker_a": match.a.ticker,
        "team_a": match.outcome("A").label,
        "ticker_b": match.b.ticker,
        "team_b": match.outcome("B").label,
        "ticker_tie": None if match.tie is None else match.tie.ticker,
        "outcomes": [outcome_json(outcome) for outcome in match.outcomes],
        "bid_sum": format_price(match.bid_sum),
        "overround": _price(match.overround),
        "widest_spread": format_price(match.widest_spread),
        "depth": _count(match.depth),
        "mark": mark or None,
        **start_json(match.start),
        "run_command": run_command(match, None, run_flags),
    }


def unsupported_json(event: Unsupported) -> dict[str, Any]:
    return {
        "sport": event.sport_key,
        "sport_label": event.sport,
        "series": event.series,
        "event_ticker": event.event_ticker,
        "title": event.title,
        "tickers": [row.ticker for row in event.rows],
        "reason": event.reason,
        **start_json(event.start),
    }


def result_json(
    result: ScanResult,
    environment: str,
    run_flags: Sequence[str] = (),
    marks: Mapping[frozenset[str], str] | None = None,
) -> dict[str, Any]:
    """The ``kmm.scan/2`` document; each match's ``run_command`` lacks only the fair value flags."""
    filters = result.filters
    return {
        "schema": JSON_SCHEMA,
        "generated_at_ms": result.now_ms,
        "generated_at": _iso(result.now_ms),
        "environment": environment,
        "mode": filters.mode.value,
        "filters": {
            "min_spread": _price(filters.min_spread),
            "min_spread_cents": None if filters.min_spread is None else cents_text(filters.min_spread),
            "within_ms": filters.within_ms,
        },
        "series": list(result.series),
        "markets_seen": result.markets_seen,
        "markets": [row_json(row) for row in result.rows],
        "matches": [match_json(m, run_flags, mark_of(m, marks or {})) for m in result.matches],
        "unsupported": [unsupported_json(event) for event in result.unsupported],
    }
