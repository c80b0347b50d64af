"""Desired quotes -> the fewest order actions, in a safe order.

Pure planning (no I/O): given what one side of a match should rest and the orders we have there, say
what to do. Preference, cheapest and least disruptive first: leave a correct order alone; move its price
with one amend (10 tokens, keeps the order id); shrink with a decrease (keeps queue priority); cancel
and create only when nothing else fits. Every action carries a priority so that, when the write budget
is short, cancels go first, then moves toward safety (lower bids), then the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price
from kmm_tui.engine.orders import OrderState, OwnOrder


class Priority(IntEnum):
    CANCEL = 0  # pulling risk always goes first
    SAFER = 1  # lower price or smaller size
    OTHER = 2  # raising a bid, topping up, new orders


@dataclass(frozen=True, slots=True)
class Create:
    side: Side
    price: Price
    count: Count
    priority: Priority = Priority.OTHER


@dataclass(frozen=True, slots=True)
class Amend:
    order: OwnOrder
    price: Price
    remaining: Count  # desired resting size; the wire count is filled + remaining
    priority: Priority


@dataclass(frozen=True, slots=True)
class Decrease:
    order: OwnOrder
    reduce_to: Count
    priority: Priority = Priority.SAFER


@dataclass(frozen=True, slots=True)
class Cancel:
    order: OwnOrder
    priority: Priority = Priority.CANCEL


Action = Create | Amend | Decrease | Cancel


def plan_side(side: Side, price: Price | None, size: Count, orders: list[OwnOrder]) -> list[Action]:
    """Actions that make ``orders`` (our live orders on this side) rest exactly ``size`` at ``price``.

    Returns nothing while any order of the side has a write in flight or an unresolved state: the next
    decision, made with fresher information, will plan again (one action in flight per side). A partly
    filled order at the right price is not topped up: a fill never causes a write by itself.
    """
    if any(o.busy or o.state in (OrderState.PENDING, OrderState.UNKNOWN) for o in orders):
        return []
    live = [o for o in orders if o.state is OrderState.RESTING and o.remaining > 0]
    if price is None or size <= 0:
        return [Cancel(o) for o in live]
    if not live:
        return [Create(side, price, size)]
    keep = _best_to_keep(live, price)
    actions: list[Action] = [Cancel(o) for o in live if o is not keep]
    if keep.price == price:
        if keep.remaining > size:
            actions.append(Decrease(keep, size))
        elif keep.remaining < size and keep.filled == 0:
            # Topping up after a partial fill would be a write caused by the fill alone, and raising the
            # count costs the order its place in the queue: a partly filled order rests on as it is.
            actions.append(Amend(keep, price, size, Priority.OTHER))
    else:
        safer = price < keep.price and size <= keep.remaining
        actions.append(Amend(keep, price, size, Priority.SAFER if safer else Priority.OTHER))
    return actions


def _best_to_keep(live: list[OwnOrder], price: Price) -> OwnOrder:
    """Keep the order already at the target price (its queue position is worth money), else the oldest."""
    for order in live:
        if order.price == price:
            return order
    return live[0]


def order_actions(actions: list[Action]) -> list[Action]:
    """Stable sort by priority: cancels, then moves toward safety, then the rest."""
    return sorted(actions, key=lambda a: a.priority)
