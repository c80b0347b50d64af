"""What we hold in one match: contracts bought on each outcome, their exact cost, fees, and what follows.

A match is a set of mutually exclusive, exhaustive outcomes (``Side``): A and B, plus T (the tie) for a
soccer event. We only ever buy an outcome (YES on its market, or NO on a single market's side B). One
contract of every outcome is a *locked set* (a *pair* for two outcomes): exactly one pays $1. What is
not in a set is *exposure*: ``pnl_if(outcome)`` is the settlement P&L if that outcome wins.

Costs are kept as exact ``Money`` (``price × count``) and the fees paid are kept per outcome; the *cost
basis* of an outcome is both together, because a contract bought for 48c with a 1c fee cost 49c. Averages
are derived only when asked and are rounded UP to the Price unit, so every rule built on them (the
rebalance ceiling) errs on the safe side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
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


TWO_WAY: tuple[Side, ...] = (Side.A, Side.B)
THREE_WAY: tuple[Side, ...] = (Side.A, Side.T, Side.B)

_NO_COUNT = Count(0)
_NO_MONEY = Money(0)
_FIELDS = {Side.A: ("count_long_a", "cost_long_a", "fees_a"),
           Side.B: ("count_long_b", "cost_long_b", "fees_b"),
           Side.T: ("count_long_t", "cost_long_t", "fees_t")}


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class Inventory:
    """Counts bought per outcome, their exact price cost (``price × count``) and the fees paid per
    outcome. The tie's fields are keywords defaulting to 0, so a two-outcome inventory reads as before."""

    count_long_a: Count = _NO_COUNT
    count_long_b: Count = _NO_COUNT
    cost_long_a: Money = _NO_MONEY
    cost_long_b: Money = _NO_MONEY
    fees_a: Money = _NO_MONEY
    fees_b: Money = _NO_MONEY
    count_long_t: Count = _NO_COUNT
    cost_long_t: Money = _NO_MONEY
    fees_t: Money = _NO_MONEY

    def __post_init__(self) -> None:
        for names in _FIELDS.values():
            for name in names:
                if getattr(self, name) < 0:
                    raise ValueError(
                        f"inventory {name.replace('_', ' ')} cannot be negative ({getattr(self, name)}); "
                        "kmm only buys outcomes — close any short position on the exchange"
                    )
        for side, (count, spent, _) in _FIELDS.items():
            if getattr(self, count) == 0 and getattr(self, spent) != 0:
                raise ValueError(
                    f"inventory has a cost for side {side.name} but no contracts; correct it by hand"
                )

    # --- updates ---------------------------------------------------------------------------------

    def apply_fill(self, side: Side, price: Price, count: Count, fee: Money) -> Inventory:
        """A bid for ``side`` filled at ``price`` (that outcome's price): add contracts, cost and fee."""
        if not 0 < price <= PRICE_SCALE:
            raise ValueError(f"fill price {price} is outside (0, {PRICE_SCALE}] Price units")
        if count <= 0:
            raise ValueError(f"fill count {count} must be positive")
        if fee < 0:
            raise ValueError(f"fill fee {fee} is negative")
        count_name, cost_name, fee_name = _FIELDS[side]
        return replace(self, **{
            count_name: Count(getattr(self, count_name) + count),
            cost_name: Money(getattr(self, cost_name) + price * count),
            fee_name: Money(getattr(self, fee_name) + fee),
        })

    def with_positions(self, pos_a: Count, pos_b: Count, pos_t: Count | None = None) -> Inventory:
        """Replace the counts with positions synced from the exchange (the source of truth); ``pos_t``
        None keeps the tie's count.

        Cost basis scales with the count so the average cost stays (rounded up: never cheaper than
        what we know). An outcome that grows from zero, without any fill we know of, has no known cost:
        it is booked at $1 per contract, the most a contract can cost. That keeps every derived number
        conservative — P&L shows the worst case and no rebalance ceiling is built on a guessed cost —
        until the fills arrive or the user corrects the cost by hand. Fees paid are unchanged (they were
        paid), so a shrinking outcome's average cost basis rises: again the conservative direction.
        """
        if pos_a < 0 or pos_b < 0 or (pos_t is not None and pos_t < 0):
            raise ValueError(
                f"exchange position A {pos_a} / B {pos_b} is short YES (holds NO); kmm only buys YES on "
                "these markets — close the NO position on the exchange before running this match"
            )
        new_t = self.count_long_t if pos_t is None else pos_t
        return replace(
            self,
            count_long_a=pos_a, count_long_b=pos_b, count_long_t=new_t,
            cost_long_a=_rescale(self.cost_long_a, self.count_long_a, pos_a),
            cost_long_b=_rescale(self.cost_long_b, self.count_long_b, pos_b),
            cost_long_t=_rescale(self.cost_long_t, self.count_long_t, new_t),
        )

    def corrected(
        self,
        count_a: Count,
        count_b: Count,
        avg_price_a: Price | None,
        avg_price_b: Price | None,
        count_t: Count | None = None,
        avg_price_t: Price | None = None,
    ) -> Inventory:
        """The inventory after the user corrects the counts by hand (fees paid are kept; ``count_t``
        None leaves the tie as it is).

        An outcome's average price may be left out only when we already hold it: the current average
        price (without fees) is kept. A non-zero count with no price and nothing held is refused — booking
        it at $0 would let the other outcomes' rebalance ceiling climb to 99c.
        """
        wanted = [(Side.A, count_a, avg_price_a), (Side.B, count_b, avg_price_b)]
        if count_t is not None:
            wanted.append((Side.T, count_t, avg_price_t))
        changes: dict[str, int] = {}
        for side, count, avg in wanted:
            name = side.name
            held, spent = self.count_long(side), getattr(self, _FIELDS[side][1])
            if count < 0:
                raise ValueError(f"side {name}: the count cannot be negative")
            if avg is not None and not 0 < avg <= PRICE_SCALE:
                raise ValueError(f"side {name}: the average price must be above 0c and at most 100c")
            if count == 0:
                cost = 0
            elif avg is not None:
                cost = avg * count
            elif held > 0:
                cost = _ceil_div(spent * count, held)
            else:
                raise ValueError(f"side {name}: enter the average price paid for the {count // 100} held")
            changes[_FIELDS[side][0]] = count
            changes[_FIELDS[side][1]] = cost
        return replace(self, **changes)

    # --- derived numbers -------------------------------------------------------------------------

    def count_long(self, side: Side) -> Count:
        """Contracts held of one outcome."""
        return getattr(self, _FIELDS[side][0])

    def cost_long(self, side: Side) -> Money:
        """Exact price cost (without fees) of what is held of one outcome."""
        return getattr(self, _FIELDS[side][1])

    def fees_of(self, side: Side) -> Money:
        """Fees paid buying one outcome."""
        return getattr(self, _FIELDS[side][2])

    @property
    def net_exposure(self) -> Count:
        """Long A minus long B (two outcomes): positive means we lose if B wins."""
        return Count(self.count_long_a - self.count_long_b)

    def exposure(self, side: Side, outcomes: Iterable[Side] = TWO_WAY) -> Count:
        """How many more of ``side`` we hold than of the least-held other outcome: the count a fill on
        ``side`` would add to; ``inventory_max`` bounds it. For two outcomes it is ±``net_exposure``."""
        least = min(self.count_long(o) for o in outcomes if o is not side)
        return Count(self.count_long(side) - least)

    def spread(self, outcomes: Iterable[Side] = TWO_WAY) -> Count:
        """Most held minus least held outcome (``|A − B|`` for two): the exposure the limit bounds."""
        counts = [self.count_long(o) for o in outcomes]
        return Count(max(counts) - min(counts))

    @property
    def locked_pairs(self) -> Count:
        """Contracts held on both A and B: each pair pays exactly $1 whoever wins (two outcomes)."""
        return self.locked_sets(TWO_WAY)

    def locked_sets(self, outcomes: Iterable[Side] = TWO_WAY) -> Count:
        """Sets of one contract of every outcome held: each set pays exactly $1 whatever happens."""
        return Count(min(self.count_long(o) for o in outcomes))

    @property
    def fees(self) -> Money:
        """All fees paid on this match."""
        return Money(self.fees_a + self.fees_b + self.fees_t)

    @property
    def cost(self) -> Money:
        """Everything paid for what is held, price and fees, over every outcome."""
        return Money(self.cost_long_a + self.cost_long_b + self.cost_long_t + self.fees)

    @property
    def avg_cost_a(self) -> Price | None:
        """Average cost basis of A per contract (price plus fees), rounded up to $0.0001; None when flat."""
        return self.avg_cost(Side.A)

    @property
    def avg_cost_b(self) -> Price | None:
        """Average cost basis of B per contract (price plus fees), rounded up to $0.0001; None when flat."""
        return self.avg_cost(Side.B)

    def avg_price(self, side: Side) -> Price | None:
        """Average price paid on ``side`` without its fees (what a hand correction enters), rounded up."""
        return _avg(self.cost_long(side), self.count_long(side))

    def avg_cost(self, side: Side) -> Price | None:
        """Average cost basis of ``side`` per contract (price plus fees), rounded up; None when flat."""
        return _avg(self.cost_long(side) + self.fees_of(side), self.count_long(side))

    @property
    def locked_profit(self) -> Money:
        """Profit the locked pairs guarantee (two outcomes); see ``locked_set_profit``."""
        return self.locked_set_profit(TWO_WAY)

    def locked_set_profit(self, outcomes: Iterable[Side] = TWO_WAY) -> Money:
        """Profit the locked sets guarantee, at exact average price, minus ALL fees paid so far.

        Charging the unmatched surplus's fees here too is deliberately conservative. Rounded down.
        """
        outcomes = tuple(outcomes)
        sets = self.locked_sets(outcomes)
        if sets == 0:
            return Money(-self.fees)
        # sets·$1 − Σ sets·cost_o/count_o, over a common denominator, floored to a micro-dollar.
        den = 1
        for o in outcomes:
            den *= self.count_long(o)
        num = sets * PRICE_SCALE * den
        for o in outcomes:
            num -= sets * self.cost_long(o) * (den // self.count_long(o))
        return Money(num // den - self.fees)

    def pnl_if(self, side: Side) -> Money:
        """Settlement P&L if ``side`` wins: its contracts pay $1 each; everything bought and every fee
        (on every outcome) is spent."""
        return Money(self.count_long(side) * PRICE_SCALE - self.cost)

    def worst_pnl(self, outcomes: Iterable[Side] = TWO_WAY) -> Money:
        """The settlement P&L of the worst outcome: what the match can lose at most."""
        return Money(min(self.pnl_if(o) for o in outcomes))

    @property
    def pnl_if_a_wins(self) -> Money:
        """Settlement P&L if team A wins: A pays $1 per contract, everything bought and all fees cost."""
        return self.pnl_if(Side.A)

    @property
    def pnl_if_b_wins(self) -> Money:
        """Settlement P&L if team B wins."""
        return self.pnl_if(Side.B)

    def rebalance_ceiling(self, side: Side, outcomes: Iterable[Side] = TWO_WAY) -> Price | None:
        """Highest cost (price plus this leg's fee) at which buying ``side`` still completes a set at a
        profit.

        ``100c − Σ cost basis of the other outcomes − 1c``, where each cost basis includes the fees that
        outcome paid. Averages are rounded up, so this is rounded down: a set whose new leg costs at most
        this, fee included, keeps at least 1c after every leg's fees. Callers take the new leg's planned
        fee off (``quoting``) and snap down onto the tick grid. None when another outcome is not held
        (its cost is unknown) or the result is not a positive price.
        """
        ceiling = PRICE_SCALE - CENT
        for other in outcomes:
            if other is side:
                continue
            avg = self.avg_cost(other)
            if avg is None:
                return None
            ceiling -= avg
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
