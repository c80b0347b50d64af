"""What the public feed's book currently shows of our own orders, per market and YES price.

Decisions must never see our own bids as competitors. Subtracting the ledger's resting orders from the
feed's book is wrong whenever the two disagree in time: after a partial fill the ledger already has the
smaller size while the feed still shows the filled contracts (they would look like a competitor at our
price, and we would outbid ourselves), and after an amend the feed often shows our new level before the
write's reply arrives. So this tracks the feed's own view of us: every book delta the exchange
attributes to one of our client order ids moves our presence at that price by the same signed amount,
exactly as it moves the book. A snapshot carries no attribution, so presence restarts from the
ledger's resting orders; and where the two still disagree after ``settle_ms`` (a delta the exchange did
not attribute to us), the ledger's view wins. Pure bookkeeping: no I/O, the clock is a parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from kmm_tui.domain.prices import Count, Price

Levels = dict[Price, Count]
_EMPTY: Mapping[Price, Count] = MappingProxyType({})
SETTLE_MS = 3_000  # past this, a disagreement with the ledger is an unattributed change, not feed lag


class FeedPresence:
    """Our contracts as the feed's book shows them, ``ticker -> price -> count`` (YES bids)."""

    def __init__(self, settle_ms: int = SETTLE_MS) -> None:
        self._levels: dict[str, Levels] = {}
        self._disagree_since: dict[str, int] = {}
        self._settle_ms = settle_ms

    def levels(self, ticker: str) -> Mapping[Price, Count]:
        return self._levels.get(ticker, {})

    def on_delta(self, ticker: str, price: Price, delta: int) -> None:
        """A YES-bid delta the exchange attributed to one of our orders."""
        levels = self._levels.setdefault(ticker, {})
        size = levels.get(price, 0) + delta
        if size > 0:
            levels[price] = Count(size)
        else:
            levels.pop(price, None)

    def on_snapshot(self, ticker: str, ours: Iterable[tuple[Price, Count]]) -> None:
        """A fresh snapshot (no attribution): restart from what the ledger says rests."""
        self._levels[ticker] = _sum(ours)
        self._disagree_since.pop(ticker, None)

    def forget(self, ticker: str) -> None:
        self._levels.pop(ticker, None)
        self._disagree_since.pop(ticker, None)

    def settle(self, ticker: str, ours: Sequence[tuple[Price, Count]], now_ms: int) -> Mapping[Price, Count]:
        """Our presence to subtract now. ``ours`` is the ledger's acknowledged resting size per price;
        a disagreement that outlives ``settle_ms`` is resolved in the ledger's favour."""
        levels = self._levels.get(ticker, _EMPTY)
        if not ours and not levels:  # nothing of ours either way: every decision, for most keys
            if self._disagree_since:
                self._disagree_since.pop(ticker, None)
            return _EMPTY
        ledger = _sum(ours)
        if levels == ledger:
            self._disagree_since.pop(ticker, None)
            return levels
        since = self._disagree_since.setdefault(ticker, now_ms)
        if now_ms - since >= self._settle_ms:
            self._levels[ticker] = ledger
            self._disagree_since.pop(ticker, None)
            return ledger
        return levels


@functools.lru_cache(maxsize=4096)
def no_key(ticker: str) -> str:
    """Presence key of our NO bids on a market (asks on its YES book), kept apart from our YES bids and
    counted by NO price, as the feed's NO-side deltas are."""
    return f"{ticker}#no"


def _sum(ours: Iterable[tuple[Price, Count]]) -> Levels:
    levels: Levels = {}
    for price, count in ours:
        if count > 0:
            levels[price] = Count(levels.get(price, 0) + count)
    return levels
