"""What ``kmm run`` tells the trader: one line per decision change, order action and fill, a
position/P&L line every N seconds, and a session summary when it stops — as text, or with ``--json``
as one JSON object per line carrying exact strings.

Why here and not in the engine: these are presentation of the engine's public state (``MatchView``
from ``Engine.snapshot()``) and of the ``Filled`` events it publishes. The session tally counts only
this run's fills, while the position comes from the engine's inventory (which includes a resumed
match's earlier fills), so the summary says both "what this session did" and "where you stand".

Everything is exact: counts and prices from integers, money with ``format_usd`` (text) or
``format_money`` (JSON strings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import (
    Count,
    Money,
    Price,
    format_cents,
    format_contracts,
    format_count,
    format_money,
    format_price,
    format_usd,
)
from kmm_tui.engine.engine import Engine, side_quote_text
from kmm_tui.engine.events import (
    Event,
    Filled,
    LogEvent,
    MatchStatusChanged,
    OrderAction,
    OrderChanged,
    QuoteDecided,
)
from kmm_tui.engine.model import Shape
from kmm_tui.engine.state import MatchView
from kmm_tui.outcome_input import OUTCOME_WORDS, pnl_label


def _signed_usd(amount: Money) -> str:
    return ("+" if amount > 0 else "") + format_usd(amount)


def _resting(view: MatchView) -> int:
    return sum(1 for order in view.orders if order.state in ("pending", "resting"))


def _side_text(label: str, count: Count, average: Price | None) -> str:
    held = f"long {format_contracts(count)}" if count else "flat"
    return f"{label} {held}" + (f" @ avg {format_cents(average)}" if count and average is not None else "")


def position_text(view: MatchView) -> str:
    """``A long 5 @ avg 52c | B flat | fees $0.01 | P&L if A wins +$2.39, if B wins -$2.61 | resting 2 |
    theo 55c/45c (manual theo)``; per outcome for every shape (``home … | draw … | away …``, ``P&L if
    home …, if draw …, if away …``; ``over``/``under`` for one YES/NO market)."""
    inv, shape, outcomes = view.inventory, view.spec.shape, view.spec.outcomes
    words = OUTCOME_WORDS[shape]
    pnl = ", ".join(f"{pnl_label(shape, side)} {_signed_usd(inv.pnl_if(side))}" for side in outcomes)
    return " | ".join(
        [
            *(_side_text(words[side], inv.count_long(side), inv.avg_cost(side)) for side in outcomes),
            f"fees {format_usd(inv.fees)}",
            f"P&L {pnl}",
            f"resting {_resting(view)}",
            f"theo {_theo_text(view)}",
        ]
    )


def _theos(view: MatchView) -> list[Price | None]:
    by_side = {Side.A: view.theo_a, Side.B: view.theo_b, Side.T: view.theo_t}
    return [by_side[side] for side in view.spec.outcomes]


def _theo_text(view: MatchView) -> str:
    """``55c/45c (manual theo)`` or ``51.28c/48.72c (feed: simulated (multiplicative), 2s old)``;
    home/draw/away for a three-way match."""
    theos = _theos(view)
    if any(theo is None for theo in theos):
        return f"- ({view.theo_source or 'none yet'})"
    return f"{'/'.join(format_cents(theo) for theo in theos if theo is not None)} ({view.theo_source})"


def inventory_json(inv: Inventory, outcomes: tuple[Side, ...] = (Side.A, Side.B)) -> dict[str, Any]:
    """The position as exact strings (contracts ``"5.00"``, prices ``"0.5200"``, money ``"2.390000"``).

    The two-team keys are always there; a three-way match adds the tie's (``long_t``, ``avg_cost_t``,
    ``pnl_if_t_wins``); ``pnl_if`` maps every outcome (``a``, ``t``, ``b``) to its settlement P&L and
    ``worst_pnl`` is the worst of them."""

    def price(value: Price | None) -> str | None:
        return None if value is None else format_price(value)

    document = {
        "long_a": format_count(inv.count_long_a),
        "avg_cost_a": price(inv.avg_cost_a),
        "long_b": format_count(inv.count_long_b),
        "avg_cost_b": price(inv.avg_cost_b),
        "fees": format_money(inv.fees),
        "locked_profit": format_money(inv.locked_set_profit(outcomes)),
        "pnl_if_a_wins": format_money(inv.pnl_if(Side.A)),
        "pnl_if_b_wins": format_money(inv.pnl_if(Side.B)),
    }
    if Side.T in outcomes:
        document.update(
            long_t=format_count(inv.count_long_t),
            avg_cost_t=price(inv.avg_cost(Side.T)),
            pnl_if_t_wins=format_money(inv.pnl_if(Side.T)),
        )
    document["pnl_if"] = {side.value: format_money(inv.pnl_if(side)) for side in outcomes}
    document["worst_pnl"] = format_money(inv.worst_pnl(outcomes))
    return document


def position_json(view: MatchView) -> dict[str, Any]:
    theos = {Side.A: view.theo_a, Side.B: view.theo_b, Side.T: view.theo_t}
    document = {
        "kind": "position", "match_id": view.spec.match_id, "status": view.status.value,
        "shape": view.spec.shape.value,
        **inventory_json(view.inventory, view.spec.outcomes), "resting_orders": _resting(view),
    }
    for side in view.spec.outcomes:
        theo = theos[side]
        document[f"theo_{side.value}"] = None if theo is None else format_price(theo)
    document["theo_source"] = view.theo_source
    return document


@dataclass(slots=True)
class SessionTally:
    """This session's fills of one match, fed by ``Engine.listen`` (a resumed match's older fills are
    in the inventory but not here)."""

    match_id: str
    started_ms: int
    fills: int = 0
    bought: dict[str, Count] = field(default_factory=lambda: {"a": Count(0), "b": Count(0)})  # "t" too
    fees: int = 0  # Money

    def __call__(self, event: Event) -> None:
        if isinstance(event, Filled) and event.match_id == self.match_id:
            self.fills += 1
            self.bought[event.side] = Count(self.bought.get(event.side, 0) + event.count)
            self.fees += event.fee


def _duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def summary_lines(tally: SessionTally, view: MatchView | None, now_ms: int) -> list[str]:
    """Two lines: what this session did, then where the match stands."""
    fills = f"{tally.fills} fill{'s' if tally.fills != 1 else ''}"
    shape = view.spec.shape if view is not None else Shape.TEAMS
    outcomes = view.spec.outcomes if view is not None else (Side.A, Side.B)
    words = OUTCOME_WORDS[shape]
    bought = "bought " + ", ".join(
        f"{words[side]} {format_contracts(tally.bought.get(side.value, 0))}" for side in outcomes
    )
    lines = [
        f"session: {_duration(now_ms - tally.started_ms)}, {fills} ({bought}), fees {format_usd(tally.fees)}"
    ]
    if view is not None:
        locked = format_usd(view.inventory.locked_set_profit(view.spec.outcomes))
        lines.append(f"position: {position_text(view)} | locked {locked}")
    return lines


def summary_json(tally: SessionTally, view: MatchView | None, now_ms: int) -> dict[str, Any]:
    return {
        "kind": "summary",
        "match_id": tally.match_id,
        "duration_ms": now_ms - tally.started_ms,
        "fills": tally.fills,
        "bought_a": format_count(tally.bought.get("a", 0)),
        "bought_b": format_count(tally.bought.get("b", 0)),
        **({"bought_t": format_count(tally.bought["t"])} if "t" in tally.bought else {}),
        "session_fees": format_money(tally.fees),
        "position": None if view is None else inventory_json(view.inventory, view.spec.outcomes),
    }


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%H:%M:%S") + f".{ms % 1000:03d}"


def describe(event: Event) -> tuple[str, str, dict[str, Any]] | None:
    """``(kind, text, exact fields)`` for the events ``kmm run`` shows; None for the others."""
    match event:
        case QuoteDecided(decision=d):
            quotes = [("A", d.a), *([("T", d.t)] if d.t is not None else []), ("B", d.b)]
            return "decide", " | ".join(f"{label} {side_quote_text(q)}" for label, q in quotes), {}
        case OrderChanged(action=action, ticker=ticker, price=price, count=count, detail=detail, side=side):
            what = "REJECTED" if action is OrderAction.REJECTED else action.value
            # The outcome's letter, as in the decide and fill lines: one market's YES and NO bids share a
            # ticker, so only the letter tells them apart (the price is the outcome's, a NO bid's NO price).
            letter = f"{side.upper()} " if side else ""
            price_text = format_cents(price) if price is not None else "-"
            extra = f" ({detail})" if detail else ""
            fields = {
                "action": action.value, "ticker": ticker, "side": side, "count": format_count(count),
                "detail": detail, "price": None if price is None else format_price(price),
            }
            return "order", f"{what} {letter}{ticker} {price_text} x{format_contracts(count)}{extra}", fields
        case Filled(ticker=ticker, side=side, price=price, count=count, fee=fee, is_taker=taker):
            text = (
                f"{side.upper()} {ticker} {format_contracts(count)} @ {format_cents(price)} "
                f"fee ${format_money(fee, 4)}"
            )
            fields = {
                "ticker": ticker, "side": side, "price": format_price(price), "count": format_count(count),
                "fee": format_money(fee), "is_taker": taker,
            }
            return "fill", text, fields
        case MatchStatusChanged(status=status, reason=reason):
            return "status", f"{status.value}: {reason}", {"status": status.value, "reason": reason}
        case LogEvent(level=level, text=text) if level.value != "info":
            return level.value, text, {}
    return None


class Printer:
    """Everything ``kmm run`` prints, one line each on ``out``: text (``HH:MM:SS.mmm kind    text``) or,
    with ``as_json``, one object per line (``kind``, ``ts_ms``, ``text`` and exact fields)."""

    def __init__(self, engine: Engine, out: TextIO, *, as_json: bool = False) -> None:
        self.engine = engine
        self.out = out
        self.as_json = as_json

    def __call__(self, event: Event) -> None:
        described = describe(event)
        if described is None:
            return
        kind, text, fields = described
        ts_ms = getattr(event, "ts_ms", self.engine.now_ms())
        if self.as_json:
            self.emit({"kind": kind, "ts_ms": ts_ms, "text": text, **fields})
        else:
            self.line(f"{_ts(ts_ms)} {kind:<7} {text}")

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def emit(self, document: dict[str, Any]) -> None:
        self.line(json.dumps(document))

    def say(self, text: str, **fields: Any) -> None:
        """A status line: plain text, or ``{"kind": "info", "text": ...}`` with ``--json``."""
        if self.as_json:
            self.emit({"kind": "info", "text": text, **fields})
        else:
            self.line(text)

    def position(self, view: MatchView) -> None:
        now = self.engine.now_ms()
        if self.as_json:
            self.emit({**position_json(view), "ts_ms": now})
        else:
            self.line(f"{_ts(now)} position {position_text(view)}")

    def summary(self, tally: SessionTally, view: MatchView | None) -> None:
        now = self.engine.now_ms()
        if self.as_json:
            self.emit(summary_json(tally, view, now))
            return
        for line in summary_lines(tally, view, now):
            self.line(line)
