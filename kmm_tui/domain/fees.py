"""Kalshi trading fees per fill, with the exchange's rounding (kalshi-api.md §10).

Taker ``0.07·m·C·P·(1−P)``; maker ``0.0175·m·C·P·(1−P)`` only on ``quadratic_with_maker_fees`` series,
half the taker rate on ``quadratic_with_combo_maker_fees``, nothing on plain ``quadratic``. Each fill's
fee is rounded UP to $0.0001. All arithmetic is exact (``Fraction``): the only rounding is the
exchange's own ceiling, so our books reconcile with the ``fee_cost`` the exchange reports.

Planning is stricter than booking: the account is charged whole cents, with each order's total fee
rounded up to the next cent (§10), so quotes are planned with ``planned_fee_per_contract`` — an
order's fee rounded up to the cent, spread over its contracts and rounded up again.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from kmm_tui.domain.prices import COUNT_SCALE, MONEY_SCALE, PRICE_SCALE, Count, Money, Price

TAKER_RATE = Fraction(7, 100)
MAKER_RATE = Fraction(175, 10_000)
FEE_QUANTUM: Money = Money(MONEY_SCALE // PRICE_SCALE)  # $0.0001 in micro-dollars
_MONEY_PER_PRICE_UNIT = MONEY_SCALE // PRICE_SCALE
_CENT_IN_PRICE = PRICE_SCALE // 100


class FeeError(ValueError):
    """A fee cannot be computed (unknown schedule or invalid input)."""


class FeeType(StrEnum):
    """The series' ``fee_type`` (event ``fee_type_override`` wins when set)."""

    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"
    FLAT = "flat"


def maker_rate(fee_type: FeeType) -> Fraction:
    """The maker rate before the multiplier. ``flat`` uses a table Kalshi has not published: refuse it."""
    if fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES:
        return MAKER_RATE
    if fee_type is FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES:
        # The notes say "maker ½ of taker"; charging it on every market of such a series is the
        # conservative reading (the simulator does the same).
        return TAKER_RATE / 2
    if fee_type is FeeType.QUADRATIC:
        return Fraction(0)
    raise FeeError(
        f"the {fee_type.value!r} fee schedule is not supported: kmm cannot price its fees; "
        "do not quote this series or turn fee-aware quoting off"
    )


def multiplier_fraction(multiplier: Decimal | int) -> Fraction:
    """Validate the series ``fee_multiplier`` and make it exact."""
    if isinstance(multiplier, bool) or not isinstance(multiplier, Decimal | int):
        raise FeeError(f"fee multiplier must be a Decimal, got {type(multiplier).__name__} {multiplier!r}")
    if isinstance(multiplier, Decimal) and not multiplier.is_finite():
        raise FeeError(f"fee multiplier {multiplier} is not a finite number")
    if multiplier < 0:
        raise FeeError(f"fee multiplier {multiplier} is negative; check the series' fee_multiplier")
    return Fraction(multiplier)


def _check(price: int, count: int) -> None:
    if not 0 <= price <= PRICE_SCALE:
        raise FeeError(f"price {price} is outside 0..{PRICE_SCALE} (Price units of $0.0001)")
    if count < 0:
        raise FeeError(f"count {count} is negative; fees are charged on fills only")


def _fee(rate: Fraction, price: int, count: int) -> Money:
    """``rate·C·P(1−P)`` in Money, rounded up to $0.0001."""
    if rate == 0 or count == 0:
        return Money(0)
    # dollars = rate * (count / COUNT_SCALE) * price * (PRICE_SCALE - price) / PRICE_SCALE**2
    exact = rate * count * price * (PRICE_SCALE - price) * MONEY_SCALE
    denominator = exact.denominator * COUNT_SCALE * PRICE_SCALE * PRICE_SCALE * FEE_QUANTUM
    quanta = -(-exact.numerator // denominator)
    return Money(quanta * FEE_QUANTUM)


def taker_fee(price: Price, count: Count, multiplier: Decimal) -> Money:
    """Fee for one taker fill of ``count`` at ``price`` (taker 1 @ 0.52, m = 1 → $0.0175)."""
    _check(price, count)
    return _fee(TAKER_RATE * multiplier_fraction(multiplier), price, count)


def maker_fee(price: Price, count: Count, fee_type: FeeType, multiplier: Decimal) -> Money:
    """Fee for one maker fill (maker 5 @ 0.61 on quadratic_with_maker_fees, m = 1 → $0.0209)."""
    _check(price, count)
    return _fee(maker_rate(fee_type) * multiplier_fraction(multiplier), price, count)


def planned_fee_per_contract(price: int, count: int, rate: tuple[int, int]) -> int:
    """Fee per contract, in Price units, that an order of ``count`` at ``price`` is planned to cost.

    ``rate`` is the maker rate × multiplier as ``(numerator, denominator)`` (``QuoteSettings.fee_rate``).
    The order's whole fee is rounded up to the cent, as the exchange charges it, then divided by the
    contracts and rounded up to $0.0001 (10 @ 50c maker: 4.375c → 5c → 0.5c each). Plain ints: this runs
    on the quoting hot path.
    """
    num, den = rate
    if num == 0 or count <= 0:
        return 0
    # cents = ceil(rate · count/COUNT_SCALE · price·(PS − price)/PS² · 100)
    cents = -(-num * count * price * (PRICE_SCALE - price) * 100 // (den * COUNT_SCALE * PRICE_SCALE**2))
    # per contract in Price units = cents · CENT / (count / COUNT_SCALE), rounded up
    return -(-cents * _CENT_IN_PRICE * COUNT_SCALE // count)


def maker_fee_per_contract_upper_bound(price: Price, fee_type: FeeType, multiplier: Decimal) -> Price:
    """Most a maker fill at ``price`` can cost per contract, in Price units; used by fee-aware edge.

    This is the fee of a one-contract fill rounded up to $0.0001. A fill of n whole contracts costs
    ``ceil(n·x) ≤ n·ceil(x)``, so per contract it is never more. (A fractional fill below one contract
    can cost more per contract because of the $0.0001 minimum, but at most $0.0001 in total.)
    """
    fee = maker_fee(price, Count(COUNT_SCALE), fee_type, multiplier)
    return Price(fee // _MONEY_PER_PRICE_UNIT)
