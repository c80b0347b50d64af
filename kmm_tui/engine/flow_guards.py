"""Flow guards: the state behind the fill-burst and line-move guards (the checks are in ``guards``).

Both react to what just happened rather than to a condition that holds now, so they need memory: the
times of each side's recent fills, each match's last theo, and Kalshi's recent mids. Risk asks this
component at every decision; the facade feeds it fills as they are booked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kmm_tui.domain.markouts import mid
from kmm_tui.domain.prices import Price, format_cents, no_price
from kmm_tui.engine import guards
from kmm_tui.engine.guards import BurstRule, GuardAction, GuardTrip
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.presence import FeedPresence, no_key

_NO_PULLS: Mapping[str, GuardTrip] = MappingProxyType({})  # the usual answer, without a new dict
MID_HISTORY = 120  # mids kept per side: a new sample only when the mid changed (else it is re-dated)


def fair_mid(market: MarketState | None, presence: FeedPresence) -> Price | None:
    """Kalshi's mid (YES terms) on a market without our own orders as the feed shows them (``presence``:
    a just filled bid of ours may still be in the book; a single market's NO bids are asks on it); None
    if one-sided."""
    if market is None:
        return None
    ours, our_no = presence.levels(market.ticker), presence.levels(no_key(market.ticker))
    if not ours and not our_no:
        return mid(market.book)
    own_asks = ((no_price(p), c) for p, c in our_no.items())
    return mid(market.book.without(own_bids=ours.items(), own_asks=own_asks))


@dataclass(slots=True)
class _Flow:
    fills: dict[str, deque[int]] = field(default_factory=dict)  # side -> fill times, oldest first
    theo: tuple[Price | None, ...] | None = None  # last theo per outcome seen (feed-priced matches)
    mids: dict[str, deque[tuple[int, Price]]] = field(default_factory=dict)  # side -> (ts, mid)
    moved: GuardTrip | None = None  # the line move being held
    moved_until_ms: int = 0


class FlowGuards:
    """Fill bursts per side and line moves per match (engine loop only)."""

    def __init__(self) -> None:
        self._flows: dict[str, _Flow] = {}

    def _flow(self, match_id: str) -> _Flow:
        flow = self._flows.get(match_id)  # not setdefault: that builds a _Flow on every decision
        if flow is None:
            flow = self._flows[match_id] = _Flow()
        return flow

    def forget(self, match_id: str) -> None:
        """A match (re)starts: old bursts and moves do not carry over the trader's decision to start."""
        self._flows.pop(match_id, None)

    def on_fill(self, match_id: str, side: str, now_ms: int, keep: int) -> None:
        times = self._flow(match_id).fills.setdefault(side, deque(maxlen=max(keep, 1)))
        times.append(now_ms)

    def side_pulls(self, match: MatchRuntime, now_ms: int) -> Mapping[str, GuardTrip]:
        """The sides a fill burst pulls now, with the reason to show."""
        flow = self._flows.get(match.match_id)
        if flow is None or not flow.fills:
            return _NO_PULLS
        settings = match.spec.settings
        rule = BurstRule(settings.burst_fills, settings.burst_window_ms, settings.burst_cooloff_ms)
        pulls = {}
        for side, times in flow.fills.items():
            trip = guards.fill_burst(side, tuple(times), rule, now_ms)
            if trip is not None:
                pulls[side] = trip
        return pulls

    def line_move(
        self, match: MatchRuntime, mids: tuple[Price | None, ...], now_ms: int
    ) -> GuardTrip | None:
        """A line move seen now or still being held. Theo is watched when it comes from the odds feed;
        Kalshi's mid (``mids``: one per market of the match, books without our own orders) when theo is
        typed by hand."""
        settings = match.spec.settings
        flow = self._flow(match.match_id)
        moved = None
        if match.spec.theo.from_feed:
            theo = tuple([match.theo(side) for side in match.outcomes])
            if flow.theo is not None and len(flow.theo) == len(theo):
                labels = [match.spec.label(side) for side in match.outcomes]
                for label, old, new in zip(labels, flow.theo, theo, strict=True):
                    if guards.moved_beyond(old, new, settings.line_move_theo):
                        moved = (
                            f"theo {label} moved {_cents(old)} → {_cents(new)} at {guards.utc_clock(now_ms)}"
                        )
                        break
            flow.theo = theo
        elif settings.line_move_mid is not None:
            histories = flow.mids
            for label, mid in zip(match.spec.market_labels, mids, strict=True):
                if mid is None:
                    continue
                history = histories.get(label)
                if history is None:
                    history = histories[label] = deque(maxlen=MID_HISTORY)
                elif history and history[-1][1] == mid:
                    history[-1] = (now_ms, mid)  # still in force now; any move to it was seen already
                    continue
                history.append((now_ms, mid))
                seen = guards.mid_move(
                    tuple(history), now_ms, settings.line_move_window_ms, settings.line_move_mid
                )
                if seen is not None and moved is None:
                    old, new, since = seen
                    moved = (
                        f"Kalshi mid {label} moved {_cents(old)} → {_cents(new)} between "
                        f"{guards.utc_clock(since)} and {guards.utc_clock(now_ms)}"
                    )
            if moved is not None:
                flow.mids.clear()  # the move is acted on once; a further move starts a new history
        if moved is not None:
            if settings.line_move_confirm:
                return GuardTrip(
                    "line_move", GuardAction.HALT, f"line move: {moved}; confirm theo, then start"
                )
            flow.moved = GuardTrip(
                "line_move", GuardAction.PULL, f"line move: {moved}; quotes pulled, requoting after a pause"
            )
            flow.moved_until_ms = now_ms + settings.line_move_hold_ms
        held = flow.moved
        if held is not None:
            if now_ms < flow.moved_until_ms:
                return held
            flow.moved = None
        return None


def _cents(price: Price | None) -> str:
    return format_cents(price) if price is not None else "-"
