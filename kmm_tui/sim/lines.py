"""Outcomes of every event shape, their fair values from one line, and how a final score settles them.

A game event (``KX…GAME``) has one market per team, plus a ``TIE`` market in soccer: exactly one
wins. Totals (``KX…TOTAL``) and spreads (``KX…SPREAD``) are single YES/NO markets, several strikes
per event and not mutually exclusive. Their fair values come from one number, so they stay
consistent across strikes: the expected total (or the first team's expected margin) ``centre``,
with the outcome spread around it as a logistic distribution of ``scale`` points. Then
P(total > k) = 1 / (1 + e^((k − centre) / scale)) falls as the strike rises, and a spread market
"B wins by over k" is P(margin < −k). Decimal arithmetic (``exp``/``ln``), never floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from kmm_tui.domain.prices import PRICE_SCALE, Price

GAME = "game"
TOTAL = "total"
SPREAD = "spread"
KINDS = (GAME, TOTAL, SPREAD)
EDGE = 300  # a strike's fair value stays within 3c..97c, where makers still quote it
_Z_LIMIT = Decimal(60)  # e^60 is far beyond any price; keeps exp() cheap and finite


@dataclass(frozen=True, slots=True)
class Outcome:
    """One market of an event: its ticker suffix, the team it is about (index into the match's teams;
    None for a total or the TIE) and its strike (None in a game event)."""

    code: str
    team: int | None
    strike: Decimal | None


def outcomes(kind: str, team_codes: Sequence[str], strikes: Sequence[Decimal]) -> list[Outcome]:
    """The markets of an event, in ticker order: ``-BOS``/``-TIE``, ``-T221.5``, ``-BOS4.5``."""
    if kind == GAME:
        return [Outcome(code, None if code == "TIE" else i, None) for i, code in enumerate(team_codes)]
    if kind == TOTAL:
        return [Outcome(f"T{k}", None, k) for k in strikes]
    return [Outcome(f"{team_codes[i]}{k}", i, k) for i in (0, 1) for k in strikes]


def over_probability(centre: Decimal, strike: Decimal, scale: Decimal) -> Price:
    """P(value > strike) when the value is logistic around ``centre``, in $0.0001, within 3c..97c."""
    z = max(-_Z_LIMIT, min(_Z_LIMIT, (strike - centre) / scale))
    p = PRICE_SCALE / (1 + z.exp())
    return Price(max(EDGE, min(PRICE_SCALE - EDGE, int(p.to_integral_value(ROUND_HALF_EVEN)))))


def line_fair(kind: str, outcome: Outcome, centre: Decimal, scale: Decimal) -> Price:
    """Fair value of one total or spread market: over the strike, or the team winning by over it."""
    assert outcome.strike is not None, "only totals and spreads have a line"
    if kind == SPREAD and outcome.team == 1:
        return over_probability(-centre, outcome.strike, scale)  # the second team's margin is −margin
    return over_probability(centre, outcome.strike, scale)


def line_fairs(kind: str, markets: Sequence[Outcome], centre: Decimal, scale: Decimal) -> list[int]:
    return [line_fair(kind, o, centre, scale) for o in markets]


def centre_for(kind: str, outcome: Outcome, price: int, scale: Decimal) -> Decimal:
    """The centre at which ``outcome`` is worth ``price`` (to pin one strike's fair value)."""
    assert outcome.strike is not None, "only totals and spreads have a line"
    if not 0 < price < PRICE_SCALE:
        raise ValueError("fair value must be strictly between 0 and 1 dollar")
    log_odds = (Decimal(PRICE_SCALE) / price - 1).ln()  # (strike − centre) / scale
    centre = outcome.strike - scale * log_odds
    return -centre if kind == SPREAD and outcome.team == 1 else centre


def yes_outcomes(kind: str, markets: Sequence[Outcome], points: tuple[int, int]) -> list[bool]:
    """Which markets a final score settles YES: the winner (or the TIE), each total strike below the
    sum, each team strike below that team's winning margin."""
    a, b = points
    if kind == GAME:
        winner = 0 if a > b else 1 if b > a else None
        yes = [o.team == winner for o in markets]
        if not any(yes):
            raise ValueError(f"{a}-{b} is a tie but this event has no TIE market: send a winner instead")
        return yes
    if kind == TOTAL:
        return [a + b > o.strike for o in markets if o.strike is not None]
    margins = (a - b, b - a)
    return [o.team is not None and o.strike is not None and margins[o.team] > o.strike for o in markets]
