"""Totals and spreads: what a single Kalshi YES/NO market asks of a sportsbook line.

A Kalshi total (``KXNBATOTAL``) or spread (``KXNBASPREAD``) market is one market: YES = over the strike
/ the named team wins by more than the strike, NO = the rest. A sportsbook prices the same bet only at
the same number: a total of 221.5 is a different bet from Kalshi's 220.5, so a book whose line differs
is never "close enough" — it is refused with both numbers named. Outcome order for a line is (over,
under) for totals and (covers, does not cover) for spreads, i.e. side A = YES, side B = NO.

Kalshi's strike is the market's ``floor_strike`` (``strike_type`` ``greater``: YES when the result is
above it); the spread's team is read from the market's ``yes_sub_title`` ("Boston wins by over 5.5
Points"), the two teams from the event title ("Boston at New York: Total Points"). A whole-number line
can push at a book (stake returned) but never at Kalshi, so whole-number strikes are refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kmm_tui.odds.matching import KalshiEvent, KalshiOutcome, normalize_name
from kmm_tui.odds.sports import LineKind, NameStyle


class LineError(ValueError):
    """The Kalshi market's line cannot be read, or no sportsbook line equals it; says which numbers."""


@dataclass(frozen=True, slots=True)
class LineRef:
    """Kalshi's line: the strike (always positive for spreads) and, for a spread, the team YES is on."""

    kind: LineKind
    strike: Decimal
    team: str | None = None

    @property
    def book_point(self) -> Decimal:
        """The sportsbook ``point`` of the YES outcome: the total itself, or the team's handicap −strike."""
        return self.strike if self.kind is LineKind.TOTAL else -self.strike

    def describe(self) -> str:
        if self.kind is LineKind.TOTAL:
            return f"total {fmt_point(self.strike)}"
        return f"spread {self.team} {fmt_point(self.book_point)}"


def fmt_point(point: Decimal) -> str:
    """``Decimal('220.50')`` → ``220.5``; spreads keep their sign (``-5.5``, ``+5.5``)."""
    text = format(point, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def mismatch(kind: LineKind, team: str | None, book_point: Decimal, line: LineRef) -> str:
    """The refusal for one book: both numbers, e.g. ``sportsbook total 221.5 ≠ Kalshi strike 220.5``."""
    if kind is LineKind.TOTAL:
        return f"sportsbook total {fmt_point(book_point)} ≠ Kalshi strike {fmt_point(line.strike)}"
    book, kalshi = _signed(book_point), _signed(line.book_point)
    return f"sportsbook spread {team} {book} ≠ Kalshi strike {line.team} {kalshi}"


def _signed(point: Decimal) -> str:
    text = fmt_point(point)
    return text if text.startswith("-") else f"+{text}"


def no_book_has_line(refusals: Iterable[tuple[str, str]], line: LineRef) -> str:
    """One message for "no book offers Kalshi's number": each distinct book line, with its books."""
    by_reason: dict[str, list[str]] = {}
    for book, reason in refusals:
        by_reason.setdefault(reason, []).append(book)
    if not by_reason:
        return f"no sportsbook offers the {line.describe()} line"
    return "; ".join(f"{reason} ({', '.join(books)})" for reason, books in by_reason.items())


# --- reading Kalshi's side -------------------------------------------------------------------------

_TITLE_SPLIT = re.compile(r"\s+(?:vs\.?|v\.?|at|@)\s+", re.IGNORECASE)
_SPREAD_TEAM = re.compile(r"^\s*(.+?)\s+wins?\s+by\s+(?:over|more\s+than)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def teams_from_title(title: str) -> tuple[str, str]:
    """``"Boston at New York: Total Points"`` → ``("Boston", "New York")``; raises LineError."""
    head = title.split(":", 1)[0].strip().rstrip("?").strip()
    head = re.sub(r"\s+(?:winner|total(?:\s+\w+)?|spread)$", "", head, flags=re.IGNORECASE)
    parts = _TITLE_SPLIT.split(head)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise LineError(f"cannot read the two teams from the event title {title!r}")
    return parts[0].strip(), parts[1].strip()


def strike_of(floor_strike: Decimal | None, label: str) -> Decimal:
    """Kalshi's strike: ``floor_strike`` when the exchange sends it, else the number in the label."""
    if floor_strike is not None:
        return floor_strike
    found = _NUMBER.findall(label)
    if len(found) != 1:
        raise LineError(f"market {label!r} has no floor_strike and no single number to read it from")
    try:
        return abs(Decimal(found[0]))
    except InvalidOperation:
        raise LineError(f"cannot read the strike of {label!r}") from None


def spread_team(label: str, teams: tuple[str, str]) -> tuple[str, str]:
    """(the team YES is on, the other) from ``"Boston wins by over 5.5 Points"``; raises LineError."""
    found = _SPREAD_TEAM.match(label)
    if found is None:
        raise LineError(f"cannot tell which team the spread {label!r} is for")
    named = normalize_name(found.group(1), NameStyle.TEAM)
    first, second = (normalize_name(t, NameStyle.TEAM) for t in teams)
    if named == first or first.startswith(named) or named.startswith(first):
        return teams[0], teams[1]
    if named == second or second.startswith(named) or named.startswith(second):
        return teams[1], teams[0]
    raise LineError(f"the spread {label!r} names neither {teams[0]!r} nor {teams[1]!r}")


def line_ref(
    kind: LineKind, floor_strike: Decimal | None, label: str, title: str
) -> tuple[LineRef, str, str]:
    """Kalshi's line and the two teams (for a spread, the YES team first) from one market's fields.

    Refuses a strike that is not positive or is a whole number (a book's whole line can push).
    """
    strike = strike_of(floor_strike, label)
    if strike <= 0:
        raise LineError(f"strike {fmt_point(strike)} of {label!r} is not a positive line")
    if strike == strike.to_integral_value():
        raise LineError(
            f"Kalshi strike {fmt_point(strike)} is a whole number: a sportsbook's {fmt_point(strike)} line "
            "returns stakes on a push, Kalshi does not, so the prices are not the same bet"
        )
    teams = teams_from_title(title)
    if kind is LineKind.TOTAL:
        return LineRef(kind, strike), teams[0], teams[1]
    yes_team, other = spread_team(label, teams)
    return LineRef(kind, strike, yes_team), yes_team, other


def game_event(event: KalshiEvent) -> KalshiEvent | None:
    """A totals/spreads event as the game a book lists: its two teams from the title (None if unreadable).

    Its markets are strikes ("Over 220.5 points scored"), not teams, so the matcher is given the teams
    named in the title instead; the outcome tickers are placeholders (only the names are matched).
    """
    try:
        first, second = teams_from_title(event.title)
    except LineError:
        return None
    ticker = event.event_ticker
    teams = (KalshiOutcome(f"{ticker}#1", first), KalshiOutcome(f"{ticker}#2", second))
    return KalshiEvent(event.event_ticker, event.title, teams, event.start_ms)


__all__ = [
    "LineError",
    "LineKind",
    "LineRef",
    "fmt_point",
    "game_event",
    "line_ref",
    "mismatch",
    "no_book_has_line",
    "spread_team",
    "strike_of",
    "teams_from_title",
]
