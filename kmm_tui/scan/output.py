"""How a :class:`ScanResult` is shown: a fixed-width table for people, a versioned JSON document for
scripts (schema in docs/scanner.md; ``schema`` changes only when a field changes meaning or goes away).

JSON carries exact values only: prices as Kalshi-style dollar strings (``"0.5500"``), sizes as
contract strings with two decimals (``"10.00"``), times as Unix ms plus an ISO-8601 UTC copy. No floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kmm_tui.domain.prices import Count, Price, format_cents, format_contracts, format_count, format_price
from kmm_tui.odds.matching import EASTERN
from kmm_tui.scan.model import ScanMatch, ScanResult, ScanRow, StartSource, StartTime

JSON_SCHEMA = "kmm.scan/1"
DASH = "-"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- table ---------------------------------------------------------------------------------------------


def start_text(start: StartTime, now_ms: int) -> str:
    """``"Nov 28 19:30 ET (in 2h05m)"``; a ticker-based time ends in ``?`` (a guess), a date-only start
    reads ``"Nov 28 (date only)"``."""
    if start.ms is None:
        if start.eastern_date is None:
            return "unknown"
        return f"{start.eastern_date:%b %d} (date only)"
    local = datetime.fromtimestamp(start.ms // 1000, tz=UTC).astimezone(EASTERN)
    guess = "?" if start.source is StartSource.TICKER_TIME else ""
    return f"{local:%b %d %H:%M} ET{guess} ({relative(start.ms - now_ms)})"


def relative(delta_ms: int) -> str:
    minutes = abs(delta_ms) // 60_000
    hours, mins = divmod(minutes, 60)
    text = f"{hours}h{mins:02d}m" if hours else f"{mins}m"
    return f"in {text}" if delta_ms >= 0 else f"{text} ago"


def cents_text(price: Price) -> str:
    """Exact cents without the unit, as ``--theo-a``/``--min-spread`` take them: ``2050`` -> ``"20.5"``."""
    return format_cents(price).removesuffix("c")


def run_command(match: ScanMatch, theo: Sequence[Price] | None, flags: Sequence[str] = ()) -> str:
    """The ``kmm run`` line for ``match`` on the exchange the scan read; with a theo it is ready to
    paste, without one the fair value flags (``--theo-a/--theo-b`` or ``--odds-a/--odds-b``) are missing."""
    words = ["kmm", "run", "--ticker-a", match.a.ticker, "--ticker-b", match.b.ticker]
    if theo is not None:
        words += ["--theo-a", cents_text(theo[0]), "--theo-b", cents_text(theo[1])]
    return " ".join([*words, *flags])


def _cents(price: Price | None) -> str:
    return DASH if price is None else format_cents(price)


def _size(count: Count | None) -> str:
    return DASH if count is None else format_contracts(count)


TABLE_HEADER = ("START", "SPORT", "TEAM", "TICKER", "BID", "ASK", "SPREAD", "DEPTH", "VOLUME")


def format_table(result: ScanResult) -> str:
    """One line per market; an event's markets are adjacent (A, B, then TIE) under its start time."""
    lines: list[tuple[str, ...]] = [TABLE_HEADER]
    previous_event = None
    for row in result.rows:
        first = row.event_ticker != previous_event
        previous_event = row.event_ticker
        lines.append(
            (
                start_text(row.start, result.now_ms) if first else "",
                row.sport if first else "",
                row.team,
                row.ticker,
                _cents(row.bid),
                _cents(row.ask),
                format_cents(row.spread),
                f"{_size(row.bid_size)} x {_size(row.ask_size)}",
                format_contracts(row.volume),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(TABLE_HEADER))]
    numeric = {4, 5, 6, 7, 8}
    out = [
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    markets = len(result.rows)
    summary = (
        f"{markets} market{'s' if markets != 1 else ''}, {len(result.matches)} "
        f"match{'es' if len(result.matches) != 1 else ''} ({result.filters.mode.value}; "
        f"{result.markets_seen} open markets in {len(result.series)} series scanned)"
    )
    if not result.rows:
        return f"No markets match the filters. {summary}\n{_hint(result)}".rstrip()
    return "\n".join(
        [*out, "", summary, "START: ET = US Eastern; '?' = time read from the ticker (a guess)."]
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


def match_json(match: ScanMatch, run_flags: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "sport": match.sport_key,
        "sport_label": match.sport,
        "series": match.series,
        "event_ticker": match.event_ticker,
        "title": match.title,
        "ticker_a": match.a.ticker,
        "team_a": match.a.team,
        "ticker_b": match.b.ticker,
        "team_b": match.b.team,
        "ticker_tie": None if match.tie is None else match.tie.ticker,
        **start_json(match.start),
        "run_command": run_command(match, None, run_flags),
    }


def result_json(result: ScanResult, environment: str, run_flags: Sequence[str] = ()) -> dict[str, Any]:
    """The ``kmm.scan/1`` document; each match's ``run_command`` lacks only the fair value flags."""
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
        "matches": [match_json(match, run_flags) for match in result.matches],
    }
