"""WebSocket protocol over real loopback: signed upgrade, commands, snapshots, deltas, seq, faults."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kmm_tui.domain.prices import contracts, price_from_cents
from kmm_tui.sim import SimServer
from tests.sim.simkit import Signed, feed, recv, recv_type, send, sign_headers
from tests.support import load_fixture

WS_PATH = "/trade-api/ws/v2"


def body(ticker: str, side: str, price: str, count: str, **extra: Any) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "price": price,
        "count": count,
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        **extra,
    }


async def test_unsigned_upgrade_is_refused_with_401(sim: SimServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.ws_url):
            pass
    assert info.value.response.status_code == 401
    assert json.loads(info.value.response.body) == load_fixture(
        "kalshi/errors/auth_missing_signature_401.json"
    )
    bad = sign_headers(sim.demo_account.key_id, sim.demo_account.private_key_pem, "GET", "/trade-api/v2")
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.ws_url, additional_headers=bad):
            pass
    assert info.value.response.status_code == 401


async def test_orderbook_snapshot_deltas_and_own_client_order_id(
    sim: SimServer, api: Signed, cs2: str
) -> None:
    sim.place_competitor_order(cs2, "bid", price_from_cents(50), contracts(250))
    sim.place_competitor_order(cs2, "ask", price_from_cents(58), contracts(40))
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2], "use_yes_price": False},
            },
        )
        assert await recv(ws) == {
            "id": 1,
            "type": "subscribed",
            "msg": {"channel": "orderbook_delta", "sid": 1},
        }
        snap = await recv(ws)
        assert snap["type"] == "orderbook_snapshot" and snap["seq"] == 1 and snap["sid"] == 1
        assert snap["msg"]["yes_dollars_fp"] == [["0.5000", "250.00"]]
        assert snap["msg"]["no_dollars_fp"] == [["0.4200", "40.00"]]
        await api.post(
            "/portfolio/events/orders", json=body(cs2, "bid", "0.5500", "10", client_order_id="mine-1")
        )
        own = await recv(ws)
        assert own["type"] == "orderbook_delta" and own["seq"] == 2
        assert own["msg"]["client_order_id"] == "mine-1" and own["msg"]["delta_fp"] == "10.00"
        assert (own["msg"]["price_dollars"], own["msg"]["side"]) == ("0.5500", "yes")
        sim.place_competitor_order(cs2, "ask", price_from_cents(55), contracts(4))  # hits our bid
        hit = await recv(ws)
        assert (
            hit["seq"] == 3
            and hit["msg"]["delta_fp"] == "-4.00"
            and hit["msg"]["client_order_id"] == "mine-1"
        )
        sim.place_competitor_order(cs2, "ask", price_from_cents(60), contracts(7))
        other = await recv(ws)
        assert other["seq"] == 4 and "client_order_id" not in other["msg"]
        assert (other["msg"]["price_dollars"], other["msg"]["side"]) == ("0.4000", "no")


async def test_use_yes_price_and_missing_side(sim: SimServer, cs2: str) -> None:
    sim.place_competitor_order(cs2, "ask", price_from_cents(58), contracts(40))
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2], "use_yes_price": True},
            },
        )
        snap = await recv_type(ws, "orderbook_snapshot")
        assert snap["msg"]["no_dollars_fp"] == [["0.5800", "40.00"]] and "yes_dollars_fp" not in snap["msg"]
        sim.place_competitor_order(cs2, "ask", price_from_cents(59), contracts(1))
        delta = await recv(ws)
        assert delta["msg"]["price_dollars"] == "0.5900"


async def test_seq_gap_injection_and_get_snapshot_resync(sim: SimServer, cs2: str) -> None:
    faz = cs2[:-3] + "FAZ"
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2, faz]},
            },
        )
        await recv(ws)
        assert [(await recv(ws))["seq"] for _ in range(2)] == [1, 2]
        sim.faults.skip_seq()
        sim.place_competitor_order(cs2, "bid", price_from_cents(40), contracts(1))
        gapped = await recv(ws)
        assert gapped["seq"] == 5  # 3 and 4 never arrive
        sim.place_competitor_order(cs2, "bid", price_from_cents(41), contracts(1))
        assert (await recv(ws))["seq"] == 6
        await send(
            ws,
            {
                "id": 2,
                "cmd": "update_subscription",
                "params": {"sid": 1, "market_tickers": [cs2, faz], "action": "get_snapshot"},
            },
        )
        ok = await recv(ws)
        assert ok["type"] == "ok" and ok["id"] == 2 and ok["seq"] == 7
        snaps = [await recv(ws), await recv(ws)]
        assert [s["seq"] for s in snaps] == [8, 9]
        assert snaps[0]["msg"]["yes_dollars_fp"] == [["0.4000", "1.00"], ["0.4100", "1.00"]]


async def test_subscription_management(sim: SimServer, cs2: str) -> None:
    faz = cs2[:-3] + "FAZ"
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2]},
            },
        )
        await recv(ws)
        await recv(ws)
        await send(
            ws,
            {
                "id": 2,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2]},
            },
        )
        assert await recv(ws) == {"id": 2, "type": "error", "msg": {"code": 6, "msg": "Already subscribed"}}
        await send(
            ws,
            {"id": 3, "cmd": "subscribe", "params": {"channels": ["ticker"], "market_tickers": ["NOPE-X"]}},
        )
        err = await recv(ws)
        assert err["msg"]["code"] == 16 and err["msg"]["market_ticker"] == "NOPE-X"
        await send(
            ws,
            {
                "id": 4,
                "cmd": "update_subscription",
                "params": {"sids": [1], "market_tickers": [faz], "action": "add_markets"},
            },
        )
        ok = await recv(ws)
        assert ok["msg"]["market_tickers"] == sorted([cs2, faz]) and ok["seq"] == 2
        assert (await recv(ws))["msg"]["market_ticker"] == faz  # snapshot of the added market
        await send(ws, {"id": 5, "cmd": "subscribe", "params": {"channels": ["fill", "user_orders"]}})
        subscribed = [await recv(ws), await recv(ws)]
        assert [s["msg"]["sid"] for s in subscribed] == [2, 3] and {s["id"] for s in subscribed} == {5}
        await send(ws, {"id": 6, "cmd": "list_subscriptions"})
        listing = await recv(ws)
        assert listing["msg"] == [
            {"channel": "orderbook_delta", "sid": 1},
            {"channel": "fill", "sid": 2},
            {"channel": "user_orders", "sid": 3},
        ]
        await send(ws, {"id": 7, "cmd": "unsubscribe", "params": {"sids": [1, 2]}})
        assert await recv(ws) == {"id": 7, "sid": 1, "seq": 4, "type": "unsubscribed"}
        assert await recv(ws) == {"id": 7, "sid": 2, "type": "unsubscribed"}
        await send(ws, {"id": 8, "cmd": "frobnicate"})
        assert (await recv(ws))["msg"]["code"] == 5


async def test_private_channels_report_fills_orders_positions(sim: SimServer, api: Signed, cs2: str) -> None:
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["fill", "user_orders", "market_positions", "trade", "ticker"]},
            },
        )
        for _ in range(5):
            await recv(ws)
        await api.post(
            "/portfolio/events/orders", json=body(cs2, "bid", "0.5500", "10", client_order_id="p-1")
        )
        resting = await recv_type(ws, "user_order")
        assert resting["msg"]["status"] == "resting" and resting["msg"]["client_order_id"] == "p-1"
        sim.place_competitor_order(cs2, "ask", price_from_cents(55), contracts(4))
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 5:
            msg = await recv(ws)
            seen.setdefault(msg["type"], msg)
        fill = seen["fill"]["msg"]
        assert set(load_fixture("kalshi/ws/fill.json")["msg"]) <= set(fill)
        assert fill["count_fp"] == "4.00" and fill["post_position_fp"] == "4.00" and fill["is_taker"] is False
        assert fill["client_order_id"] == "p-1" and fill["yes_price_dollars"] == "0.5500"
        assert seen["user_order"]["msg"]["fill_count_fp"] == "4.00"
        assert seen["market_position"]["msg"]["position_fp"] == "4.00"
        assert seen["trade"]["msg"]["taker_book_side"] == "ask" and seen["trade"]["msg"]["count_fp"] == "4.00"
        assert seen["ticker"]["msg"]["yes_bid_dollars"] == "0.5500"
        assert "seq" not in seen["fill"] and "seq" not in seen["trade"]


async def test_order_group_updates_and_lifecycle(sim: SimServer, api: Signed, cs2: str) -> None:
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["order_group_updates", "market_lifecycle_v2"]},
            },
        )
        await recv(ws)
        await recv(ws)
        gid = (await api.post("/portfolio/order_groups/create", json={"contracts_limit_fp": "5.00"})).json()[
            "order_group_id"
        ]
        created = await recv(ws)
        assert created["seq"] == 1 and created["msg"]["event_type"] == "created"
        await api.put(f"/portfolio/order_groups/{gid}/trigger", json={})
        triggered = await recv(ws)
        assert triggered["seq"] == 2 and triggered["msg"] == {
            **triggered["msg"],
            "event_type": "triggered",
            "order_group_id": gid,
        }
        sim.faults.pause_market(cs2)
        paused = await recv(ws)
        assert paused["type"] == "market_lifecycle_v2" and "seq" not in paused
        assert paused["msg"] == {"market_ticker": cs2, "event_type": "deactivated", "is_deactivated": True}
        sim.faults.settle_market(cs2, "no")
        kinds = [(await recv(ws))["msg"]["event_type"] for _ in range(3)]
        assert kinds == ["close_date_updated", "determined", "settled"]


async def test_drop_websockets_closes_connections(sim: SimServer, cs2: str) -> None:
    async with feed(sim) as ws:
        await send(
            ws,
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": [cs2]},
            },
        )
        await recv(ws)
        await recv(ws)
        sim.faults.drop_websockets()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
    async with feed(sim) as ws:  # reconnecting works
        await send(ws, {"id": 1, "cmd": "list_subscriptions"})
        assert (await recv(ws))["msg"] == []
