"""Order writes wait for rate-limit tokens *before* they are planned, so they carry a fresh decision.

Why: at the Basic tier (10 writes/s) with many matches, writes queued in the rate limiter for tens of
seconds (27 s on average at 200 matches, docs/benchmarks.md), and each then sent the price decided
when it was queued, long after the book had moved. Here a match whose writes would have to wait
waits in this gate instead, holding no decision: when the tokens are there, its runner decides again
on the current book and sends that, so only the latest desired quote per side is ever sent
(superseded decisions are dropped, counted in ``superseded``).

Risk-reducing writes are never held here: a round with a cancel goes straight to the limiter, which
serves cancels first. Lower-price or smaller-size rounds (``Priority.SAFER``) queue ahead of raises
and new orders. Matches wait in that order, first come first served within a priority; only the
match at the head watches the bucket, the others wait for their turn. When the bucket has tokens and
nobody waits, writes pass at once, so the prestige tier never sees this gate.

A match that stops (kill all, shutdown, stop, halt) is let go at once (``drop``): its pass ends with
no write, and the tokens kept for it are freed for the cancels that follow.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from kmm_tui.engine.reconciler import Action, Cancel, Priority
from kmm_tui.kalshi.ratelimit import CANCEL_COST, DEFAULT_COST, BucketName, TokenBucket

GRANT_S = 1.0  # a match let through has this long to send its re-decided writes without queueing again


@dataclass(order=True, slots=True)
class _Waiter:
    priority: int
    seq: int
    match_id: str = field(compare=False)
    cost: int = field(compare=False)
    turn: asyncio.Future[None] | None = field(default=None, compare=False)
    gone: bool = field(default=False, compare=False)
    dropped: bool = field(default=False, compare=False)  # its match stopped: no write, no grant


def round_cost(actions: Sequence[Action]) -> int:
    """The write tokens a round of actions draws (the exchange's default costs)."""
    return sum(CANCEL_COST if isinstance(action, Cancel) else DEFAULT_COST for action in actions)


class WriteGate:
    """Holds matches whose writes would wait for tokens until the tokens are there (engine loop only)."""

    def __init__(self, bucket: TokenBucket, clock: Callable[[], float] = time.monotonic) -> None:
        self._bucket = bucket
        self._clock = clock
        self._seq = itertools.count()
        self._waiters: list[_Waiter] = []
        # match id -> (until when its re-decided round may pass, the tokens kept for it meanwhile)
        self._granted: dict[str, tuple[float, int]] = {}
        self.superseded = 0  # decisions dropped because a newer one was made when the tokens came
        self.waited_s = 0.0  # float-ok: seconds, a statistic for the benches

    @classmethod
    def for_port(cls, port: object) -> WriteGate | None:
        """The gate over the port's write bucket; None for a port without a rate limiter (tests)."""
        limiter = getattr(getattr(port, "rest", None), "limiter", None)
        buckets = getattr(limiter, "buckets", None)
        if not isinstance(buckets, dict) or not isinstance(buckets.get(BucketName.WRITE), TokenBucket):
            return None
        return cls(buckets[BucketName.WRITE])

    async def admit(self, match_id: str, actions: Sequence[Action]) -> bool:
        """True: send ``actions`` now. False: the match waited for tokens and must decide again."""
        if any(isinstance(action, Cancel) for action in actions):
            return True
        granted = self._granted.pop(match_id, None)
        if granted is not None and granted[0] >= self._clock():
            return True
        cost = round_cost(actions)
        if not self._live_waiters() and self._tokens_ready(cost):
            return True
        priority = min(getattr(action, "priority", Priority.OTHER) for action in actions)
        if not await self._wait(_Waiter(int(priority), next(self._seq), match_id, cost)):
            return False
        self.superseded += 1
        self._granted[match_id] = (self._clock() + GRANT_S, cost)
        return False

    def drop(self, match_ids: Collection[str]) -> int:
        """These matches are stopping: release their waiting rounds at once (``admit`` answers False,
        their runners end the pass with no write) and free the tokens kept for them. Returns how many
        rounds were waiting."""
        dropped = 0
        for waiter in self._waiters:
            if not waiter.gone and waiter.match_id in match_ids:
                waiter.gone = waiter.dropped = True
                if waiter.turn is not None and not waiter.turn.done():
                    waiter.turn.set_result(None)
                dropped += 1
        for match_id in match_ids:
            self._granted.pop(match_id, None)
        self._wake_head()
        return dropped

    @property
    def busy(self) -> bool:
        """A round is waiting for tokens, or was let through and has not been sent yet."""
        now = self._clock()
        return self._live_waiters() or any(until >= now for until, _ in self._granted.values())

    def _tokens_ready(self, cost: int) -> bool:
        """The bucket holds ``cost`` tokens beyond those kept for rounds let through a moment ago."""
        now = self._clock()
        for match_id in [m for m, (until, _) in self._granted.items() if until < now]:
            del self._granted[match_id]  # never used (the new decision needed no write)
        kept = sum(cost for _, cost in self._granted.values())
        return self._bucket.wait_time(cost + kept) <= 0 and self._bucket.queued == 0

    def _live_waiters(self) -> bool:
        return any(not waiter.gone for waiter in self._waiters)

    async def _wait(self, waiter: _Waiter) -> bool:
        """True once the tokens are there; False when the match was dropped meanwhile."""
        heapq.heappush(self._waiters, waiter)
        since = self._clock()
        loop = asyncio.get_running_loop()
        try:
            while not waiter.dropped:
                waiter.turn = loop.create_future()
                if self._head() is not waiter:
                    await waiter.turn
                    continue
                if self._tokens_ready(waiter.cost):
                    return True
                # the head watches the bucket on a timer that ``drop`` can cut short
                delay = max(self._bucket.wait_time(waiter.cost), 0.005)
                timer = loop.call_later(delay, _set_if_pending, waiter.turn)
                try:
                    await waiter.turn
                finally:
                    timer.cancel()
            return False
        finally:
            self.waited_s += self._clock() - since
            waiter.gone = True
            self._wake_head()

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None and head.turn is not None and not head.turn.done():
            head.turn.set_result(None)

    def _head(self) -> _Waiter | None:
        while self._waiters and self._waiters[0].gone:
            heapq.heappop(self._waiters)
        return self._waiters[0] if self._waiters else None


def _set_if_pending(turn: asyncio.Future[None]) -> None:
    if not turn.done():
        turn.set_result(None)
