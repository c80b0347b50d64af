"""The WebSocket feed at ``/trade-api/ws/v2`` (§7 of the API notes).

The upgrade must be signed (path ``/trade-api/ws/v2``). Commands: subscribe, unsubscribe,
update_subscription (add_markets / delete_markets / get_snapshot), list_subscriptions. Exchange
events are turned into channel messages synchronously (so the book a client rebuilds is exact) and
queued per connection; a writer task drains the queue. ``seq`` is per sid for ``orderbook_delta``
and ``order_group_updates`` (also on their ``ok``/``unsubscribed`` replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from kmm_tui.domain.prices import MONEY_SCALE, PRICE_SCALE, format_count, format_price
from kmm_tui.sim import wire
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.events import (
    BookDelta,
    EventChanged,
    FillEvent,
    GroupEvent,
    LifecycleEvent,
    OrderEvent,
    PositionEvent,
    SimEvent,
    TickerEvent,
    TradeEvent,
)

WS_PATH = "/trade-api/ws/v2"
CHANNELS = (
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "user_orders",
    "market_positions",
    "order_group_updates",
    "market_lifecycle_v2",
)
SEQ_CHANNELS = ("orderbook_delta", "order_group_updates")
MARKET_CHANNELS = ("orderbook_delta", "ticker", "trade", "fill", "user_orders", "market_positions")
MAX_QUEUE = 50_000
EVENT_CHANNELS: dict[type, str] = {  # the one channel that carries each kind of exchange event
    BookDelta: "orderbook_delta",
    TickerEvent: "ticker",
    TradeEvent: "trade",
    FillEvent: "fill",
    OrderEvent: "user_orders",
    PositionEvent: "market_positions",
    GroupEvent: "order_group_updates",
    LifecycleEvent: "market_lifecycle_v2",
    EventChanged: "market_lifecycle_v2",
}


@dataclass(slots=True)
class Subscription:
    sid: int
    channel: str
    tickers: set[str] | None  # None = every market
    use_yes_price: bool = False
    seq: int = 0


@dataclass(eq=False, slots=True)
class Session:
    """One connection: its account, subscriptions and outbound queue."""

    account_id: str
    websocket: WebSocket
    queue: asyncio.Queue[tuple[float, str] | None] = field(default_factory=asyncio.Queue)
    subs: dict[int, Subscription] = field(default_factory=dict)
    next_sid: int = 1
    closed: bool = False


class Hub:
    """Fans exchange events out to sessions; owns the WebSocket route."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.sessions: set[Session] = set()
        ctx.exchange.listeners.append(self.on_event)
        ctx.drop_websockets = self.drop_all

    def route(self) -> WebSocketRoute:
        return WebSocketRoute(WS_PATH, self.endpoint)

    # --- connection lifecycle ------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        headers = {k.lower(): v for k, v in websocket.headers.items()}
        try:
            account_id = self.ctx.keys.verify(headers, "GET", WS_PATH, self.ctx.clock.wall_ms())
        except SimError as exc:
            await websocket.send_denial_response(JSONResponse(exc.body(), status_code=exc.status))
            return
        await websocket.accept()
        session = Session(account_id, websocket)
        self.sessions.add(session)
        writer = asyncio.create_task(self._writer(session))
        try:
            while True:
                text = await websocket.receive_text()
                self._command(session, text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            session.closed = True
            self.sessions.discard(session)
            session.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def _writer(self, session: Session) -> None:
        """Send queued messages in order, each no earlier than its due time (``Fidelity.feed_lag_ms``)."""
        while True:
            item = await session.queue.get()
            if item is None:
                return
            due, text = item
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await session.websocket.send_text(text)
            except Exception:  # the peer went away; the reader loop cleans up
                return

    def drop_all(self) -> None:
        """Fault: close every connection abruptly (code 1011), as a network drop would."""
        for session in list(self.sessions):
            session.closed = True
            self.sessions.discard(session)
            asyncio.get_running_loop().create_task(self._close(session))

    @staticmethod
    async def _close(session: Session) -> None:
        with contextlib.suppress(Exception):
            await session.websocket.close(code=1011, reason="dropped by simulator fault")

    # --- sending -------------------------------------------------------------------------------

    def _send(self, session: Session, message: dict[str, Any]) -> None:
        if session.closed:
            return
        due = time.monotonic() + self.ctx.fidelity.feed_lag_ms / 1000
        if session.queue.qsize() > MAX_QUEUE:
            session.closed = True
            session.queue.put_nowait(
                (due, json.dumps({"type": "error", "msg": {"code": 25, "msg": "Buffer overflow"}}))
            )
            session.queue.put_nowait(None)
            return
        session.queue.put_nowait((due, json.dumps(message, separators=(",", ":"))))

    def _next_seq(self, sub: Subscription) -> int:
        sub.seq += 1
        faults = self.ctx.faults
        if faults.skip_seq > 0:
            faults.skip_seq -= 1
            sub.seq += faults.skip_seq_by
        return sub.seq

    def _sub_message(self, session: Session, sub: Subscription, mtype: str, msg: dict[str, Any]) -> None:
        out: dict[str, Any] = {"type": mtype, "sid": sub.sid}
        if sub.channel in SEQ_CHANNELS:
            out["seq"] = self._next_seq(sub)
        out["msg"] = msg
        self._send(session, out)

    # --- commands ------------------------------------------------------------------------------

    def _error(self, session: Session, cmd_id: Any, code: int, msg: str, **extra: Any) -> None:
        body: dict[str, Any] = {"code": code, "msg": msg, **extra}
        out: dict[str, Any] = {"type": "error", "msg": body}
        if cmd_id:
            out = {"id": cmd_id, **out}
        self._send(session, out)

    def _command(self, session: Session, text: str) -> None:
        try:
            cmd = json.loads(text)
        except json.JSONDecodeError:
            self._error(session, 0, 1, "Unable to process message")
            return
        if not isinstance(cmd, dict):
            self._error(session, 0, 1, "Unable to process message")
            return
        cmd_id = cmd.get("id", 0)
        params = cmd.get("params") or {}
        if not isinstance(params, dict):
            self._error(session, cmd_id, 2, "Params required")
            return
        name = cmd.get("cmd")
        if name == "subscribe":
            self._subscribe(session, cmd_id, params)
        elif name == "unsubscribe":
            self._unsubscribe(session, cmd_id, params)
        elif name == "update_subscription":
            self._update(session, cmd_id, params)
        elif name == "list_subscriptions":
            listing = [{"channel": s.channel, "sid": s.sid} for s in session.subs.values()]
            self._send(session, {"id": cmd_id, "type": "ok", "msg": listing})
        else:
            self._error(session, cmd_id, 5, "Unknown command")

    def _tickers_param(self, session: Session, cmd_id: Any, params: dict[str, Any]) -> list[str] | None:
        """Market tickers from ``market_tickers``/``market_ticker``; None after sending an error."""
        tickers = params.get("market_tickers")
        if tickers is None and params.get("market_ticker"):
            tickers = [params["market_ticker"]]
        if tickers is None:
            return []
        if not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers):
            self._error(session, cmd_id, 11, "Invalid parameter: market_tickers")
            return None
        for ticker in tickers:
            if ticker not in self.ctx.exchange.markets:
                self._error(session, cmd_id, 16, "Market not found", market_ticker=ticker)
                return None
        return tickers

    def _subscribe(self, session: Session, cmd_id: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            self._error(session, cmd_id, 3, "Channels required")
            return
        for channel in channels:
            if channel not in CHANNELS:
                self._error(session, cmd_id, 8, "Unknown channel name")
                return
        tickers = self._tickers_param(session, cmd_id, params)
        if tickers is None:
            return
        use_yes = bool(params.get("use_yes_price", False))
        for channel in channels:
            if channel == "orderbook_delta" and not tickers:
                self._error(session, cmd_id, 14, "Market ticker required")
                continue
            existing = next((s for s in session.subs.values() if s.channel == channel), None)
            if existing is not None:
                added = [t for t in tickers if existing.tickers is not None and t not in existing.tickers]
                if not added:
                    self._error(session, cmd_id, 6, "Already subscribed")
                    continue
                assert existing.tickers is not None
                existing.tickers.update(added)
                self._send(
                    session,
                    {"id": cmd_id, "type": "subscribed", "msg": {"channel": channel, "sid": existing.sid}},
                )
                self._initial(session, existing, added, params)
                continue
            sub = Subscription(
                session.next_sid,
                channel,
                set(tickers) if tickers and channel in MARKET_CHANNELS else None,
                use_yes,
            )
            session.next_sid += 1
            session.subs[sub.sid] = sub
            self._send(
                session, {"id": cmd_id, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}
            )
            self._initial(session, sub, tickers, params)

    def _initial(
        self, session: Session, sub: Subscription, tickers: list[str], params: dict[str, Any]
    ) -> None:
        if sub.channel == "orderbook_delta":
            for ticker in tickers:
                self._snapshot(session, sub, ticker)
        elif sub.channel == "ticker" and params.get("send_initial_snapshot"):
            for ticker in tickers:
                self._sub_message(session, sub, "ticker", self._ticker_msg(ticker, self.ctx.clock.now_ms()))

    def _snapshot(self, session: Session, sub: Subscription, ticker: str) -> None:
        ex = self.ctx.exchange
        book = ex.books[ticker]
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": ex.markets[ticker].market_id}
        yes = wire.levels(book.yes_levels(), 0)
        if sub.use_yes_price:
            no = wire.levels(book.no_levels(), 0, invert=True)
        else:
            no = wire.levels(book.no_levels(), 0)
        if yes:
            msg["yes_dollars_fp"] = yes
        if no:
            msg["no_dollars_fp"] = no
        self._sub_message(session, sub, "orderbook_snapshot", msg)

    def _sid_param(self, session: Session, cmd_id: Any, params: dict[str, Any]) -> Subscription | None:
        sid = params.get("sid")
        sids = params.get("sids")
        if sid is None and isinstance(sids, list):
            if len(sids) != 1:
                self._error(session, cmd_id, 12, "Exactly one sid required")
                return None
            sid = sids[0]
        if sid is None:
            self._error(session, cmd_id, 4, "Sid required")
            return None
        sub = session.subs.get(sid) if isinstance(sid, int) else None
        if sub is None:
            self._error(session, cmd_id, 7, "Unknown subscription id")
        return sub

    def _unsubscribe(self, session: Session, cmd_id: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids:
            self._error(session, cmd_id, 4, "Sids required")
            return
        for sid in sids:
            sub = session.subs.pop(sid, None) if isinstance(sid, int) else None
            if sub is None:
                self._error(session, cmd_id, 7, "Unknown subscription id")
                continue
            out: dict[str, Any] = {"id": cmd_id, "sid": sub.sid}
            if sub.channel in SEQ_CHANNELS:
                out["seq"] = self._next_seq(sub)
            out["type"] = "unsubscribed"
            self._send(session, out)

    def _update(self, session: Session, cmd_id: Any, params: dict[str, Any]) -> None:
        sub = self._sid_param(session, cmd_id, params)
        if sub is None:
            return
        action = params.get("action")
        if not action:
            self._error(session, cmd_id, 15, "Action required")
            return
        tickers = self._tickers_param(session, cmd_id, params)
        if tickers is None:
            return
        if action not in ("add_markets", "delete_markets", "get_snapshot"):
            self._error(session, cmd_id, 13, "Invalid action")
            return
        if not tickers and action != "get_snapshot":
            self._error(session, cmd_id, 14, "Market ticker required")
            return
        new: list[str] = []
        if action == "add_markets":
            if sub.tickers is None:
                sub.tickers = set()
            new = [t for t in tickers if t not in sub.tickers]
            sub.tickers.update(new)
        elif action == "delete_markets" and sub.tickers is not None:
            sub.tickers.difference_update(tickers)
        msg = {"market_tickers": sorted(sub.tickers or ())}
        out: dict[str, Any] = {"id": cmd_id, "sid": sub.sid}
        if sub.channel in SEQ_CHANNELS:
            out["seq"] = self._next_seq(sub)
        out.update({"type": "ok", "msg": msg})
        self._send(session, out)
        if action == "add_markets" and sub.channel == "orderbook_delta":
            for ticker in new:
                self._snapshot(session, sub, ticker)
        elif action == "get_snapshot" and sub.channel == "orderbook_delta":
            for ticker in tickers or sorted(sub.tickers or ()):
                self._snapshot(session, sub, ticker)

    # --- exchange events → messages ------------------------------------------------------------

    def _ticker_msg(self, ticker: str, ts_ms: int) -> dict[str, Any]:
        ex = self.ctx.exchange
        market = ex.markets[ticker]
        bid, ask = ex.top_of_book(ticker)
        return {
            "market_ticker": ticker,
            "market_id": market.market_id,
            "price_dollars": format_price(market.last_price or 0),
            "yes_bid_dollars": format_price(bid[0] if bid else 0),
            "yes_ask_dollars": format_price(ask[0] if ask else PRICE_SCALE),
            "volume_fp": format_count(market.volume),
            "open_interest_fp": format_count(market.open_interest),
            "dollar_volume": market.dollar_volume // MONEY_SCALE,
            "dollar_open_interest": market.open_interest * (market.last_price or 0) // MONEY_SCALE,
            "yes_bid_size_fp": format_count(bid[1] if bid else 0),
            "yes_ask_size_fp": format_count(ask[1] if ask else 0),
            "last_trade_size_fp": format_count(market.last_trade_size),
            "ts": ts_ms // 1000,
            "ts_ms": ts_ms,
            "time": wire.iso_ms(ts_ms),
        }

    def on_event(self, event: SimEvent) -> None:
        """Route one exchange event to every subscription of its channel (called synchronously).

        Only subscriptions of the event's channel are looked at: a book delta used to be offered to every
        subscription of every session (six per engine), a third of the simulator's time per order.
        """
        if not self.sessions:
            return
        channel = EVENT_CHANNELS[type(event)]
        for session in list(self.sessions):
            for sub in list(session.subs.values()):
                if sub.channel == channel:
                    self._deliver(session, sub, event)

    def _wants(self, sub: Subscription, ticker: str) -> bool:
        return sub.tickers is None or ticker in sub.tickers

    def _deliver(self, session: Session, sub: Subscription, event: SimEvent) -> None:
        ch = sub.channel
        ex = self.ctx.exchange
        if isinstance(event, BookDelta):
            if ch != "orderbook_delta" or not self._wants(sub, event.ticker):
                return
            price = event.price
            if event.side == "no" and sub.use_yes_price:
                price = PRICE_SCALE - price
            msg: dict[str, Any] = {
                "market_ticker": event.ticker,
                "market_id": ex.markets[event.ticker].market_id,
                "price_dollars": format_price(price),
                "delta_fp": format_count(event.delta),
                "side": event.side,
                "ts": wire.iso_ms(event.ts_ms),
                "ts_ms": event.ts_ms,
            }
            if event.account_id == session.account_id and event.client_order_id is not None:
                msg["client_order_id"] = event.client_order_id
                msg["subaccount"] = event.subaccount
            self._sub_message(session, sub, "orderbook_delta", msg)
        elif isinstance(event, TickerEvent):
            if ch == "ticker" and self._wants(sub, event.ticker):
                self._sub_message(session, sub, "ticker", self._ticker_msg(event.ticker, event.ts_ms))
        elif isinstance(event, TradeEvent):
            if ch == "trade" and self._wants(sub, event.trade.ticker):
                t = event.trade
                body = wire.trade_json(t)
                body.pop("ticker")
                body.pop("created_time")
                self._sub_message(
                    session,
                    sub,
                    "trade",
                    {
                        "trade_id": t.trade_id,
                        "market_ticker": t.ticker,
                        **body,
                        "ts": t.created_ms // 1000,
                        "ts_ms": t.created_ms,
                    },
                )
        elif isinstance(event, FillEvent):
            f = event.fill
            if ch == "fill" and f.account_id == session.account_id and self._wants(sub, f.ticker):
                self._sub_message(session, sub, "fill", wire.ws_fill_json(f))
        elif isinstance(event, OrderEvent):
            o = event.order
            if ch == "user_orders" and o.account_id == session.account_id and self._wants(sub, o.ticker):
                self._sub_message(session, sub, "user_order", wire.user_order_json(o))
        elif isinstance(event, PositionEvent):
            if (
                ch == "market_positions"
                and event.account_id == session.account_id
                and self._wants(sub, event.ticker)
            ):
                account = ex.accounts[event.account_id]
                self._sub_message(
                    session, sub, "market_position", wire.ws_position_json(account, event.ticker)
                )
        elif isinstance(event, GroupEvent):
            if ch == "order_group_updates" and event.account_id == session.account_id:
                body = {
                    "event_type": event.event_type,
                    "order_group_id": event.group_id,
                    "ts_ms": event.ts_ms,
                }
                if event.limit is not None and event.event_type in ("created", "limit_updated"):
                    body["contracts_limit_fp"] = format_count(event.limit)
                self._sub_message(session, sub, "order_group_updates", body)
        elif isinstance(event, LifecycleEvent) and ch == "market_lifecycle_v2":
            self._sub_message(session, sub, "market_lifecycle_v2", self._lifecycle_msg(event))
        elif isinstance(event, EventChanged) and ch == "market_lifecycle_v2":
            self._sub_message(session, sub, event.kind, self._event_msg(event))

    def _event_msg(self, event: EventChanged) -> dict[str, Any]:
        """``event_lifecycle`` / ``event_fee_update`` bodies (fixtures ``ws/event_lifecycle.json``, …)."""
        e = self.ctx.exchange.events[event.event_ticker]
        if event.kind == "event_fee_update":
            mult = e.fee_multiplier_override
            return {
                "event_ticker": e.event_ticker,
                "fee_type_override": e.fee_type_override,
                "fee_multiplier_override": None if mult is None else wire.number(mult),
            }
        return {
            "event_ticker": e.event_ticker,
            "exchange_index": e.exchange_index,
            "title": e.title,
            "subtitle": e.sub_title,
            "collateral_return_type": e.collateral_return_type,
            "series_ticker": e.series_ticker,
        }

    def _lifecycle_msg(self, event: LifecycleEvent) -> dict[str, Any]:
        ex = self.ctx.exchange
        msg: dict[str, Any] = {"market_ticker": event.ticker, "event_type": event.event_type}
        data = dict(event.data)
        if event.event_type == "determined" and "settlement_value" in data:
            data["settlement_value"] = format_price(data["settlement_value"])
        if event.event_type == "created":
            market = ex.markets[event.ticker]
            data.update(
                {
                    "exchange_index": market.exchange_index,
                    "open_ts": market.open_ms // 1000,
                    "close_ts": market.close_ms // 1000,
                    "price_level_structure": market.price_level_structure,
                    "price_ranges": [dict(r) for r in market.price_ranges],
                    "additional_metadata": {
                        "title": market.title,
                        "yes_sub_title": market.yes_sub_title,
                        "no_sub_title": market.yes_sub_title,
                        "event_ticker": market.event_ticker,
                        "expected_expiration_ts": market.expected_expiration_ms // 1000,
                        "custom_strike": dict(market.custom_strike),
                    },
                }
            )
        msg.update(data)
        return msg
