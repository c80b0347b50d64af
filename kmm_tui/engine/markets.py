"""What the engine knows about each market it trades: grid, status, fees and the live book."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.prices import CENT, PRICE_SCALE, Price, TickGrid, format_cents

OPEN_STATUSES = frozenset({"active", "open"})
SCALE_TOLERANCE = 10 * CENT  # books move between the REST read and the first snapshot; mirrors are far
SCALE_CHECK_WINDOW_MS = 30_000  # compare only a snapshot this close to the REST read
EASTERN = ZoneInfo("America/New_York")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_TICKER_TIME = re.compile(r"^[A-Z0-9]+-(\d{2})([A-Z]{3})(\d{2})(\d{4})?")


@dataclass(slots=True)
class MarketState:
    """Mutable per-market state, touched only on the engine's loop."""

    ticker: str
    event_ticker: str
    title: str
    grid: TickGrid
    status: str
    exchange_index: int = 0
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: Decimal = Decimal(1)
    book: Book = field(default_factory=Book)
    stale: bool = True
    book_ts_ms: int = 0
    rest_yes_ask: Price | None = None  # the market's yes_ask when loaded over REST (scale check)
    rest_read_ms: int = 0
    scale_checked: bool = False
    scale_suspect: bool = False  # the feed's asks look mirrored (NO levels in the wrong terms)
    strike: Decimal | None = None  # totals/spreads: the market's floor_strike (the odds feed's line)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def check_scale(self) -> str | None:
        """Once per session: does the feed's implied YES ask agree with the REST ``yes_ask``?

        Kalshi will flip the default of ``use_yes_price`` (kalshi-api.md §7). If the feed reported NO
        levels at 1 − p while we read them as NO-leg prices, every ask would be mirrored around 50c and
        "do not cross" would be computed against a fantasy. Returns a reason when the asks look
        mirrored (the mirror is clearly closer than the direct reading).
        """
        if self.scale_checked or self.stale or self.rest_yes_ask is None or self.book.best_ask is None:
            return None
        self.scale_checked = True
        if self.book_ts_ms - self.rest_read_ms > SCALE_CHECK_WINDOW_MS:
            return None  # the REST read is too old to compare against: the market may have moved
        feed_ask, rest_ask = self.book.best_ask, self.rest_yes_ask
        direct = abs(feed_ask - rest_ask)
        mirrored = abs(feed_ask - (PRICE_SCALE - rest_ask))
        if direct > SCALE_TOLERANCE and mirrored < direct:
            self.scale_suspect = True
            return (
                f"{self.ticker}: the feed's YES ask {format_cents(feed_ask)} mirrors the REST ask "
                f"{format_cents(rest_ask)}; order-book price terms look flipped — quoting stopped"
            )
        return None


def start_from_ticker(event_ticker: str) -> int | None:
    """Guess the scheduled start from an event ticker's ``YYMONDD[HHMM]`` (US Eastern), in Unix ms.

    Only a fallback when the exchange has no milestone: the HHMM part is missing on many series and its
    time zone is unverified. Without HHMM the guess is midnight Eastern at the start of that day, which
    errs on the safe side (orders are pulled early rather than late).
    """
    match = _TICKER_TIME.match(event_ticker)
    if not match:
        return None
    yy, mon, dd, hhmm = match.groups()
    month = _MONTHS.get(mon)
    if month is None:
        return None
    hour, minute = (int(hhmm[:2]), int(hhmm[2:])) if hhmm else (0, 0)
    try:
        start = datetime(2000 + int(yy), month, int(dd), hour, minute, tzinfo=EASTERN)
    except ValueError:
        return None
    return int(start.timestamp() * 1000)  # float-ok: whole seconds from a datetime
