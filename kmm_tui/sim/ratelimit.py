"""Token buckets per account, as Kalshi has metered since April 2026 (§9 of the API notes).

Reads (GET) and writes (create, amend, decrease, cancel, order groups) draw from separate buckets.
A request costs its endpoint's tokens; a batch must fit the bucket at once. Buckets refill against
the real monotonic clock: rate limits are about real request pacing, not market time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_COST = 10
CANCEL_COST = 2
BATCH_CANCEL_COST_PER_ORDER = 2
BATCH_CREATE_COST_PER_ORDER = 10
GET_ORDER_COST = 2


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Refill rates (tokens/s) and bucket capacities for one usage tier."""

    read_rate: int
    read_capacity: int
    write_rate: int
    write_capacity: int


TIERS: dict[str, TierLimits] = {
    "basic": TierLimits(200, 400, 100, 100),
    "advanced": TierLimits(300, 600, 300, 600),
    "expert": TierLimits(600, 1200, 600, 1200),
    "premier": TierLimits(1000, 2000, 1000, 2000),
    "paragon": TierLimits(2000, 4000, 2000, 4000),
    "prime": TierLimits(4000, 8000, 4000, 8000),
    "prestige": TierLimits(10000, 20000, 8000, 16000),
}

# (method, path template) → cost, as reported by GET /account/endpoint_costs.
ENDPOINT_COSTS: tuple[tuple[str, str, int], ...] = (
    ("DELETE", "/trade-api/v2/portfolio/events/orders/:order_id", CANCEL_COST),
    ("DELETE", "/trade-api/v2/portfolio/events/orders/batched", BATCH_CANCEL_COST_PER_ORDER),
    ("GET", "/trade-api/v2/portfolio/orders/:order_id", GET_ORDER_COST),
    ("POST", "/trade-api/v2/account/api_usage_level/upgrade", 30),
)


def tier_limits(tier: str) -> TierLimits:
    try:
        return TIERS[tier]
    except KeyError:
        raise ValueError(f"unknown usage tier {tier!r}; use one of {', '.join(TIERS)}") from None


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: int, capacity: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = capacity
        self._now = now
        self._tokens = float(capacity)
        self._last = now()

    def try_take(self, cost: int) -> bool:
        current = self._now()
        self._tokens = min(self.capacity, self._tokens + (current - self._last) * self.rate)
        self._last = current
        if cost > self._tokens:
            return False
        self._tokens -= cost
        return True


class RateLimiter:
    """Read and write buckets per account, sized by the account's tier."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.enabled = True

    def allow(self, account_id: str, tier: str, kind: str, cost: int) -> bool:
        """Take ``cost`` tokens from the account's ``kind`` ("read"/"write") bucket if they are there."""
        if not self.enabled:
            return True
        bucket = self._buckets.get((account_id, kind))
        if bucket is None:
            limits = tier_limits(tier)
            if kind == "read":
                bucket = TokenBucket(limits.read_rate, limits.read_capacity, self._now)
            else:
                bucket = TokenBucket(limits.write_rate, limits.write_capacity, self._now)
            self._buckets[(account_id, kind)] = bucket
        return bucket.try_take(cost)

    def reset(self, account_id: str) -> None:
        """Forget an account's buckets (after a tier change)."""
        for kind in ("read", "write"):
            self._buckets.pop((account_id, kind), None)
