"""Sportsbook odds → fair probability ("theo") per outcome, and the multi-book consensus.

A bookmaker's implied probabilities ``q_i = 1/odds_i`` sum to more than 1; the excess (overround,
``M = Σq − 1``) is the book's margin. Removing it ("de-vig") is a modelling choice, so several methods
are offered (odds-api.md §4); they differ by up to ~3 cents on lopsided matches.

Everything is ``Decimal`` computed inside a local context of ``PRECISION`` digits; the iterative
methods (power, Shin, odds ratio) solve by bisection, then remove the last ~1e-30 of rounding by
normalising, so their probabilities sum to 1 to full precision. Only ``prob_to_price`` leaves Decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Literal

from kmm_tui.domain.prices import PRICE_SCALE, Price, WireFormatError, format_cents, price_from_cents

PRECISION = 40
MAX_OVERROUND = Decimal("0.15")
_SOLVE_TOLERANCE = Decimal("1e-34")
_MAX_ITERATIONS = 400
_ONE = Decimal(1)
_ZERO = Decimal(0)


class OddsError(ValueError):
    """Odds (or a manual theo) cannot be turned into a fair value; the message says what to fix."""


class DevigMethod(StrEnum):
    """How to take the bookmaker's margin out of its odds."""

    MULTIPLICATIVE = "multiplicative"
    ADDITIVE = "additive"
    POWER = "power"
    SHIN = "shin"
    ODDS_RATIO = "odds_ratio"
    WORST_CASE = "worst_case"


# --- parsing ------------------------------------------------------------------------------------


def _number(value: str | int | Decimal, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise OddsError(f"{what} must be text or a Decimal, not {type(value).__name__} ({value!r})")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise OddsError(f"{what} is empty: enter a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise OddsError(f"{value!r} is not a number") from None
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise OddsError(f"{what} must be finite (got {value})")
    return number


def parse_decimal_odds(text: str | Decimal) -> Decimal:
    """User or feed text → decimal odds (> 1.0), e.g. ``"1.85"``."""
    odds = _number(text, "odds")
    if not odds > 1:
        raise OddsError(f"odds must be greater than 1.0 (got {text})")
    return odds


def american_to_decimal(value: str | int) -> Decimal:
    """American odds → decimal: ``+150 → 2.5``, ``−200 → 1.5`` (``-110`` → 1.9090…, 40 digits)."""
    american = _number(value, "American odds")
    if -100 < american < 100:
        raise OddsError(f"American odds must be +100 or more, or -100 or less (got {value})")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        if american > 0:
            return _ONE + american / 100
        return _ONE + Decimal(100) / -american


def _validated(odds: Sequence[Decimal | str]) -> list[Decimal]:
    if isinstance(odds, str | bytes) or len(odds) not in (2, 3):
        raise OddsError(
            f"need odds for 2 outcomes (team A, team B) or 3 (home, draw, away), got {len(odds)}"
        )
    return [parse_decimal_odds(o) for o in odds]


# --- implied probabilities ----------------------------------------------------------------------


def implied(odds: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """Raw implied probabilities ``1/odds`` (they include the margin, so they sum past 1)."""
    values = [parse_decimal_odds(o) for o in odds]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return tuple(_ONE / o for o in values)


def overround(odds: Sequence[Decimal]) -> Decimal:
    """The book's margin ``Σ 1/odds − 1`` (0.05 = 5 %)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return sum(implied(odds), _ZERO) - _ONE


# --- de-vig ------------------------------------------------------------------------------------


def devig(odds: Sequence[Decimal], method: DevigMethod = DevigMethod.MULTIPLICATIVE) -> tuple[Decimal, ...]:
    """Fair probabilities for 2 outcomes, or 3 (soccer home/draw/away: always de-vig all three together).

    Every method except WORST_CASE returns probabilities summing to 1. WORST_CASE returns each
    outcome's lower bound ``q_i − M`` (the whole margin charged to that outcome, clamped at 0): the
    most conservative price for *buying* YES; those bounds sum to less than 1 by design.
    Raises OddsError when the odds sum to less than 100 % (stale or arbitrage prices) or when the
    additive method would give an outcome a probability ≤ 0.
    """
    values = _validated(odds)
    method = DevigMethod(method)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        q = [_ONE / o for o in values]
        total = sum(q, _ZERO)
        if total < 1:
            raise OddsError(
                f"odds {'/'.join(str(o) for o in values)} imply {_pct(total)} in total, less than 100 %: "
                "the prices are stale or an arbitrage; refresh them or enter a theo by hand"
            )
        margin = total - _ONE
        if method is DevigMethod.MULTIPLICATIVE:
            return tuple(x / total for x in q)
        if method is DevigMethod.ADDITIVE:
            share = margin / len(q)
            fair = [x - share for x in q]
            for o, p in zip(values, fair, strict=True):
                if p <= 0:
                    raise OddsError(
                        f"additive de-vig gives odds {o} a probability of {p:.4f} (≤ 0): the long shot is "
                        "too long for this method; use multiplicative, power or odds_ratio"
                    )
            return tuple(fair)
        if method is DevigMethod.WORST_CASE:
            return tuple(max(x - margin, _ZERO) for x in q)
        if margin == 0:
            return tuple(q)
        if method is DevigMethod.POWER:
            return _normalised(_power(q))
        if method is DevigMethod.SHIN:
            return _normalised(_shin(q, total))
        return _normalised(_odds_ratio(q))


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f} %"


def _normalised(p: list[Decimal]) -> tuple[Decimal, ...]:
    total = sum(p, _ZERO)
    return tuple(x / total for x in p)


def _bisect(total_at: Callable[[Decimal], Decimal], low: Decimal, high: Decimal) -> Decimal:
    """Root of ``total_at(x) = 1`` for a function DEcreasing in x on [low, high]."""
    for _ in range(_MAX_ITERATIONS):
        mid = (low + high) / 2
        if total_at(mid) > 1:
            low = mid
        else:
            high = mid
        if high - low < _SOLVE_TOLERANCE:
            break
    return (low + high) / 2


def _power(q: list[Decimal]) -> list[Decimal]:
    """Find k > 1 with Σ q_i^k = 1 (each q_i < 1, so the sum falls as k grows)."""
    logs = [x.ln() for x in q]

    def total_at(k: Decimal) -> Decimal:
        return sum(((k * lg).exp() for lg in logs), _ZERO)

    high = Decimal(2)
    while total_at(high) > 1:
        high *= 2
    k = _bisect(total_at, _ONE, high)
    return [(k * lg).exp() for lg in logs]


def _shin_probabilities(q: list[Decimal], total: Decimal, z: Decimal) -> list[Decimal]:
    return [((z * z + 4 * (1 - z) * x * x / total).sqrt() - z) / (2 * (1 - z)) for x in q]


def _shin(q: list[Decimal], total: Decimal) -> list[Decimal]:
    """Find the insider share z ∈ [0, 1) with Σ p_i(z) = 1 (Σ falls from √S at z = 0)."""

    def total_at(z: Decimal) -> Decimal:
        return sum(_shin_probabilities(q, total, z), _ZERO)

    z = _bisect(total_at, _ZERO, _ONE - Decimal("1e-12"))
    return _shin_probabilities(q, total, z)


def _odds_ratio_probabilities(q: list[Decimal], c: Decimal) -> list[Decimal]:
    return [x / (c + x - c * x) for x in q]


def _odds_ratio(q: list[Decimal]) -> list[Decimal]:
    """Find c ≥ 1 dividing every outcome's odds-in-favour so that Σ p_i = 1."""

    def total_at(c: Decimal) -> Decimal:
        return sum(_odds_ratio_probabilities(q, c), _ZERO)

    high = Decimal(2)
    while total_at(high) > 1:
        high *= 2
    c = _bisect(total_at, _ONE, high)
    return _odds_ratio_probabilities(q, c)


def prob_to_price(p: Decimal) -> Price:
    """Probability → Price, floored to $0.0001 (0.535659 → 5356).

    Floored, never rounded: the ceiling is ``theo − edge`` snapped down onto the grid, and a theo rounded
    up would lift it over the exact value (odds 1.06/7.77, edge 2c: exact limit 85.995c, rounded theo
    88.00c gave a ceiling of 86c). Floored theos of a match also never add up to more than 100c.
    """
    if not isinstance(p, Decimal) or not p.is_finite() or not 0 <= p <= 1:
        raise OddsError(f"probability {p!r} must be a Decimal between 0 and 1")
    return Price(int((p * PRICE_SCALE).to_integral_value(rounding=ROUND_FLOOR)))


# --- consensus over several books ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookOdds:
    """One bookmaker's decimal odds for all outcomes of a match, and when they last changed."""

    book: str
    odds: tuple[Decimal, ...]
    updated_ms: int


@dataclass(frozen=True, slots=True)
class Consensus:
    """The aggregated fair probabilities and which books were used or dropped (with why)."""

    probabilities: tuple[Decimal, ...]
    books_used: tuple[str, ...]
    books_dropped: tuple[tuple[str, str], ...]
    newest_ms: int


Aggregate = Literal["weighted_mean", "median"]


def consensus(
    quotes: Sequence[BookOdds],
    method: DevigMethod,
    now_ms: int,
    max_age_ms: int,
    weights: Mapping[str, Decimal] | None = None,
    aggregate: Aggregate = "weighted_mean",
) -> Consensus:
    """De-vig each fresh, sane book separately, then combine them per outcome.

    Dropped (with the reason kept for the UI): prices older than ``max_age_ms``, books whose overround
    is < 0 or > 15 %, books whose outcome count differs from the first usable book, books with weight
    0, books the method cannot de-vig. ``weighted_mean`` uses ``weights`` (books not listed weigh 1,
    e.g. ``{"pinnacle": 3}``); ``median`` ignores weights and, for 3 outcomes, rescales the medians to
    sum to 1 (WORST_CASE bounds are never rescaled). Raises OddsError when no book qualifies.
    """
    if aggregate not in ("weighted_mean", "median"):
        raise ValueError(f"aggregate must be 'weighted_mean' or 'median', not {aggregate!r}")
    if max_age_ms < 0:
        raise ValueError(f"max_age_ms must be >= 0 (got {max_age_ms})")
    weights = weights or {}
    used: list[tuple[str, tuple[Decimal, ...], Decimal, int]] = []
    dropped: list[tuple[str, str]] = []
    n_outcomes: int | None = None
    for quote in quotes:
        age = now_ms - quote.updated_ms
        if age > max_age_ms:
            dropped.append((quote.book, f"stale: {_age(age)} old (limit {_age(max_age_ms)})"))
            continue
        weight = weights.get(quote.book, _ONE)
        if weight < 0:
            raise ValueError(f"weight for {quote.book!r} is negative ({weight}); use 0 to ignore a book")
        if weight == 0:
            dropped.append((quote.book, "weight 0"))
            continue
        try:
            margin = overround(quote.odds)
            if n_outcomes is not None and len(quote.odds) != n_outcomes:
                raise OddsError(f"{len(quote.odds)} outcomes, expected {n_outcomes}")
            if margin < 0:
                raise OddsError(f"overround {_pct(margin)} is negative (stale or arbitrage)")
            if margin > MAX_OVERROUND:
                raise OddsError(f"overround {_pct(margin)} is above 15 %")
            probabilities = devig(quote.odds, method)
        except OddsError as error:
            dropped.append((quote.book, str(error)))
            continue
        n_outcomes = len(probabilities)
        used.append((quote.book, probabilities, Decimal(weight), quote.updated_ms))
    if not used:
        why = "; ".join(f"{book}: {reason}" for book, reason in dropped) or "no odds given"
        raise OddsError(f"no fresh book to price from ({why}); wait for odds or enter a theo by hand")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        if aggregate == "weighted_mean":
            total_weight = sum((w for _, _, w, _ in used), _ZERO)
            combined = tuple(
                sum((w * p[i] for _, p, w, _ in used), _ZERO) / total_weight for i in range(len(used[0][1]))
            )
        else:
            combined = tuple(_median([p[i] for _, p, _, _ in used]) for i in range(len(used[0][1])))
            if method is not DevigMethod.WORST_CASE:
                combined = _normalised(list(combined))
    return Consensus(
        probabilities=combined,
        books_used=tuple(book for book, _, _, _ in used),
        books_dropped=tuple(dropped),
        newest_ms=max(updated for _, _, _, updated in used),
    )


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _age(ms: int) -> str:
    seconds = ms // 1000
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


# --- manual theo --------------------------------------------------------------------------------


def manual_theo(theo_a_cents: str, theo_b_cents: str | None) -> tuple[Price, Price]:
    """Theo typed by the user in cents ("55", "54.5"); B defaults to ``100 − A``.

    Both must lie strictly between 0 and 100 cents, and together at most 100 cents (the two teams'
    fair values cannot sum past $1; with a draw possible they sum to less).
    """
    theo_a = _manual_price(theo_a_cents, "theo A")
    if theo_b_cents is None or not str(theo_b_cents).strip():
        return theo_a, Price(PRICE_SCALE - theo_a)
    theo_b = _manual_price(theo_b_cents, "theo B")
    if theo_a + theo_b > PRICE_SCALE:
        raise OddsError(
            f"theo A {format_cents(theo_a)} + theo B {format_cents(theo_b)} = "
            f"{format_cents(theo_a + theo_b)}, more than 100c: "
            "two teams' fair values cannot sum past 100c; lower one of them"
        )
    return theo_a, theo_b


def _manual_price(text: str, what: str) -> Price:
    if not isinstance(text, str) or not text.strip():
        raise OddsError(f"{what} is empty: enter a price in cents, e.g. 55 or 54.5")
    try:
        price = price_from_cents(text)
    except WireFormatError:
        raise OddsError(
            f"{what} {text.strip()!r} is not a price in cents between 0 and 100 with at most 2 decimals "
            "(e.g. 55 or 54.5)"
        ) from None
    if not 0 < price < PRICE_SCALE:
        raise OddsError(f"{what} must be between 0 and 100 cents, exclusive (got {text.strip()})")
    return price


__all__ = [
    "MAX_OVERROUND",
    "BookOdds",
    "Consensus",
    "DevigMethod",
    "OddsError",
    "american_to_decimal",
    "consensus",
    "devig",
    "implied",
    "manual_theo",
    "overround",
    "parse_decimal_odds",
    "prob_to_price",
]
