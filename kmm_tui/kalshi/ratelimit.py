"""Local mirror of Kalshi's token buckets, so a burst of requests waits instead of earning a 429.

Kalshi (since April 2026) meters requests with two token buckets per account: **read** (GETs) and
**write** (create, amend, decrease, cancel, order groups). Each request costs tokens (default 10, a V2
cancel 2, batch cancel 2 per order, batch create 10 per order, ``GET /portfolio/orders/{id}`` 2); the
bucket refills at the tier's rate up to its capacity. A 429 costs a round trip and carries no hint when
to retry, so we keep our own copy of each bucket and *wait* for tokens before sending.

Waiters are served strictly by priority (cancels first), then first-come-first-served, so a cancel
never waits behind a queue of creates and a large batch is never starved by small requests.
A write may name its market; :meth:`RateLimiter.abandon` drops the non-cancel writes still waiting for
a market whose quoting stops (they raise :class:`~kmm_tui.kalshi.errors.NotSent`: never sent), so a
kill never waits for queued creates and amends at 10 writes/s before its cancels go out.
The clock and the sleep are parameters so tests can run on a fake clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from kmm_tui.kalshi.errors import NotSent


class BucketName(StrEnum):
    READ = "read"
    WRITE = "write"


class Priority(IntEnum):
    """Lower goes first. Cancels jump the queue: pulling quotes matters more than placing them."""

    CANCEL = 0
    NORMAL = 1
    LOW = 2


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Refill rates (tokens/s) and capacities (tokens) of one usage tier."""

    read_rate: int
    read_capacity: int
    write_rate: int
    write_capacity: int


def _tier(read_rate: int, write_rate: int, *, read_seconds: int, write_seconds: int) -> TierLimits:
    return TierLimits(read_rate, read_rate * read_seconds, write_rate, write_rate * write_seconds)


# kalshi-api.md §9. Capacity: Basic write = 1 s of budget, write above Basic = 2 s, Basic/Advanced read
# = 2 s. Read capacity above Advanced is not documented: assume 1 s (a smaller bucket can only make us
# wait, never earn a 429). `GET /account/limits` at start-up replaces all of this with live values.
TIERS: dict[str, TierLimits] = {
    "basic": _tier(200, 100, read_seconds=2, write_seconds=1),
    "advanced": _tier(300, 300, read_seconds=2, write_seconds=2),
    "expert": _tier(600, 600, read_seconds=1, write_seconds=2),
    "premier": _tier(1_000, 1_000, read_seconds=1, write_seconds=2),
    "paragon": _tier(2_000, 2_000, read_seconds=1, write_seconds=2),
    "prime": _tier(4_000, 4_000, read_seconds=1, write_seconds=2),
    "prestige": _tier(10_000, 8_000, read_seconds=1, write_seconds=2),
}

DEFAULT_COST = 10
CANCEL_COST = 2
BATCH_CANCEL_COST_PER_ORDER = 2
BATCH_CREATE_COST_PER_ORDER = 10
GET_ORDER_COST = 2


def tier_limits(tier: str) -> TierLimits:
    """Limits of a named tier (case-insensitive) or ValueError naming the known tiers."""
    try:
        return TIERS[tier.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Kalshi usage tier {tier!r}; use one of {', '.join(TIERS)}") from None


# --- endpoint costs -------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    parts = [("[^/]+" if part.startswith((":", "{")) else re.escape(part)) for part in template.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


_PREFIX = "/trade-api/v2"


@dataclass(slots=True)
class CostTable:
    """Token cost per (method, path) with ``:param``/``{param}`` path templates; default for the rest.

    Paths are relative to ``/trade-api/v2`` (a leading prefix is stripped, as in the cost endpoint).
    Batch endpoints bill per item: :meth:`cost` takes ``items``.
    """

    default_cost: int = DEFAULT_COST
    _rules: list[tuple[str, str, re.Pattern[str], int]] = field(default_factory=list)
    per_item: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def kalshi_defaults(cls) -> CostTable:
        table = cls()
        table.set("DELETE", "/portfolio/events/orders/:order_id", CANCEL_COST)
        table.set("DELETE", "/portfolio/events/orders/batched", BATCH_CANCEL_COST_PER_ORDER, per_item=True)
        table.set("POST", "/portfolio/events/orders/batched", BATCH_CREATE_COST_PER_ORDER, per_item=True)
        table.set("GET", "/portfolio/orders/:order_id", GET_ORDER_COST)
        return table

    def set(self, method: str, template: str, cost: int, *, per_item: bool | None = None) -> None:
        method = method.upper()
        template = _strip_prefix(template)
        regex = _template_regex(template)
        self._rules = [rule for rule in self._rules if not (rule[0] == method and rule[2] == regex)]
        # Literal paths (batched) must win over templates (:order_id), so keep them first.
        rule = (method, template, regex, int(cost))
        if ":" in template or "{" in template:
            self._rules.append(rule)
        else:
            self._rules.insert(0, rule)
        if per_item is not None:
            key = (method, template)
            if per_item:
                self.per_item.add(key)
            else:
                self.per_item.discard(key)

    def update_from_endpoint_costs(self, payload: dict[str, Any]) -> None:
        """Apply ``GET /account/endpoint_costs`` (``default_cost`` + ``endpoint_costs`` list)."""
        default = payload.get("default_cost")
        if isinstance(default, int) and default > 0:
            self.default_cost = default
        for item in payload.get("endpoint_costs") or []:
            if not isinstance(item, dict):
                continue
            method, path, cost = item.get("method"), item.get("path"), item.get("cost")
            if isinstance(method, str) and isinstance(path, str) and isinstance(cost, int) and cost >= 0:
                self.set(method, path, cost)

    def cost(self, method: str, path: str, items: int = 1) -> int:
        method = method.upper()
        path = _strip_prefix(path.split("?", 1)[0])
        for rule_method, template, regex, cost in self._rules:
            if rule_method == method and regex.match(path):
                if (method, template) in self.per_item:
                    return cost * max(1, items)
                return cost
        return self.default_cost


def _strip_prefix(path: str) -> str:
    return path[len(_PREFIX) :] if path.startswith(_PREFIX + "/") else path


def bucket_for(method: str) -> BucketName:
    """GETs draw on the read bucket; every other method is a write."""
    return BucketName.READ if method.upper() == "GET" else BucketName.WRITE


# --- the buckets ---------------------------------------------------------------------------------


@dataclass(order=True, slots=True)
class _Waiter:
    priority: int
    seq: int
    cost: int = field(compare=False)
    turn: asyncio.Future[None] | None = field(default=None, compare=False)
    gone: bool = field(default=False, compare=False)
    market: str | None = field(default=None, compare=False)
    dropped: bool = field(default=False, compare=False)  # abandoned: raise NotSent, take no tokens


RESERVE_S = 0.1  # of refill our mirror holds back from each bucket (TokenBucket)


class TokenBucket:
    """One bucket: ``tokens`` refill at ``rate``/s up to ``capacity``. Time comes from ``clock``.

    Refill stops ``reserve`` short of the capacity. The exchange charges a request when it arrives,
    we when we send it; a burst that queues on the way (signing, connections, the exchange's own loop)
    arrives bunched, so the exchange saw less refill between its requests than we did, and the first
    write after a full-bucket burst earned a 429 at the basic tier (bench_scale). Holding back 0.1 s
    of refill (at most a tenth of the bucket) absorbs that. A request larger than what refill reaches
    still goes once the bucket is as full as it gets, and its overdraft is a debt the next ones wait for.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.rate = float(rate)
        self.capacity = float(capacity)
        self.tokens = self.ceiling
        self._stamp = clock()
        self._waiters: list[_Waiter] = []
        self._validate()

    def _validate(self) -> None:
        if self.rate <= 0 or self.capacity <= 0:
            raise ValueError(
                f"token bucket needs a positive rate and capacity, got {self.rate}/{self.capacity}"
            )

    def refill(self) -> None:
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self.tokens = min(self.ceiling, self.tokens + elapsed * self.rate)
        self._stamp = now

    def reconfigure(self, rate: float, capacity: float) -> None:
        self.refill()
        self.rate, self.capacity = float(rate), float(capacity)
        self._validate()
        self.tokens = min(self.tokens, self.ceiling)

    def drain(self) -> None:
        """The exchange said 429: our mirror was optimistic. Empty it so everyone waits a refill."""
        self.refill()
        self.tokens = min(self.tokens, 0.0)

    def headroom(self) -> float:
        self.refill()
        return max(0.0, min(1.0, self.tokens / self.ceiling))

    @property
    def ceiling(self) -> float:
        """How full refill makes the bucket: the capacity less the reserve."""
        return self.capacity - min(self.rate * RESERVE_S, self.capacity / 10)

    def wait_time(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are available (0 if they are now)."""
        self.refill()
        missing = min(cost, self.ceiling) - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def try_take(self, cost: float) -> bool:
        self.refill()
        if self.tokens >= min(cost, self.ceiling):
            self.tokens -= cost
            return True
        return False

    @property
    def queued(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.gone)


class RateLimiter:
    """Read and write token buckets with priority waiting. One per account (shared by REST calls).

    ``clock`` is a monotonic seconds function and ``sleep`` an awaitable sleep; both default to the real
    ones and are swapped for fakes in tests.
    """

    def __init__(
        self,
        limits: TierLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        costs: CostTable | None = None,
    ) -> None:
        limits = limits or TIERS["basic"]
        self._clock = clock
        self._sleep = sleep
        self._seq = itertools.count()
        self.costs = costs or CostTable.kalshi_defaults()
        self.buckets: dict[BucketName, TokenBucket] = {
            BucketName.READ: TokenBucket(limits.read_rate, limits.read_capacity, clock),
            BucketName.WRITE: TokenBucket(limits.write_rate, limits.write_capacity, clock),
        }
        self.paced: dict[BucketName, int] = dict.fromkeys(BucketName, 0)  # requests that had to wait
        self.paced_s: dict[BucketName, float] = dict.fromkeys(BucketName, 0.0)  # and their total wait
        self.abandoned = 0  # writes dropped unsent (abandon)

    @classmethod
    def for_tier(cls, tier: str, **kwargs: Any) -> RateLimiter:
        return cls(tier_limits(tier), **kwargs)

    def configure(self, limits: TierLimits) -> None:
        """Adopt new limits (tier change or ``GET /account/limits``); tokens are clamped, not refilled."""
        self.buckets[BucketName.READ].reconfigure(limits.read_rate, limits.read_capacity)
        self.buckets[BucketName.WRITE].reconfigure(limits.write_rate, limits.write_capacity)
        for bucket in self.buckets.values():
            self._wake_head(bucket)

    def capacity(self, bucket: BucketName | str) -> float:
        return self.buckets[BucketName(bucket)].capacity

    def headroom(self) -> dict[str, float]:
        """Fraction (0..1) of each bucket available now, for the status bar."""
        return {name.value: bucket.headroom() for name, bucket in self.buckets.items()}

    def note_rate_limited(self, bucket: BucketName | str) -> None:
        self.buckets[BucketName(bucket)].drain()

    async def acquire(
        self,
        bucket: BucketName | str,
        cost: int,
        priority: int = Priority.NORMAL,
        market: str | None = None,
    ) -> None:
        """Wait until ``cost`` tokens can be taken from ``bucket`` by this caller, then take them.

        Never raises for lack of tokens (only ValueError for a cost the bucket can never hold, which is
        a programming error: split the batch). Cancellation while waiting leaves the queue intact.
        ``market`` names the market a write is for, so :meth:`abandon` can drop it (NotSent).
        """
        target = self.buckets[BucketName(bucket)]
        if cost <= 0:
            return
        if cost > target.capacity:
            raise ValueError(
                f"a request costing {cost} tokens can never fit the {BucketName(bucket).value} bucket "
                f"(capacity {target.capacity:g}); split it into smaller batches"
            )
        if not self._has_waiters(target) and target.try_take(cost):
            return
        waiter = _Waiter(int(priority), next(self._seq), cost, market=market)
        heapq.heappush(target._waiters, waiter)
        name, since = BucketName(bucket), self._clock()
        self.paced[name] += 1
        try:
            while True:
                if waiter.dropped:
                    raise NotSent(f"write for {market} dropped before it was sent", code="not_sent")
                head = self._head(target)
                if head is waiter:
                    delay = target.wait_time(cost)
                    if delay <= 0:
                        target.try_take(cost)
                        heapq.heappop(target._waiters)
                        return
                    if market is None:
                        await self._sleep(delay)
                    else:
                        await self._sleep_unless_dropped(waiter, delay)
                else:
                    waiter.turn = asyncio.get_running_loop().create_future()
                    await waiter.turn
        finally:
            self.paced_s[name] += self._clock() - since
            if not waiter.gone:
                waiter.gone = True
                self._prune(target)
            self._wake_head(target)

    def abandon(self, markets: Collection[str], keep: int = Priority.CANCEL) -> int:
        """Drop every write still waiting for tokens for one of ``markets``, except those of priority
        ``keep`` or more urgent (cancels): each raises NotSent to its caller at once and takes no tokens.
        A write that has its tokens is on its way and is not touched. Returns how many were dropped."""
        target = self.buckets[BucketName.WRITE]
        dropped = 0
        for waiter in target._waiters:
            if not waiter.gone and waiter.market in markets and waiter.priority > keep:
                waiter.gone = waiter.dropped = True
                if waiter.turn is not None and not waiter.turn.done():
                    waiter.turn.set_result(None)
                dropped += 1
        self.abandoned += dropped
        self._wake_head(target)
        return dropped

    async def _sleep_unless_dropped(self, waiter: _Waiter, delay: float) -> None:
        """The head's wait for its tokens, cut short when ``abandon`` drops it (the sleep is a task of
        its own: it may be a test's fake clock)."""
        waiter.turn = asyncio.get_running_loop().create_future()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait((sleeper, waiter.turn), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()

    @staticmethod
    def _has_waiters(bucket: TokenBucket) -> bool:
        return any(not waiter.gone for waiter in bucket._waiters)

    def _head(self, bucket: TokenBucket) -> _Waiter | None:
        self._prune(bucket)
        return bucket._waiters[0] if bucket._waiters else None

    @staticmethod
    def _prune(bucket: TokenBucket) -> None:
        while bucket._waiters and bucket._waiters[0].gone:
            heapq.heappop(bucket._waiters)

    def _wake_head(self, bucket: TokenBucket) -> None:
        head = self._head(bucket)
        if head is not None and head.turn is not None and not head.turn.done():
            head.turn.set_result(None)

    def cost_of(self, method: str, path: str, items: int = 1) -> tuple[BucketName, int]:
        """(bucket, tokens) a request will draw."""
        return bucket_for(method), self.costs.cost(method, path, items)


def limits_from_account(payload: dict[str, Any], fallback: TierLimits | None = None) -> TierLimits:
    """``GET /account/limits`` body -> TierLimits; missing numbers fall back to the named/basic tier."""
    base = fallback
    tier = payload.get("usage_tier")
    if base is None:
        base = TIERS.get(tier.lower(), TIERS["basic"]) if isinstance(tier, str) else TIERS["basic"]

    def number(section: str, key: str, default: int) -> int:
        value = (payload.get(section) or {}).get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            return default
        return int(value)

    return TierLimits(
        number("read", "refill_rate", base.read_rate),
        number("read", "bucket_capacity", base.read_capacity),
        number("write", "refill_rate", base.write_rate),
        number("write", "bucket_capacity", base.write_capacity),
    )


__all__ = [
    "TIERS",
    "BucketName",
    "CostTable",
    "Priority",
    "RateLimiter",
    "TierLimits",
    "TokenBucket",
    "bucket_for",
    "limits_from_account",
    "tier_limits",
]
