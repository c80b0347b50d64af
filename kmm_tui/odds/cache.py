"""A TTL response cache and a per-source quota/health tracker.

Odds credits are scarce (500/month on The Odds API's free plan), so a refresh within the TTL must
reuse the last response instead of spending a credit, and polling must stop before the last credits
are gone (``min_remaining``) or while the source is known to be out of quota or misconfigured.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from kmm_tui.odds.errors import QuotaExhausted, SourceConfigError, SourceDown
from kmm_tui.odds.models import QuotaInfo


@dataclass(slots=True)
class ResponseCache:
    """Parsed responses keyed by (path, params without the key), each valid for its TTL."""

    default_ttl_ms: int
    _entries: dict[Hashable, tuple[int, Any]] = field(default_factory=dict)

    @staticmethod
    def key(path: str, params: dict[str, str]) -> Hashable:
        return (path, tuple(sorted((k, v) for k, v in params.items() if k.lower() != "apikey")))

    def get(self, key: Hashable, now_ms: int) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_ms, value = entry
        if now_ms >= expires_ms:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: Any, now_ms: int, ttl_ms: int | None = None) -> None:
        self._entries[key] = (now_ms + (self.default_ttl_ms if ttl_ms is None else ttl_ms), value)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(slots=True)
class QuotaTracker:
    """Credits left and whether the source may be called now.

    * ``fatal`` (bad key): nothing is called until the settings change.
    * ``disabled_until_ms`` (quota gone, or down after repeated 5xx): paid calls refused until then.
    * ``min_remaining``: a paid call is refused when the last known remaining credits are at or
      below this floor (free calls such as The Odds API ``/events`` are still allowed).
    """

    source: str
    min_remaining: int = 0
    quota: QuotaInfo = field(default_factory=QuotaInfo)
    fatal: str | None = None
    disabled_until_ms: int | None = None
    disabled_reason: str | None = None
    disabled_for_quota: bool = False

    def record(self, quota: QuotaInfo) -> None:
        """Merge a freshly reported quota; unknown fields keep their previous value."""
        old = self.quota
        self.quota = QuotaInfo(
            remaining=quota.remaining if quota.remaining is not None else old.remaining,
            used=quota.used if quota.used is not None else old.used,
            last_cost=quota.last_cost if quota.last_cost is not None else old.last_cost,
            updated_ms=quota.updated_ms if quota.updated_ms is not None else old.updated_ms,
        )

    def set_fatal(self, reason: str) -> None:
        self.fatal = reason

    def disable(self, until_ms: int, reason: str, *, quota: bool) -> None:
        """Refuse calls until ``until_ms``; ``quota`` says whether credits (not health) are the cause."""
        self.disabled_until_ms = until_ms
        self.disabled_reason = reason
        self.disabled_for_quota = quota

    def check(self, now_ms: int, *, paid: bool) -> None:
        """Raise if a call must not be made now; clears an expired disable."""
        if self.fatal is not None:
            raise SourceConfigError(self.source, self.fatal)
        if self.disabled_until_ms is not None:
            if now_ms < self.disabled_until_ms:
                reason = self.disabled_reason or "disabled"
                if self.disabled_for_quota:
                    raise QuotaExhausted(self.source, reason, self.disabled_until_ms)
                raise SourceDown(self.source, reason)
            self.disabled_until_ms = None
            self.disabled_reason = None
        remaining = self.quota.remaining
        if paid and remaining is not None and remaining <= self.min_remaining:
            raise QuotaExhausted(
                self.source,
                f"{remaining} credits left, at or below the floor of {self.min_remaining}; polling "
                "stopped (raise the plan, lower the floor, or wait for the monthly reset)",
            )
