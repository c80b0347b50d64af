"""How hard the simulated exchange is: one settings object for every place it can be as unkind as Kalshi.

The simulator speaks the protocol faithfully either way; these switches decide whether it also
reproduces the real exchange's awkward behaviours (§5, §8, §10, §11 of the API notes): writes whose
outcome the client cannot know, reads that lag writes, per-shard cash, strict request parsing, and so
on. Every switch except ``resume_cancels_all`` (which is simply how Kalshi behaves) defaults to the
gentle behaviour, so a plain ``SimServer()`` stays predictable for unit tests.

Turn switches on in a scenario's ``[fidelity]`` table, with ``POST /admin/fidelity``, with
``SimServer(fidelity=Fidelity(...))``, or by assigning ``sim.fidelity.<name>`` in a test; ``preset =
"adversarial"`` (or ``Fidelity.adversarial()``) turns all of them on with realistic values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

WRITE_FAILURES = ("5xx", "drop", "timeout")


@dataclass(slots=True)
class Fidelity:
    """Live switches; the exchange, the HTTP layer and the WebSocket hub read them on every request."""

    # 1. Ambiguous writes: a share (percent) of order writes fails before or after the exchange applied them.
    write_fail_before_pct: int = 0
    write_fail_after_pct: int = 0
    write_failures: tuple[str, ...] = WRITE_FAILURES
    write_timeout_ms: int = 15_000  # a "timeout" hangs this long, then drops the connection
    # 2. REST reads of orders, fills and positions show the state from read_lag_min_ms..read_lag_ms ago.
    read_lag_ms: int = 0
    read_lag_min_ms: int = 0
    # 3. A pause→resume cancels every resting order, not only those flagged cancel_order_on_pause.
    resume_cancels_all: bool = True
    # 4. At close_time the market closes: every order operation answers 409 market_closed, and the
    #    leftover orders are cancelled close_cancel_delay_ms later (also for an admin close).
    close_at_close_time: bool = False
    close_cancel_delay_ms: int = 2_000
    # 5. Collateral is held per exchange shard; cancels of shard ≥ 1 orders need market_ticker.
    per_shard_cash: bool = False
    # 7. Balance changes are booked in whole cents with a per-order rounding fee; a share of
    #    post-only crosses answers 201 with the order cancelled instead of 400.
    rounding_fee: bool = False
    post_only_cancel_pct: int = 0
    # 8. JSON numbers for strings, non-boolean flags and over-precise prices/counts → 400.
    strict_requests: bool = False
    # 9. Public (unsigned) reads draw from a read bucket per client address.
    public_rate_limit: bool = False
    # 10. An empty book side is left out of REST order books instead of sent as [].
    omit_empty_book_side: bool = False
    # 11. Every WebSocket message (books, fills, user orders) reaches the client this many ms late:
    #     the feed lags the exchange, so a write's reply often arrives before the feed shows it.
    feed_lag_ms: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False, compare=False)

    @classmethod
    def adversarial(cls, seed: int = 0) -> Fidelity:
        """Every switch on, at shares and delays seen on the real exchange."""
        fid = cls(
            write_fail_before_pct=2,
            write_fail_after_pct=2,
            write_timeout_ms=12_000,
            read_lag_ms=400,
            close_at_close_time=True,
            per_shard_cash=True,
            rounding_fee=True,
            post_only_cancel_pct=50,
            strict_requests=True,
            public_rate_limit=True,
            omit_empty_book_side=True,
            feed_lag_ms=50,
        )
        fid.rng.seed(seed)
        return fid

    def roll(self, pct: int) -> bool:
        """True for ``pct`` percent of calls (0 never draws from the generator)."""
        return pct > 0 and (pct >= 100 or self.rng.randrange(100) < pct)

    def read_lag(self) -> int:
        """How far back (ms) this read looks; 0 when lag is off."""
        if self.read_lag_ms <= 0:
            return 0
        low = min(max(self.read_lag_min_ms, 0), self.read_lag_ms)
        return self.rng.randint(low, self.read_lag_ms)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "rng":
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def update(self, changes: dict[str, Any], where: str = "fidelity") -> None:
        """Apply ``{"switch": value}`` with type checks; ``preset = "adversarial"`` first sets all on.

        Raises ValueError naming the bad key and what it accepts (shown as a one-line message).
        """
        changes = dict(changes)
        preset = changes.pop("preset", None)
        if preset is not None:
            if preset not in ("adversarial", "gentle"):
                raise ValueError(f"{where}: preset must be 'adversarial' or 'gentle'")
            base = Fidelity.adversarial() if preset == "adversarial" else Fidelity()
            for name, value in base.as_dict().items():
                setattr(self, name, tuple(value) if isinstance(value, list) else value)
        kinds = {f.name: f.default for f in fields(self) if f.name != "rng"}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in kinds:
                raise ValueError(f"{where}: unknown switch {name!r}; known: {', '.join(sorted(kinds))}")
            checked[name] = _check(name, value, kinds[name], where)
        for name, value in checked.items():
            setattr(self, name, value)


def _check(name: str, value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {name} must be true or false")
        return value
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{where}: {name} must be a whole number >= 0")
        if name.endswith("_pct") and value > 100:
            raise ValueError(f"{where}: {name} is a percentage (0..100)")
        return value
    if not isinstance(value, list | tuple) or not value or any(v not in WRITE_FAILURES for v in value):
        raise ValueError(f"{where}: {name} must be a non-empty list of {', '.join(WRITE_FAILURES)}")
    return tuple(value)
