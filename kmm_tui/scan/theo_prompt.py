"""``kmm scan --theo``: ask for a fair value per listed match and print the bid ceilings it implies.

The user types, per match, either theo in cents (``55`` = A 55c, B 45c; ``55 43``; soccer ``40 35 25``
for A, B, draw) or decimal odds after ``o`` (``o 1.85 2.05``; soccer ``o 2.6 2.9 3.3``), which are
de-vigged with the configured method. The ceiling is computed by the same rule the quoting engine uses
(``domain.quoting.decide``: highest grid price ≤ theo − edge, fee-aware when configured), so what is
printed here is what ``kmm run`` would bid up to.

Bad input is explained and the same match is asked again; answers already given are kept and the
summary at the end (also on end of input, ``q`` or Ctrl-C) lists every one of them, each with the
``kmm run …`` line to paste: the same tickers, the theo in cents and the scan's environment flags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TextIO

from kmm_tui.domain.book import Book
from kmm_tui.domain.fees import FeeType
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Price, format_cents, format_price, price_from_cents
from kmm_tui.domain.quoting import QuoteMemo, QuoteSettings, SideInput, SideQuote, decide
from kmm_tui.domain.theo import DevigMethod, OddsError, devig, prob_to_price
from kmm_tui.odds.manual import parse_manual_odds, parse_manual_theo
from kmm_tui.scan.model import ScanMatch, ScanRow
from kmm_tui.scan.output import run_command

ReadLine = Callable[[str], str]
STOP_WORDS = frozenset({"q", "quit", "stop"})
# Two typed theos should sum to about 100c; far less is almost always decimal odds typed without 'o'.
PLAUSIBLE_PAIR_TOTAL = price_from_cents(90)
HELP = (
    "For each match type theo in cents for team A ('55', or '55 43'; soccer: 'A B draw'), or decimal\n"
    "odds after 'o' ('o 1.85 2.05'; soccer: 'o A B draw'). Enter skips a match, 'q' stops."
)


class DefaultsLike(Protocol):
    """The part of ``config.Defaults`` the ceilings need (scan may not import ``kmm_tui.config``)."""

    @property
    def edge(self) -> Price: ...

    @property
    def contracts_count(self) -> Count: ...

    @property
    def inventory_max_count(self) -> Count: ...

    fee_aware: bool


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """A series' fee schedule, for fee-aware ceilings."""

    fee_type: str
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class TheoAnswer:
    """One match's theo (A, B[, draw]), what the user typed, and the ceilings per team."""

    match: ScanMatch
    typed: str
    theo: tuple[Price, ...]
    a: SideQuote
    b: SideQuote


def parse_answer(text: str, outcomes: int, method: DevigMethod) -> tuple[Price, ...] | None:
    """Typed text → theo prices (A, B[, draw]); None for an empty line. Raises OddsError when bad."""
    words = text.replace(",", " ").split()
    if not words:
        return None
    if words[0].lower() in ("o", "odds"):
        odds = parse_manual_odds(words[1:], outcomes)
        return tuple(prob_to_price(p) for p in devig(odds, method))
    if words[0].lower().startswith("o") and words[0][1:]:
        raise OddsError(f"put a space after 'o': 'o {words[0][1:]} ...'")
    theo = parse_manual_theo(words, outcomes)
    if len(words) == 2 and sum(theo) < PLAUSIBLE_PAIR_TOTAL:
        raise OddsError(
            f"theo A + B is only {format_cents(sum(theo))}, far from 100c; "
            f"if these are decimal odds, type 'o {words[0]} {words[1]}'"
        )
    return theo


def quote_settings(defaults: DefaultsLike, fees: FeeSchedule | None) -> QuoteSettings:
    fee_type = FeeType.QUADRATIC
    multiplier = Decimal(1)
    if fees is not None:
        try:
            fee_type = FeeType(fees.fee_type)
        except ValueError:
            raise OddsError(f"unknown fee schedule {fees.fee_type!r}: ceilings cannot include fees") from None
        multiplier = fees.multiplier
    contracts = defaults.contracts_count
    return QuoteSettings(
        edge=defaults.edge,
        contracts=contracts,
        inventory_max=max(defaults.inventory_max_count, contracts),
        fee_aware=defaults.fee_aware and fees is not None,
        fee_type=fee_type,
        fee_multiplier=multiplier,
    )


def ceilings(
    match: ScanMatch, theo: tuple[Price, ...], settings: QuoteSettings
) -> tuple[SideQuote, SideQuote]:
    """Each team's ceiling from the engine's own rule, on an empty book and a flat inventory (the
    ceiling depends only on theo, edge, grid and fees; the competition only moves the bid under it)."""
    empty = Book.from_legs({}, {})

    def side(row: ScanRow, value: Price) -> SideInput:
        return SideInput(theo=value, book=empty, resting_price=None, resting_size=Count(0), grid=row.grid)

    decision = decide(
        side(match.a, theo[0]),
        side(match.b, theo[1]),
        settings,
        Inventory(),
        QuoteMemo(),
        now_ms=0,
        start_ms=None,
    )
    return decision.a, decision.b


def _side_text(label: str, row: ScanRow, theo: Price, quote: SideQuote) -> str:
    book = f"bid {format_cents(row.bid) if row.bid is not None else '-'}, ask " + (
        format_cents(row.ask) if row.ask is not None else "-"
    )
    if quote.ceiling is None:
        return f"  {label} {row.team}: theo {format_cents(theo)} → no ceiling: {quote.detail} ({book})"
    room = ""
    if row.bid is not None:
        gap = quote.ceiling - row.bid
        room = f"; {format_cents(gap)} above the best bid" if gap > 0 else "; best bid is at/above it"
    ceiling = format_cents(quote.ceiling)
    return f"  {label} {row.team}: theo {format_cents(theo)} → ceiling {ceiling} ({book}{room})"


def answer_json(answer: TheoAnswer, flags: Sequence[str] = ()) -> dict[str, Any]:
    """One answer for ``kmm scan --theo --json``: exact dollar strings, and the run line."""

    def price(value: Price | None) -> str | None:
        return None if value is None else format_price(value)

    return {
        "event_ticker": answer.match.event_ticker,
        "ticker_a": answer.match.a.ticker,
        "ticker_b": answer.match.b.ticker,
        "typed": answer.typed,
        "theo_a": price(answer.theo[0]),
        "theo_b": price(answer.theo[1]),
        "theo_draw": price(answer.theo[2]) if len(answer.theo) > 2 else None,
        "ceiling_a": price(answer.a.ceiling),
        "ceiling_b": price(answer.b.ceiling),
        "run_command": run_command(answer.match, answer.theo, flags),
    }


def prompt_theo(
    matches: Sequence[ScanMatch],
    defaults: DefaultsLike,
    method: DevigMethod,
    fees: Mapping[str, FeeSchedule],
    read_line: ReadLine,
    out: TextIO,
    flags: Sequence[str] = (),
) -> list[TheoAnswer]:
    """Ask for every match in turn; returns the answers given (the summary is printed too).

    Ctrl-C prints the summary of what was typed, then propagates: the command was interrupted."""
    answers: list[TheoAnswer] = []
    if not matches:
        out.write("No matches to price.\n")
        return answers
    edge = format_cents(defaults.edge)
    out.write(f"\n{HELP}\nEdge {edge} below theo (settings [defaults] edge_cents).\n")
    for index, match in enumerate(matches, start=1):
        teams = f"A {match.a.team} / B {match.b.team}" + (" / draw" if match.tie is not None else "")
        prompt = f"[{index}/{len(matches)}] {match.title} ({teams}) theo> "
        while True:
            try:
                typed = read_line(prompt)
            except EOFError:
                out.write("\n")
                _summary(answers, out, flags)
                return answers
            except KeyboardInterrupt:
                out.write("\n")
                _summary(answers, out, flags)
                raise
            if typed.strip().lower() in STOP_WORDS:
                _summary(answers, out, flags)
                return answers
            try:
                theo = parse_answer(typed, match.outcomes, method)
                if theo is None:
                    break
                settings = quote_settings(defaults, fees.get(match.series))
            except (OddsError, ValueError) as exc:
                out.write(f"  not understood: {typed.strip()!r}: {exc}. Try again (Enter skips).\n")
                continue
            quote_a, quote_b = ceilings(match, theo, settings)
            answers.append(TheoAnswer(match, typed.strip(), theo, quote_a, quote_b))
            out.write(_side_text("A", match.a, theo[0], quote_a) + "\n")
            out.write(_side_text("B", match.b, theo[1], quote_b) + "\n")
            if match.tie is not None and len(theo) == 3:
                out.write(f"  draw: theo {format_cents(theo[2])} (kmm quotes the two team markets only)\n")
            break
    _summary(answers, out, flags)
    return answers


def _summary(answers: Sequence[TheoAnswer], out: TextIO, flags: Sequence[str]) -> None:
    if not answers:
        out.write("No theo entered.\n")
        return
    out.write(f"\nCeilings for {len(answers)} match{'es' if len(answers) != 1 else ''}:\n")
    for answer in answers:
        m = answer.match
        cells = []
        for row, theo, quote in ((m.a, answer.theo[0], answer.a), (m.b, answer.theo[1], answer.b)):
            ceiling = format_cents(quote.ceiling) if quote.ceiling is not None else "none"
            cells.append(f"{row.ticker} theo {format_cents(theo)} ceiling {ceiling}")
        out.write(f"  {m.title}: " + " | ".join(cells) + f"   (typed: {answer.typed})\n")
        out.write(f"    {run_command(m, answer.theo, flags)}\n")
