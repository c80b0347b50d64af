"""Exact prices, counts and money, and the tick grids prices must sit on.

Kalshi sends prices as dollar strings ("0.5500", up to 6 decimals in responses), counts as
fixed-point strings ("10.00") and money totals as dollar strings ("2.200000"). Floats would
silently mis-round all three, so the domain uses plain integers in fixed minor units:

* ``Price``  — hundredths of a cent: ``$1 == PRICE_SCALE == 10_000``; one cent is ``CENT == 100``.
  The finest Kalshi tick (0.1 cent) is 10 units, so every legal price is an integer here.
* ``Count``  — hundredths of a contract: ``1 contract == COUNT_SCALE == 100`` (fractional fills exist).
* ``Money``  — micro-dollars: ``$1 == MONEY_SCALE == 1_000_000``.  ``price * count`` is exactly
  Money (1e-4 $ x 1e-2 contracts = 1e-6 $), so costs and P&L never round.

Plain ``int`` aliases (``NewType``) keep the quoting hot path fast; helper functions here are the only
place the scales are spelled out. Conversion to and from wire strings lives in these functions and is
called only at the API boundary (``kmm_tui.kalshi`` and ``kmm_tui.sim``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, NewType

Price = NewType("Price", int)
Count = NewType("Count", int)
Money = NewType("Money", int)

PRICE_SCALE = 10_000
CENT = 100
COUNT_SCALE = 100
MONEY_SCALE = 1_000_000
ONE_DOLLAR = Price(PRICE_SCALE)

_D_PRICE = Decimal(PRICE_SCALE)
_D_COUNT = Decimal(COUNT_SCALE)
_D_MONEY = Decimal(MONEY_SCALE)


class WireFormatError(ValueError):
    """A price, count or money string from the wire (or the user) is not an exact decimal we accept."""


def _to_decimal(text: str | int | Decimal, what: str) -> Decimal:
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text)
    elif isinstance(text, str):
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise WireFormatError(f"{what} {text!r} is not a decimal number") from None
    else:
        raise WireFormatError(f"{what} must be a decimal string, got {type(text).__name__} {text!r}")
    if not value.is_finite():
        raise WireFormatError(f"{what} {text!r} is not a finite number")
    return value


def _scaled(value: Decimal, scale: Decimal, what: str, raw: object) -> int:
    if value and not -18 <= value.adjusted() <= 18:  # "1e7000" would build a 7,000-digit integer first
        raise WireFormatError(f"{what} {raw!r} is out of range")
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise WireFormatError(f"{what} {raw!r} has more precision than {1 / scale} allows")
    return int(scaled)


# --- prices -------------------------------------------------------------------------------------


def parse_price(text: str | Decimal) -> Price:
    """Dollar string ("0.5500") -> Price. Rejects anything finer than $0.0001 or outside [0, 1]."""
    value = _to_decimal(text, "price")
    price = _scaled(value, _D_PRICE, "price", text)
    if not 0 <= price <= PRICE_SCALE:
        raise WireFormatError(f"price {text!r} is outside $0..$1")
    return Price(price)


def format_price(price: int) -> str:
    """Price -> the 4-decimal dollar string the API expects ("0.5500")."""
    if not 0 <= price <= PRICE_SCALE:
        raise ValueError(f"price {price} is outside 0..{PRICE_SCALE}")
    return f"{price // PRICE_SCALE}.{price % PRICE_SCALE:04d}"


def price_from_cents(cents: str | int | Decimal) -> Price:
    """User input in cents ("55", "55.5") -> Price. Raises WireFormatError with a readable reason."""
    value = _to_decimal(cents, "price in cents")
    price = _scaled(value, Decimal(CENT), "price in cents", cents)
    if not 0 <= price <= PRICE_SCALE:
        raise WireFormatError(f"{cents} cents is outside 0..100 cents")
    return Price(price)


def price_to_cents(price: int) -> Decimal:
    """Price -> cents as an exact Decimal (5550 -> Decimal('55.5'))."""
    return Decimal(price) / CENT


@functools.lru_cache(maxsize=4096)
def format_cents(price: int) -> str:
    """Human form used in reasons and the UI: 5500 -> '55c', 5550 -> '55.5c', 5555 -> '55.55c'.

    Cached: every decision words its reasons with a few prices, and a market's prices are few."""
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), CENT)
    if frac == 0:
        return f"{sign}{whole}c"
    return f"{sign}{whole}.{f'{frac:02d}'.rstrip('0')}c"


def no_price(yes_price: int) -> Price:
    """Buying YES at p is selling NO at 1 - p (and vice versa)."""
    return Price(PRICE_SCALE - yes_price)


# --- counts -------------------------------------------------------------------------------------


def parse_count(text: str | int | Decimal) -> Count:
    """Fixed-point count string ("10.00") -> Count (hundredths of a contract)."""
    value = _to_decimal(text, "count")
    return Count(_scaled(value, _D_COUNT, "count", text))


def format_count(count: int) -> str:
    """Count -> the 2-decimal string the API expects ("10.00"); negative positions keep their sign."""
    sign = "-" if count < 0 else ""
    whole, frac = divmod(abs(count), COUNT_SCALE)
    return f"{sign}{whole}.{frac:02d}"


def contracts(n: int) -> Count:
    """Whole contracts -> Count."""
    return Count(n * COUNT_SCALE)


def format_contracts(count: int) -> str:
    """Human form: 1000 -> '10', 1050 -> '10.5'."""
    sign = "-" if count < 0 else ""
    whole, frac = divmod(abs(count), COUNT_SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{f'{frac:02d}'.rstrip('0')}"


# --- money --------------------------------------------------------------------------------------


def parse_money(text: str | Decimal) -> Money:
    """Dollar total ("2.200000") -> Money (micro-dollars). Rejects precision finer than $0.000001."""
    value = _to_decimal(text, "amount")
    return Money(_scaled(value, _D_MONEY, "amount", text))


def money_from_cents(cents: int) -> Money:
    """Integer cents (balance fields) -> Money."""
    return Money(cents * (MONEY_SCALE // 100))


def format_money(amount: int, places: int = 6) -> str:
    """Money -> dollar string with ``places`` decimals, truncated toward zero only if places < 6."""
    if not 0 <= places <= 6:
        raise ValueError("places must be 0..6")
    value = Decimal(amount) / _D_MONEY
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_FLOOR if amount >= 0 else ROUND_CEILING)
    return f"{rounded:.{places}f}"


def format_usd(amount: int) -> str:
    """Human form for the UI: Money -> '$12.34' / '-$0.05' (cents, rounded toward zero)."""
    sign = "-" if amount < 0 else ""
    cents_total = abs(amount) // (MONEY_SCALE // 100)
    return f"{sign}${cents_total // 100:,}.{cents_total % 100:02d}"


def format_dollars(amount: int) -> str:
    """Money -> exact dollars for machines and records, at least two decimals, no rounding:
    12_340_000 -> '12.34', 3_500 -> '0.0035', -50_000 -> '-0.05'."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), MONEY_SCALE)
    return f"{sign}{whole}.{f'{frac:06d}'.rstrip('0').ljust(2, '0')}"


def cost(price: int, count: int) -> Money:
    """Exact cost of ``count`` contracts at ``price``."""
    return Money(price * count)


# --- tick grids ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceBand:
    """Prices in [start, end] are legal when (price - start) is a multiple of step."""

    start: Price
    end: Price
    step: Price


@dataclass(frozen=True, slots=True)
class TickGrid:
    """A market's legal prices, built from its ``price_ranges``.

    Bands are sorted and contiguous in practice (0-0.10 by 0.5c, 0.10-0.90 by 1c, ...). A price on a
    band boundary is legal if it is legal in either band. Quotes are kept within
    ``[lowest step, 1 - lowest top step]`` so we never bid 0 or 1 dollar.
    """

    bands: tuple[PriceBand, ...]
    # Derived once from the bands: every decision reads them several times per side.
    min_price: Price = field(init=False, repr=False, compare=False)  # lowest quotable: one step above 0
    max_price: Price = field(init=False, repr=False, compare=False)  # highest: one step below one dollar
    # (start, end, step) of a one-band grid, most markets' (1c throughout): rounding skips the band loop.
    _single: tuple[int, int, int] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first, last = self.bands[0], self.bands[-1]
        object.__setattr__(self, "min_price", Price(first.start + first.step))
        object.__setattr__(self, "max_price", Price(last.end - last.step))
        single = (first.start, first.end, first.step) if len(self.bands) == 1 else None
        object.__setattr__(self, "_single", single)

    @classmethod
    def linear_cent(cls) -> TickGrid:
        return cls((PriceBand(Price(0), ONE_DOLLAR, Price(CENT)),))

    @classmethod
    def from_price_ranges(cls, ranges: list[dict[str, Any]]) -> TickGrid:
        """Build from the wire form ``[{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]``."""
        if not ranges:
            raise WireFormatError("price_ranges is empty")
        bands = []
        for item in ranges:
            try:
                band = PriceBand(
                    parse_price(item["start"]), parse_price(item["end"]), parse_price(item["step"])
                )
            except KeyError as missing:
                raise WireFormatError(f"price_ranges entry {item!r} lacks {missing}") from None
            if band.step <= 0 or band.end <= band.start:
                raise WireFormatError(f"price_ranges entry {item!r} is not a valid band")
            bands.append(band)
        bands.sort(key=lambda b: b.start)
        return cls(tuple(bands))

    def flipped(self) -> TickGrid:
        """The grid of NO prices (100c − p for every legal YES price p): what a NO bidder quotes on."""
        return TickGrid(tuple(sorted(
            (PriceBand(Price(ONE_DOLLAR - b.end), Price(ONE_DOLLAR - b.start), b.step) for b in self.bands),
            key=lambda b: b.start,
        )))

    def is_valid(self, price: int) -> bool:
        for band in self.bands:
            if band.start <= price <= band.end and (price - band.start) % band.step == 0:
                return True
        return False

    def floor(self, price: int) -> Price:
        """The highest legal price <= ``price`` (bids round down, never up)."""
        single = self._single
        if single is not None and price >= single[0]:
            start, end, step = single
            return Price(start + ((price if price < end else end) - start) // step * step)
        best = -1
        for band in self.bands:
            start = band.start
            if price < start:
                break
            top = price if price < band.end else band.end
            candidate = start + (top - start) // band.step * band.step
            if candidate > best:
                best = candidate
        if best < 0:
            raise ValueError(f"price {price} is below the grid")
        return Price(best)

    def ceil(self, price: int) -> Price:
        """The lowest legal price >= ``price``."""
        single = self._single
        if single is not None and price <= single[1]:
            start, end, step = single
            if price <= start:
                return Price(start)
            candidate = start + -(-(price - start) // step) * step
            return Price(candidate if candidate < end else end)
        for band in self.bands:
            if price > band.end:
                continue
            if price <= band.start:
                return band.start
            offset = price - band.start
            candidate = band.start + -(-offset // band.step) * band.step
            return Price(candidate if candidate < band.end else band.end)
        raise ValueError(f"price {price} is above the grid")

    def up(self, price: int) -> Price:
        """The next legal price strictly above ``price`` (one tick up)."""
        single = self._single
        if single is not None and single[0] <= price < single[1]:  # one band: a step up from the floor
            start, end, step = single
            above = start + ((price - start) // step + 1) * step
            return Price(above if above < end else end)
        return self.ceil(price + 1)

    def down(self, price: int) -> Price:
        """The next legal price strictly below ``price`` (one tick down)."""
        single = self._single
        if single is not None and single[0] < price <= single[1]:  # one band: a step down from the ceiling
            start, _, step = single
            return Price(start + (price - start - 1) // step * step)
        return self.floor(price - 1)

    def clamp_quote(self, price: int) -> Price | None:
        """Round a bid down onto the grid and into the quotable range; None if below it."""
        if price < self.min_price:
            return None
        return self.floor(min(price, self.max_price))
