"""REST protocol over real loopback HTTP: auth errors, shapes, order writes, groups, faults."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kmm_tui.domain.prices import contracts, price_from_cents
from kmm_tui.sim import SimServer
from tests.sim.simkit import Signed, sign_headers
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


def same_keys(actual: dict[str, Any], fixture: dict[str, Any]) -> None:
    missing = set(fixture) - set(actual)
    assert not missing, f"missing keys {sorted(missing)}"


# --- auth -------------------------------------------------------------------------------------------


async def test_auth_errors_have_kalshi_bodies(sim: SimServer, http: httpx.AsyncClient) -> None:
    url = sim.base_url + "/portfolio/balance"
    path = "/trade-api/v2/portfolio/balance"
    acct = sim.demo_account
    r = await http.get(url)
    assert r.status_code == 401 and r.json() == load_fixture("kalshi/errors/auth_missing_signature_401.json")
    stale = sign_headers(acct.key_id, acct.private_key_pem, "GET", path, int(time.time() * 1000) - 30_000)
    r = await http.get(url, headers=stale)
    assert r.status_code == 401 and r.json() == load_fixture("kalshi/errors/auth_timestamp_expired_401.json")
    unknown = sign_headers("00000000-0000-0000-0000-000000000000", acct.private_key_pem, "GET", path)
    unknown["KALSHI-ACCESS-KEY"] = "00000000-0000-0000-0000-000000000000"
    r = await http.get(url, headers=unknown)
    assert r.status_code == 401 and r.json() == load_fixture("kalshi/errors/auth_unknown_key_401.json")
    wrong_path = sign_headers(acct.key_id, acct.private_key_pem, "GET", "/trade-api/v2/portfolio/positions")
    r = await http.get(url, headers=wrong_path)
    assert r.status_code == 401 and r.json() == load_fixture("kalshi/errors/auth_bad_signature_401.json")
    other = sim.create_account()
    forged = sign_headers(acct.key_id, other.private_key_pem, "GET", path)
    r = await http.get(url, headers=forged)
    assert r.json()["error"]["details"] == "INCORRECT_API_KEY_SIGNATURE"
    ok = sign_headers(acct.key_id, acct.private_key_pem, "GET", path)
    r = await http.get(url + "?subaccount=0", headers=ok)  # query is not signed
    assert r.status_code == 200


async def test_ed25519_accounts_sign_with_ed25519_and_other_kinds_are_refused(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    acct = sim.create_account(key_type="ed25519")
    key = serialization.load_pem_private_key(acct.private_key_pem, password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    path = "/trade-api/v2/portfolio/balance"
    ts = str(int(time.time() * 1000))
    signature = base64.b64encode(key.sign(f"{ts}GET{path}".encode())).decode()
    headers = {
        "KALSHI-ACCESS-KEY": acct.key_id,
        "KALSHI-ACCESS-TIMESTAMP": ts,
        "KALSHI-ACCESS-SIGNATURE": signature,
    }
    assert (await http.get(sim.base_url + "/portfolio/balance", headers=headers)).status_code == 200
    forged = {**headers, "KALSHI-ACCESS-TIMESTAMP": str(int(ts) + 1)}
    assert (await http.get(sim.base_url + "/portfolio/balance", headers=forged)).status_code == 401
    r = await http.post(sim.admin_url + "/accounts", json={"key_type": "dsa"})
    assert r.status_code == 400 and "use one of rsa, ed25519" in r.json()["error"]["message"]


async def test_key_file_is_written_private(sim: SimServer) -> None:
    path = sim.demo_account.key_path
    assert path is not None and path.read_bytes() == sim.demo_account.private_key_pem
    assert path.stat().st_mode & 0o777 == 0o600


# --- market data ------------------------------------------------------------------------------------


async def test_market_data_shapes(sim: SimServer, http: httpx.AsyncClient, cs2: str) -> None:
    base = sim.base_url
    status = (await http.get(base + "/exchange/status")).json()
    assert status["exchange_active"] is True and status["trading_active"] is True
    series = (await http.get(base + "/series/KXCS2GAME")).json()["series"]
    same_keys(series, load_fixture("kalshi/rest/series_get.json")["series"])
    assert series["fee_type"] == "quadratic" and series["fee_multiplier"] == 1
    market = (await http.get(f"{base}/markets/{cs2}")).json()["market"]
    same_keys(market, load_fixture("kalshi/rest/market_get.json")["market"])
    assert market["status"] == "active" and market["yes_sub_title"] == "Vitality"
    event = (await http.get(f"{base}/events/{market['event_ticker']}")).json()
    assert {m["ticker"] for m in event["markets"]} == {cs2, cs2[:-3] + "FAZ"}
    listing = (
        await http.get(
            base + "/events",
            params={"series_ticker": "KXCS2GAME", "with_nested_markets": "true", "with_milestones": "true"},
        )
    ).json()
    assert listing["cursor"] == "" and len(listing["events"][0]["markets"]) == 2
    assert listing["milestones"][0]["related_event_tickers"] == [market["event_ticker"]]
    miles = (
        await http.get(
            base + "/milestones", params={"limit": 10, "related_event_ticker": market["event_ticker"]}
        )
    ).json()["milestones"]
    same_keys(miles[0], load_fixture("kalshi/rest/milestones_list.json")["milestones"][0])
    tennis = (await http.get(base + "/markets", params={"series_ticker": "KXATPMATCH"})).json()["markets"]
    assert tennis[0]["exchange_index"] == 3 and len(tennis[0]["price_ranges"]) == 3
    epl = (await http.get(base + "/markets", params={"series_ticker": "KXEPLGAME"})).json()["markets"]
    assert any(m["ticker"].endswith("-TIE") for m in epl)


async def test_query_validation_and_pagination(sim: SimServer, http: httpx.AsyncClient) -> None:
    r = await http.get(sim.base_url + "/markets", params={"limit": 1001})
    assert r.status_code == 400 and "msg" in r.json()
    r = await http.get(sim.base_url + "/markets", params={"status": "active"})
    assert r.status_code == 400 and "msg" in r.json()
    seen: list[str] = []
    cursor = ""
    while True:
        page = (await http.get(sim.base_url + "/markets", params={"limit": 5, "cursor": cursor})).json()
        seen += [m["ticker"] for m in page["markets"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(seen) == len(sim.exchange.markets) == len(set(seen))
    garbage = await http.get(sim.base_url + "/markets", params={"cursor": "%%%garbage"})
    assert garbage.status_code == 200
    opened = (await http.get(sim.base_url + "/markets", params={"status": "open", "limit": 1000})).json()
    assert len(opened["markets"]) == len(sim.exchange.markets)


async def test_orderbook_shapes(sim: SimServer, http: httpx.AsyncClient, cs2: str) -> None:
    sim.place_competitor_order(cs2, "bid", price_from_cents(50), contracts(250))
    sim.place_competitor_order(cs2, "bid", price_from_cents(56), contracts(85))
    sim.place_competitor_order(cs2, "ask", price_from_cents(58), contracts(40))
    book = (await http.get(f"{sim.base_url}/markets/{cs2}/orderbook")).json()
    assert book == {
        "orderbook_fp": {
            "yes_dollars": [["0.5000", "250.00"], ["0.5600", "85.00"]],
            "no_dollars": [["0.4200", "40.00"]],
        }
    }
    top = (await http.get(f"{sim.base_url}/markets/{cs2}/orderbook", params={"depth": 1})).json()
    assert top["orderbook_fp"]["yes_dollars"] == [["0.5600", "85.00"]]
    multi = (await http.get(f"{sim.base_url}/markets/orderbooks", params=[("tickers", cs2)])).json()
    assert multi["orderbooks"][0]["ticker"] == cs2
    market = (await http.get(f"{sim.base_url}/markets/{cs2}")).json()["market"]
    assert (market["yes_bid_dollars"], market["yes_ask_dollars"]) == ("0.5600", "0.5800")


# --- orders -----------------------------------------------------------------------------------------


async def test_create_amend_decrease_cancel_roundtrip(sim: SimServer, api: Signed, cs2: str) -> None:
    body = order_body(cs2, "bid", "0.5500", "10", client_order_id="c-1", post_only=True)
    r = await api.post("/portfolio/events/orders", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == set(load_fixture("kalshi/rest/order_create_response_resting.json"))
    assert (created["fill_count"], created["remaining_count"]) == ("0.00", "10.00")
    oid = created["order_id"]
    dup = await api.post("/portfolio/events/orders", json=body)
    assert dup.status_code == 409 and dup.json() == load_fixture(
        "kalshi/errors/duplicate_client_order_id_409.json"
    )
    sim.place_competitor_order(cs2, "ask", price_from_cents(55), contracts(4))
    amend = await api.post(
        f"/portfolio/events/orders/{oid}/amend",
        json={
            "ticker": cs2,
            "side": "bid",
            "price": "0.5400",
            "count": "10.00",
            "client_order_id": "c-1",
            "updated_client_order_id": "c-2",
        },
    )
    assert amend.status_code == 200, amend.text
    assert amend.json()["remaining_count"] == "6.00" and amend.json()["fill_count"] == "4.00"
    assert amend.json()["client_order_id"] == "c-2"
    dec = await api.post(
        f"/portfolio/events/orders/{oid}/decrease", json={"reduce_to": "3.00", "market_ticker": cs2}
    )
    assert dec.json()["remaining_count"] == "3.00"
    got = (await api.get(f"/portfolio/orders/{oid}")).json()["order"]
    same_keys(got, load_fixture("kalshi/rest/order_get.json")["order"])
    assert got["status"] == "resting" and got["maker_fill_cost_dollars"] == "2.200000"
    cancel = await api.delete(f"/portfolio/events/orders/{oid}", params={"market_ticker": cs2})
    assert cancel.json()["reduced_by"] == "3.00"
    again = await api.delete(f"/portfolio/events/orders/{oid}", params={"market_ticker": cs2})
    assert again.status_code == 404 and again.json() == load_fixture("kalshi/errors/not_found_404.json")
    fills = (await api.get("/portfolio/fills")).json()["fills"]
    assert fills[0]["order_id"] == oid and fills[0]["count_fp"] == "4.00" and fills[0]["is_taker"] is False
    positions = (await api.get("/portfolio/positions")).json()
    assert positions["market_positions"][0]["position_fp"] == "4.00"
    assert positions["market_positions"][0]["market_exposure_dollars"] == "2.200000"
    balance = (await api.get("/portfolio/balance")).json()
    assert balance["balance"] == 1_000_000 - 220
    resting = (await api.get("/portfolio/orders", params={"status": "resting"})).json()
    assert resting["orders"] == []


async def test_order_errors(sim: SimServer, api: Signed, cs2: str) -> None:
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.5550", "1"))
    assert r.status_code == 400 and r.json() == load_fixture("kalshi/errors/invalid_price_400.json")
    numeric = order_body(cs2, "bid", "0.55", "1") | {"count": 1}
    r = await api.post("/portfolio/events/orders", json=numeric)
    assert r.status_code == 400 and r.json()["code"] == "bad_request" and "error" not in r.json()
    r = await api.post("/portfolio/events/orders", content=b"{not json")
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    sim.place_competitor_order(cs2, "ask", price_from_cents(55), contracts(5))
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.55", "1", post_only=True))
    assert r.status_code == 400 and r.json() == load_fixture("kalshi/errors/post_only_cross_400.json")
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.50", "1000000"))
    assert r.status_code == 400 and r.json() == load_fixture("kalshi/errors/insufficient_balance_400.json")
    r = await api.post("/portfolio/events/orders", json=order_body("NOPE-1", "bid", "0.50", "1"))
    assert r.status_code == 404
    created = (await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.50", "1"))).json()
    r = await api.post(
        f"/portfolio/events/orders/{created['order_id']}/amend",
        json={"ticker": cs2, "side": "ask", "price": "0.50", "count": "1"},
    )
    assert r.status_code == 400 and r.json() == load_fixture("kalshi/errors/order_side_mismatch_400.json")
    sim.faults.close_market(cs2)
    r = await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", "0.50", "1"))
    assert r.status_code == 409 and r.json() == load_fixture("kalshi/errors/market_closed_409.json")


async def test_taker_reply_reports_average_price_and_fee(sim: SimServer, api: Signed, cs2: str) -> None:
    sim.place_competitor_order(cs2, "ask", price_from_cents(58), contracts(4))
    body = order_body(cs2, "bid", "0.6000", "10") | {"time_in_force": "immediate_or_cancel"}
    r = await api.post("/portfolio/events/orders", json=body)
    reply = r.json()
    assert reply["fill_count"] == "4.00" and reply["remaining_count"] == "0.00"
    assert reply["average_fill_price"] == "0.5800" and reply["average_fee_paid"] == "0.017075"


async def test_legacy_writes_are_gone(sim: SimServer, api: Signed, http: httpx.AsyncClient) -> None:
    dead = load_fixture("kalshi/errors/legacy_endpoint_410.json")
    body = load_fixture("kalshi/rest/legacy_v1_create_request_DEAD.json")
    for method, path in (
        ("POST", "/portfolio/orders"),
        ("DELETE", "/portfolio/orders/abc"),
        ("POST", "/portfolio/orders/abc/amend"),
        ("POST", "/portfolio/orders/abc/decrease"),
        ("POST", "/portfolio/orders/batched"),
        ("DELETE", "/portfolio/orders/batched"),
    ):
        r = await api.request(method, path, json=body if method == "POST" else None)
        assert r.status_code == 410 and r.json() == dead, (method, path)


async def test_batch_create_and_cancel_report_per_item(sim: SimServer, api: Signed, cs2: str) -> None:
    faz = cs2[:-3] + "FAZ"
    r = await api.post(
        "/portfolio/events/orders/batched",
        json={
            "orders": [
                order_body(cs2, "bid", "0.55", "10", client_order_id="b1"),
                order_body(faz, "bid", "0.41", "10", client_order_id="b2"),
                order_body(faz, "bid", "0.4150", "10", client_order_id="b3"),
            ]
        },
    )
    assert r.status_code == 201
    items = r.json()["orders"]
    assert [i.get("error", {}).get("code") for i in items] == [None, None, "invalid_price"]
    assert items[2]["client_order_id"] == "b3" and items[2]["order_id"] is None
    ids = [items[0]["order_id"], items[1]["order_id"], "00000000-0000-0000-0000-000000000000"]
    r = await api.request(
        "DELETE",
        "/portfolio/events/orders/batched",
        json={
            "orders": [{"order_id": i, "market_ticker": cs2 if n == 0 else faz} for n, i in enumerate(ids)]
        },
    )
    out = r.json()["orders"]
    assert [o["reduced_by"] for o in out] == ["10.00", "10.00", "0.00"]
    assert out[2]["error"]["code"] == "not_found"


async def test_cancel_all(sim: SimServer, api: Signed, cs2: str) -> None:
    for price in ("0.50", "0.51"):
        await api.post("/portfolio/events/orders", json=order_body(cs2, "bid", price, "1"))
    r = await api.delete("/portfolio/events/orders")
    assert r.status_code == 204
    assert sim.exchange.resting_orders(sim.demo_account.user_id) == []


async def test_order_groups_over_http(sim: SimServer, api: Signed, cs2: str) -> None:
    r = await api.post(
        "/portfolio/order_groups/create", json={"contracts_limit_fp": "5.00", "exchange_index": 0}
    )
    assert r.status_code == 201
    gid = r.json()["order_group_id"]
    created = await api.post(
        "/portfolio/events/orders", json=order_body(cs2, "bid", "0.55", "10", order_group_id=gid)
    )
    oid = created.json()["order_id"]
    got = (await api.get(f"/portfolio/order_groups/{gid}")).json()
    assert got["orders"] == [oid] and got["contracts_limit_fp"] == "5.00"
    listing = (await api.get("/portfolio/order_groups")).json()["order_groups"]
    assert listing[0]["id"] == gid
    sim.place_competitor_order(cs2, "ask", price_from_cents(55), contracts(5))
    order = (await api.get(f"/portfolio/orders/{oid}")).json()["order"]
    assert order["status"] == "canceled" and order["fill_count_fp"] == "5.00"
    r = await api.post(
        "/portfolio/events/orders", json=order_body(cs2, "bid", "0.50", "1", order_group_id=gid)
    )
    assert r.status_code == 400
    assert (await api.put(f"/portfolio/order_groups/{gid}/reset", json={})).json() == {}
    r = await api.post(
        "/portfolio/events/orders", json=order_body(cs2, "bid", "0.50", "1", order_group_id=gid)
    )
    assert r.status_code == 201
    assert (
        await api.put(f"/portfolio/order_groups/{gid}/limit", json={"contracts_limit_fp": "80.00"})
    ).status_code == 200
    assert (await api.put(f"/portfolio/order_groups/{gid}/trigger", json={})).status_code == 200
    assert sim.exchange.resting_orders(sim.demo_account.user_id) == []
    assert (await api.delete(f"/portfolio/order_groups/{gid}")).status_code == 200
    assert (await api.get(f"/portfolio/order_groups/{gid}")).status_code == 404


async def test_account_limits_and_costs(api: Signed) -> None:
    limits = (await api.get("/account/limits")).json()
    assert limits == load_fixture("kalshi/rest/account_limits.json")
    costs = (await api.get("/account/endpoint_costs")).json()
    assert costs == load_fixture("kalshi/rest/account_endpoint_costs.json")


# --- faults and rate limits -------------------------------------------------------------------------


async def test_injected_http_faults(sim: SimServer, api: Signed, http: httpx.AsyncClient) -> None:
    sim.faults.http_errors(2, status=502)
    assert (await http.get(sim.base_url + "/exchange/status")).status_code == 502
    assert (await api.get("/portfolio/balance")).status_code == 502
    assert (await api.get("/portfolio/balance")).status_code == 200
    sim.faults.rate_limit(1)
    r = await api.get("/portfolio/balance")
    assert r.status_code == 429 and r.json() == load_fixture("kalshi/errors/rate_limited_429.json")
    sim.faults.latency_ms(300)
    start = time.monotonic()
    await http.get(sim.base_url + "/exchange/status")
    assert time.monotonic() - start >= 0.3
    sim.faults.latency_ms(0)


async def test_write_bucket_runs_dry_at_basic_tier(sim: SimServer, api: Signed, cs2: str) -> None:
    # Basic: 100 write tokens, refilled at 100/s; a batch costs 10 per order and must fit at once.
    batch = {"orders": [order_body(cs2, "bid", "0.10", "1") for _ in range(10)]}
    first = await api.post("/portfolio/events/orders/batched", json=batch)
    second = await api.post("/portfolio/events/orders/batched", json=batch)
    assert first.status_code == 201
    assert second.status_code == 429 and second.json() == {"error": "too many requests"}
    assert len(sim.exchange.resting_orders(sim.demo_account.user_id)) == 10
    reads = (await api.get("/account/limits")).status_code
    assert reads == 200  # reads draw from a separate bucket


async def test_admin_is_available_on_loopback(sim: SimServer, http: httpx.AsyncClient, cs2: str) -> None:
    r = await http.post(
        sim.admin_url + "/competitor/orders",
        json={"ticker": cs2, "side": "bid", "price": "0.40", "count": "7", "name": "rival"},
    )
    assert r.status_code == 200 and r.json()["remaining_count"] == "7.00"
    r = await http.post(f"{sim.admin_url}/markets/{cs2}/pause")
    assert r.status_code == 200 and sim.exchange.markets[cs2].status == "inactive"
    before = sim.clock.now_ms()
    r = await http.post(sim.admin_url + "/clock/advance", json={"seconds": 90})
    assert r.json()["now_ms"] >= before + 90_000
    state = (await http.get(sim.admin_url + "/state")).json()
    assert state["markets"][cs2]["status"] == "inactive"
    assert "competitor-rival" in state["accounts"]
    account = (await http.post(sim.admin_url + "/accounts", json={"balance_cents": 500})).json()
    assert base64.b64encode(account["private_key_pem"].encode())
    signed = Signed(http, sim.base_url, account["key_id"], account["private_key_pem"].encode())
    assert (await signed.get("/portfolio/balance")).json()["balance"] == 500


@pytest.mark.parametrize("result", ["yes", "no"])
async def test_settlement_over_http(sim: SimServer, api: Signed, cs2: str, result: str) -> None:
    sim.place_competitor_order(cs2, "ask", price_from_cents(60), contracts(10))
    await api.post(
        "/portfolio/events/orders",
        json=order_body(cs2, "bid", "0.60", "10") | {"time_in_force": "immediate_or_cancel"},
    )
    sim.faults.settle_market(cs2, result)
    market = (await api.get(f"/markets/{cs2}")).json()["market"]
    assert market["status"] == "finalized" and market["result"] == result
    settlements = (await api.get("/portfolio/settlements")).json()["settlements"]
    assert settlements[0]["revenue"] == (1000 if result == "yes" else 0)


async def test_admin_refuses_non_loopback_clients(sim: SimServer) -> None:
    transport = httpx.ASGITransport(app=sim.app, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as remote:
        r = await remote.get("/admin/state")
        assert r.status_code == 403
        r = await remote.post("/admin/faults", json={"http_errors": 5})
        assert r.status_code == 403
    assert sim.ctx.faults.http_errors == 0


async def test_unknown_paths_answer_json_404(sim: SimServer, http: httpx.AsyncClient) -> None:
    r = await http.get(sim.base_url + "/no/such/thing")
    assert r.status_code == 404 and r.json() == load_fixture("kalshi/errors/not_found_404.json")
    r = await http.get(sim.base_url + "/markets/NOPE-1")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_order_group_must_live_on_the_markets_shard(sim: SimServer, api: Signed) -> None:
    tennis = next(t for t in sim.exchange.markets if t.startswith("KXATPMATCH"))
    wrong = (await api.post("/portfolio/order_groups/create", json={"contracts_limit_fp": "5.00"})).json()
    r = await api.post(
        "/portfolio/events/orders",
        json=order_body(tennis, "bid", "0.0950", "1", order_group_id=wrong["order_group_id"]),
    )
    assert r.status_code == 400 and "exchange_index" in r.json()["error"]["details"]
    right = (
        await api.post("/portfolio/order_groups/create", json={"contracts_limit": 5, "exchange_index": 3})
    ).json()
    r = await api.post(
        "/portfolio/events/orders",
        json=order_body(tennis, "bid", "0.0950", "1", order_group_id=right["order_group_id"]),
    )
    assert r.status_code == 201  # half-cent tick is legal below $0.10 on the tapered grid
    r = await api.post("/portfolio/events/orders", json=order_body(tennis, "bid", "0.5050", "1"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_price"


async def test_live_data(sim: SimServer, http: httpx.AsyncClient) -> None:
    ids = list(sim.exchange.milestones)[:2]
    r = await http.get(sim.base_url + "/live_data/batch", params=[("milestone_ids", i) for i in ids])
    assert [d["milestone_id"] for d in r.json()["live_datas"]] == ids
    one = (await http.get(f"{sim.base_url}/live_data/milestone/{ids[0]}")).json()["live_data"]
    assert one["details"]["status"] in {"scheduled", "inprogress"}


async def test_demo_key_survives_a_restart(tmp_path: Path, http: httpx.AsyncClient) -> None:
    async with SimServer(agents=False, state_dir=tmp_path) as first:
        key_id = first.demo_account.key_id
    async with SimServer(agents=False, state_dir=tmp_path) as second:
        assert second.demo_account.key_id == key_id
        signed = Signed(http, second.base_url, key_id, second.demo_account.private_key_pem)
        assert (await signed.get("/portfolio/balance")).json()["balance"] == 1_000_000


async def test_loopback_round_trip_is_not_delayed_by_nagle(sim: SimServer, http: httpx.AsyncClient) -> None:
    # Nagle + delayed ACK would add ~40 ms to every reply; the engine's reaction time depends on this.
    times = []
    for _ in range(9):
        start = time.perf_counter()
        await http.get(sim.base_url + "/exchange/status")
        times.append(time.perf_counter() - start)
    assert sorted(times)[4] < 0.025
