"""The control API end to end: HTTP in, engine commands, orders on the simulated exchange."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from kmm_tui.control_api import ControlApiError, check_host, serve_control_api
from tests.engine.conftest import eventually

from .conftest import ApiRig


def body(a: str, b: str, **extra: object) -> dict[str, object]:
    """A valid add-match body: manual theo 60/40, edge 2c, 5 contracts."""
    return {"ticker_a": a, "ticker_b": b, "theo_a": "60", "theo_b": "40", "edge": "2", "contracts": "5",
            "inventory_max": "50", "start_margin_minutes": "5", **extra}


# --- auth and binding --------------------------------------------------------------------------------


async def test_every_call_needs_the_right_token(rig: ApiRig) -> None:
    url = rig.api.url
    async with httpx.AsyncClient(base_url=url, timeout=5) as anonymous:
        for method, path in (("GET", "/api/state"), ("POST", "/api/kill"), ("GET", "/no/such/path")):
            response = await anonymous.request(method, path)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "token" in response.json()["reason"]
        wrong = await anonymous.get("/api/state", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        prefix = await anonymous.get("/api/state", headers={"Authorization": f"Bearer {rig.api.token[:-1]}"})
        assert prefix.status_code == 401
        # the query-string token is for WebSockets only
        query = await anonymous.get("/api/state", params={"token": rig.api.token})
        assert query.status_code == 401
        right = await anonymous.get("/api/state", headers={"Authorization": f"bearer {rig.api.token}"})
        assert right.status_code == 200


async def test_token_file_is_private_fresh_and_removed_on_exit(rig: ApiRig, tmp_path: Path) -> None:
    path = rig.api.token_path
    assert path == rig.state_dir / "api_token"
    assert path.read_text().strip() == rig.api.token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other_dir = tmp_path / "other"
    loop = asyncio.get_running_loop()
    async with serve_control_api(rig.t.engine, 0, other_dir) as second:
        assert second.token != rig.api.token and len(second.token) >= 32
        assert (other_dir / "api_token").read_text().strip() == second.token
        client = await ws_connect(f"{second.ws_url}?token={second.token}")
        await _next(client, "state")
        leaving = loop.time()
    # shutting down with a client still connected closes it instead of hanging
    assert loop.time() - leaving < 5
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(client.recv(), 5)
    assert not (other_dir / "api_token").exists()


async def test_busy_port_and_remote_hosts_are_refused(rig: ApiRig, tmp_path: Path) -> None:
    with pytest.raises(ControlApiError, match="choose another --api PORT"):
        async with serve_control_api(rig.t.engine, rig.api.port, tmp_path / "x"):
            pass
    with pytest.raises(ControlApiError, match=r"only listens on 127\.0\.0\.1"):
        async with serve_control_api(rig.t.engine, 0, tmp_path / "y", host="0.0.0.0"):
            pass
    assert check_host("localhost") == "127.0.0.1"
    assert check_host("::1") == "::1"
    assert check_host("0.0.0.0", allow_remote=True) == "0.0.0.0"


# --- the trading lifecycle ---------------------------------------------------------------------------


async def test_add_start_reprice_stop_kill_delete(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    a, b = t.tickers("KXCS2GAME")
    t.compete(a, 56)

    added = await http.post("/api/matches", json=body(a, b, name="VIT vs FAZ"))
    assert added.status_code == 201, added.text
    match_id = added.json()["id"]
    assert match_id == f"{a}+{b}"
    match = added.json()["match"]
    assert (match["status"], match["name"]) == ("new", "VIT vs FAZ")
    assert match["settings"]["edge"] == "2" and match["settings"]["contracts"] == "5"
    assert match["settings"]["start_margin_ms"] == 300_000
    assert t.resting() == [], "adding does not trade"

    started = await http.post(f"/api/matches/{match_id}/start")
    assert started.status_code == 200 and started.json()["match"]["status"] == "quoting"
    await eventually(lambda: t.our_price(a) == 5700, what="57c bid one tick over the 56c competitor")

    state = (await http.get("/api/state")).json()
    [view] = state["matches"]
    assert view["theo"]["a"] == "60" and view["theo"]["b"] == "40"
    order = next(o for o in view["orders"] if o["ticker"] == a)
    assert (order["price"], order["remaining"], order["side"]) == ("57", "5", "a")
    assert view["markets"]["a"]["best_bid"] == "57"
    assert state["balance"] == "10000.00" and isinstance(state["resting_orders"], int)

    # edge 2c -> 5c moves the ceiling to 55c, under the 56c competitor: the bid follows at once
    changed = await http.post(f"/api/matches/{match_id}/settings", json={"edge": "5"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["match"]["settings"]["edge"] == "5"
    await eventually(lambda: t.our_price(a) == 5500, what="bid moved to the 55c ceiling")
    # a new theo (manual cents, exact half cents) moves it again: 62.5 - 5 = 57.5 -> one tick over 56
    retheo = await http.post(f"/api/matches/{match_id}/settings", json={"theo_a": "62.5", "theo_b": "37.5"})
    assert retheo.json()["match"]["theo"]["a"] == "62.5"
    await eventually(lambda: t.our_price(a) == 5700, what="57c again after the theo change")

    stopped = await http.post(f"/api/matches/{match_id}/stop", json={"reason": "test stop"})
    assert stopped.json()["match"]["status"] == "stopped"
    assert stopped.json()["match"]["status_reason"] == "test stop"
    assert t.resting() == [], "stop pulls every order before answering"

    await http.post(f"/api/matches/{match_id}/start")
    await eventually(lambda: t.resting(a) != [], what="quoting again")
    killed = await http.post("/api/kill")
    assert killed.json() == {"orders_left": 0, "clean": True}
    assert t.resting() == []
    assert (await http.get(f"/api/matches/{match_id}")).json()["match"]["status"] == "stopped"

    deleted = await http.delete(f"/api/matches/{match_id}")
    assert deleted.json() == {"id": match_id, "deleted": True}
    assert (await http.get(f"/api/matches/{match_id}")).status_code == 404


async def test_add_with_start_and_decimal_odds_as_json_numbers(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    a, b = t.tickers("KXCS2GAME")
    request = {"ticker_a": a.lower(), "ticker_b": b, "odds_a": 1.5, "odds_b": 3, "contracts": 2,
               "inventory_max": "10", "start": True}
    added = await http.post("/api/matches", json=request)
    assert added.status_code == 201, added.text
    match = added.json()["match"]
    assert match["status"] == "quoting" and "start_error" not in added.json()
    # 1.5 / 3 have no vig: exactly 2/3 and 1/3, floored to the Price grid, odds kept as typed
    assert match["theo"]["input"]["odds_a"] == "1.5" and match["theo"]["input"]["odds_b"] == "3"
    assert match["theo"]["a"] == "66.66" and match["theo"]["b"] == "33.33"
    assert match["ticker_a"] == a and match["settings"]["contracts"] == "2"
    await eventually(lambda: t.resting(a) != [] and t.resting(b) != [], what="bids on both teams")
    assert {o.remaining for o in t.resting()} == {200}


# --- refusals -----------------------------------------------------------------------------------------


async def test_bad_input_is_422_with_the_field(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    a, b = t.tickers("KXCS2GAME")
    lol_a, _ = t.tickers("KXLOLGAME")
    odds = {"ticker_a": a, "ticker_b": b}
    cases: list[tuple[dict[str, object], str, str]] = [
        ({**odds, "odds_a": "1.0", "odds_b": "2"}, "odds_a", "greater than 1"),
        ({**odds, "odds_a": "2", "odds_b": "0.9"}, "odds_b", "greater than 1"),
        ({**odds, "odds_a": "abc", "odds_b": "2"}, "odds_a", "not a number"),
        ({**odds, "odds_a": True, "odds_b": "2"}, "odds_a", "must be a number"),
        ({**odds, "odds_a": "1.8"}, "odds_b", "go together"),
        ({**odds, "odds_a": "1.8", "odds_b": "2", "theo_a": "50"}, "theo_a", "not both"),
        ({**odds, "theo_a": "60", "theo_b": "45"}, "theo_b", "exceed 100"),
        ({**odds, "theo_a": "100"}, "theo_a", "between 0 and 100"),
        (odds, "odds_a", "decimal odds"),
        ({"ticker_a": a, "ticker_b": lol_a, "theo_a": "60"}, "ticker_b", "one event"),
        ({"ticker_a": "KXNOPE-26JAN01-ZZZ", "ticker_b": b, "theo_a": "60"}, "ticker_a", "unknown ticker"),
        ({"ticker_b": b, "theo_a": "60"}, "ticker_a", "required"),
        ({"ticker_a": "a/b", "ticker_b": b, "theo_a": "60"}, "ticker_a", "not a market ticker"),
        ({**odds, "theo_a": "60", "edge": "0.001"}, "edge", "precision"),
        ({**odds, "theo_a": "60", "contracts": "0"}, "contracts", "more than 0"),
        ({**odds, "theo_a": "60", "contracts": "20", "inventory_max": "10"}, "inventory_max", "at least"),
        ({**odds, "theo_a": "60", "start_margin_minutes": "-1"}, "start_margin_minutes", ">= 0"),
        ({**odds, "theo_a": "60", "method": "vibes"}, "method", "one of"),
        ({**odds, "theo_a": "60", "edg": "2"}, "edg", "unknown field"),
        ({**odds, "theo_a": "60", "dry_run": True}, "dry_run", "start"),
    ]
    for request, field, words in cases:
        response = await http.post("/api/matches", json=request)
        assert response.status_code == 422, (request, response.text)
        error = response.json()
        assert error["field"] == field, (request, error)
        assert words in error["reason"], (request, error)
    not_json = await http.post("/api/matches", content=b"{not json")
    assert not_json.status_code == 400 and not_json.json()["field"] is None
    nan = await http.post("/api/matches", content=json.dumps({**odds, "odds_a": float("nan")}).encode())
    assert nan.status_code == 400
    assert (await http.post("/api/matches", json=["not", "an", "object"])).status_code == 422
    assert (await http.get("/api/state")).json()["matches"] == [], "nothing was added by a bad request"


async def test_unknown_match_is_404_and_conflicts_are_409(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    for method, path in (
        ("POST", "/api/matches/nope/start"),
        ("POST", "/api/matches/nope/stop"),
        ("POST", "/api/matches/nope/settings"),
        ("GET", "/api/matches/nope"),
        ("DELETE", "/api/matches/nope"),
    ):
        response = await http.request(method, path, json={"edge": "3"} if path.endswith("settings") else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["field"] == "match_id" and "nope" in response.json()["reason"]
    unknown_endpoint = await http.get("/api/nothing")
    assert unknown_endpoint.status_code == 404 and "no such endpoint" in unknown_endpoint.json()["reason"]
    assert (await http.get("/api/kill")).status_code == 405

    a, b = t.tickers("KXCS2GAME")
    match_id = (await http.post("/api/matches", json=body(a, b))).json()["id"]
    again = await http.post("/api/matches", json=body(a, b))
    assert again.status_code == 409 and again.json()["field"] == "ticker_b"
    settings_cases: list[tuple[dict[str, object], str | None]] = [
        ({}, None),
        ({"name": "x"}, "name"),
        ({"contracts": "abc"}, "contracts"),
        ({"contracts": "60"}, "contracts"),  # above the match's inventory_max of 50
        ({"method": "power"}, "method"),  # a manual theo has no odds to re-price
        ({"max_loss": "-1"}, "max_loss"),
    ]
    for request, field in settings_cases:
        response = await http.post(f"/api/matches/{match_id}/settings", json=request)
        assert response.status_code == 422, (request, response.text)
        assert response.json()["field"] == field, (request, response.json())
    ok = await http.post(f"/api/matches/{match_id}/settings", json={"max_loss": "12.5", "backoff_ticks": 2})
    settings = ok.json()["match"]["settings"]
    assert (settings["max_loss"], settings["backoff_ticks"], settings["edge"]) == ("12.50", 2, "2")


async def test_unexpected_errors_are_logged_not_shown(
    rig: ApiRig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(rig.t.engine, "snapshot", broken)
    with caplog.at_level(logging.ERROR, logger="kmm_tui.control_api"):
        response = await rig.http.get("/api/state")
    assert response.status_code == 500
    assert "internal detail" not in response.text and "Traceback" not in response.text
    assert "log file" in response.json()["reason"]
    assert any(r.exc_info and "internal detail" in str(r.exc_info[1]) for r in caplog.records)


# --- the WebSocket stream -----------------------------------------------------------------------------


async def _next(ws: ClientConnection, kind: str, within: float = 5.0) -> dict:
    async with asyncio.timeout(within):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def test_websocket_streams_state_and_events_at_a_bounded_rate(rig: ApiRig) -> None:
    t, http = rig.t, rig.http
    a, b = t.tickers("KXCS2GAME")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with ws_connect(rig.api.ws_url):
            pass
    assert refused.value.response.status_code == 401
    with pytest.raises(websockets.InvalidStatus):
        async with ws_connect(rig.api.ws_url + "?token=wrong"):
            pass
    headers = {"Authorization": f"Bearer {rig.api.token}"}
    async with ws_connect(rig.api.ws_url, additional_headers=headers) as by_header:
        assert (await _next(by_header, "state"))["state"]["matches"] == []

    async with ws_connect(f"{rig.api.ws_url}?token={rig.api.token}") as ws:
        first = await _next(ws, "state")
        assert first["state"]["environment"] == "sim"
        t.compete(a, 56)
        await http.post("/api/matches", json=body(a, b, start=True))
        kinds: dict[str, list[dict]] = {}
        states: list[float] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.5
        price = 40
        while loop.time() < end:
            t.compete(b, price % 30 + 5, count=1)  # keep the books moving: lots of engine events
            price += 1
            try:
                async with asyncio.timeout(0.02):
                    while True:
                        message = json.loads(await ws.recv())
                        if message["type"] == "state":
                            states.append(loop.time())
                        else:
                            kinds.setdefault(message.get("event", message["type"]), []).append(message)
            except TimeoutError:
                pass
        assert "status" in kinds and any(e["status"] == "quoting" for e in kinds["status"])
        placed = [e for e in kinds.get("order", []) if e["action"] == "placed" and e["ticker"] == a]
        assert placed and placed[0]["price"] == "57" and placed[0]["count"] == "5"
        assert "log" in kinds and "decision" in kinds
        # 1.5 s of a busy engine (hundreds of events): at most 5 states a second, +1 for the edges
        assert 3 <= len(states) <= 9, states
        last = await _next(ws, "state")
        [view] = last["state"]["matches"]
        assert view["status"] == "quoting" and Decimal(view["inventory"]["long_a"]) == 0
