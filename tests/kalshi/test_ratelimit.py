"""Token buckets on a fake clock: bursts wait instead of exceeding the bucket; cancels go first."""

from __future__ import annotations

import asyncio

import pytest

from kmm_tui.kalshi.errors import NotSent
from kmm_tui.kalshi.ratelimit import (
    TIERS,
    BucketName,
    CostTable,
    Priority,
    RateLimiter,
    TierLimits,
    limits_from_account,
    tier_limits,
)
from tests.support import load_fixture


class FakeTime:
    """A clock that moves only when the test says so; sleepers wake when their time is reached."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [(t, f) for t, f in self._sleepers if t <= self.now + 1e-9]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > self.now + 1e-9]
        for _, future in due:
            if not future.done():
                future.set_result(None)
        await settle()


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


def make(limits: TierLimits | None = None) -> tuple[RateLimiter, FakeTime]:
    fake = FakeTime()
    return RateLimiter(limits or TIERS["basic"], clock=fake.clock, sleep=fake.sleep), fake


def assert_never_exceeds(grants: list[tuple[float, int]], rate: float, capacity: float) -> None:
    """Over every window [t_i, t_j], granted tokens <= capacity + rate * (t_j - t_i)."""
    grants = sorted(grants)
    for i, (start, _) in enumerate(grants):
        total = 0
        for end, cost in grants[i:]:
            total += cost
            assert total <= capacity + rate * (end - start) + 1e-6, (start, end, total)


def test_tier_table_matches_the_documented_rates() -> None:
    assert (TIERS["basic"].read_rate, TIERS["basic"].write_rate) == (200, 100)
    assert TIERS["basic"].write_capacity == 100  # Basic write: 1 s of budget
    assert TIERS["advanced"].write_capacity == 600  # above Basic: 2 s
    assert TIERS["basic"].read_capacity == 400  # Basic/Advanced read: 2 s
    assert (TIERS["prestige"].read_rate, TIERS["prestige"].write_rate) == (10_000, 8_000)
    assert tier_limits("Expert") == TIERS["expert"]
    with pytest.raises(ValueError, match="basic"):
        tier_limits("platinum")


async def test_burst_of_creates_waits_and_never_exceeds_bucket() -> None:
    limiter, fake = make()
    grants: list[tuple[float, int]] = []

    async def create() -> None:
        await limiter.acquire(BucketName.WRITE, 10)
        grants.append((fake.now, 10))

    tasks = [asyncio.create_task(create()) for _ in range(50)]
    await settle()
    assert len(grants) == 9  # the bucket less its 0.1 s reserve (90 tokens) at once, then nothing
    while not all(t.done() for t in tasks):
        await fake.advance(0.01)
    assert_never_exceeds(grants, rate=100, capacity=100)
    assert fake.now == pytest.approx(4.1, abs=0.05)  # 410 extra tokens at 100/s


async def test_mixed_costs_never_exceed_bucket() -> None:
    limiter, fake = make(TierLimits(200, 400, 100, 100))
    grants: list[tuple[float, int]] = []

    async def call(cost: int, priority: int) -> None:
        await limiter.acquire("write", cost, priority)
        grants.append((fake.now, cost))

    costs = [10, 2, 10, 40, 2, 2, 100, 10, 2, 60] * 3
    tasks = [asyncio.create_task(call(c, Priority.CANCEL if c == 2 else Priority.NORMAL)) for c in costs]
    while not all(t.done() for t in tasks):
        await fake.advance(0.007)
    assert_never_exceeds(grants, rate=100, capacity=100)
    assert len(grants) == len(costs)


async def test_cancel_jumps_the_queue() -> None:
    limiter, fake = make()
    order: list[str] = []
    await limiter.acquire(BucketName.WRITE, 100)  # empty the bucket

    async def call(name: str, cost: int, priority: int) -> None:
        await limiter.acquire(BucketName.WRITE, cost, priority)
        order.append(name)

    tasks = [asyncio.create_task(call(f"create{i}", 10, Priority.NORMAL)) for i in range(3)]
    await settle()
    tasks.append(asyncio.create_task(call("cancel", 2, Priority.CANCEL)))
    await settle()
    while not all(t.done() for t in tasks):
        await fake.advance(0.01)
    assert order[0] == "cancel"
    assert order[1:] == ["create0", "create1", "create2"]  # FIFO within a priority


async def test_waiter_cancelled_does_not_block_the_queue() -> None:
    limiter, fake = make()
    await limiter.acquire(BucketName.WRITE, 100)
    first = asyncio.create_task(limiter.acquire(BucketName.WRITE, 50))
    second = asyncio.create_task(limiter.acquire(BucketName.WRITE, 10))
    await settle()
    first.cancel()
    await settle()
    await fake.advance(0.2)  # the 100 overdrew the 90 refill reaches: 10 of debt, then 10 for this one
    assert second.done() and not second.cancelled()
    assert limiter.buckets[BucketName.WRITE].tokens == pytest.approx(0.0)


async def test_read_and_write_buckets_are_separate() -> None:
    limiter, _ = make()
    await limiter.acquire(BucketName.WRITE, 100)
    await asyncio.wait_for(limiter.acquire(BucketName.READ, 400), timeout=1)  # no waiting needed
    assert limiter.headroom() == {"read": 0.0, "write": 0.0}


async def test_headroom_refills_over_time() -> None:
    limiter, fake = make()
    await limiter.acquire(BucketName.WRITE, 50)  # of the 90 usable (100 less the 0.1 s reserve)
    assert limiter.headroom()["write"] == pytest.approx(40 / 90)
    await fake.advance(0.25)
    assert limiter.headroom()["write"] == pytest.approx(65 / 90)
    await fake.advance(10)
    assert limiter.headroom()["write"] == 1.0


async def test_cost_above_capacity_is_a_programming_error() -> None:
    limiter, _ = make()
    with pytest.raises(ValueError, match="split"):
        await limiter.acquire(BucketName.WRITE, 110)


async def test_note_rate_limited_drains_the_mirror() -> None:
    limiter, fake = make()
    limiter.note_rate_limited("write")
    task = asyncio.create_task(limiter.acquire(BucketName.WRITE, 10))
    await settle()
    assert not task.done()
    await fake.advance(0.1)
    assert task.done()


def test_configure_from_account_limits() -> None:
    limiter, _ = make()
    limits = limits_from_account(load_fixture("kalshi/rest/account_limits.json"))
    assert limits == TierLimits(200, 400, 100, 100)
    limiter.configure(TierLimits(300, 600, 300, 600))
    assert limiter.capacity("write") == 600
    # Tokens are clamped, never granted for free by a reconfiguration.
    assert limiter.buckets[BucketName.WRITE].tokens <= 100
    assert limits_from_account({"usage_tier": "advanced"}) == TIERS["advanced"]


def test_default_costs() -> None:
    limiter, _ = make()
    assert limiter.cost_of("POST", "/portfolio/events/orders") == (BucketName.WRITE, 10)
    assert limiter.cost_of("DELETE", "/portfolio/events/orders/abc") == (BucketName.WRITE, 2)
    assert limiter.cost_of("DELETE", "/portfolio/events/orders/batched", items=7) == (BucketName.WRITE, 14)
    assert limiter.cost_of("POST", "/portfolio/events/orders/batched", items=3) == (BucketName.WRITE, 30)
    assert limiter.cost_of("GET", "/portfolio/orders/abc") == (BucketName.READ, 2)
    assert limiter.cost_of("GET", "/portfolio/orders") == (BucketName.READ, 10)
    assert limiter.cost_of("POST", "/portfolio/events/orders/abc/amend") == (BucketName.WRITE, 10)
    assert limiter.cost_of("PUT", "/portfolio/order_groups/g/trigger") == (BucketName.WRITE, 10)


def test_costs_update_from_endpoint_costs_fixture() -> None:
    table = CostTable.kalshi_defaults()
    payload = load_fixture("kalshi/rest/account_endpoint_costs.json")
    payload["endpoint_costs"].append(
        {"method": "POST", "path": "/trade-api/v2/portfolio/events/orders", "cost": 12}
    )
    table.update_from_endpoint_costs(payload)
    assert table.cost("POST", "/portfolio/events/orders") == 12
    assert table.cost("POST", "/account/api_usage_level/upgrade") == 30
    assert table.cost("DELETE", "/portfolio/events/orders/batched", items=5) == 10  # still per item
    assert table.cost("GET", "/markets") == 10


async def test_paced_requests_and_their_wait_are_counted() -> None:
    limiter, fake = make(TierLimits(200, 400, 10, 10))  # writes: 10 tokens/s, bucket of 10 (9 usable)
    await limiter.acquire(BucketName.WRITE, 9)
    assert limiter.paced[BucketName.WRITE] == 0, "a request that found its tokens was not paced"
    waiting = asyncio.create_task(limiter.acquire(BucketName.WRITE, 9))
    await settle()
    await fake.advance(0.9)
    await waiting
    assert limiter.paced[BucketName.WRITE] == 1
    assert limiter.paced_s[BucketName.WRITE] == pytest.approx(0.9)
    assert limiter.paced[BucketName.READ] == 0


async def test_a_burst_leaves_the_exchange_a_reserve_for_requests_that_arrive_bunched() -> None:
    """The exchange charges on arrival: a burst that queued on the way arrives bunched. After a
    full-bucket burst, our next write must not assume the exchange refilled as long as we did."""
    limiter, fake = make()
    granted = 0
    while limiter.buckets[BucketName.WRITE].try_take(10):
        granted += 10
    assert granted == 90, "0.1 s of refill (10 tokens at 100/s) stays in reserve"
    await fake.advance(0.1)
    assert limiter.buckets[BucketName.WRITE].wait_time(10) == 0


async def test_abandon_drops_the_queued_writes_of_stopping_markets_and_keeps_cancels() -> None:
    limiter, fake = make()
    await limiter.acquire(BucketName.WRITE, 100)  # empty the bucket: everything below waits
    served: list[str] = []

    async def call(name: str, priority: int, market: str | None) -> None:
        await limiter.acquire(BucketName.WRITE, 10 if priority else 2, priority, market)
        served.append(name)

    tasks = {
        name: asyncio.create_task(call(name, priority, market))
        for name, priority, market in (
            ("create A", Priority.LOW, "A"),  # at the head, sleeping until its tokens come
            ("amend A", Priority.NORMAL, "A"),
            ("create B", Priority.LOW, "B"),
            ("cancel A", Priority.CANCEL, "A"),
            ("group", Priority.NORMAL, None),  # names no market: never dropped
        )
    }
    await settle()
    assert limiter.abandon({"A"}) == 2
    await settle()
    for name in ("create A", "amend A"):
        assert isinstance(tasks[name].exception(), NotSent), f"{name} must be dropped at once"
    assert limiter.buckets[BucketName.WRITE].queued == 3
    while not all(task.done() for task in tasks.values()):
        await fake.advance(0.01)
    assert served == ["cancel A", "group", "create B"], "the rest are served in order, cancels first"
    assert limiter.abandoned == 2
    # 10 tokens of debt (100 drawn from a bucket refill fills to 90) and the 22 served: 0.32 s; the
    # dropped writes' 20 tokens would have made it 0.52 s
    assert fake.now == pytest.approx(0.32, abs=0.015), "the dropped writes took no tokens"
