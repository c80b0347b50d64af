"""The queue model: when a simulated resting bid of ours would have filled, from the recorded book.

The recording holds the book WITHOUT our bids (what the strategy saw) and our own real fills (the only
trades the feed tells us about). A simulated bid at price p:

* joins the back of its level: ``ahead`` = the others' size at p when it is placed, re-priced, or
  raised in size (a decrease keeps its place);
* a decrease of the others' size at p eats the size ahead of us first; what it removes beyond that is
  counted as filling us (the file cannot tell a trade from a cancel behind us: optimistic);
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
class QueueStep:
    filled: int  # Count filled on us
    ahead: int  # size ahead of us afterwards


def _eat(volume: int, ahead: int, remaining: int) -> QueueStep:
    """``volume`` trades through the queue at our level: the size ahead first, then us."""
    if volume <= ahead:
        return QueueStep(0, ahead - volume)
    return QueueStep(min(volume - ahead, remaining), 0)


def on_book(price: int, ahead: int, remaining: int, old: Book, new: Book) -> QueueStep:
    """The others' book changed from ``old`` to ``new`` while we rest ``remaining`` at ``price``."""
    step = QueueStep(0, ahead)
    decrease = old.bid_size_at(price) - new.bid_size_at(price)
    if decrease > 0:
        step = _eat(decrease, ahead, remaining)
    before = dict(old.asks)
    crossing = 0
    for ask, size in new.asks:
        if ask > price:
            break
        crossing += max(0, size - before.get(ask, 0))
    if crossing > 0 and step.filled < remaining:
        above = sum(size for bid, size in new.bids if bid > price)
        more = _eat(max(0, crossing - above), step.ahead, remaining - step.filled)
        step = QueueStep(step.filled + more.filled, more.ahead)
    return step


def on_trade(price: int, ahead: int, remaining: int, trade_price: int, count: int) -> QueueStep:
    """A recorded fill of ours (a taker sold ``count`` at ``trade_price``) while we rest at ``price``."""
    if price > trade_price:
        return QueueStep(min(count, remaining), ahead)
    if price == trade_price:
        return _eat(count, ahead, remaining)
    return QueueStep(0, ahead)
