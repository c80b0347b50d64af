"""One theo per match from every source's quotes, plus the theo-vs-market sanity alarm.

De-vig and aggregation are the domain's (``domain.theo.consensus``); this module decides which quotes
go in: exchanges we trade on (or that mirror Kalshi) never do, and a clone family (``ps3838`` is
Pinnacle) or the same book seen through two providers counts once — the freshest copy wins. A manual
theo typed in cents overrides the books.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kmm_tui.domain.prices import Price, format_cents
from kmm_tui.domain.theo import Aggregate, BookOdds, DevigMethod, OddsError, consensus, prob_to_price
from kmm_tui.odds.models import DRAW, EXCHANGES_EXCLUDED, SIDE_A, SIDE_B, SourceResult

# A sensible default: sharp books count more (odds-api.md §4). Books not listed weigh 1.
DEFAULT_WEIGHTS: Mapping[str, Decimal] = {"pinnacle": Decimal(3), "betfair_ex_eu": Decimal(2)}


@dataclass(frozen=True, slots=True)
class MatchTheo:
    """Fair prices per outcome and how they were made; ``age_ms`` is the newest used price's age."""

    theo_a: Price
    theo_b: Price
    theo_draw: Price | None
    books_used: tuple[str, ...]
    books_dropped: tuple[tuple[str, str], ...]
    age_ms: int
    method: DevigMethod


def _dedupe(results: Sequence[SourceResult]) -> tuple[list[BookOdds], list[tuple[str, str]]]:
    """All quotes, exchanges removed, one per clone family / book name (freshest wins)."""
    best: dict[str, BookOdds] = {}
    dropped: list[tuple[str, str]] = []
    for result in results:
        for quote in result.quotes:
            if quote.book in EXCHANGES_EXCLUDED:
                dropped.append((quote.book, "exchange: never an input to theo"))
                continue
            family = result.family(quote.book)
            current = best.get(family)
            if current is None:
                best[family] = quote
                continue
            keep, lose = (quote, current) if quote.updated_ms > current.updated_ms else (current, quote)
            best[family] = keep
            dropped.append((lose.book, f"same prices as {keep.book} ({family} family): counted once"))
    return list(best.values()), dropped


def theo_for_match(
    results: Sequence[SourceResult],
    method: DevigMethod,
    now_ms: int,
    max_age_ms: int,
    weights: Mapping[str, Decimal] | None = None,
    aggregate: Aggregate = "weighted_mean",
) -> MatchTheo:
    """Combine the sources' results for one match into theo prices in (A, B[, draw]) order.

    Raises ``OddsError`` (from the domain) when no fresh, sane book remains — the stale-theo guard's cue.
    """
    for result in results:
        if result.fixed_theo is not None:
            fixed = result.fixed_theo
            return MatchTheo(
                theo_a=fixed[SIDE_A],
                theo_b=fixed[SIDE_B],
                theo_draw=fixed[DRAW] if len(fixed) > DRAW else None,
                books_used=(result.source,),
                books_dropped=(),
                age_ms=max(0, now_ms - result.fetched_ms),
                method=method,
            )
    quotes, dropped = _dedupe(results)
    if not quotes:
        raise OddsError("no bookmaker quotes from any source; wait for odds or enter a theo by hand")
    combined = consensus(quotes, method, now_ms, max_age_ms, weights, aggregate)
    p = combined.probabilities
    return MatchTheo(
        theo_a=prob_to_price(p[SIDE_A]),
        theo_b=prob_to_price(p[SIDE_B]),
        theo_draw=prob_to_price(p[DRAW]) if len(p) > DRAW else None,
        books_used=combined.books_used,
        books_dropped=(*dropped, *combined.books_dropped),
        age_ms=max(0, now_ms - combined.newest_ms),
        method=method,
    )


def divergence_warning(theo: Price, mid: Price | None, threshold: Price) -> str | None:
    """A warning when theo and Kalshi's mid differ by more than ``threshold`` (a swapped or stale line)."""
    if mid is None:
        return None
    gap = abs(theo - mid)
    if gap <= threshold:
        return None
    return (
        f"theo {format_cents(theo)} vs Kalshi mid {format_cents(mid)} differs by {format_cents(gap)} — "
        "check the team mapping or a stale line"
    )
