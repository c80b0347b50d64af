"""Markouts: every fill's fair value at fill time and at a few horizons after it, journaled.

For each fill of ours booked live, the theo and Kalshi's mid (without our own bids) are noted at once
and again at each horizon (default +5 s, +60 s, +5 min); ``domain.markouts`` turns them into the mean
markout per horizon, the share of fills that went against us, and the spread really earned, per match
and per series. When a match's event starts (the ``event_start`` guard pulls it), the last theo and
mid are stored as its closing line (CLV). Everything is journaled, so the numbers survive restarts; a
sample due while kmm was not running is simply missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.markouts import (
    DEFAULT_HORIZONS_MS,
    FillMarkout,
    Mark,
    MarkoutSummary,
    closing_price,
    series_of,
    summarize,
)
from kmm_tui.domain.prices import Price, no_price
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Filled
from kmm_tui.engine.flow_guards import fair_mid
from kmm_tui.engine.guards import GuardTrip
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.match import Matches, MatchRuntime
from kmm_tui.engine.presence import FeedPresence

FRESH_FILL_MS = 10_000  # older fills (back-filled at a restart) get no markout: their moment has passed


class Markouts:
    """Fill markouts and closing lines (engine loop only)."""

    def __init__(
        self,
        bus: Bus,
        markets: dict[str, MarketState],
        matches: Matches,
        presence: FeedPresence,
        journal: Journal | None,
        horizons_ms: Sequence[int] = DEFAULT_HORIZONS_MS,
    ) -> None:
        self._bus = bus
        self._markets = markets
        self._matches = matches
        self._presence = presence
        self._journal = journal
        self.horizons_ms = tuple(sorted(horizons_ms))
        self._fills: dict[str, dict[str, FillMarkout]] = {}  # match id -> trade id -> markout, oldest first
        self._summaries: dict[str, MarkoutSummary] = {}  # per match, dropped when its fills change
        self.closing: dict[str, tuple[Mark, Mark]] = {}  # match id -> closing (A, B)

    def load(self) -> None:
        """What earlier runs measured (the journal keeps it across restarts)."""
        if self._journal is not None:
            for fill in self._journal.markouts():
                self._fills.setdefault(fill.match_id, {})[fill.trade_id] = fill
            self.closing = self._journal.closing_lines()

    def mark(self, match: MatchRuntime, side: str) -> Mark:
        """Theo and Kalshi's mid (our own orders left out) of one outcome of a match now, in that
        outcome's terms (a single market's NO side: 100c − the YES mid)."""
        outcome = Side(side)
        mid = fair_mid(self._markets.get(match.ticker(outcome)), self._presence)
        if mid is not None and match.spec.is_no(outcome):
            mid = no_price(mid)
        return Mark(match.theo(outcome), mid)

    def on_fill(self, event: Filled) -> None:
        """Note the fair values at a live fill and schedule its samples."""
        match = self._matches.get(event.match_id)
        now = self._bus.clock()
        fills = self._fills.setdefault(event.match_id, {})
        if match is None or now - event.ts_ms > FRESH_FILL_MS or event.trade_id in fills:
            return
        record = FillMarkout(
            event.trade_id,
            event.match_id,
            series_of(match.event_ticker),
            event.ticker,
            event.side,
            event.price,
            event.count,
            event.ts_ms,
            self.mark(match, event.side),
        )
        fills[event.trade_id] = record
        self._summaries.pop(event.match_id, None)
        if self._journal is not None:
            self._journal.record_markout(record)
        for horizon in self.horizons_ms:
            self._bus.spawn(
                self._sample(match, event.trade_id, horizon), f"markout-{event.trade_id}-{horizon}"
            )

    async def _sample(self, match: MatchRuntime, trade_id: str, horizon_ms: int) -> None:
        await asyncio.sleep(horizon_ms / 1000)
        fills = self._fills.get(match.match_id, {})
        record = fills.get(trade_id)
        if record is None:
            return
        mark = self.mark(match, record.side)
        fills[trade_id] = replace(record, later=(*record.later, (horizon_ms, mark)))
        self._summaries.pop(match.match_id, None)
        if self._journal is not None:
            self._journal.record_markout_sample(trade_id, horizon_ms, mark, self._bus.clock())

    def on_trip(self, match: MatchRuntime, trip: GuardTrip) -> None:
        """The event starts: the last fair values before the pull are the match's closing line."""
        if trip.guard != "event_start" or match.match_id in self.closing:
            return
        a, b = self.mark(match, "a"), self.mark(match, "b")
        self.closing[match.match_id] = (a, b)
        if self._journal is not None:
            self._journal.record_closing_line(
                match.match_id, self._bus.clock(), (a.theo, b.theo), (a.mid, b.mid)
            )

    def fills(self, match_id: str) -> tuple[FillMarkout, ...]:
        return tuple(self._fills.get(match_id, {}).values())

    def summary(self, match_id: str) -> MarkoutSummary:
        """Cached until the match's fills or samples change (snapshots ask for it up to 10 times a second)."""
        summary = self._summaries.get(match_id)
        if summary is None:
            summary = self._summaries[match_id] = summarize(self.fills(match_id), self.horizons_ms)
        return summary

    def closing_price(self, match_id: str, side: str) -> Price | None:
        """The closing mid (else theo) of side A or B, once the event started (none is kept for a tie)."""
        closing = self.closing.get(match_id)
        if closing is None or side not in ("a", "b"):
            return None
        return closing_price(closing[0] if side == "a" else closing[1])


__all__ = ["FRESH_FILL_MS", "Markouts"]
