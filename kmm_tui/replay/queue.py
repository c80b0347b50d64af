"""The queue model: when a simulated resting bid of ours would have filled, from the recorded book.

The recording holds the book WITHOUT our bids (what the strategy saw) and our own real fills (the only
trades the feed tells us about). A simulated bid at price p:

* joins the back of its level: ``ahead`` = the others' size at p when it is placed, re-priced, or
  raised in size (a decrease keeps its place); what joins the level later is ``behind`` us;
* a decrease of the others' size at p eats the size ahead of us first, then (as cancels) the size that
  joined behind us, and what it removes beyond both fills us: the file cannot tell a trade from a
  cancel, so a level that shrinks past everything ahead of us is taken to have traded through us;
* a recorded fill of ours at price q with count c is a taker selling c at q or better: a simulated bid
  above q fills first (min(c, remaining)); at q it eats the size ahead, then us; below q nothing;
* new asks at or below p (someone offering at our price) trade with the bids above p first, then the
  size ahead, then us.

Pure functions of ints; ``docs/replay.md`` explains the limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmm_tui.domain.book import Book


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a resting bid of ours stands in its level (Count units)."""

    ahead: int  # others' size in front of us
    behind: int = 0  # others' size that joined after us


@dataclass(frozen=True, slots=True)
class QueueStep:
    filled: int  # Count filled on us
    spot: Spot  # where we stand afterwards


def _trade(volume: int, spot: Spot, remaining: int) -> QueueStep:
    """``volume`` trades through the queue at our level: the size ahead first, then us."""
    if volume <= spot.ahead:
        return QueueStep(0, Spot(spot.ahead - volume, spot.behind))
    return QueueStep(min(volume - spot.ahead, remaining), Spot(0, spot.behind))


def on_book(price: int, spot: Spot, remaining: int, old: Book, new: Book) -> QueueStep:
    """The others' book changed from ``old`` to ``new`` while we rest ``remaining`` at ``price``."""
    step = QueueStep(0, spot)
    change = new.bid_size_at(price) - old.bid_size_at(price)
    if change > 0:
        step = QueueStep(0, Spot(spot.ahead, spot.behind + change))
    elif change < 0:
        decrease = -change
        eaten_ahead = min(decrease, spot.ahead)
        cancelled_behind = min(decrease - eaten_ahead, spot.behind)
        through = decrease - eaten_ahead - cancelled_behind
        left = Spot(spot.ahead - eaten_ahead, spot.behind - cancelled_behind)
        step = QueueStep(min(through, remaining), left)
    before = dict(old.asks)
    crossing = 0
    for ask, size in new.asks:
        if ask > price:
            break
        crossing += max(0, size - before.get(ask, 0))
    if crossing > 0 and step.filled < remaining:
        above = sum(size for bid, size in new.bids if bid > price)
        more = _trade(max(0, crossing - above), step.spot, remaining - step.filled)
        step = QueueStep(step.filled + more.filled, more.spot)
    return step


def on_trade(price: int, spot: Spot, remaining: int, trade_price: int, count: int) -> QueueStep:
    """A recorded fill of ours (a taker sold ``count`` at ``trade_price``) while we rest at ``price``."""
    if price > trade_price:
        return QueueStep(min(count, remaining), spot)
    if price == trade_price:
        return _trade(count, spot, remaining)
    return QueueStep(0, spot)
