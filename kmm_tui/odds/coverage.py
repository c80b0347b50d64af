"""``kmm odds coverage``: which Kalshi series the configured odds sources can price, at no credit cost.

For each series The Odds API serves, its free ``/events`` list is fetched and every open Kalshi event
of that series (given by the caller, from the Kalshi client) is run through the matcher, so the table
shows how many would price automatically and how many need a confirmation. OddsPapi listings are
billable, so its series are listed as covered-by-sport without polling; only its unmetered
``/account`` quota is read. SportsGameOdds is listed by league, not polled (its listings cost
requests).

Every known source is named in the report, with its key state: a source without a key says which
setting or environment variable to set, so a first run without keys still shows what exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from kmm_tui.odds.errors import OddsSourceError
from kmm_tui.odds.lines import game_event
from kmm_tui.odds.matching import KalshiEvent, MatchStatus
from kmm_tui.odds.models import QuotaInfo
from kmm_tui.odds.oddspapi import OddsPapi
from kmm_tui.odds.sports import LINE_SERIES, SPORTS, SportSpec
from kmm_tui.odds.sportsgameodds import SportsGameOdds
from kmm_tui.odds.theoddsapi import TheOddsApi


@dataclass(frozen=True, slots=True)
class SeriesCoverage:
    """One Kalshi series: which source covers it and how well its open events match."""

    series: str
    title: str
    source: str | None  # provider that will price it ("theoddsapi", "oddspapi") or None
    leagues: tuple[str, ...]  # provider league/sport keys consulted
    book_events: int | None  # events listed by the provider (None = not polled)
    kalshi_events: int | None  # open Kalshi events given (None = Kalshi list unavailable)
    matched: int | None
    needs_confirmation: int | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One odds source: whether it is in use, and if not, how to turn it on."""

    name: str
    configured: bool
    note: str


@dataclass(frozen=True, slots=True)
class CoverageReport:
    rows: tuple[SeriesCoverage, ...]
    quotas: tuple[tuple[str, QuotaInfo], ...]
    notes: tuple[str, ...] = ()
    sources: tuple[SourceStatus, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": [asdict(source) for source in self.sources],
            "series": [asdict(row) for row in self.rows],
            "quota": {name: asdict(q) for name, q in self.quotas},
            "notes": list(self.notes),
        }


async def _theoddsapi_row(
    api: TheOddsApi, spec: SportSpec, kalshi: Sequence[KalshiEvent] | None
) -> SeriesCoverage:
    keys = await api.sport_keys(spec)
    if not keys:
        return SeriesCoverage(
            spec.series,
            spec.title,
            None,
            (),
            0,
            _len(kalshi),
            None,
            None,
            "no active The Odds API league (out of season?)",
        )
    events = []
    for key in keys:
        events.extend(await api.events(key))
    books = [e.book_event() for e in events]
    matched = confirm = None
    if kalshi is not None:
        decisions = [api.matcher.decide(k, books, spec) for k in kalshi]
        matched = sum(d.status is MatchStatus.MATCHED for d in decisions)
        confirm = sum(d.status is MatchStatus.NEEDS_CONFIRMATION for d in decisions)
    return SeriesCoverage(
        spec.series, spec.title, api.name, keys, len(events), _len(kalshi), matched, confirm
    )


def _len(items: Sequence[object] | None) -> int | None:
    return None if items is None else len(items)


async def coverage_report(
    series: Sequence[str],
    kalshi_events: Mapping[str, Sequence[KalshiEvent]] | None,
    theoddsapi: TheOddsApi | None,
    oddspapi: OddsPapi | None,
    sportsgameodds: SportsGameOdds | None = None,
    sources: Sequence[SourceStatus] = (),
) -> CoverageReport:
    """Build the table; ``kalshi_events`` maps series → its open events (None if unavailable)."""
    rows: list[SeriesCoverage] = []
    notes: list[str] = []
    quotas: list[tuple[str, QuotaInfo]] = []
    for name in series:
        line_of = LINE_SERIES.get(name.upper())
        spec = SPORTS.get(line_of[0] if line_of else name.upper())
        kalshi = None if kalshi_events is None else kalshi_events.get(name.upper(), ())
        if line_of is not None and spec is not None:  # totals/spreads: the games' sport and teams
            spec = replace(spec, series=name.upper())
            if kalshi is not None:
                kalshi = [g for g in (game_event(k) for k in kalshi) if g is not None]
        if spec is None:
            rows.append(
                SeriesCoverage(
                    name,
                    "?",
                    None,
                    (),
                    None,
                    _len(kalshi),
                    None,
                    None,
                    "no odds mapping for this series: manual theo only",
                )
            )
            continue
        if theoddsapi is not None and (spec.theoddsapi_keys or spec.theoddsapi_prefix):
            try:
                rows.append(await _theoddsapi_row(theoddsapi, spec, kalshi))
                continue
            except OddsSourceError as exc:
                if theoddsapi.quota.fatal is not None:
                    raise
                rows.append(
                    SeriesCoverage(
                        spec.series,
                        spec.title,
                        theoddsapi.name,
                        (),
                        None,
                        _len(kalshi),
                        None,
                        None,
                        exc.message,
                    )
                )
                continue
        if oddspapi is not None and spec.oddspapi_sport_id is not None:
            rows.append(
                SeriesCoverage(
                    spec.series,
                    spec.title,
                    oddspapi.name,
                    (f"sportId {spec.oddspapi_sport_id}",),
                    None,
                    _len(kalshi),
                    None,
                    None,
                    "listing is billable: not polled",
                )
            )
            continue
        if sportsgameodds is not None and spec.sgo_league is not None:
            rows.append(
                SeriesCoverage(
                    spec.series, spec.title, sportsgameodds.name, (spec.sgo_league,), None, _len(kalshi),
                    None, None, "listing costs requests: not polled",
                )
            )
            continue
        rows.append(
            SeriesCoverage(
                spec.series,
                spec.title,
                None,
                (),
                None,
                _len(kalshi),
                None,
                None,
                "no configured source covers it: add a key or use manual theo",
            )
        )
    if theoddsapi is not None:
        quotas.append((theoddsapi.name, theoddsapi.quota.quota))
    if oddspapi is not None:
        try:
            quotas.append((oddspapi.name, await oddspapi.account()))
        except OddsSourceError as exc:
            notes.append(f"oddspapi quota unavailable: {exc.message}")
    if kalshi_events is None:
        notes.append("Kalshi market list unavailable: match counts not computed")
    return CoverageReport(tuple(rows), tuple(quotas), tuple(notes), tuple(sources))


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def format_table(report: CoverageReport) -> str:
    """A fixed-width table for the terminal, then quota and notes."""
    header = ("Series", "Sport", "Source", "Leagues", "Book events", "Kalshi", "Matched", "Confirm", "Note")
    lines = [header]
    for r in report.rows:
        lines.append(
            (
                r.series,
                r.title,
                r.source or "-",
                ",".join(r.leagues) or "-",
                _cell(r.book_events),
                _cell(r.kalshi_events),
                _cell(r.matched),
                _cell(r.needs_confirmation),
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in lines]
    if report.sources:
        width = max(len(source.name) for source in report.sources)
        out.append("")
        out.extend(f"Source {source.name.ljust(width)}  {source.note}" for source in report.sources)
    for name, q in report.quotas:
        left = "unknown" if q.remaining is None else str(q.remaining)
        used = "" if q.used is None else f" ({q.used} used)"
        out.append(f"Quota {name}: {left} left{used}")
    out.extend(f"Note: {n}" for n in report.notes)
    return "\n".join(out)
