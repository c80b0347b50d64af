"""Write classification: every answer (or non-answer) to a write becomes one ``WriteOutcome``.

Three kinds, and the engine acts on each differently: *done* (acknowledged, with the order's new
state); *no answer* (timeout, 5xx, a 429 storm longer than the client's retries — the write may or may
not have landed, so the order is looked up after a pause); *rejected* (the exchange said no: counts
toward the rejection guard, and some codes halt the match at once). A rejection does not settle the
order's fate either — a rejected amend leaves the order resting at its old price, a rejected cancel
leaves it resting — so both leave the order UNKNOWN, to be read back before its side quotes again.
A fourth, *not sent*, is certain: the write was dropped while it waited for rate-limit tokens because
its match stopped, so nothing happened on the exchange.
"""

from __future__ import annotations

from kmm_tui.engine.exchange.values import WriteOutcome
from kmm_tui.engine.orders import OrderState
from kmm_tui.kalshi import errors as kx
from kmm_tui.kalshi.models import OrderAck

HALT_CODES = frozenset({"market_closed", "insufficient_balance", "available_balance_too_low"})
PAUSE_CODES = frozenset({"market_inactive", "trading_is_paused", "market_paused"})  # may reopen: wait


def after_ack(ack: OrderAck) -> WriteOutcome:
    """An acknowledged amend or decrease: the order rests, or it filled completely on the way."""
    remaining = ack.remaining_count
    if remaining is not None and remaining <= 0:
        return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=OrderState.EXECUTED)
    return WriteOutcome(ok=True, order_id=ack.order_id, filled=ack.fill_count, state=OrderState.RESTING)


def not_sent(state: OrderState | None = None) -> WriteOutcome:
    """A write dropped before it was sent (``NotSent``): the order is as it was — ``state`` None — or,
    for a create, never existed (CANCELLED). Not a rejection: nothing was asked of the exchange."""
    return WriteOutcome(ok=False, state=state, detail="not sent: its match is stopping", sent=False)


def failed(error: kx.KalshiError) -> WriteOutcome:
    """One classification for every write: no answer (the write may or may not have landed: look it
    up before anything else) versus a rejection (it did not happen; counts toward the halt)."""
    if isinstance(error, kx.Unavailable | kx.BadResponse | kx.RateLimited):
        return WriteOutcome(
            ok=False, state=OrderState.UNKNOWN, detail=f"no answer: {error.user_message}", answered=False
        )
    return _rejected(error)


def _rejected(error: kx.KalshiError) -> WriteOutcome:
    code = error.code or ""
    text = f"{code}: {error.user_message}" if code else error.user_message
    post_only = "post only" in (getattr(error, "details", "") or "").lower()
    halt = None
    if code in HALT_CODES:
        halt = f"exchange rejected an order: {error.user_message}"
    if isinstance(error, kx.AuthError):
        halt = f"not authorised: {error.user_message}"
    paused = code in PAUSE_CODES
    return WriteOutcome(
        ok=False,
        state=OrderState.UNKNOWN,
        detail=text,
        counts_as_rejection=not (post_only or paused),
        halt_reason=halt,
        market_paused=paused,
    )
