"""The engine's local control API: HTTP + WebSocket on 127.0.0.1, guarded by a bearer token.

Why it exists: scripts and the old dashboard drive the same engine the TUI and ``kmm run`` use, so
the API only translates JSON into engine commands and snapshots into JSON; it never trades itself.
It runs on the engine's own asyncio loop (uvicorn serving pre-bound sockets), so a command from
HTTP is applied exactly like a key press in the TUI.

Why these rules:

* loopback only (unless the caller explicitly allows another host): this API can trade real money;
* a fresh random token per start in ``<state dir>/api_token`` (mode 600), compared in constant time,
  required on every call (``Authorization: Bearer``; the WebSocket may use ``?token=`` because
  browsers cannot set headers on WebSockets);
* exact numbers: request bodies are parsed with ``Decimal`` (never float) and responses carry
  prices as cent strings (``"55.5"``), counts as contract strings (``"10"``) and money as dollar
  strings (``"12.34"``, more decimals when exact needs them);
* every failure is JSON ``{"field": ..., "reason": ...}``; unexpected errors are logged to the log
  file and answered with a 500 that names no internals.

The wire schema is documented in ``docs/control-api.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from kmm_tui.config import UserError
from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import (
    CENT,
    PRICE_SCALE,
    Count,
    Money,
    Price,
    WireFormatError,
    format_contracts,
    format_dollars,
    parse_count,
    parse_money,
    price_from_cents,
)
from kmm_tui.domain.quoting import SideQuote
from kmm_tui.domain.theo import DevigMethod, OddsError, parse_decimal_odds
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import (
    BalanceChanged,
    Event,
    FeedHealthChanged,
    Filled,
    InventoryChanged,
    LogEvent,
    MatchStatusChanged,
    OrderChanged,
    QuoteDecided,
)
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine.pricing_inputs import theo_prices
from kmm_tui.engine.state import (
    AccountView,
    DecisionLogEntry,
    EngineView,
    FillView,
    LogLine,
    MarketView,
    MatchView,
    OrderView,
)
from kmm_tui.paths import ensure_private_dir

log = logging.getLogger(__name__)

TOKEN_FILE_NAME = "api_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
STATE_INTERVAL_S = 0.2  # at most 5 state messages a second per WebSocket client
KEEPALIVE_S = 2.0  # and at least one every 2 s, so a client can tell a quiet engine from a dead link
EVENT_QUEUE_MAX = 1000  # events buffered per WebSocket client before we drop (and say so)
BOOK_DEPTH = 10
RECENT_FILLS = 50
RECENT_DECISIONS = 20
RECENT_LOGS = 50
_TICKER = re.compile(r"[A-Z0-9][A-Z0-9._-]*")


class ControlApiError(UserError):
    """The control API cannot start as asked (host not allowed, port busy); the message says what to do."""


class ApiError(Exception):
    """A request the API refuses: HTTP status, the reason in words, and the offending body field."""

    def __init__(self, status: int, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field


# --- numbers on the wire ---------------------------------------------------------------------------


def cents_text(price: int) -> str:
    """Price -> cents without a unit, exact: 5500 -> "55", 5550 -> "55.5", 5555 -> "55.55"."""
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), CENT)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{f'{frac:02d}'.rstrip('0')}"


def contracts_text(count: int) -> str:
    """Count -> contracts without a unit, exact: 1000 -> "10", 1050 -> "10.5"."""
    return format_contracts(count)


def dollars_text(amount: int) -> str:
    """Money -> dollars, exact, at least two decimals: 12_340_000 -> "12.34", 3_500 -> "0.0035"."""
    return format_dollars(amount)


def _cents_or_none(price: int | None) -> str | None:
    return None if price is None else cents_text(price)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


# --- snapshots -> JSON -------------------------------------------------------------------------------


def state_json(view: EngineView) -> dict[str, Any]:
    """The whole engine state (``GET /api/state`` and the WebSocket's ``state`` messages)."""
    return {
        "environment": view.environment,
        "ts_ms": view.ts_ms,
        "balance": None if view.balance is None else dollars_text(view.balance),
        "feed": {"connected": view.feed_connected, "detail": view.feed_detail},
        # display only: percent of the rate-limit buckets left, rounded
        "rate_headroom_pct": {
            "read": round(view.read_headroom * 100),  # float-ok: display only
            "write": round(view.write_headroom * 100),  # float-ok: display only
        },
        "resting_orders": view.resting_orders,
        "matches": [match_json(match) for match in view.matches],
        "logs": [log_json(line) for line in view.logs[-RECENT_LOGS:]],
        "account": account_json(view.account),
    }


def account_json(account: AccountView | None) -> dict[str, Any] | None:
    """Account-wide limits: the latch and the room left under each limit (dollars; None = no limit)."""
    if account is None:
        return None
    return {
        "latched": account.latched,
        "headroom": {
            name: None if room is None else dollars_text(room) for name, room in account.headroom()
        },
    }


def match_json(match: MatchView) -> dict[str, Any]:
    spec = match.spec
    return {
        "id": spec.match_id,
        "name": spec.name,
        "status": match.status.value,
        "status_reason": match.status_reason,
        "event_ticker": match.event_ticker,
        "ticker_a": spec.ticker_a,
        "ticker_b": spec.ticker_b,
        "start_ms": match.start_ms,
        "start_source": match.start_source,
        "theo": {
            "a": _cents_or_none(match.theo_a),
            "b": _cents_or_none(match.theo_b),
            "input": theo_input_json(spec.theo),
        },
        "settings": settings_json(spec.settings),
        "markets": {"a": market_json(match.market_a), "b": market_json(match.market_b)},
        "quotes": {"a": quote_json(match.quote_a), "b": quote_json(match.quote_b)},
        "inventory": inventory_json(match.inventory),
        "orders": [order_json(order) for order in match.orders],
        "fills": [fill_json(fill) for fill in match.fills[:RECENT_FILLS]],
        "decisions": [decision_json(entry) for entry in match.decisions[:RECENT_DECISIONS]],
    }


def theo_input_json(theo: TheoInput) -> dict[str, Any]:
    return {
        "odds_a": _decimal_text(theo.odds_a),
        "odds_b": _decimal_text(theo.odds_b),
        "odds_draw": _decimal_text(theo.odds_draw),
        "theo_a": _cents_or_none(theo.theo_a),
        "theo_b": _cents_or_none(theo.theo_b),
        "method": theo.method.value,
    }


def settings_json(settings: MatchSettings) -> dict[str, Any]:
    return {
        "edge": cents_text(settings.edge),
        "contracts": contracts_text(settings.contracts),
        "inventory_max": contracts_text(settings.inventory_max),
        "start_margin_ms": settings.start_margin_ms,
        "retest_interval_ms": settings.retest_interval_ms,
        "backoff_ticks": settings.backoff_ticks,
        "fee_aware": settings.fee_aware,
        "post_only": settings.post_only,
        "max_loss": None if settings.max_loss is None else dollars_text(settings.max_loss),
    }


def _levels(levels: tuple[tuple[Price, Count], ...]) -> list[list[str]]:
    return [[cents_text(price), contracts_text(size)] for price, size in levels[:BOOK_DEPTH]]


def book_json(book: Book) -> dict[str, Any]:
    return {
        "best_bid": _cents_or_none(book.best_bid),
        "best_ask": _cents_or_none(book.best_ask),
        "bids": _levels(book.bids),
        "asks": _levels(book.asks),
    }


def market_json(market: MarketView | None) -> dict[str, Any] | None:
    if market is None:
        return None
    return {
        "ticker": market.ticker,
        "title": market.title,
        "status": market.status,
        "stale": market.stale,
        **book_json(market.book),
    }


def quote_json(quote: SideQuote | None) -> dict[str, Any] | None:
    if quote is None:
        return None
    return {
        "price": _cents_or_none(quote.price),
        "size": contracts_text(quote.size),
        "reason": quote.reason.value,
        "detail": quote.detail,
        "ceiling": _cents_or_none(quote.ceiling),
    }


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    return {
        "long_a": contracts_text(inventory.count_long_a),
        "long_b": contracts_text(inventory.count_long_b),
        "avg_cost_a": _cents_or_none(inventory.avg_cost_a),
        "avg_cost_b": _cents_or_none(inventory.avg_cost_b),
        "cost_a": dollars_text(inventory.cost_long_a),
        "cost_b": dollars_text(inventory.cost_long_b),
        "fees": dollars_text(inventory.fees),
        "net_exposure": contracts_text(inventory.net_exposure),
        "locked_pairs": contracts_text(inventory.locked_pairs),
        "locked_profit": dollars_text(inventory.locked_profit),
        "pnl_if_a_wins": dollars_text(inventory.pnl_if_a_wins),
        "pnl_if_b_wins": dollars_text(inventory.pnl_if_b_wins),
    }


def order_json(order: OrderView) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "order_id": order.order_id,
        "ticker": order.ticker,
        "side": order.side,
        "price": cents_text(order.price),
        "remaining": contracts_text(order.remaining),
        "filled": contracts_text(order.filled),
        "state": order.state,
    }


def fill_json(fill: FillView) -> dict[str, Any]:
    return {
        "trade_id": fill.trade_id,
        "ticker": fill.ticker,
        "side": fill.side,
        "price": cents_text(fill.price),
        "count": contracts_text(fill.count),
        "fee": dollars_text(fill.fee),
        "is_taker": fill.is_taker,
        "ts_ms": fill.ts_ms,
    }


def decision_json(entry: DecisionLogEntry) -> dict[str, Any]:
    return {
        "ts_ms": entry.ts_ms,
        "side": entry.side,
        "reason": entry.reason,
        "detail": entry.detail,
        "price": _cents_or_none(entry.price),
    }


def log_json(line: LogLine) -> dict[str, Any]:
    return {"ts_ms": line.ts_ms, "level": line.level.value, "text": line.text, "match_id": line.match_id}


def event_json(event: Event) -> dict[str, Any] | None:
    """One engine event as a WebSocket ``event`` message; None for what the state already carries
    at a bounded rate (book updates, rate headroom)."""
    match event:
        case Filled():
            return {
                "type": "event",
                "event": "fill",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "ticker": event.ticker,
                "side": event.side,
                "trade_id": event.trade_id,
                "order_id": event.order_id,
                "price": cents_text(event.price),
                "count": contracts_text(event.count),
                "fee": dollars_text(event.fee),
                "is_taker": event.is_taker,
            }
        case OrderChanged():
            return {
                "type": "event",
                "event": "order",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "action": event.action.value,
                "ticker": event.ticker,
                "order_id": event.order_id,
                "client_order_id": event.client_order_id,
                "price": _cents_or_none(event.price),
                "count": contracts_text(event.count),
                "detail": event.detail,
            }
        case MatchStatusChanged():
            return {
                "type": "event",
                "event": "status",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "status": event.status.value,
                "reason": event.reason,
            }
        case LogEvent():
            return {
                "type": "event",
                "event": "log",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "level": event.level.value,
                "text": event.text,
            }
        case QuoteDecided():
            return {
                "type": "event",
                "event": "decision",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "a": quote_json(event.decision.a),
                "b": quote_json(event.decision.b),
            }
        case InventoryChanged():
            return {
                "type": "event",
                "event": "inventory",
                "ts_ms": event.ts_ms,
                "match_id": event.match_id,
                "inventory": inventory_json(event.inventory),
            }
        case FeedHealthChanged():
            return {
                "type": "event",
                "event": "feed",
                "ts_ms": event.ts_ms,
                "connected": event.connected,
                "stale_tickers": list(event.stale_tickers),
                "detail": event.detail,
            }
        case BalanceChanged():
            return {
                "type": "event",
                "event": "balance",
                "ts_ms": event.ts_ms,
                "balance": dollars_text(event.balance),
            }
    return None


# --- JSON -> commands ----------------------------------------------------------------------------------

THEO_FIELDS = ("odds_a", "odds_b", "odds_draw", "theo_a", "theo_b", "method")
SETTING_FIELDS = (
    "edge",
    "contracts",
    "inventory_max",
    "start_margin_minutes",
    "start_margin_ms",
    "retest_interval_ms",
    "backoff_ticks",
    "fee_aware",
    "post_only",
    "max_loss",
)
ADD_FIELDS = frozenset({"name", "ticker_a", "ticker_b", "start", "dry_run", "start_ms", *THEO_FIELDS,
                        *SETTING_FIELDS})
UPDATE_FIELDS = frozenset({*THEO_FIELDS, *SETTING_FIELDS})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_body(body: bytes) -> dict[str, Any]:
    """Request body -> dict with every JSON number as an int or an exact Decimal (never a float)."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(422, "the request body must be a JSON object")
    return data


def _reject_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError(422, f"unknown field {key!r}; allowed: {', '.join(sorted(allowed))}", key)


def _number(body: dict[str, Any], key: str) -> Decimal | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(422, f"{key} must be a number, not {str(value).lower()}", key)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ApiError(422, f"{key} {value!r} is not a number", key) from None
    else:
        raise ApiError(422, f"{key} must be a number or a numeric string", key)
    if not number.is_finite():
        raise ApiError(422, f"{key} must be a finite number", key)
    return number


def _cents(body: dict[str, Any], key: str) -> Price | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        return price_from_cents(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"{key}: {error}", key) from None


def _contracts(body: dict[str, Any], key: str) -> Count | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        count = parse_count(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"{key}: {error}", key) from None
    if count <= 0:
        raise ApiError(422, f"{key} must be more than 0 contracts", key)
    return count


def _odds(body: dict[str, Any], key: str) -> Decimal | None:
    number = _number(body, key)
    if number is None:
        return None
    try:
        return parse_decimal_odds(number)
    except OddsError as error:
        raise ApiError(422, f"{key}: {error}", key) from None


def _whole(body: dict[str, Any], key: str, minimum: int) -> int | None:
    number = _number(body, key)
    if number is None:
        return None
    if number != number.to_integral_value() or number < minimum:
        raise ApiError(422, f"{key} must be a whole number >= {minimum}", key)
    return int(number)


def _flag(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(422, f"{key} must be true or false", key)


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(422, f"{key} must be a string", key)


def _ticker(body: dict[str, Any], key: str) -> str:
    value = (_text(body, key) or "").strip().upper()
    if not value:
        raise ApiError(422, f"{key} is required: the market ticker of team {key[-1].upper()}", key)
    if not _TICKER.fullmatch(value):
        raise ApiError(422, f"{key} {value!r} is not a market ticker", key)
    return value


def match_id_for(ticker_a: str, ticker_b: str) -> str:
    """Same id the TUI gives a match (its two tickers), so the journal keys it the same way."""
    return f"{ticker_a}+{ticker_b}"


def parse_theo(
    body: dict[str, Any], current: TheoInput | None, default_method: DevigMethod
) -> TheoInput | None:
    """Theo from ``odds_a``/``odds_b`` (+``odds_draw``) or ``theo_a``/``theo_b``; None when absent.

    ``current`` (settings updates) lets ``method`` alone re-price the odds already in use.
    """
    if all(body.get(key) is None for key in THEO_FIELDS):
        return None
    method = current.method if current is not None else default_method
    if body.get("method") is not None:
        try:
            method = DevigMethod(body["method"])
        except ValueError:
            choices = ", ".join(m.value for m in DevigMethod)
            raise ApiError(422, f"method must be one of {choices}", "method") from None
    odds_a, odds_b, odds_draw = _odds(body, "odds_a"), _odds(body, "odds_b"), _odds(body, "odds_draw")
    theo_a, theo_b = _cents(body, "theo_a"), _cents(body, "theo_b")
    has_odds = any(v is not None for v in (odds_a, odds_b, odds_draw))
    has_theo = theo_a is not None or theo_b is not None
    if has_odds and has_theo:
        raise ApiError(422, "give either odds (odds_a/odds_b) or theo (theo_a/theo_b), not both", "theo_a")
    if has_theo:
        if theo_a is None:
            raise ApiError(422, "theo_a is required with theo_b (cents)", "theo_a")
        if theo_b is not None and theo_a + theo_b > PRICE_SCALE:
            raise ApiError(422, "theo_a + theo_b must not exceed 100 cents", "theo_b")
        theo = TheoInput(theo_a=theo_a, theo_b=theo_b, method=method)
    elif has_odds:
        if odds_a is None or odds_b is None:
            missing = "odds_a" if odds_a is None else "odds_b"
            raise ApiError(422, "odds_a and odds_b go together (decimal odds, e.g. 1.85)", missing)
        theo = TheoInput(odds_a=odds_a, odds_b=odds_b, odds_draw=odds_draw, method=method)
    elif current is not None and not current.is_manual:
        theo = replace(current, method=method)
    else:
        raise ApiError(422, "method applies to odds: give odds_a and odds_b too", "method")
    theo_prices(theo)  # raises EngineError(field=...) for odds that cannot be de-vigged
    return theo


def parse_settings(body: dict[str, Any], base: MatchSettings) -> MatchSettings:
    """``base`` with the settings present in ``body`` applied (absent or null fields keep theirs;
    ``"max_loss": null`` clears the loss limit)."""
    changes: dict[str, Any] = {}
    edge = _cents(body, "edge")
    if edge is not None:
        if edge >= PRICE_SCALE:
            raise ApiError(422, "edge must be less than 100 cents", "edge")
        changes["edge"] = edge
    for key in ("contracts", "inventory_max"):
        count = _contracts(body, key)
        if count is not None:
            changes[key] = count
    minutes = _number(body, "start_margin_minutes")
    margin_ms = _whole(body, "start_margin_ms", 0)
    if minutes is not None and margin_ms is not None:
        raise ApiError(422, "give start_margin_minutes or start_margin_ms, not both", "start_margin_minutes")
    if minutes is not None:
        exact = minutes * 60_000
        if minutes < 0 or exact != exact.to_integral_value():
            reason = "start_margin_minutes must be >= 0 (in whole milliseconds)"
            raise ApiError(422, reason, "start_margin_minutes")
        margin_ms = int(exact)
    if margin_ms is not None:
        changes["start_margin_ms"] = margin_ms
    for key, minimum in (("retest_interval_ms", 1), ("backoff_ticks", 0)):
        value = _whole(body, key, minimum)
        if value is not None:
            changes[key] = value
    for key in ("fee_aware", "post_only"):
        flag = _flag(body, key)
        if flag is not None:
            changes[key] = flag
    if "max_loss" in body:
        changes["max_loss"] = _max_loss(body)
    settings = replace(base, **changes)
    if settings.inventory_max < settings.contracts:
        field = "inventory_max" if "inventory_max" in changes else "contracts"
        raise ApiError(422, "inventory_max must be at least contracts", field)
    return settings


def _max_loss(body: dict[str, Any]) -> Money | None:
    number = _number(body, "max_loss")
    if number is None:
        return None
    try:
        amount = parse_money(format(number, "f"))
    except WireFormatError as error:
        raise ApiError(422, f"max_loss (dollars): {error}", "max_loss") from None
    if amount <= 0:
        raise ApiError(422, "max_loss must be more than $0 (or null for no limit)", "max_loss")
    return amount


# --- the ASGI app ------------------------------------------------------------------------------------


def _error(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"field": field, "reason": reason}, status_code=status)


class BearerAuth:
    """ASGI middleware: every HTTP request and WebSocket needs the token, or gets a 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._authorized(scope):
            response = _error(401, f"missing or wrong token: send Authorization: Bearer <{TOKEN_FILE_NAME}>")
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        candidates: list[bytes] = []
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                scheme, _, credential = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    candidates.append(credential.strip())
        if scope["type"] == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            candidates.extend(value.encode("latin-1") for value in query.get("token", ()))
        # compare every candidate (constant time each) so timing does not say which one matched
        matches = [hmac.compare_digest(candidate, self._token) for candidate in candidates]
        return any(matches)


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """Map refusals to JSON errors; log anything unexpected (the client sees no internals)."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return _error(error.status, error.reason, error.field)
        except EngineError as error:
            # a field means bad input (422); without one it is a state conflict, e.g. orders still resting
            return _error(422 if error.field else 409, error.user_message, error.field)
        except Exception:
            log.exception("control API: %s %s failed", request.method, request.url.path)
            return _error(500, "internal error in kmm; details are in the log file")

    return endpoint


class ControlApi:
    """Routes HTTP/WebSocket calls to one engine."""

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        defaults: MatchSettings | None = None,
        devig: DevigMethod = DevigMethod.MULTIPLICATIVE,
    ) -> None:
        self.engine = engine
        self._defaults = defaults or MatchSettings()
        self._devig = devig
        routes = [
            Route("/api/state", _guarded(self.state), methods=["GET"]),
            Route("/api/matches", _guarded(self.add_match), methods=["POST"]),
            Route("/api/matches/{match_id}", _guarded(self.get_match), methods=["GET"]),
            Route("/api/matches/{match_id}", _guarded(self.delete_match), methods=["DELETE"]),
            Route("/api/matches/{match_id}/start", _guarded(self.start_match), methods=["POST"]),
            Route("/api/matches/{match_id}/stop", _guarded(self.stop_match), methods=["POST"]),
            Route("/api/matches/{match_id}/settings", _guarded(self.update_settings), methods=["POST"]),
            Route("/api/kill", _guarded(self.kill), methods=["POST"]),
            Route("/api/risk/reset", _guarded(self.reset_risk), methods=["POST"]),
            WebSocketRoute("/ws", self.stream),
        ]
        not_found = {404: self._not_found, 405: self._not_allowed}
        self.app: ASGIApp = BearerAuth(
            Starlette(routes=routes, exception_handlers=not_found),  # type: ignore[arg-type]
            token,
        )

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    async def _not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no such endpoint: {request.url.path}")

    @staticmethod
    async def _not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"{request.method} is not allowed on {request.url.path}")

    def _view(self, match_id: str) -> MatchView:
        view = next((m for m in self.engine.snapshot().matches if m.spec.match_id == match_id), None)
        if view is None:
            raise ApiError(404, f"there is no match {match_id!r}; GET /api/state lists them", "match_id")
        return view

    def _match_payload(self, match_id: str) -> dict[str, Any]:
        return {"id": match_id, "match": match_json(self._view(match_id))}

    # --- endpoints -------------------------------------------------------------------------------

    async def state(self, request: Request) -> Response:
        return JSONResponse(state_json(self.engine.snapshot()))

    async def get_match(self, request: Request) -> Response:
        return JSONResponse(self._match_payload(request.path_params["match_id"]))

    async def add_match(self, request: Request) -> Response:
        body = parse_body(await request.body())
        _reject_unknown(body, ADD_FIELDS)
        ticker_a, ticker_b = _ticker(body, "ticker_a"), _ticker(body, "ticker_b")
        theo = parse_theo(body, None, self._devig)
        if theo is None:
            raise ApiError(422, "give decimal odds (odds_a, odds_b) or a theo in cents (theo_a)", "odds_a")
        settings = parse_settings(body, self._defaults)
        start, dry_run = bool(_flag(body, "start")), bool(_flag(body, "dry_run"))
        if dry_run and not start:
            raise ApiError(422, "dry_run only applies with \"start\": true", "dry_run")
        match_id = match_id_for(ticker_a, ticker_b)
        if any(m.spec.match_id == match_id for m in self.engine.snapshot().matches):
            raise ApiError(409, f"{match_id} is already a match: change it with /settings", "ticker_b")
        spec = MatchSpec(
            match_id,
            ticker_a,
            ticker_b,
            theo,
            settings,
            name=(_text(body, "name") or "").strip(),
            start_ms=_whole(body, "start_ms", 0),
        )
        await self.engine.execute(cmd.AddMatch(spec))
        payload: dict[str, Any] = {"id": match_id}
        if start:
            try:
                await self.engine.execute(cmd.StartMatch(match_id, dry_run=dry_run))
            except EngineError as error:  # added but not started: say so, the match stays listed
                payload["start_error"] = error.user_message
        payload["match"] = match_json(self._view(match_id))
        return JSONResponse(payload, status_code=201)

    async def start_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        _reject_unknown(body, frozenset({"dry_run"}))
        self._view(match_id)
        await self.engine.execute(cmd.StartMatch(match_id, dry_run=bool(_flag(body, "dry_run"))))
        return JSONResponse(self._match_payload(match_id))

    async def stop_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        _reject_unknown(body, frozenset({"reason"}))
        self._view(match_id)
        reason = (_text(body, "reason") or "").strip() or "stopped via the control API"
        await self.engine.execute(cmd.StopMatch(match_id, reason))
        return JSONResponse(self._match_payload(match_id))

    async def update_settings(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        body = parse_body(await request.body())
        _reject_unknown(body, UPDATE_FIELDS)
        spec = self._view(match_id).spec
        theo = parse_theo(body, spec.theo, self._devig)
        settings = parse_settings(body, spec.settings)
        if theo is None and settings == spec.settings:
            raise ApiError(422, f"nothing to change: give any of {', '.join(sorted(UPDATE_FIELDS))}")
        changed = settings if settings != spec.settings else None
        await self.engine.execute(cmd.UpdateMatch(match_id, theo=theo, settings=changed))
        return JSONResponse(self._match_payload(match_id))

    async def delete_match(self, request: Request) -> Response:
        match_id = request.path_params["match_id"]
        self._view(match_id)
        await self.engine.execute(cmd.DeleteMatch(match_id))
        return JSONResponse({"id": match_id, "deleted": True})

    async def kill(self, request: Request) -> Response:
        left = await self.engine.kill_all("kill switch (control API)")
        return JSONResponse({"orders_left": left, "clean": left == 0})

    async def reset_risk(self, request: Request) -> Response:
        """Clear the account-limit latch (docs/guards.md); matches stay stopped until started."""
        account = self.engine.snapshot().account
        was = account.latched if account is not None else None
        await self.engine.execute(cmd.ResetAccountLimits())
        return JSONResponse({"reset": was is not None, "was": was})

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        subscriber = _Subscriber()
        unsubscribe = self.engine.listen(subscriber)
        sender = asyncio.create_task(subscriber.send_loop(websocket, self.engine), name="control-api-ws")
        receiver = asyncio.create_task(_drain(websocket), name="control-api-ws-receive")
        try:
            await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
        finally:
            unsubscribe()
            for task in (sender, receiver):
                task.cancel()
            for task in (sender, receiver):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    try:
                        await task
                    except (RuntimeError, OSError) as error:  # the client went away mid-send
                        log.debug("control API WebSocket closed: %r", error)
            if websocket.client_state is WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, OSError):
                    await websocket.close()


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects: the stream is one-way."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


class _Subscriber:
    """One WebSocket client's event buffer; the engine calls it, the send loop drains it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(EVENT_QUEUE_MAX)
        self.wake = asyncio.Event()
        self.dirty = True
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        self.dirty = True
        payload = event_json(event)
        if payload is not None:
            try:
                self.queue.put_nowait(payload)
            except asyncio.QueueFull:
                self.dropped += 1
        self.wake.set()

    async def send_loop(self, websocket: WebSocket, engine: Engine) -> None:
        loop = asyncio.get_running_loop()
        last_state = float("-inf")  # float-ok: loop time in seconds, not money
        while True:
            while not self.queue.empty():
                await websocket.send_json(self.queue.get_nowait())
            if self.dropped:
                await websocket.send_json({"type": "overflow", "dropped": self.dropped})
                self.dropped = 0
            since = loop.time() - last_state
            if (self.dirty and since >= STATE_INTERVAL_S) or since >= KEEPALIVE_S:
                self.dirty = False
                await websocket.send_json({"type": "state", "state": state_json(engine.snapshot())})
                last_state = loop.time()
                since = 0.0
            timeout = max(0.0, STATE_INTERVAL_S - since) if self.dirty else KEEPALIVE_S - since
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            self.wake.clear()


# --- serving ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunningApi:
    """Where a started control API listens and the token it wants."""

    url: str  # http://127.0.0.1:PORT
    token: str
    token_path: Path
    port: int

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/ws"


def check_host(host: str, allow_remote: bool = False) -> str:
    """The address to bind. Anything but loopback needs ``allow_remote``: this API trades money."""
    if host == "localhost":
        return "127.0.0.1"
    if host in LOOPBACK_HOSTS or allow_remote:
        return host
    raise ControlApiError(
        f"the control API only listens on 127.0.0.1 (asked for {host}): anyone who can reach it can "
        "trade on your account; use an SSH tunnel to reach it from another machine"
    )


def write_token(state_dir: Path) -> tuple[str, Path]:
    """A fresh random token in ``<state dir>/api_token``, readable by the owner only (mode 600)."""
    token = secrets.token_urlsafe(32)
    ensure_private_dir(state_dir)
    path = state_dir / TOKEN_FILE_NAME
    temporary = state_dir / f".{TOKEN_FILE_NAME}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return token, path


def _remove_token(path: Path, token: str) -> None:
    """Delete the token file unless another process already replaced it with its own."""
    with contextlib.suppress(OSError):
        if path.read_text().strip() == token:
            path.unlink()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ControlApiError(
            f"the control API cannot listen on {host}:{port} ({error.strerror or error}); "
            "choose another --api PORT"
        ) from None
    sock.set_inheritable(True)
    return sock


class _DenialNoiseFilter(logging.Filter):
    """uvicorn's sans-io WebSocket logs an ERROR after every HTTP denial response (our 401 to a
    WebSocket without the token) although the denial was sent correctly; keep that out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


_DENIAL_NOISE = _DenialNoiseFilter()


@contextlib.asynccontextmanager
async def serve_control_api(
    engine: Engine,
    port: int,
    state_dir: Path,
    host: str = "127.0.0.1",
    *,
    allow_remote: bool = False,
    defaults: MatchSettings | None = None,
    devig: DevigMethod = DevigMethod.MULTIPLICATIVE,
) -> AsyncIterator[RunningApi]:
    """Serve the control API for ``engine`` on this event loop until the block exits.

    ``port`` 0 picks a free port (see ``api.url``). ``defaults`` fill settings a new match omits.
    Raises ControlApiError when the host is not loopback (without ``allow_remote``) or the port is busy.
    """
    bind_host = check_host(host, allow_remote)
    sock = _bind(bind_host, port)
    token, token_path = write_token(state_dir)
    api = ControlApi(engine, token, defaults=defaults, devig=devig)
    config = uvicorn.Config(
        api.app,
        log_config=None,  # our file logging stays as it is; nothing is printed to the terminal
        access_log=False,  # the WebSocket URL can carry the token
        lifespan="off",
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    # uvicorn would take over SIGINT/SIGTERM; the front-end owns signals (Ctrl-C pulls orders first).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addFilter(_DENIAL_NOISE)  # idempotent; harmless when left
    task = asyncio.create_task(server.serve(sockets=[sock]), name="control-api")
    try:
        while not server.started:
            if task.done():
                with contextlib.suppress(SystemExit):
                    task.result()
                raise ControlApiError(f"the control API could not start on {bind_host}:{port}; see the log")
            await asyncio.sleep(0.01)
        bound_port = sock.getsockname()[1]
        url_host = f"[{bind_host}]" if ":" in bind_host else bind_host
        running = RunningApi(f"http://{url_host}:{bound_port}", token, token_path, bound_port)
        log.info("control API listening on %s (token in %s)", running.url, token_path)
        yield running
    finally:
        server.should_exit = True
        try:
            await task
        except (Exception, SystemExit):
            log.exception("control API shutdown failed")
        sock.close()
        _remove_token(token_path, token)


__all__ = [
    "ApiError",
    "ControlApi",
    "ControlApiError",
    "RunningApi",
    "cents_text",
    "check_host",
    "contracts_text",
    "dollars_text",
    "event_json",
    "match_json",
    "parse_body",
    "parse_settings",
    "parse_theo",
    "serve_control_api",
    "state_json",
    "write_token",
]
