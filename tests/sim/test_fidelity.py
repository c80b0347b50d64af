"""The adversarial exchange: each Fidelity switch makes the simulator behave as the real Kalshi does.

One section per switch. Every test turns its switch on explicitly (``sim.fidelity.<name> = ...``),
drives the behaviour over loopback HTTP/WebSocket (or the matching engine directly for pure
accounting), and asserts what a client sees.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmm_tui.domain.prices import MONEY_SCALE, Count, Money, Price
from kmm_tui.sim import SimServer
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.exchange import AmendRequest, OrderRequest
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.scenario import ScenarioError, load_scenario, parse_scenario
from tests.sim.simkit import NBA, TICKER, FakeClock, Signed, feed, make_exchange, recv, recv_type, send
from tests.support import load_fixture


def order_body(ticker: str, side: str, price: str, count: str, **extra: Any) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "price": price,
        "count": count,
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        **extra,
    }


def resting(sim: SimServer) -> list[Any]:
    return sim.exchange.resting_orders(sim.demo_account.user_id)


# --- switches ---------------------------------------------------------------------------------------


def test_switches_validate_and_the_preset_turns_everything_on() -> None:
    fid = Fidelity()
    with pytest.raises(ValueError, match="unknown switch 'lag'"):
        fid.update({"lag": 3})
    with pytest.raises(ValueError, match="percentage"):
        fid.update({"write_fail_after_pct": 150})
    with pytest.raises(ValueError, match="true or false"):
        fid.update({"strict_requests": "yes"})
    fid.update({"preset": "adversarial", "read_lag_ms": 50})
    assert fid.per_shard_cash and fid.strict_requests and fid.read_lag_ms == 50
    assert fid.write_fail_after_pct > 0


async def test_admin_sets_switches(sim: SimServer, http: httpx.AsyncClient) -> None:
    r = await http.post(sim.admin_url + "/fidelity", json={"read_lag_ms": 300, "write_failures": ["drop"]})
    assert r.status_code == 200 and r.json()["read_lag_ms"] == 300
    assert sim.fidelity.read_lag_ms == 300 and sim.fidelity.write_failures == ("drop",)
    r = await http.post(sim.admin_url + "/fidelity", json={"write_failures": ["explode"]})
    assert r.status_code == 400 and "write_failures" in r.json()["error"]["message"]


# --- 1. ambiguous writes ----------------------------------------------------------------------------


async def test_a_5xx_after_the_write_leaves_the_order_placed(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.fidelity.write_fail_after_pct = 100
    sim.fidelity.write_failures = ("5xx",)
    body = order_body(cs2, "bid", "0.2000", "3", client_order_id="retry-me")
    r = await api.post("/portfolio/events/orders", json=body)
    assert r.status_code in (500, 502, 503, 504)
    assert [o.client_order_id for o in resting(sim)] == ["retry-me"]
    sim.fidelity.write_fail_after_pct = 0
    again = await api.post("/portfolio/events/orders", json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_already_exists"


async def test_a_5xx_before_the_write_changes_nothing(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.fidelity.write_fail_before_pct = 100
    sim.fidelity.write_failures = ("5xx",)
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "3"))
    assert r.status_code >= 500 and resting(sim) == []


async def test_a_dropped_cancel_reply_still_cancels(sim: SimServer, api: Signed, cs2: str) -> None:
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "3"))
    order_id = r.json()["order_id"]
    sim.fidelity.write_fail_after_pct = 100
    sim.fidelity.write_failures = ("drop",)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.delete(f"/portfolio/events/orders/{order_id}?market_ticker={cs2}")
    assert resting(sim) == []


async def test_a_timeout_after_a_batch_create_places_every_order(
    sim: SimServer, http: httpx.AsyncClient, cs2: str
) -> None:
    sim.fidelity.write_fail_after_pct = 100
    sim.fidelity.write_failures = ("timeout",)
    sim.fidelity.write_timeout_ms = 5_000
    account = sim.demo_account
    async with httpx.AsyncClient(timeout=0.5) as impatient:
        api = Signed(impatient, sim.base_url, account.key_id, account.private_key_pem)
        orders = [order_body(cs2, "bid", "0.2000", "1"), order_body(cs2, "bid", "0.2100", "1")]
        with pytest.raises(httpx.ReadTimeout):
            await api.post("/portfolio/events/orders/batched", json={"orders": orders})
    assert sorted(o.price for o in resting(sim)) == [2000, 2100]


async def test_reads_are_never_made_ambiguous(sim: SimServer, api: Signed) -> None:
    sim.fidelity.write_fail_before_pct = sim.fidelity.write_fail_after_pct = 100
    assert (await api.get("/portfolio/orders")).status_code == 200


# --- 2. reads lag writes ----------------------------------------------------------------------------


async def test_reads_show_the_state_from_before_the_write(sim: SimServer, api: Signed, cs2: str) -> None:
    # A lag far above what a loaded test machine takes between two requests, so timing cannot pass or fail it.
    sim.fidelity.read_lag_ms = sim.fidelity.read_lag_min_ms = 1_000
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "3"))
    order_id = r.json()["order_id"]
    assert (await api.get("/portfolio/orders")).json()["orders"] == []
    assert (await api.get(f"/portfolio/orders/{order_id}")).status_code == 404
    await asyncio.sleep(1.05)
    assert (await api.get(f"/portfolio/orders/{order_id}")).json()["order"]["status"] == "resting"
    await api.delete(f"/portfolio/events/orders/{order_id}?market_ticker={cs2}")
    listed = (await api.get("/portfolio/orders?status=resting")).json()["orders"]
    assert [o["order_id"] for o in listed] == [order_id], "an acknowledged cancel still reads resting"
    await asyncio.sleep(1.05)
    assert (await api.get("/portfolio/orders?status=resting")).json()["orders"] == []


async def test_fills_and_positions_arrive_late(sim: SimServer, api: Signed, cs2: str) -> None:
    # A lag far above what a loaded test machine takes between two requests, so timing cannot pass or fail it.
    sim.fidelity.read_lag_ms = sim.fidelity.read_lag_min_ms = 1_000
    sim.place_competitor_order(cs2, "ask", 4000, 500)
    r = await api.post(
        "/portfolio/events/orders",
        json=order_body(cs2, "bid", "0.4000", "5", time_in_force="immediate_or_cancel"),
    )
    assert r.json()["fill_count"] == "5.00"
    assert (await api.get("/portfolio/fills")).json()["fills"] == []
    assert (await api.get("/portfolio/positions")).json()["market_positions"] == []
    await asyncio.sleep(1.05)
    assert len((await api.get("/portfolio/fills")).json()["fills"]) == 1
    positions = (await api.get("/portfolio/positions")).json()["market_positions"]
    assert [p["position_fp"] for p in positions] == ["5.00"]


async def test_without_lag_reads_are_live(sim: SimServer, api: Signed, cs2: str) -> None:
    await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "3"))
    assert len((await api.get("/portfolio/orders")).json()["orders"]) == 1


# --- 4. market close --------------------------------------------------------------------------------


def test_after_close_time_every_order_operation_is_refused_then_leftovers_go() -> None:
    clock = FakeClock()
    ex = make_exchange(clock)
    ex.fidelity.close_at_close_time = True
    ex.open_account("alice", Money(1000 * MONEY_SCALE))
    order = ex.create_order("alice", OrderRequest(TICKER, "bid", Price(5000), Count(300))).order
    other = ex.create_order("alice", OrderRequest(NBA, "bid", Price(5000), Count(300))).order
    ex.markets[TICKER].close_ms = clock.now + 1_000
    clock.now += 1_000
    ex.sweep()
    assert ex.markets[TICKER].status == "closed" and order.status == "resting"
    for attempt in (
        lambda: ex.cancel_order("alice", order.order_id),
        lambda: ex.decrease_order("alice", order.order_id, reduce_by=Count(100)),
        lambda: ex.amend_order("alice", order.order_id, AmendRequest(TICKER, "bid", Price(4900), Count(300))),
        lambda: ex.create_order("alice", OrderRequest(TICKER, "bid", Price(4000), Count(100))),
    ):
        with pytest.raises(SimError) as info:
            attempt()
        assert (info.value.status, info.value.code) == (409, "market_closed")
    clock.now += ex.fidelity.close_cancel_delay_ms
    ex.sweep()
    assert order.status == "canceled" and other.status == "resting"
    assert ex.accounts["alice"].reserved == other.reserved


def test_without_the_switch_close_time_passes_quietly() -> None:
    clock = FakeClock()
    ex = make_exchange(clock)
    ex.markets[TICKER].close_ms = clock.now - 1
    ex.sweep()
    assert ex.markets[TICKER].status == "active"


async def test_admin_close_cancels_leftovers_later_and_reports_them(
    sim: SimServer, api: Signed, cs2: str
) -> None:
    sim.fidelity.close_at_close_time = True
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "3"))
    order_id = r.json()["order_id"]
    async with feed(sim) as ws:
        await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["user_orders"]}})
        await recv(ws)
        sim.faults.close_market(cs2)
        r = await api.delete(f"/portfolio/events/orders/{order_id}?market_ticker={cs2}")
        assert r.status_code == 409 and r.json()["error"]["code"] == "market_closed"
        r = await api.delete("/portfolio/events/orders/batched", json={"orders": [{"order_id": order_id}]})
        assert r.json()["orders"][0]["error"]["code"] == "market_closed"
        sim.faults.advance(sim.fidelity.close_cancel_delay_ms / 1000)
        update = await recv_type(ws, "user_order")
        assert update["msg"]["order_id"] == order_id and update["msg"]["status"] == "canceled"


# --- 7. money as the exchange books it --------------------------------------------------------------


def test_fills_are_booked_in_whole_cents_with_a_refunding_rounding_fee() -> None:
    ex = make_exchange()
    ex.fidelity.rounding_fee = True
    start = Money(1000 * MONEY_SCALE)
    for name in ("maker", "taker"):
        ex.open_account(name, start)
    maker = ex.accounts["maker"]
    ex.create_order("maker", OrderRequest(NBA, "bid", Price(5000), Count(1000)))
    debits = []
    for _ in range(4):  # each maker fill: $0.50 + fee 0.004375 → $0.0044 = $0.5044 exact
        ex.create_order("taker", OrderRequest(NBA, "ask", Price(5000), Count(100), "immediate_or_cancel"))
        debits.append(start - maker.cash)
    cent = MONEY_SCALE // 100
    assert all(d % cent == 0 for d in debits), "the balance only ever moves in whole cents"
    assert debits == [51 * cent, 102 * cent, 153 * cent, 202 * cent]  # 2c overpaid → refunded to $2.02
    assert maker.rounding_fees == 202 * cent - 4 * 5044 * 100
    assert sum(f.fee for f in maker.fills) == 4 * 4400, "fill fees keep their $0.0001 precision"


def test_post_only_cross_may_be_accepted_and_cancelled_at_once() -> None:
    ex = make_exchange()
    ticker, user = TICKER, "maker"
    for name in ("maker", "other"):
        ex.open_account(name, Money(1000 * MONEY_SCALE))
    ex.create_order("other", OrderRequest(ticker, "ask", Price(5000), Count(1000)))
    cross = OrderRequest(ticker, "bid", Price(5000), Count(100), post_only=True, client_order_id="po-1")
    with pytest.raises(SimError, match="post only cross"):
        ex.create_order(user, cross)
    ex.fidelity.post_only_cancel_pct = 100
    result = ex.create_order(user, OrderRequest(ticker, "bid", Price(5000), Count(100), post_only=True))
    assert result.order.status == "canceled" and result.filled_now == 0
    assert result.order.fill_count == result.order.remaining == 0
    assert ex.top_of_book(ticker)[1] == (5000, 1000), "nothing traded"


async def test_post_only_cancel_answers_201_with_zero_counts(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.fidelity.post_only_cancel_pct = 100
    sim.place_competitor_order(cs2, "ask", 5000, 1000)
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.5000", "1", post_only=True))
    assert r.status_code == 201
    assert (r.json()["fill_count"], r.json()["remaining_count"]) == ("0.00", "0.00")


# --- 8. strict requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"post_only": "true"}, "post_only"),
        ({"cancel_order_on_pause": 1}, "cancel_order_on_pause"),
        ({"client_order_id": 12345}, "client_order_id"),
        ({"price": "0.20001"}, "price"),
        ({"price": "0.20000"}, "price"),
        ({"count": "1.001"}, "count"),
    ],
)
async def test_strict_requests_refuse_what_kalshi_refuses(
    sim: SimServer, api: Signed, cs2: str, extra: dict[str, Any], field: str
) -> None:
    body = {**order_body(cs2, "bid", "0.2000", "1"), **extra}
    sim.fidelity.strict_requests = True
    r = await api.post("/portfolio/events/orders", json=body)
    assert r.status_code == 400 and r.json()["code"] == "bad_request" and field in r.json()["details"]
    assert resting(sim) == []


async def test_strict_batch_items_fail_one_by_one(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.fidelity.strict_requests = True
    good = order_body(cs2, "bid", "0.2000", "1")
    bad = {**order_body(cs2, "bid", "0.2100", "1"), "post_only": "false"}
    r = await api.post("/portfolio/events/orders/batched", json={"orders": [good, bad]})
    items = r.json()["orders"]
    assert "error" not in items[0] and items[1]["error"]["code"] == "bad_request"


async def test_lenient_by_default(sim: SimServer, api: Signed, cs2: str) -> None:
    body = {**order_body(cs2, "bid", "0.20000", "1"), "post_only": "true"}
    assert (await api.post("/portfolio/events/orders", json=body)).status_code == 201


# --- 6. live metadata -------------------------------------------------------------------------------


async def test_a_tick_size_change_is_announced_and_applies_to_new_orders(
    sim: SimServer, api: Signed, http: httpx.AsyncClient, cs2: str
) -> None:
    kept = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "1"))
    async with feed(sim) as ws:
        await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}})
        await recv(ws)
        r = await http.post(
            f"{sim.admin_url}/markets/{cs2}/price_levels", json={"price_level_structure": "deci_cent"}
        )
        assert r.status_code == 200
        msg = (await recv_type(ws, "market_lifecycle_v2"))["msg"]
        assert msg["event_type"] == "price_level_structure_updated" and msg["market_ticker"] == cs2
        assert msg["price_level_structure"] == "deci_cent" and msg["price_ranges"][0]["step"] == "0.0010"
    finer = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2050", "1"))
    assert finer.status_code == 201
    market = (await http.get(f"{sim.base_url}/markets/{cs2}")).json()["market"]
    assert market["price_level_structure"] == "deci_cent"
    assert sim.exchange.order(sim.demo_account.user_id, kept.json()["order_id"]).status == "resting"


async def test_event_changes_reach_the_lifecycle_channel(
    sim: SimServer, http: httpx.AsyncClient, cs2: str
) -> None:
    event_ticker = sim.exchange.markets[cs2].event_ticker
    async with feed(sim) as ws:
        await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}})
        await recv(ws)
        admin = f"{sim.admin_url}/events/{event_ticker}"
        fees = {"fee_type_override": "quadratic_with_maker_fees", "fee_multiplier_override": "0.5"}
        assert (await http.post(admin + "/fees", json=fees)).status_code == 200
        msg = (await recv_type(ws, "event_fee_update"))["msg"]
        assert msg == {
            "event_ticker": event_ticker,
            "fee_type_override": "quadratic_with_maker_fees",
            "fee_multiplier_override": 0.5,
        }
        assert sim.exchange.fee_schedule(cs2) == ("quadratic_with_maker_fees", Decimal("0.5"))
        await http.post(admin + "/metadata", json={"title": "Vitality vs. FaZe (rescheduled)"})
        msg = (await recv_type(ws, "event_lifecycle"))["msg"]
        assert msg["title"] == "Vitality vs. FaZe (rescheduled)" and msg["series_ticker"] == "KXCS2GAME"
        await http.post(f"{sim.admin_url}/markets/{cs2}/metadata", json={"yes_sub_title": "Team Vitality"})
        msg = (await recv_type(ws, "market_lifecycle_v2"))["msg"]
        assert msg["event_type"] == "metadata_updated"
        assert msg["additional_metadata"] == {"yes_sub_title": "Team Vitality"}
    bad = await http.post(f"{sim.admin_url}/markets/{cs2}/metadata", json={"colour": "red"})
    assert bad.status_code == 400


async def test_a_scenario_schedules_live_changes(tmp_path: Path) -> None:
    scenario = tmp_path / "changing.toml"
    scenario.write_text(
        '[scenario]\nbase = "default"\n\n[fidelity]\nread_lag_ms = 250\n\n'
        '[[change]]\nat = "2m"\nkind = "price_levels"\nmatch = 1\nteam = "VIT"\n'
        'price_level_structure = "center_whole_edge_half_cent"\n\n'
        '[[change]]\nat = "3m"\nkind = "event_fees"\nmatch = 1\nfee_multiplier_override = "0"\n'
    )
    async with SimServer(scenario, agents=False) as sim:
        assert sim.fidelity.read_lag_ms == 250
        vit = next(t for t in sim.exchange.markets if t.startswith("KXCS2GAME") and t.endswith("-VIT"))
        faz = vit.removesuffix("VIT") + "FAZ"
        sim.faults.advance(121)
        assert sim.exchange.markets[vit].price_level_structure == "center_whole_edge_half_cent"
        assert sim.exchange.markets[faz].price_level_structure == "linear_cent"
        sim.faults.advance(60)
        assert sim.exchange.fee_schedule(vit)[1] == 0


def test_scenario_changes_and_fidelity_are_checked() -> None:
    match = {
        "series": "X",
        "start_in": "1h",
        "teams": [{"code": "A", "name": "A"}, {"code": "B", "name": "B"}],
        "fair": ["0.5"],
    }
    base = {"series": [{"ticker": "X", "title": "X", "fee_type": "quadratic"}], "match": [match]}
    with pytest.raises(ScenarioError, match="kind must be one of"):
        parse_scenario({**base, "change": [{"at": "1m", "kind": "explode", "match": 1}]})
    with pytest.raises(ScenarioError, match=r"match must be 1\.\.1"):
        parse_scenario({**base, "change": [{"at": "1m", "kind": "pause", "match": 2}]})
    with pytest.raises(ScenarioError, match="unknown switch"):
        parse_scenario({**base, "fidelity": {"lagg": 1}})


# --- 5. per-shard cash ------------------------------------------------------------------------------


async def test_collateral_is_held_per_shard(sim: SimServer, api: Signed) -> None:
    sim.fidelity.per_shard_cash = True
    tennis = next(t for t, m in sim.exchange.markets.items() if m.exchange_index == 3)
    buy = order_body(tennis, "bid", "0.5000", "10")
    r = await api.post("/portfolio/events/orders", json=buy)
    assert r.status_code == 400 and r.json()["error"]["code"] == "insufficient_balance"
    transfer = {
        "client_transfer_id": "6f0a3d9c-2b7e-4c15-a8d4-9e1f5b3c7a20",
        "source": "event_contract",
        "destination": "event_contract",
        "source_exchange_shard": 0,
        "destination_exchange_shard": 3,
        "amount": 100_000,  # centi-cents: $10
    }
    r = await api.post("/portfolio/intra_exchange_instance_transfer", json=transfer)
    assert r.status_code == 200 and r.json()["transfer_id"]
    order_id = (await api.post("/portfolio/events/orders", json=buy)).json()["order_id"]
    shard3 = (await api.get("/portfolio/balance?exchange_index=3")).json()
    assert shard3["balance"] == 500 and shard3["balance_breakdown"] == [
        {"exchange_index": 3, "balance": "5.0000"}
    ]
    total = (await api.get("/portfolio/balance")).json()
    by_shard = {b["exchange_index"]: b["balance"] for b in total["balance_breakdown"]}
    assert by_shard[3] == "5.0000" and total["balance"] == 1_000_000 - 500
    unrouted = await api.delete(f"/portfolio/events/orders/{order_id}")
    assert unrouted.status_code == 404, "a cancel without market_ticker goes to shard 0"
    routed = await api.delete(f"/portfolio/events/orders/{order_id}?market_ticker={tennis}")
    assert routed.status_code == 200
    too_much = {**transfer, "amount": 10**12}
    r = await api.post("/portfolio/intra_exchange_instance_transfer", json=too_much)
    assert r.status_code == 400 and r.json()["error"]["code"] == "insufficient_balance"


async def test_one_pool_of_cash_without_the_switch(sim: SimServer, api: Signed) -> None:
    tennis = next(t for t, m in sim.exchange.markets.items() if m.exchange_index == 3)
    r = await api.post("/portfolio/events/orders", json=order_body(tennis, "bid", "0.5000", "10"))
    assert r.status_code == 201
    assert (await api.delete(f"/portfolio/events/orders/{r.json()['order_id']}")).status_code == 200


# --- 9. public rate limits and the endpoints a scanner needs ----------------------------------------


async def test_public_reads_draw_a_read_bucket(sim: SimServer, http: httpx.AsyncClient) -> None:
    url = sim.base_url + "/exchange/status"
    statuses = [(await http.get(url)).status_code for _ in range(45)]
    assert set(statuses) == {200}, "unmetered by default"
    sim.fidelity.public_rate_limit = True
    # All at once: a slow (loaded) client must not let the bucket refill between sequential reads.
    replies = await asyncio.gather(*(http.get(url) for _ in range(100)))
    statuses = [r.status_code for r in replies]
    assert 200 in statuses and 429 in statuses  # basic: 400 tokens, 10 per read
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.json() == {"error": "too many requests"}


async def test_schedule_fee_changes_queue_positions_and_candles(
    sim: SimServer, api: Signed, http: httpx.AsyncClient, cs2: str
) -> None:
    schedule = (await http.get(sim.base_url + "/exchange/schedule")).json()["schedule"]
    assert schedule["standard_hours"][0]["thursday"] and schedule["maintenance_windows"]
    change = {"fee_type": "quadratic_with_maker_fees", "fee_multiplier": "1", "in": "1h"}
    assert (await http.post(sim.admin_url + "/series/KXCS2GAME/fee_change", json=change)).status_code == 200
    changes = (await http.get(sim.base_url + "/series/fee_changes?series_ticker=KXCS2GAME")).json()
    assert set(changes["series_fee_change_arr"][0]) == set(
        load_fixture("kalshi/rest/series_fee_changes.json")["series_fee_change_arr"][0]
    )
    assert sim.exchange.series["KXCS2GAME"].fee_type == "quadratic"
    sim.faults.advance(3_601)
    assert sim.exchange.series["KXCS2GAME"].fee_type == "quadratic_with_maker_fees"
    assert (await http.get(sim.base_url + "/series/fee_changes")).json()["series_fee_change_arr"] == []

    sim.place_competitor_order(cs2, "bid", 3000, 700)
    mine = (await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.3000", "2"))).json()
    queue = (await api.get(f"/portfolio/orders/queue_positions?market_tickers={cs2}")).json()
    assert queue == {
        "queue_positions": [{"order_id": mine["order_id"], "market_ticker": cs2, "queue_position_fp": "7.00"}]
    }
    sim.place_competitor_order(cs2, "ask", 3000, 300, name="seller")  # trades 3 @ 0.30 with the competitor
    now_s = sim.clock.now_ms() // 1000
    url = f"{sim.base_url}/series/KXCS2GAME/markets/{cs2}/candlesticks"
    r = await http.get(url, params={"start_ts": now_s - 3600, "end_ts": now_s + 3600, "period_interval": 60})
    candle = r.json()["candlesticks"][-1]
    fixture = load_fixture("kalshi/rest/candlesticks_get.json")["candlesticks"][0]
    assert set(candle) == set(fixture)
    assert candle["price"]["close_dollars"] == "0.3000" and candle["volume_fp"] == "3.00"
    assert candle["yes_bid"]["close_dollars"] == "0.3000"
    batch = await http.get(
        sim.base_url + "/markets/candlesticks",
        params={
            "market_tickers": cs2,
            "start_ts": now_s - 3600,
            "end_ts": now_s + 3600,
            "period_interval": 1,
        },
    )
    assert batch.json()["markets"][0]["candlesticks"][-1]["volume_fp"] == "3.00"
    bad = await http.get(url, params={"start_ts": 0, "end_ts": 1, "period_interval": 5})
    assert bad.status_code == 400 and "msg" in bad.json()


# --- 10. small fidelity fixes -----------------------------------------------------------------------


async def test_ticker_dollar_volume_is_dollars_and_previous_fields_are_a_day_old(
    sim: SimServer, api: Signed, http: httpx.AsyncClient, cs2: str
) -> None:
    async with feed(sim) as ws:
        await send(
            ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["ticker"], "market_tickers": [cs2]}}
        )
        await recv(ws)
        sim.place_competitor_order(cs2, "bid", 2500, 40_000)
        sim.place_competitor_order(cs2, "ask", 2500, 40_000, name="seller")  # 400 contracts @ $0.25
        while True:
            msg = (await recv_type(ws, "ticker"))["msg"]
            if msg["volume_fp"] == "400.00":
                break
        assert msg["dollar_volume"] == 100 and msg["dollar_open_interest"] == 100
    market = (await http.get(f"{sim.base_url}/markets/{cs2}")).json()["market"]
    assert market["previous_price_dollars"] == "0.0000", "no history a day back yet"
    sim.faults.advance(24 * 3600 + 60)
    market = (await http.get(f"{sim.base_url}/markets/{cs2}")).json()["market"]
    assert market["previous_price_dollars"] == "0.2500"


async def test_portfolio_value_is_market_value(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.place_competitor_order(cs2, "ask", 4000, 1000)
    await api.post(
        "/portfolio/events/orders",
        json=order_body(cs2, "bid", "0.4000", "10", time_in_force="immediate_or_cancel"),
    )
    assert (await api.get("/portfolio/balance")).json()["portfolio_value"] == 400
    sim.place_competitor_order(cs2, "bid", 7000, 100, name="buyer")
    sim.place_competitor_order(cs2, "ask", 7000, 100, name="seller")  # the market now last traded at 0.70
    assert (await api.get("/portfolio/balance")).json()["portfolio_value"] == 700


async def test_an_empty_book_side_can_be_left_out(sim: SimServer, http: httpx.AsyncClient, cs2: str) -> None:
    sim.place_competitor_order(cs2, "bid", 3000, 500)
    url = f"{sim.base_url}/markets/{cs2}/orderbook"
    assert (await http.get(url)).json()["orderbook_fp"]["no_dollars"] == []
    sim.fidelity.omit_empty_book_side = True
    book = (await http.get(url)).json()["orderbook_fp"]
    assert book == {"yes_dollars": [["0.3000", "5.00"]]}


# --- the shipped adversarial scenario ---------------------------------------------------------------


async def test_the_adversarial_scenario_runs_a_living_market_with_every_switch_on() -> None:
    async with SimServer("adversarial", seed=4) as sim:
        fid = sim.fidelity
        assert fid.per_shard_cash and fid.read_lag_ms > 0 and fid.write_fail_after_pct > 0
        assert len(sim.matches) == len(load_scenario("default").matches)
        before = len(sim.exchange.trades)
        sim.faults.advance(60)
        assert len(sim.exchange.trades) > before
        for ticker in sim.exchange.markets:
            bid, ask = sim.exchange.top_of_book(ticker)
            assert bid is None or ask is None or bid[0] < ask[0], ticker


async def test_a_moved_close_time_is_announced_and_then_enforced(
    sim: SimServer, http: httpx.AsyncClient, cs2: str
) -> None:
    sim.fidelity.close_at_close_time = True
    async with feed(sim) as ws:
        await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}})
        await recv(ws)
        r = await http.post(f"{sim.admin_url}/markets/{cs2}/close_time", json={"close_in": "1m"})
        assert r.status_code == 200
        msg = (await recv_type(ws, "market_lifecycle_v2"))["msg"]
        assert msg["event_type"] == "close_date_updated"
        assert msg["close_ts"] == sim.exchange.markets[cs2].close_ms // 1000
    assert sim.exchange.markets[cs2].status == "active"
    sim.faults.advance(61)
    assert sim.exchange.markets[cs2].status == "closed"
    bad = await http.post(f"{sim.admin_url}/markets/{cs2}/close_time", json={"close_in": "soon"})
    assert bad.status_code == 400


async def test_the_feed_lags_the_exchange_by_the_configured_time(
    sim: SimServer, api: Signed, cs2: str
) -> None:
    """feed_lag_ms: the write's reply comes first, its book delta that much later (in order)."""
    sim.fidelity.feed_lag_ms = 300
    async with feed(sim) as ws:
        params = {"channels": ["orderbook_delta"], "market_tickers": [cs2]}
        await send(ws, {"id": 1, "cmd": "subscribe", "params": params})
        await recv_type(ws, "orderbook_snapshot")
        started = time.monotonic()
        placed = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.2000", "1"))
        replied = time.monotonic() - started
        assert placed.status_code == 201
        delta = await recv_type(ws, "orderbook_delta")
        shown = time.monotonic() - started
        assert delta["msg"]["price_dollars"] == "0.2000"
        assert shown >= 0.3 > replied
