"""The sports catalogue: which Kalshi series the scanner lists, and which sport each belongs to.

Kept as data (``series.toml`` next to this module) because Kalshi renames and adds series several
times a year (``KXLOLMATCH`` became ``KXLOLGAME``): updating the list must not need a code change.
Series are matched by their whole ticker. An entry marked ``match = "prefix"`` (``KXDOTA2``) also
labels every series starting with it (``KXDOTA2MAP``), and when selected it is expanded against the
exchange's series list, so per-map markets can be scanned on purpose but never by accident.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

PACKAGED_FILE = "series.toml"
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
OTHER_SPORT = "other"


class CatalogueError(ValueError):
    """The catalogue file or a selection is unusable; the message names the entry and the fix."""


class SeriesKind(StrEnum):
    """What a series' events look like (only ``game`` events are two-team matches)."""

    GAME = "game"
    SPREAD = "spread"
    TOTAL = "total"
    LEGACY = "legacy"
    TOURNAMENT = "tournament"


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    """One catalogue line: a series ticker (or prefix) and the sport it belongs to."""

    ticker: str
    sport: str  # short key, lower case: what --sport matches
    label: str  # shown to the user
    kind: SeriesKind
    prefix: bool = False
    default: bool = True
    three_way: bool = False

    def covers(self, series_ticker: str) -> bool:
        """Whether this entry labels ``series_ticker`` (whole ticker, or prefix for prefix entries)."""
        ticker = series_ticker.upper()
        return ticker.startswith(self.ticker) if self.prefix else ticker == self.ticker


def _entry(raw: Any, index: int, origin: str) -> SeriesEntry:
    where = f"{origin}: [[series]] #{index + 1}"
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where} is not a table")
    ticker = raw.get("ticker")
    if not isinstance(ticker, str) or not _TICKER.match(ticker):
        raise CatalogueError(f"{where}: ticker {ticker!r} must be an upper-case Kalshi series ticker")
    where = f"{origin}: series {ticker}"
    sport, label = raw.get("sport"), raw.get("label")
    if not isinstance(sport, str) or not sport.strip():
        raise CatalogueError(f'{where}: sport must be a short name such as "nba"')
    if not isinstance(label, str) or not label.strip():
        raise CatalogueError(f'{where}: label must be text such as "NBA"')
    try:
        kind = SeriesKind(raw.get("kind", "game"))
    except ValueError:
        kinds = ", ".join(k.value for k in SeriesKind)
        raise CatalogueError(f"{where}: kind {raw.get('kind')!r} is not one of {kinds}") from None
    match = raw.get("match", "exact")
    if match not in ("exact", "prefix"):
        raise CatalogueError(f'{where}: match must be "exact" or "prefix", not {match!r}')
    flags = {}
    for name, fallback in (("default", True), ("three_way", False)):
        value = raw.get(name, fallback)
        if not isinstance(value, bool):
            raise CatalogueError(f"{where}: {name} must be true or false")
        flags[name] = value
    unknown = set(raw) - {"ticker", "sport", "label", "kind", "match", "default", "three_way"}
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return SeriesEntry(
        ticker,
        sport.strip().lower(),
        label.strip(),
        kind,
        match == "prefix",
        flags["default"],
        flags["three_way"],
    )


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All known series entries, in file order (the order the scanner lists sports in)."""

    entries: tuple[SeriesEntry, ...]

    @classmethod
    def from_toml_text(cls, text: str, origin: str = PACKAGED_FILE) -> Catalogue:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{origin}: not valid TOML ({exc})") from None
        raw = doc.get("series")
        if not isinstance(raw, list) or not raw:
            raise CatalogueError(f"{origin}: needs at least one [[series]] table")
        entries = tuple(_entry(item, i, origin) for i, item in enumerate(raw))
        seen: set[str] = set()
        for entry in entries:
            if entry.ticker in seen:
                raise CatalogueError(f"{origin}: series {entry.ticker} is listed twice")
            seen.add(entry.ticker)
        return cls(entries)

    @classmethod
    def packaged(cls) -> Catalogue:
        """The built-in catalogue shipped with kmm."""
        text = resources.files("kmm_tui.scan").joinpath(PACKAGED_FILE).read_text(encoding="utf-8")
        return cls.from_toml_text(text)

    # --- lookups ---------------------------------------------------------------------------------

    def entry_for(self, series_ticker: str) -> SeriesEntry | None:
        """The entry labelling a series: an exact entry wins over the longest matching prefix entry."""
        ticker = series_ticker.upper()
        exact = next((e for e in self.entries if not e.prefix and e.ticker == ticker), None)
        if exact is not None:
            return exact
        prefixes = [e for e in self.entries if e.prefix and e.covers(ticker)]
        return max(prefixes, key=lambda e: len(e.ticker)) if prefixes else None

    def sport_of(self, series_ticker: str) -> tuple[str, str]:
        """``(sport key, label)`` of a series; unknown series are ``("other", ticker)``."""
        entry = self.entry_for(series_ticker)
        return (entry.sport, entry.label) if entry else (OTHER_SPORT, series_ticker.upper())

    def sports(self) -> tuple[str, ...]:
        """Known sport keys, in catalogue order (for help texts and error messages)."""
        return tuple(dict.fromkeys(e.sport for e in self.entries))

    def sport_matches(self, series_ticker: str, wanted: Iterable[str]) -> bool:
        """Whether a series belongs to one of the ``wanted`` sports (key or label, any case)."""
        entry = self.entry_for(series_ticker)
        names = {OTHER_SPORT} if entry is None else {entry.sport, entry.label.casefold()}
        return any(w.strip().casefold() in names for w in wanted)

    # --- selection -------------------------------------------------------------------------------

    def selection(
        self,
        configured: Sequence[str] = (),
        *,
        series: Sequence[str] = (),
        sports: Sequence[str] = (),
    ) -> tuple[SeriesEntry, ...]:
        """The series to scan: ``series`` (``--series``) if given, else ``configured`` (settings) if
        non-empty, else the catalogue's default entries; then narrowed to ``sports`` (``--sport``).

        Tickers that the catalogue does not know are scanned as sport ``other`` (exactly), so a new
        Kalshi series can be tried before anyone edits the catalogue.
        """
        if sports:
            known = set(self.sports()) | {OTHER_SPORT} | {e.label.casefold() for e in self.entries}
            unknown = [s for s in sports if s.strip().casefold() not in known]
            if unknown:
                raise CatalogueError(
                    f"unknown sport {', '.join(repr(s) for s in unknown)} — use one of: "
                    f"{', '.join(self.sports())}"
                )
        if series:
            chosen = [self._entry_or_adhoc(t) for t in series]
        elif configured:
            chosen = [self._entry_or_adhoc(t) for t in configured]
        else:
            chosen = [e for e in self.entries if e.default]
        if sports:
            chosen = [e for e in chosen if self.sport_matches(e.ticker, sports)]
        return tuple(dict.fromkeys(chosen))

    def _entry_or_adhoc(self, ticker: str) -> SeriesEntry:
        ticker = ticker.strip().upper()
        if not _TICKER.match(ticker):
            raise CatalogueError(f"{ticker!r} is not a Kalshi series ticker like KXNBAGAME")
        exact = next((e for e in self.entries if e.ticker == ticker), None)
        if exact is not None:
            return exact
        labelled = self.entry_for(ticker)
        if labelled is not None:  # e.g. KXDOTA2MAP under the KXDOTA2 prefix entry: scan it exactly
            return SeriesEntry(ticker, labelled.sport, labelled.label, labelled.kind)
        return SeriesEntry(ticker, OTHER_SPORT, ticker, SeriesKind.GAME)


def expand_prefixes(
    entries: Sequence[SeriesEntry], exchange_series: Iterable[str]
) -> tuple[SeriesEntry, ...]:
    """Replace prefix entries by the exchange's series that start with them (each scanned exactly)."""
    available = sorted({t.upper() for t in exchange_series})
    out: list[SeriesEntry] = []
    for entry in entries:
        if not entry.prefix:
            out.append(entry)
            continue
        for ticker in available:
            if entry.covers(ticker):
                out.append(
                    SeriesEntry(
                        ticker, entry.sport, entry.label, entry.kind, False, entry.default, entry.three_way
                    )
                )
    return tuple(dict.fromkeys(out))
