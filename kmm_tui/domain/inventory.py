"""What we hold in one match: YES contracts on each team, their exact cost, fees, and what follows.

A match is two markets (YES = team A wins, YES = team B wins); we only ever buy YES. A contract on A
plus one on B is a *locked pair*: exactly one pays $1. Whatever is not paired is *exposure*: the net
count ``long A − long B`` says which way we lose if the wrong team wins.

Costs are kept as exact ``Money`` (``price × count``); averages are derived only when asked and are
rounded UP to the Price unit, so every rule built on them (the rebalance ceiling) errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kmm_tui.domain.prices import CENT, PRICE_SCALE, Count, Money, Price


class Side(StrEnum):
    """Which team's YES market: A (first team) or B (second team)."""

    A = "a"
    B = "b"

    @property
    def other(self) -> Side:
        return Side.B if self is Side.A else Side.A


_NO_COUNT = Count(0)
_NO_MONEY = Money(0)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class Inventory:
    """Long YES counts and exact costs per side, plus all fees paid (Money)."""

    count_long_a: Count = _NO_COUNT
    count_long_b: Count = _NO_COUNT
    cost_long_a: Money = _NO_MONEY
    cost_long_b: Money = _NO_MONEY
    fees: Money = _NO_MONEY

    def __post_init__(self) -> None:
        for name in ("count_long_a", "count_long_b", "cost_long_a", "cost_long_b", "fees"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"inventory {name.replace('_', ' ')} cannot be negative ({getattr(self, name)}); "
                    "kmm only buys YES — close any NO position on the exchange"
                )
        for count, spent, side in ((self.count_long_a, self.cost_long_a, "A"),
                                   (self.count_long_b, self.cost_long_b, "B")):
            if count == 0 and spent != 0:
                raise ValueError(f"inventory has a cost for side {side} but no contracts; correct it by hand")

    # --- updates ---------------------------------------------------------------------------------

    def apply_fill(self, side: Side, price: Price, count: Count, fee: Money) -> Inventory:
        """A YES bid on ``side``'s market filled: add the contracts, their exact cost and the fee."""
        if not 0 < price <= PRICE_SCALE:
            raise ValueError(f"fill price {price} is outside (0, {PRICE_SCALE}] Price units")
        if count <= 0:
            raise ValueError(f"fill count {count} must be positive")
        if fee < 0:
            raise ValueError(f"fill fee {fee} is negative")
        spent = Money(price * count)
        if side is Side.A:
            return Inventory(
                Count(self.count_long_a + count), self.count_long_b,
                Money(self.cost_long_a + spent), self.cost_long_b, Money(self.fees + fee),
            )
        return Inventory(
            self.count_long_a, Count(self.count_long_b + count),
            self.cost_long_a, Money(self.cost_long_b + spent), Money(self.fees + fee),
        )

    def with_positions(self, pos_a: Count, pos_b: Count) -> Inventory:
        """Replace the counts with positions synced from the exchange (the source of truth).

        Cost basis scales with the count so the average cost stays (rounded up: never cheaper than
        what we know). A side that grows from zero, without any fill we know of, has no known cost:
        it is booked at $1 per contract, the most a YES can cost. That keeps every derived number
        conservative — P&L shows the worst case and no rebalance ceiling is built on a guessed cost —
        until the fills arrive or the user corrects the cost by hand. Fees are unchanged.
        """
        if pos_a < 0 or pos_b < 0:
            raise ValueError(
                f"exchange position A {pos_a} / B {pos_b} is short YES (holds NO); kmm only buys YES — "
                "close the NO position on the exchange before running this match"
            )
        return Inventory(
            pos_a, pos_b,
            _rescale(self.cost_long_a, self.count_long_a, pos_a),
            _rescale(self.cost_long_b, self.count_long_b, pos_b),
            self.fees,
        )

    # --- derived numbers -------------------------------------------------------------------------

    @property
    def net_exposure(self) -> Count:
        """Long A minus long B: positive means we lose if B wins."""
        return Count(self.count_long_a - self.count_long_b)

    @property
    def locked_pairs(self) -> Count:
        """Contracts held on both sides: each pair pays exactly $1 whoever wins."""
        return Count(min(self.count_long_a, self.count_long_b))

    @property
    def avg_cost_a(self) -> Price | None:
        """Average price paid on A, rounded up to $0.0001; None when flat."""
        return _avg(self.cost_long_a, self.count_long_a)

    @property
    def avg_cost_b(self) -> Price | None:
        """Average price paid on B, rounded up to $0.0001; None when flat."""
        return _avg(self.cost_long_b, self.count_long_b)

    def avg_cost(self, side: Side) -> Price | None:
        return self.avg_cost_a if side is Side.A else self.avg_cost_b

    def count_long(self, side: Side) -> Count:
        return self.count_long_a if side is Side.A else self.count_long_b

    @property
    def locked_profit(self) -> Money:
        """Profit the locked pairs guarantee, at exact average cost, minus ALL fees paid so far.

        Charging the unpaired surplus's fees here too is deliberately conservative. Rounded down.
        """
        pairs = self.locked_pairs
        if pairs == 0:
            return Money(-self.fees)
        # pairs·$1 − pairs·cost_a/count_a − pairs·cost_b/count_b, floored to a micro-dollar.
        den = self.count_long_a * self.count_long_b
        num = (pairs * PRICE_SCALE * den
               - pairs * self.cost_long_a * self.count_long_b
               - pairs * self.cost_long_b * self.count_long_a)
        return Money(num // den - self.fees)

    @property
    def pnl_if_a_wins(self) -> Money:
        """Settlement P&L if team A wins: A pays $1 per contract, everything bought and all fees cost."""
        return Money(self.count_long_a * PRICE_SCALE - self.cost_long_a - self.cost_long_b - self.fees)

    @property
    def pnl_if_b_wins(self) -> Money:
        """Settlement P&L if team B wins."""
        return Money(self.count_long_b * PRICE_SCALE - self.cost_long_a - self.cost_long_b - self.fees)

    def rebalance_ceiling(self, side: Side) -> Price | None:
        """Highest price at which buying ``side`` still pairs with the other side at a profit.

        ``100c − avg cost of the other (long) side − 1c``: the average is rounded up, so this is
        rounded down; a pair bought at or below it pays at least 1c before fees. None when the other
        side is flat or the result is not a positive price. Callers snap it down onto the tick grid.
        """
        other = self.avg_cost(side.other)
        if other is None:
            return None
        ceiling = PRICE_SCALE - other - CENT
        return Price(ceiling) if ceiling > 0 else None


def _avg(spent: int, count: int) -> Price | None:
    if count == 0:
        return None
    return Price(_ceil_div(spent, count))


def _rescale(spent: Money, old_count: Count, new_count: Count) -> Money:
    if new_count == old_count:
        return spent
    if new_count == 0:
        return Money(0)
    if old_count == 0:
        return Money(new_count * PRICE_SCALE)
    return Money(_ceil_div(spent * new_count, old_count))
