"""The exchange and the account: trading status per shard and the account's API rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kmm_tui.kalshi.models.wire import (
    _as_dict,
    _bad,
    _int,
    _opt_int,
    _opt_text,
    _req,
)


@dataclass(frozen=True, slots=True)
class ShardStatus:
    exchange_index: int
    exchange_active: bool
    trading_active: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    """``GET /exchange/status``: trading is possible only when both flags are true (per shard too)."""

    exchange_active: bool
    trading_active: bool
    shards: tuple[ShardStatus, ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> ExchangeStatus:
        data = _as_dict(data, "exchange status")
        shards = tuple(
            ShardStatus(
                _opt_int(item, "exchange_index"),
                bool(item.get("exchange_active", False)),
                bool(item.get("trading_active", False)),
                _opt_text(item, "description"),
            )
            for item in data.get("exchange_index_statuses") or []
            if isinstance(item, Mapping)
        )
        return cls(bool(data.get("exchange_active", False)), bool(data.get("trading_active", False)), shards)

    def shard_trading(self, exchange_index: int) -> bool:
        """Trading open on one shard (unknown shard -> the global flags)."""
        for shard in self.shards:
            if shard.exchange_index == exchange_index:
                return shard.exchange_active and shard.trading_active
        return self.exchange_active and self.trading_active


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """``GET /account/limits``: the usage tier and both buckets' refill rate and capacity."""

    usage_tier: str
    read_rate: int
    read_capacity: int
    write_rate: int
    write_capacity: int

    @classmethod
    def from_wire(cls, data: Any) -> AccountLimits:
        data = _as_dict(data, "account limits")
        what = "account limits"

        def number(section: str, key: str) -> int:
            part = _as_dict(_req(data, section, what), what)
            value = _int(_req(part, key, what), what, f"{section}.{key}")
            if value <= 0:
                raise _bad(what, f"{section}.{key}", f"is not positive: {value}")
            return value

        return cls(
            usage_tier=_opt_text(data, "usage_tier", "unknown"),
            read_rate=number("read", "refill_rate"),
            read_capacity=number("read", "bucket_capacity"),
            write_rate=number("write", "refill_rate"),
            write_capacity=number("write", "bucket_capacity"),
        )
