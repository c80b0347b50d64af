"""One match's live record, shared by the components that each own a part of it.

Market data wakes it, the strategy runner decides on it, execution writes its orders, the portfolio
keeps its inventory and fills, risk reads it. Mutable, touched only on the engine's loop. Also the one
place a match's status changes (journaled, logged and emitted together).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Price
from kmm_tui.domain.quoting import Decision, QuoteMemo, QuoteSettings
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Level, MatchStatusChanged
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus
from kmm_tui.engine.state import DecisionLogEntry, FillView

log = logging.getLogger(__name__)

RUNNING = frozenset({MatchStatus.QUOTING, MatchStatus.DRY_RUN})
MAX_REJECTIONS = 5  # rejected writes within risk.REJECTION_WINDOW_MS halt the match
# What a match remembers for its screens: bounded, so a long session's memory is too. At 200 matches
# the full decision logs and histories hold ~10 MB each (the soak's warm-up, docs/benchmarks.md "Soak").
FILLS_KEPT = 200
DECISIONS_KEPT = 200
HISTORY_POINTS = 240  # one point per strategy.HISTORY_STEP_MS: four minutes of sparkline


@dataclass(slots=True)
class MatchRuntime:
    """One match's live state (mutable; engine loop only)."""

    spec: MatchSpec
    event_ticker: str
    event_title: str
    theo_a: Price | None
    theo_b: Price | None
    status: MatchStatus = MatchStatus.NEW
    reason: str = "added"
    inventory: Inventory = field(default_factory=Inventory)
    memo: QuoteMemo = field(default_factory=QuoteMemo)
    decision: Decision | None = None
    start_ms: int | None = None
    start_source: str = "unknown"
    order_group_id: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    fills: deque[FillView] = field(default_factory=lambda: deque(maxlen=FILLS_KEPT))
    decisions: deque[DecisionLogEntry] = field(default_factory=lambda: deque(maxlen=DECISIONS_KEPT))
    history: deque[tuple[int, Price | None, Price | None, Price | None, Price | None]] = field(
        default_factory=lambda: deque(maxlen=HISTORY_POINTS)
    )
    seen_trades: set[str] = field(default_factory=set)
    drift_since_ms: int | None = None
    corrected_ms: int | None = None  # the inventory was last corrected by hand (a drift halt may follow)
    theo_priced_ms: int | None = None  # feed-priced matches: time of the newest sportsbook price used
    theo_summary: str = ""
    group_triggered: bool = False
    rejections: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_REJECTIONS))
    theo_t: Price | None = None  # three-way only: the tie's theo
    # The pricing core's settings as last built, with the (match settings, fee type, fee multiplier) they
    # were built from: checked by identity on every decision, rebuilt when any of the three is replaced.
    quote_settings: tuple[MatchSettings, FeeType, Decimal, QuoteSettings] | None = None

    @property
    def match_id(self) -> str:
        return self.spec.match_id

    @property
    def active(self) -> bool:
        """Running, or on its way there (a runner or feed loop may still be needed)."""
        return self.status in RUNNING or self.status is MatchStatus.STARTING

    def ticker(self, side: Side) -> str:
        return self.spec.ticker(side)

    @property
    def three_way(self) -> bool:
        """A soccer match: home, tie and away (a draw pays neither team)."""
        return self.spec.ticker_tie is not None

    @property
    def outcomes(self) -> tuple[Side, ...]:
        return self.spec.outcomes

    def theo(self, side: Side) -> Price | None:
        """One outcome's theo (the tie's only for a three-way match)."""
        return self.theo_t if side is Side.T else self.theo_a if side is Side.A else self.theo_b

    def set_theos(self, theos: tuple[Price | None, Price | None, Price | None]) -> None:
        """Every outcome's theo at once, as (A, B, tie)."""
        self.theo_a, self.theo_b, self.theo_t = theos


Matches = dict[str, MatchRuntime]


def set_status(bus: Bus, match: MatchRuntime, status: MatchStatus, reason: str) -> None:
    """Change a match's status: journaled, logged and emitted once (a repeat is a no-op)."""
    if (match.status, match.reason) == (status, reason):
        return
    match.status, match.reason = status, reason
    bus.rec.match(match.spec, status.value, reason, match.order_group_id, bus.clock())
    level = Level.WARNING if status is MatchStatus.HALTED else Level.INFO
    bus.log(level, f"{status.value}: {reason}", match.match_id)
    bus.emit(MatchStatusChanged(match.match_id, status, reason, bus.clock()))


async def join_runner(match: MatchRuntime) -> None:
    """Wait for a match's runner to finish (it was told to stop); cancel it after 10 s."""
    task = match.task
    if task is None or task is asyncio.current_task():
        return
    match.wake.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=10)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    except Exception:
        log.exception("runner %s ended with an error", match.match_id)
    match.task = None
