"""What the engine knows about each market it trades: grid, status, fees and the live book."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.prices import TickGrid

OPEN_STATUSES = frozenset({"active", "open"})
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


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
