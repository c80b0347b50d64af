"""``kmm scan --theo``: ask for a fair value per listed match and print the bid ceilings it implies.

The user types, per match, either theo in cents in the match's outcome order (``55`` = A 55c, B 45c;
``55 43``; soccer ``40 25 35`` for home, draw, away; a YES/NO market ``55`` = YES 55c, NO 45c) or
decimal odds after ``o`` in the same order (``o 1.85 2.05``; soccer ``o 2.6 3.3 2.9``), which are
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
from kmm_tui.scan.model import Outcome, ScanMatch, ScanRow, Shape
from kmm_tui.scan.output import run_command

ReadLine = Callable[[str], str]
STOP_WORDS = frozenset({"q", "quit", "stop"})
# Two typed theos should sum to about 100c; far less is almost always decimal odds typed without 'o'.
PLAUSIBLE_PAIR_TOTAL = price_from_cents(90)
HELP = (
    "For each match type theo in cents for its first outcome ('55', or '55 43'; soccer: 'home draw away';\n"
    "a YES/NO market: YES first), or decimal odds after 'o' ('o 1.85 2.05'; soccer: 'o home draw away').\n"
    "Enter skips a match, 'q' stops."
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
    """One match's theo and ceiling per outcome, in the match's outcome order, and what the user typed."""

    match: ScanMatch
    typed: str
    theo: tuple[Price, ...]
    quotes: tuple[SideQuote, ...]

    def by_side(self, side: str) -> tuple[Price, SideQuote]:
        index = next(i for i, o in enumerate(self.match.outcomes) if o.side == side)
        return self.theo[index], self.quotes[index]


def parse_answer(text: str, outcomes: int, method: DevigMethod) -> tuple[Price, ...] | None:
    """Typed text → theo prices in the typed order; None for an empty line. Raises OddsError when bad."""
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


def ceilings(match: ScanMatch, theo: tuple[Price, ...], settings: QuoteSettings) -> tuple[SideQuote, ...]:
    """Each outcome's ceiling from the engine's own rule, on an empty book and a flat inventory (the
    ceiling depends only on theo, edge, grid and fees; the competition only moves the bid under it).
    A NO outcome's theo and ceiling are NO prices on the same market's grid."""
    empty = Book.from_legs({}, {})

    def side(row: ScanRow, value: Price) -> SideInput:
        return SideInput(theo=value, book=empty, resting_price=None, resting_size=Count(0), grid=row.grid)

    def ceiling(index: int) -> SideQuote:
        other = (index + 1) % len(theo)
        outcomes = match.outcomes
        decision = decide(
            side(outcomes[index].row, theo[index]),
            side(outcomes[other].row, theo[other]),
            settings,
            Inventory(),
            QuoteMemo(),
            now_ms=0,
            start_ms=None,
        )
        return decision.a

    return tuple(ceiling(i) for i in range(len(theo)))


def _side_text(outcome: Outcome, theo: Price, quote: SideQuote) -> str:
    book = f"bid {format_cents(outcome.bid) if outcome.bid is not None else '-'}, ask " + (
        format_cents(outcome.ask) if outcome.ask is not None else "-"
    )
    label = f"{outcome.side} {outcome.label}"
    if quote.ceiling is None:
        return f"  {label}: theo {format_cents(theo)} → no ceiling: {quote.detail} ({book})"
    room = ""
    if outcome.bid is not None:
        gap = quote.ceiling - outcome.bid
        room = f"; {format_cents(gap)} above the best bid" if gap > 0 else "; best bid is at/above it"
    ceiling = format_cents(quote.ceiling)
    return f"  {label}: theo {format_cents(theo)} → ceiling {ceiling} ({book}{room})"


def answer_json(answer: TheoAnswer, flags: Sequence[str] = ()) -> dict[str, Any]:
    """One answer for ``kmm scan --theo --json``: exact dollar strings per side, and the run line."""

    def price(value: Price | None) -> str | None:
        return None if value is None else format_price(value)

    theo_a, quote_a = answer.by_side("A")
    theo_b, quote_b = answer.by_side("B")
    tie = answer.by_side("T") if answer.match.tie is not None else None
    return {
        "event_ticker": answer.match.event_ticker,
        "shape": answer.match.shape.value,
        "ticker_a": answer.match.a.ticker,
        "ticker_b": answer.match.b.ticker,
        "ticker_tie": None if answer.match.tie is None else answer.match.tie.ticker,
        "typed": answer.typed,
        "theo_a": price(theo_a),
        "theo_b": price(theo_b),
        "theo_draw": price(tie[0]) if tie else None,
        "ceiling_a": price(quote_a.ceiling),
        "ceiling_b": price(quote_b.ceiling),
        "ceiling_tie": price(tie[1].ceiling) if tie else None,
        "run_command": run_command(answer.match, answer.theo, flags),
    }


def _prompt(index: int, total: int, match: ScanMatch) -> str:
    if match.shape is Shape.YES_NO:
        what = "YES / NO"
    else:
        what = " / ".join(f"{'draw' if o.side == 'T' else o.side} {o.label}" for o in match.outcomes)
    return f"[{index}/{total}] {match.name} ({what}) theo> "


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
        prompt = _prompt(index, len(matches), match)
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
                theo = parse_answer(typed, len(match.outcomes), method)
                if theo is None:
                    break
                settings = quote_settings(defaults, fees.get(match.series))
            except (OddsError, ValueError) as exc:
                out.write(f"  not understood: {typed.strip()!r}: {exc}. Try again (Enter skips).\n")
                continue
            quotes = ceilings(match, theo, settings)
            answers.append(TheoAnswer(match, typed.strip(), theo, quotes))
            for outcome, value, quote in zip(match.outcomes, theo, quotes, strict=True):
                out.write(_side_text(outcome, value, quote) + "\n")
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
        for outcome, theo, quote in zip(m.outcomes, answer.theo, answer.quotes, strict=True):
            ceiling = format_cents(quote.ceiling) if quote.ceiling is not None else "none"
            name = f"NO {outcome.ticker}" if outcome.is_no else outcome.ticker
            cells.append(f"{name} theo {format_cents(theo)} ceiling {ceiling}")
        out.write(f"  {m.name}: " + " | ".join(cells) + f"   (typed: {answer.typed})\n")
        out.write(f"    {run_command(m, answer.theo, flags)}\n")
