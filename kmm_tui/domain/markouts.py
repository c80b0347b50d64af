"""Markouts: how far the price moved for or against us after each fill, and what we really earned.

A market maker loses money to informed flow: fills that come just before the price moves against us.
Every fill of ours buys YES on one team's market at ``price``. At fill time we note a reference price
(the market's fair value: our theo, and Kalshi's mid), and again at a few horizons after it. Per
contract, in ``Price`` units, positive always meaning "in our favour":

- spread captured = reference at fill − price (the edge we thought we took),
- markout at h    = reference at h − reference at fill (how the price moved after we bought),
- earned at h     = spread + markout = reference at h − price (the edge that was really earned).

Closing line value (CLV) is the sports trader's version: the last reference before the event started
(and our quotes were pulled) minus the price we paid. Pure: the engine samples, this module computes.
Means are weighted by contracts and exact (``Decimal`` cents).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import CENT, Count, Price

DEFAULT_HORIZONS_MS = (5_000, 60_000, 300_000)
CENTS = Decimal("0.01")


class Basis(StrEnum):
    """Which fair value a markout is measured against."""

    MID = "mid"  # Kalshi's mid (what the market did: the only mover when theo is typed by hand)
    THEO = "theo"  # our theo (what the odds feed did)


@dataclass(frozen=True, slots=True)
class Mark:
    """The fair values at one instant: theo and Kalshi's mid (None when unknown or one-sided)."""

    theo: Price | None
    mid: Price | None

    def of(self, basis: Basis) -> Price | None:
        return self.theo if basis is Basis.THEO else self.mid


@dataclass(frozen=True, slots=True)
class FillMarkout:
    """One fill with its marks at fill time and at each horizon sampled so far."""

    trade_id: str
    match_id: str
    series: str
    ticker: str
    side: str  # "a" | "b"
    price: Price
    count: Count
    ts_ms: int
    at_fill: Mark
    later: tuple[tuple[int, Mark], ...] = ()  # (horizon_ms, mark), in horizon order

    def mark_at(self, horizon_ms: int) -> Mark | None:
        return next((mark for h, mark in self.later if h == horizon_ms), None)

    def spread(self, basis: Basis = Basis.MID) -> Price | None:
        ref = self.at_fill.of(basis)
        return Price(ref - self.price) if ref is not None else None

    def markout(self, horizon_ms: int, basis: Basis = Basis.MID) -> Price | None:
        start = self.at_fill.of(basis)
        mark = self.mark_at(horizon_ms)
        end = mark.of(basis) if mark is not None else None
        return Price(end - start) if start is not None and end is not None else None

    def earned(self, horizon_ms: int, basis: Basis = Basis.MID) -> Price | None:
        mark = self.mark_at(horizon_ms)
        end = mark.of(basis) if mark is not None else None
        return Price(end - self.price) if end is not None else None


def mid(book: Book) -> Price | None:
    """Kalshi's mid, rounded down to the price unit ($0.0001); None when either side is empty."""
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None:
        return None
    return Price((bid + ask) // 2)


def clv(price: Price, closing: Price | None) -> Price | None:
    """Closing line value of one fill: the closing fair value minus what we paid (positive = good)."""
    return Price(closing - price) if closing is not None else None


def closing_price(mark: Mark) -> Price | None:
    """A side's closing value: Kalshi's last mid before the start, else our last theo."""
    return mark.mid if mark.mid is not None else mark.theo


def fill_clv(fill: FillMarkout, closing: Mapping[str, tuple[Mark, Mark]]) -> Price | None:
    """One fill's CLV against its match's closing line (None before the event started)."""
    line = closing.get(fill.match_id)
    if line is None:
        return None
    return clv(fill.price, closing_price(line[0] if fill.side == "a" else line[1]))


def mean_clv_cents(fills: Iterable[FillMarkout], closing: Mapping[str, tuple[Mark, Mark]]) -> Decimal | None:
    """Contract-weighted mean CLV of the fills whose match has a closing line."""
    return weighted_cents([(c, f.count) for f in fills if (c := fill_clv(f, closing)) is not None])


@dataclass(frozen=True, slots=True)
class HorizonStats:
    horizon_ms: int
    fills: int  # fills with a markout at this horizon
    mean_markout_cents: Decimal | None  # contract-weighted
    adverse_share: Decimal | None  # share of those fills whose markout went against us (0..1)
    mean_earned_cents: Decimal | None  # spread + markout, contract-weighted


@dataclass(frozen=True, slots=True)
class MarkoutSummary:
    """Per match or per series: what our fills captured and how the price moved after them."""

    fills: int
    contracts: Count
    mean_spread_cents: Decimal | None
    horizons: tuple[HorizonStats, ...]
    basis: Basis = Basis.MID

    def at(self, horizon_ms: int) -> HorizonStats | None:
        return next((h for h in self.horizons if h.horizon_ms == horizon_ms), None)


def weighted_cents(values: Sequence[tuple[int, int]]) -> Decimal | None:
    """Contract-weighted mean of (Price value, Count) pairs, in cents, exact to 1/100 cent."""
    total = sum(count for _, count in values)
    if total <= 0:
        return None
    weighted = sum(value * count for value, count in values)
    return (Decimal(weighted) / Decimal(total) / CENT).quantize(CENTS)


def summarize(
    fills: Iterable[FillMarkout], horizons_ms: Sequence[int], basis: Basis = Basis.MID
) -> MarkoutSummary:
    """Mean spread, and per horizon the mean markout, adverse share and mean edge really earned."""
    fills = list(fills)
    spreads = [(s, f.count) for f in fills if (s := f.spread(basis)) is not None]
    stats = []
    for horizon in horizons_ms:
        moves = [(m, f.count) for f in fills if (m := f.markout(horizon, basis)) is not None]
        earned = [(e, f.count) for f in fills if (e := f.earned(horizon, basis)) is not None]
        adverse = sum(1 for m, _ in moves if m < 0)
        share = (Decimal(adverse) / Decimal(len(moves))).quantize(CENTS) if moves else None
        stats.append(HorizonStats(horizon, len(moves), weighted_cents(moves), share, weighted_cents(earned)))
    return MarkoutSummary(
        len(fills), Count(sum(f.count for f in fills)), weighted_cents(spreads), tuple(stats), basis
    )


def suggest_edge(summary: MarkoutSummary) -> Price | None:
    """Advisory: the edge at which the realised spread would have covered adverse selection.

    The mean markout at the longest horizon that has samples is what informed flow cost us per
    contract; an edge of at least that (rounded up to a whole cent, never below 1c) pays for it.
    None without any markout yet.
    """
    measured = [h for h in summary.horizons if h.mean_markout_cents is not None]
    if not measured:
        return None
    adverse_cents = -(measured[-1].mean_markout_cents or Decimal(0))
    return Price(max(1, math.ceil(adverse_cents)) * CENT)


def series_of(event_ticker: str) -> str:
    """The series a Kalshi event belongs to: the ticker up to its first dash (KXCS2GAME-...)."""
    return event_ticker.split("-", 1)[0]
