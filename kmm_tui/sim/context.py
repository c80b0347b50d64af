"""Everything the HTTP and WebSocket layers share: exchange, clock, keys, rate limits, faults.

One object so that the Starlette app, the WebSocket hub, the admin endpoints and the in-process
``SimServer``/``Faults`` facade all act on the same state (they run on one event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kmm_tui.domain.prices import Money
from kmm_tui.sim.auth import KEY_TYPES, KeyRegistry, SimAccount, write_key_file
from kmm_tui.sim.clock import SimClock
from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.ratelimit import RateLimiter, tier_limits
from kmm_tui.sim.scenario import MatchState

DEMO_KEY_MARKER = "demo_key_id"


@dataclass(slots=True)
class FaultState:
    """Pending injected faults. Counters are consumed one per affected request/message."""

    http_errors: int = 0
    http_error_status: int = 503
    rate_limited: int = 0
    latency_ms: int = 0
    skip_seq: int = 0
    skip_seq_by: int = 2


@dataclass(slots=True)
class SimContext:
    exchange: Exchange
    clock: SimClock
    keys: KeyRegistry = field(default_factory=KeyRegistry)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    faults: FaultState = field(default_factory=FaultState)
    # Set when the server stops: injected hangs ("timeout" write failures) end at once.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    default_tier: str = "basic"
    state_dir: Path | None = None
    # Set by the server: advance agents/scenario to the clock's current time.
    on_time: Callable[[], None] = lambda: None
    # Set by the WebSocket hub: close every connection.
    drop_websockets: Callable[[], None] = lambda: None
    # Set by the server: fair value setter (ticker, Price) for the scenario's random walk.
    set_fair: Callable[[str, int], None] | None = None
    # Set by the server: the scenario's matches (settling an event on a final score needs its shape).
    matches: list[MatchState] = field(default_factory=list)
    _account_seq: int = 0

    @property
    def fidelity(self) -> Fidelity:
        """The exchange's switches (one object shared by every layer)."""
        return self.exchange.fidelity

    def create_account(
        self,
        balance: Money,
        tier: str | None = None,
        *,
        name: str = "",
        key_dir: Path | None = None,
        key_type: str = "rsa",
    ) -> SimAccount:
        """Open an account with a fresh key (RSA, or Ed25519 when asked); write ``<key_id>.pem`` (0600)
        when a directory is set."""
        tier = tier or self.default_tier
        tier_limits(tier)  # validates the name
        if key_type not in KEY_TYPES:
            raise ValueError(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")
        self._account_seq += 1
        account_id = f"sim-user-{self._account_seq:04d}"
        self.exchange.open_account(account_id, balance, tier, name=name or account_id)
        key_id, pem = self.keys.new_key(account_id, key_type)
        directory = key_dir or self.state_dir
        path = write_key_file(directory, key_id, pem) if directory is not None else None
        return SimAccount(key_id=key_id, private_key_pem=pem, user_id=account_id, key_path=path)

    def demo_account(self, balance: Money) -> SimAccount:
        """The demo trader. With a state directory its key survives restarts (``demo_key_id`` file),
        so a configured ``kmm`` keeps working against a restarted simulator."""
        directory = self.state_dir
        if directory is not None:
            marker = directory / DEMO_KEY_MARKER
            if marker.exists():
                key_id = marker.read_text().strip()
                key_path = directory / f"{key_id}.pem"
                if key_path.exists():
                    pem = key_path.read_bytes()
                    key = serialization.load_pem_private_key(pem, password=None)
                    public = key.public_key()
                    if isinstance(public, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
                        self._account_seq += 1
                        account_id = f"sim-user-{self._account_seq:04d}"
                        self.exchange.open_account(account_id, balance, self.default_tier, name="demo")
                        self.keys.register(key_id, public, account_id)
                        return SimAccount(key_id, pem, account_id, key_path)
        account = self.create_account(balance, name="demo")
        if directory is not None:
            (directory / DEMO_KEY_MARKER).write_text(account.key_id + "\n")
        return account
