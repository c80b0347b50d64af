"""A match's outcomes as the user types and reads them: shape from the tickers, the names each shape
gives its outcomes, and manual theos with one left out (implied) — one set of rules for the setup
form, ``kmm run``, settings.toml and the control API, so each says the same thing about the same
mistake.

The shapes (docs/shapes.md): two team markets (A, B), a soccer event's home / TIE / away markets
(A, T, B), or one market traded on both sides (A = YES, B = NO). Outcome order wherever a user types
a list is home, draw, away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import PRICE_SCALE, Price, format_cents
from kmm_tui.engine.model import MatchSpec, Shape

# What each shape calls its outcomes: in P&L lines ("if home"), labels and messages.
OUTCOME_WORDS: dict[Shape, dict[Side, str]] = {
    Shape.TEAMS: {Side.A: "A", Side.B: "B"},
    Shape.THREE_WAY: {Side.A: "home", Side.T: "draw", Side.B: "away"},
    Shape.YES_NO: {Side.A: "over", Side.B: "under"},
}
# The form's / the API's field suffix per side (theo_tie, ticker_tie; odds_draw for the draw's odds).
FIELD_SUFFIX = {Side.A: "a", Side.T: "tie", Side.B: "b"}


class TheoSumError(ValueError):
    """Typed theos that cannot be fair values; ``side`` is the outcome whose field to mark."""

    def __init__(self, message: str, side: Side) -> None:
        super().__init__(message)
        self.side = side


def shape_of(ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> Shape:
    """The shape those tickers make (the same rule as ``MatchSpec.shape``)."""
    if ticker_tie:
        return Shape.THREE_WAY
    return Shape.YES_NO if ticker_a and ticker_a == ticker_b else Shape.TEAMS


def outcomes_of(shape: Shape) -> tuple[Side, ...]:
    """The outcomes of a shape in display order (home, draw, away)."""
    return (Side.A, Side.T, Side.B) if shape is Shape.THREE_WAY else (Side.A, Side.B)


def outcome_word(spec: MatchSpec, side: Side) -> str:
    return OUTCOME_WORDS[spec.shape][side]


def pnl_label(shape: Shape, side: Side) -> str:
    """'if A wins' for two teams (as ever); 'if draw', 'if over' for the other shapes."""
    word = OUTCOME_WORDS[shape][side]
    return f"if {word} wins" if shape is Shape.TEAMS else f"if {word}"


def match_id_for(ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> str:
    """Stable id of a match (the journal keys on it across restarts): its tickers, home/tie/away order
    for three-way, the one ticker for a single market; unchanged for two team markets."""
    a, b = ticker_a.strip().upper(), ticker_b.strip().upper()
    tie = (ticker_tie or "").strip().upper()
    if tie:
        return f"{a}+{tie}+{b}"
    return a if a == b else f"{a}+{b}"


def complete_theos(shape: Shape, typed: Mapping[Side, Price | None]) -> dict[Side, Price]:
    """Every outcome's theo from the typed ones, at most one left out (it is 100c minus the others).

    Exactly one outcome happens, so fair values add up to 100c at most: typed ones above that are
    refused, and so is an implied one that would be 0c or less. Raises :class:`TheoSumError`.
    """
    words = OUTCOME_WORDS[shape]
    sides = outcomes_of(shape)
    missing = [side for side in sides if typed.get(side) is None]
    if len(missing) > 1:
        raise TheoSumError(
            f"enter the theo of {' and '.join(words[s] for s in missing[:-1])} (only one outcome may be left "
            "empty: it is 100c minus the others)",
            missing[0],
        )
    given = {side: Price(value) for side in sides if (value := typed.get(side)) is not None}
    total = sum(given.values())
    typed_sides = [side for side in sides if side in given]
    sum_text = " + ".join(f"{words[s]} {format_cents(given[s])}" for s in typed_sides)
    if missing:
        side = missing[0]
        if total >= PRICE_SCALE:
            raise TheoSumError(
                f"{sum_text} = {format_cents(Price(total))}: that leaves nothing for {words[side]} "
                "(theos add up to 100c); lower them",
                typed_sides[-1],
            )
        given[side] = Price(PRICE_SCALE - total)
        return given
    if total > PRICE_SCALE:
        raise TheoSumError(
            f"{sum_text} = {format_cents(Price(total))}: above 100c; exactly one outcome happens, so fair "
            "values add up to 100c at most",
            typed_sides[-1],
        )
    return given


def split_list(text: str, what: str, counts: Sequence[int], *, allow_empty: bool = False) -> list[str]:
    """``A,TIE,B`` into its parts; raises ValueError naming the counts that are allowed."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in counts:
        allowed = " or ".join(str(n) for n in counts)
        raise ValueError(f"{what} takes {allowed} comma-separated values (got {len(parts)}: {text!r})")
    if not allow_empty and any(not part for part in parts):
        raise ValueError(f"{what} has an empty value in {text!r}")
    return parts
