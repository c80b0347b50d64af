"""What we hold in one match: YES contracts on each team, their exact cost, fees, and what follows.

A match is two markets (YES = team A wins, YES = team B wins); we only ever buy YES. A contract on A
plus one on B is a *locked pair*: exactly one pays $1. Whatever is not paired is *exposure*: the net
count ``long A − long B`` says which way we lose if the wrong team wins.

Costs are kept as exact ``Money`` (``price × count``) and the fees paid are kept per side; the *cost
basis* of a side is both together, because a contract bought for 48c with a 1c fee cost 49c. Averages
are derived only when asked and are rounded UP to the Price unit, so every rule built on them (the
rebalance ceiling) errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kmm_tui.domain.prices import CENT, PRICE_SCALE, Count, Money, Price


class Side(StrEnum):
    """One outcome of a match: A (first team / home / YES), B (second team / away / NO), or T (the tie
    of a three-way event)."""

    A = "a"
    B = "b"
    T = "t"

    @property
    def other(self) -> Side:
        """The opposite outcome of a two-outcome match (a tie has no single opposite)."""
        if self is Side.T:
            raise ValueError("a three-way outcome has no single 'other' side")
        return Side.B if self is Side.A else Side.A


_NO_COUNT = Count(0)
_NO_MONEY = Money(0)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class Inventory:
    """Long YES counts per side, their exact price cost (``price × count``) and the fees paid per side."""

    count_long_a: Count = _NO_COUNT
    count_long_b: Count = _NO_COUNT
    cost_long_a: Money = _NO_MONEY
    cost_long_b: Money = _NO_MONEY
    fees_a: Money = _NO_MONEY
    fees_b: Money = _NO_MONEY

    def __post_init__(self) -> None:
        for name in ("count_long_a", "count_long_b", "cost_long_a", "cost_long_b", "fees_a", "fees_b"):
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
                Money(self.cost_long_a + spent), self.cost_long_b,
                Money(self.fees_a + fee), self.fees_b,
            )
        return Inventory(
            self.count_long_a, Count(self.count_long_b + count),
            self.cost_long_a, Money(self.cost_long_b + spent),
            self.fees_a, Money(self.fees_b + fee),
        )

    def with_positions(self, pos_a: Count, pos_b: Count) -> Inventory:
        """Replace the counts with positions synced from the exchange (the source of truth).

        Cost basis scales with the count so the average cost stays (rounded up: never cheaper than
        what we know). A side that grows from zero, without any fill we know of, has no known cost:
        it is booked at $1 per contract, the most a YES can cost. That keeps every derived number
        conservative — P&L shows the worst case and no rebalance ceiling is built on a guessed cost —
        until the fills arrive or the user corrects the cost by hand. Fees paid are unchanged (they were
        paid), so a shrinking side's average cost basis rises: again the conservative direction.
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
            self.fees_a, self.fees_b,
        )

    def corrected(
        self, count_a: Count, count_b: Count, avg_price_a: Price | None, avg_price_b: Price | None
    ) -> Inventory:
        """The inventory after the user corrects the counts by hand (fees paid are kept).

        A side's average price may be left out only when we already hold that side: the current average
        price (without fees) is kept. A non-zero count with no price and nothing held is refused — booking
        it at $0 would let the other side's rebalance ceiling climb to 99c.
        """
        sides = []
        for name, count, avg, held, spent in (
            ("A", count_a, avg_price_a, self.count_long_a, self.cost_long_a),
            ("B", count_b, avg_price_b, self.count_long_b, self.cost_long_b),
        ):
            if count < 0:
                raise ValueError(f"side {name}: the count cannot be negative")
            if avg is not None and not 0 < avg <= PRICE_SCALE:
                raise ValueError(f"side {name}: the average price must be above 0c and at most 100c")
            if count == 0:
                sides.append(Money(0))
            elif avg is not None:
                sides.append(Money(avg * count))
            elif held > 0:
                sides.append(Money(_ceil_div(spent * count, held)))
            else:
                raise ValueError(f"side {name}: enter the average price paid for the {count // 100} held")
        return Inventory(count_a, count_b, sides[0], sides[1], self.fees_a, self.fees_b)

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
    def fees(self) -> Money:
        """All fees paid on this match."""
        return Money(self.fees_a + self.fees_b)

    @property
    def avg_cost_a(self) -> Price | None:
        """Average cost basis of A per contract (price plus fees), rounded up to $0.0001; None when flat."""
        return _avg(self.cost_long_a + self.fees_a, self.count_long_a)

    @property
    def avg_cost_b(self) -> Price | None:
        """Average cost basis of B per contract (price plus fees), rounded up to $0.0001; None when flat."""
        return _avg(self.cost_long_b + self.fees_b, self.count_long_b)

    def avg_price(self, side: Side) -> Price | None:
        """Average price paid on ``side`` without its fees (what a hand correction enters), rounded up."""
        if side is Side.A:
            return _avg(self.cost_long_a, self.count_long_a)
        return _avg(self.cost_long_b, self.count_long_b)

    def avg_cost(self, side: Side) -> Price | None:
        return self.avg_cost_a if side is Side.A else self.avg_cost_b

    def count_long(self, side: Side) -> Count:
        return self.count_long_a if side is Side.A else self.count_long_b

    @property
    def locked_profit(self) -> Money:
        """Profit the locked pairs guarantee, at exact average price, minus ALL fees paid so far.

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
        """Highest cost (price plus this leg's fee) at which buying ``side`` still pairs at a profit.

        ``100c − cost basis of the other (long) side − 1c``, where the cost basis includes the fees that
        side paid. The average is rounded up, so this is rounded down: a pair whose new leg costs at most
        this, fee included, keeps at least 1c after both legs' fees. Callers take the new leg's planned
        fee off (``quoting``) and snap down onto the tick grid. None when the other side is flat or the
        result is not a positive price.
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
