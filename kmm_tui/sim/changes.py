"""Live changes to markets and events, from the admin API or a scenario's ``[[change]]`` schedule.

Real markets change under a running client: tick sizes move to finer edges, titles and close times
are corrected, events get fee overrides. Both the admin endpoints and the scenario schedule go
through ``apply_market_change`` / ``apply_event_change``, so a change looks the same on the wire
(the exchange emits ``price_level_structure_updated``, ``metadata_updated``, ``close_date_updated``,
``event_lifecycle`` or ``event_fee_update``) whoever made it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.scenario import (
    EVENT_CHANGE_KINDS,
    GRIDS,
    MARKET_CHANGE_KINDS,
    ChangeSpec,
    MatchState,
    parse_duration_ms,
)
from kmm_tui.sim.settling import parse_settle, settle_event


def apply_market_change(exchange: Exchange, ticker: str, kind: str, fields: dict[str, Any]) -> None:
    """Do one market-level change (``MARKET_CHANGE_KINDS``); ValueError names a bad field."""
    exchange.market(ticker)
    if kind == "price_levels":
        structure = fields.get("price_level_structure")
        ranges = fields.get("price_ranges")
        if ranges is None:
            if structure not in GRIDS:
                raise ValueError(
                    f"price_level_structure must be one of {', '.join(GRIDS)} (or send price_ranges)"
                )
            ranges = GRIDS[structure]
        if not isinstance(ranges, list) or not all(isinstance(r, dict) for r in ranges):
            raise ValueError('price_ranges must be a list of {"start","end","step"} tables')
        exchange.set_price_levels(ticker, str(structure or "custom"), ranges)
    elif kind == "metadata":
        exchange.update_market_metadata(ticker, dict(fields))
    elif kind == "close_time":
        exchange.set_close_time(ticker, _when_ms(exchange, fields, "close_ts", "close_in"))
    elif kind == "pause":
        exchange.pause_market(ticker)
    elif kind == "resume":
        exchange.resume_market(ticker)
    elif kind == "close":
        exchange.close_market(ticker)
    else:
        raise ValueError(f"unknown market change {kind!r}; use one of {', '.join(MARKET_CHANGE_KINDS)}")


def apply_event_change(exchange: Exchange, event_ticker: str, kind: str, fields: dict[str, Any]) -> None:
    """Do one event-level change (``EVENT_CHANGE_KINDS``)."""
    if kind == "event_metadata":
        exchange.update_event(event_ticker, dict(fields))
    elif kind == "event_fees":
        fee_type = fields.get("fee_type_override") or None
        raw = fields.get("fee_multiplier_override")
        exchange.set_event_fees(event_ticker, fee_type, None if raw is None else _decimal(raw))
    elif kind == "series_fees":
        schedule_series_fees(exchange, exchange.events[event_ticker].series_ticker, fields)
    else:
        raise ValueError(f"unknown event change {kind!r}; use one of {', '.join(EVENT_CHANGE_KINDS)}")


def schedule_series_fees(exchange: Exchange, series_ticker: str, fields: dict[str, Any]) -> None:
    """Announce a series fee change ``{"fee_type", "fee_multiplier", "scheduled_ts" | "in"}``; it shows
    in ``GET /series/fee_changes`` at once and takes effect at its time."""
    fee_type = fields.get("fee_type")
    if not isinstance(fee_type, str):
        raise ValueError("a series fee change needs fee_type")
    at_ms = _when_ms(exchange, {"in": "0s", **fields}, "scheduled_ts", "in")
    exchange.schedule_series_fee_change(
        series_ticker, fee_type, _decimal(fields.get("fee_multiplier", 1)), at_ms
    )


def _when_ms(exchange: Exchange, fields: dict[str, Any], ts_key: str, in_key: str) -> int:
    """A moment given as Unix seconds (``ts_key``) or as a duration from now (``in_key``, "10m")."""
    if ts_key in fields:
        value = fields[ts_key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{ts_key} must be Unix seconds")
        return value * 1000
    if in_key in fields:
        return exchange.clock() + parse_duration_ms(str(fields[in_key]))
    raise ValueError(f'send {ts_key} (Unix seconds) or {in_key} (a duration such as "10m")')


def _decimal(raw: Any) -> Decimal:
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"fee_multiplier_override {raw!r} is not a number") from None


class ScheduledChanges:
    """A scenario's ``[[change]]`` list, played as the market clock passes each ``at``."""

    def __init__(
        self, exchange: Exchange, changes: tuple[ChangeSpec, ...], matches: list[MatchState], loaded_ms: int
    ) -> None:
        self.exchange = exchange
        self.matches = matches
        self.pending = [(loaded_ms + c.at_ms, c) for c in changes]

    def run_until(self, now_ms: int) -> None:
        while self.pending and self.pending[0][0] <= now_ms:
            _, change = self.pending.pop(0)
            match = self.matches[change.match - 1]
            if change.kind == "settle":
                winner, points = parse_settle(change.fields)
                settle_event(self.exchange, self.matches, match.event_ticker, winner=winner, points=points)
                continue
            if change.kind in EVENT_CHANGE_KINDS:
                apply_event_change(self.exchange, match.event_ticker, change.kind, change.fields)
                continue
            tickers = match.tickers
            if change.team is not None:
                tickers = [t for t in tickers if t == f"{match.event_ticker}-{change.team}"]
                if not tickers:
                    raise ValueError(f"[[change]] team {change.team!r} is not in match {change.match}")
            for ticker in tickers:
                apply_market_change(self.exchange, ticker, change.kind, change.fields)
