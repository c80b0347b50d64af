"""The path from a decision to its write adds no wait for the event loop's next turn.

Reaction at 200 matches (docs/benchmarks.md) is counted in fractions of a millisecond: every hop
through the loop's ready queue waits behind whatever else is ready then (other matches' decisions,
the feed's frames). A round of one write (the usual amend after a competitor's move) is therefore
sent from the runner's own turn, not from a task that starts on a later one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import Trading, eventually, quoting_a


class TurnMarker:
    """A session tap that, at each decision, queues a callback on the loop: a write that starts
    before that callback has run was sent within the decision's own turn."""

    def __init__(self) -> None:
        self.ran = False

    def decided(self, *args: Any) -> None:
        self.ran = False
        asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self.ran = True

    def on_event(self, event: object) -> None:
        pass


async def test_the_amend_after_a_competitors_move_is_sent_in_the_turn_of_its_decision(
    trading: Trading,
) -> None:
    t = trading
    a = await quoting_a(t)
    marker = TurnMarker()
    t.engine._strategy.tap = marker
    port = t.engine._x
    real_amend = port.amend
    sent_after_a_turn: list[bool] = []

    def amend(*args: Any, **kwargs: Any) -> Any:
        sent_after_a_turn.append(marker.ran)
        return real_amend(*args, **kwargs)

    port.amend = amend  # type: ignore[method-assign]
    t.compete(a, 50)
    await eventually(lambda: t.our_price(a) == 5100, what="our bid one tick above 50c")
    assert sent_after_a_turn == [False], "the amend waited for the loop's next turn"


async def test_a_frame_that_wakes_a_match_gives_its_runner_the_loop_before_the_next(trading: Trading) -> None:
    """The exchange sends book changes in bursts; the feed must not parse a whole burst before the
    runner a change woke gets the loop. Each of these deltas moves the best competing bid (a wake)."""
    t = trading
    a = await quoting_a(t)
    data = t.engine._data
    real_on_book = data.on_book
    turn_between: list[bool] = []
    marker = TurnMarker()
    marker.ran = True

    def on_book(event: Any) -> None:
        if event.client_order_id is None:  # a competitor's delta (ours wake nobody: presence)
            turn_between.append(marker.ran)
        marker.decided()
        real_on_book(event)

    data.on_book = on_book  # type: ignore[method-assign]
    for cents in range(30, 40):  # ten competitor bids at once: ten deltas sent back to back
        t.compete(a, cents)
    await eventually(lambda: len(turn_between) >= 10, what="the burst's ten deltas")
    assert all(turn_between[:10]), f"deltas handled without a turn between them: {turn_between}"
