"""Kalshi trading fees computed inside the simulator (independent of ``kmm_tui.domain.fees``).

§10 of the API notes: taker ``0.07·m·C·P·(1−P)``, maker ``0.0175·m·C·P·(1−P)`` only for
``quadratic_with_maker_fees``; each fill's fee is rounded UP to $0.0001. Computed with ``Fraction`` so
the only rounding is the exchange's own ceiling.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from fractions import Fraction

from kmm_tui.domain.prices import COUNT_SCALE, MONEY_SCALE, PRICE_SCALE, Money

TAKER_RATE = Fraction(7, 100)
MAKER_RATE = Fraction(175, 10_000)
FEE_QUANTUM = MONEY_SCALE // 10_000  # $0.0001 in micro-dollars

QUADRATIC = "quadratic"
QUADRATIC_WITH_MAKER = "quadratic_with_maker_fees"
QUADRATIC_WITH_COMBO_MAKER = "quadratic_with_combo_maker_fees"
FEE_TYPES = (QUADRATIC, QUADRATIC_WITH_MAKER, QUADRATIC_WITH_COMBO_MAKER)


@functools.lru_cache(maxsize=4096)
def fill_fee(fee_type: str, multiplier: Decimal, yes_price: int, count: int, *, is_taker: bool) -> Money:
    """Fee in micro-dollars for one fill of ``count`` (1/100 contracts) at ``yes_price``.

    P(1−P) is symmetric, so the YES price serves for either leg. Cached: every order placed or amended
    reserves its worst-case fee, and the exact ``Fraction`` arithmetic was an eighth of the simulator's
    time per order at 200 matches; a few prices and sizes recur.
    """
    if is_taker:
        rate = TAKER_RATE
    elif fee_type == QUADRATIC_WITH_MAKER:
        rate = MAKER_RATE
    elif fee_type == QUADRATIC_WITH_COMBO_MAKER:
        rate = TAKER_RATE / 2
    else:
        return Money(0)
    m = Fraction(multiplier)
    if m == 0 or count <= 0:
        return Money(0)
    p_q = Fraction(yes_price * (PRICE_SCALE - yes_price), PRICE_SCALE**2)
    exact = rate * m * Fraction(count, COUNT_SCALE) * p_q * MONEY_SCALE
    quanta = -(-exact.numerator // (exact.denominator * FEE_QUANTUM))
    return Money(int(quanta) * FEE_QUANTUM)
