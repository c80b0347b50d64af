"""Writes wait for rate-limit tokens before they are planned, so a write carries the newest decision.

The gate on its own over a real token bucket (a slow one: 100 tokens/s, a write costs 10), then the
engine at a drained write bucket against the simulator: two competitor moves while our write waits
give one amend, to the newest price, not one per move.
"""

from __future__ import annotations

import asyncio
import time

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine.events import OrderAction, OrderChanged
from kmm_tui.engine.orders import OwnOrder
from kmm_tui.engine.reconciler import Cancel, Create, Priority
from kmm_tui.engine.write_gate import WriteGate
from kmm_tui.kalshi.ratelimit import BucketName, TokenBucket

from .conftest import Trading, eventually, quoting_a

RAISE = (Create(Side.A, Price(5000), contracts(5)),)
LOWER = (Create(Side.A, Price(4000), contracts(5), Priority.SAFER),)


def empty_bucket() -> TokenBucket:
    bucket = TokenBucket(100, 20, time.monotonic)
    bucket.tokens = 0.0  # the next write's 10 tokens come in 0.1 s
    return bucket


async def test_with_tokens_to_spare_a_round_passes_at_once() -> None:
    gate = WriteGate(TokenBucket(100, 20, time.monotonic))
    assert await gate.admit("m1", RAISE)
    assert gate.superseded == 0


async def test_a_round_that_must_wait_is_dropped_for_a_new_decision_which_then_passes() -> None:
    gate = WriteGate(empty_bucket())
    began = time.monotonic()
    assert not await gate.admit("m1", RAISE), "the waited-for round must be decided again"
    assert time.monotonic() - began >= 0.08
    assert gate.superseded == 1
    other = asyncio.create_task(gate.admit("m2", RAISE))  # another match queues meanwhile
    await asyncio.sleep(0)
    assert await gate.admit("m1", RAISE), "the new decision of the match let through passes at once"
    assert not await other


async def test_a_cancel_never_waits_and_a_safer_round_goes_before_raises_waiting_longer() -> None:
    gate = WriteGate(empty_bucket())
    order = OwnOrder(client_order_id="c1", match_id="m9", side=Side.A, ticker="T", price=Price(5000),
                     initial=contracts(5))
    assert await gate.admit("m9", (Cancel(order),))
    finished: list[str] = []

    async def wait(match_id: str, actions: tuple[Create, ...]) -> None:
        await gate.admit(match_id, actions)
        finished.append(match_id)

    first = asyncio.create_task(wait("m1", RAISE))  # at the head, watching the bucket
    await asyncio.sleep(0)
    later = [asyncio.create_task(wait("m2", RAISE)), asyncio.create_task(wait("m3", LOWER))]
    await asyncio.gather(first, *later)
    assert finished == ["m3", "m1", "m2"]


async def test_a_stopping_match_is_let_go_at_once_without_a_write_and_the_others_wait_on() -> None:
    bucket = empty_bucket()
    bucket.tokens = -100.0  # tokens a second away: every round waits
    gate = WriteGate(bucket)
    head = asyncio.create_task(gate.admit("m1", RAISE))  # watching the bucket
    behind = asyncio.create_task(gate.admit("m2", RAISE))
    other = asyncio.create_task(gate.admit("m3", RAISE))
    await asyncio.sleep(0.01)
    began = time.monotonic()
    assert gate.drop({"m1", "m2"}) == 2
    assert not await head and not await behind, "no write: their runners end the pass"
    assert time.monotonic() - began < 0.05, "let go at once, not when the tokens come"
    assert gate.superseded == 0
    assert not other.done(), "a match still quoting waits for its tokens"
    assert not await other
    assert gate.superseded == 1


async def test_tokens_kept_for_a_released_match_are_not_given_to_the_next() -> None:
    bucket = empty_bucket()
    gate = WriteGate(bucket)
    first = asyncio.create_task(gate.admit("m1", RAISE))
    second = asyncio.create_task(gate.admit("m2", RAISE))
    assert not await first
    await asyncio.sleep(0.02)
    assert not second.done(), "m1's tokens are kept for its new decision"
    assert await gate.admit("m1", RAISE)
    bucket.try_take(10)  # m1's write draws its tokens
    assert not await second


async def test_moves_while_a_write_waits_for_tokens_give_one_amend_to_the_newest_price(
    trading: Trading,
) -> None:
    t = trading
    a = await quoting_a(t)
    bucket = t.engine._execution.gate._bucket  # type: ignore[union-attr]
    assert bucket is t.engine.rest.limiter.buckets[BucketName.WRITE]
    bucket.tokens = -bucket.rate * 1.5  # a debt: the next write waits 1.5 s (as behind 15 others)
    mark = len(t.events)
    t.compete(a, 50)
    await asyncio.sleep(0.5)  # we decided 51c and wait for tokens
    t.compete(a, 54)
    await eventually(lambda: t.our_price(a) == 5500, within=6, what="our bid one tick above 54c")
    await asyncio.sleep(0.3)
    amends = [
        e for e in t.events[mark:]
        if isinstance(e, OrderChanged) and e.ticker == a and e.action is OrderAction.AMENDED
    ]
    assert [e.price for e in amends] == [Price(5500)], "one amend, carrying the newest decision"
    assert t.engine._execution.gate.superseded >= 1  # type: ignore[union-attr]
