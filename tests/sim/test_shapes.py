"""Every shape of sports event over real loopback: soccer 1X2 games, totals and spreads with strikes,
trading the NO side with Kalshi's netting, and settling a whole event on a chosen outcome."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmm_tui.domain.prices import contracts, price_from_cents
from kmm_tui.sim import SimServer
from kmm_tui.sim.lines import GAME, TOTAL
from kmm_tui.sim.odds_source import decimal_odds
from kmm_tui.sim.scenario import MatchState, ScenarioError, parse_scenario
from tests.sim.simkit import Signed, feed, recv_type, send


def order(ticker: str, side: str, price: str, count: str, **extra: Any) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "price": price,
        "count": count,
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        **extra,
    }


def match_of(sim: SimServer, series: str) -> MatchState:
    return next(m for m in sim.matches if m.spec.series == series)


async def settle(http: httpx.AsyncClient, sim: SimServer, event: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post(f"{sim.admin_url}/events/{event}/settle", json=body)


async def results(http: httpx.AsyncClient, sim: SimServer, event: str) -> dict[str, str]:
    reply = await http.get(sim.base_url + "/markets", params={"event_ticker": event})
    return {m["ticker"].rsplit("-", 1)[1]: m["result"] for m in reply.json()["markets"]}


# --- what the scanner finds -------------------------------------------------------------------------


async def test_the_world_lists_soccer_1x2_events_and_totals_and_spreads_with_strikes(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    base = sim.base_url
    for series in ("KXEPLGAME", "KXUCLGAME"):
        [event] = (await http.get(base + "/events", params={"series_ticker": series})).json()["events"]
        assert event["mutually_exclusive"] is True and event["collateral_return_type"] == "MECNET"
        markets = (await http.get(base + "/markets", params={"event_ticker": event["event_ticker"]})).json()
        codes = sorted(m["ticker"].rsplit("-", 1)[1] for m in markets["markets"])
        assert len(codes) == 3 and "TIE" in codes
        tie = next(m for m in markets["markets"] if m["ticker"].endswith("-TIE"))
        assert tie["yes_sub_title"] == "Tie" and tie["strike_type"] == "structured"

    nested = {"series_ticker": "KXNBATOTAL", "with_nested_markets": "true"}
    reply = await http.get(base + "/events", params=nested)
    [total] = reply.json()["events"]
    assert total["mutually_exclusive"] is False and total["title"].endswith(": Total Points")
    strikes = []
    for market in total["markets"]:
        strike = market["floor_strike"]
        assert market["strike_type"] == "greater" and isinstance(strike, float)
        assert market["yes_sub_title"] == f"Over {strike} points scored"
        assert market["ticker"] == f"{total['event_ticker']}-T{strike}"
        assert "floor_strike" not in tie
        strikes.append(strike)
    assert len(strikes) >= 3
    nba_total = match_of(sim, "KXNBATOTAL")
    assert nba_total.fair == sorted(nba_total.fair, reverse=True)  # the over falls as the strike rises

    [spread] = (await http.get(base + "/events", params={"series_ticker": "KXNBASPREAD"})).json()["events"]
    assert spread["mutually_exclusive"] is False
    reply = await http.get(base + "/markets", params={"event_ticker": spread["event_ticker"]})
    subs = {m["ticker"].rsplit("-", 1)[1]: m["yes_sub_title"] for m in reply.json()["markets"]}
    assert subs["BOS4.5"] == "Boston wins by over 4.5 points" and subs["NYK1.5"].startswith("New York K wins")

    state = (await http.get(sim.admin_url + "/state")).json()
    fairs = {m["event_ticker"]: m for m in state["matches"]}
    listed = fairs[total["event_ticker"]]
    assert listed["kind"] == "total" and Decimal(listed["line"]) == nba_total.centre
    assert listed["strikes"][f"{total['event_ticker']}-T{strikes[0]}"] == str(strikes[0])
    soccer = fairs[match_of(sim, "KXEPLGAME").event_ticker]
    assert sum(Decimal(f) for f in soccer["fair_dollars"].values()) == 1 and "line" not in soccer

    # The totals and spreads of a game hang off the game's milestone, like Kalshi's related events.
    game = (await http.get(base + "/events", params={"series_ticker": "KXNBAGAME"})).json()["events"][0]
    related = {"limit": 10, "related_event_ticker": total["event_ticker"]}
    reply = await http.get(base + "/milestones", params=related)
    [milestone] = reply.json()["milestones"]
    assert milestone["primary_event_tickers"] == [game["event_ticker"]]
    assert {total["event_ticker"], spread["event_ticker"]} <= set(milestone["related_event_tickers"])


# --- the NO side: netting, realised P&L, fees on the closing leg, WebSocket messages -----------------


async def test_no_side_fills_net_against_yes_and_a_net_no_position_settles_at_a_dollar(
    sim: SimServer, api: Signed, http: httpx.AsyncClient
) -> None:
    match = match_of(sim, "KXNBATOTAL")
    ticker = next(t for t in match.tickers if t.endswith("-T222.5"))
    start_cash = sim.exchange.accounts[sim.demo_account.user_id].cash
    async with feed(sim) as ws:
        await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["fill", "market_positions"]}})
        # Buy NO at 45c: a resting ask at YES 55c, lifted by a taker buying YES.
        no_bid = order(ticker, "ask", "0.5500", "10", post_only=True)
        placed = await api.post("/portfolio/events/orders", json=no_bid)
        assert placed.status_code == 201, placed.text
        assert sim.take(ticker, "bid", price_from_cents(55), contracts(10)) == contracts(10)
        fill = (await recv_type(ws, "fill"))["msg"]
        assert (fill["outcome_side"], fill["book_side"], fill["is_taker"]) == ("no", "ask", False)
        assert fill["yes_price_dollars"] == "0.5500" and fill["post_position_fp"] == "-10.00"
        assert fill["fee_cost"] == "0.043400"  # maker fee: ceil(0.0175 × 10 × 0.55 × 0.45) to $0.0001
        position = (await recv_type(ws, "market_position"))["msg"]
        assert position["position_fp"] == "-10.00" and position["position_cost_dollars"] == "4.500000"

        # Buy 4 YES at 52c while short: Kalshi nets, so 4 pairs are redeemed at once.
        sim.place_competitor_order(ticker, "ask", price_from_cents(52), contracts(4))
        taken = await api.post("/portfolio/events/orders", json=order(ticker, "bid", "0.5200", "4"))
        assert taken.json()["fill_count"] == "4.00"
        fill = (await recv_type(ws, "fill"))["msg"]
        assert (fill["outcome_side"], fill["book_side"], fill["is_taker"]) == ("yes", "bid", True)
        assert fill["post_position_fp"] == "-6.00" and fill["fee_cost"] == "0.069900"  # 0.07 × 4 × .52 × .48
        position = (await recv_type(ws, "market_position"))["msg"]
        assert position["position_fp"] == "-6.00" and position["realized_pnl_dollars"] == "0.120000"

    [rest] = (await api.get("/portfolio/positions", params={"ticker": ticker})).json()["market_positions"]
    assert rest["position_fp"] == "-6.00"
    assert rest["market_exposure_dollars"] == "2.700000"  # the 6 NO still held, at 45c
    assert rest["realized_pnl_dollars"] == "0.120000"  # 4 × (1 − 0.45 − 0.52)
    assert rest["fees_paid_dollars"] == "0.113300"  # both legs' fees, the closing leg's included
    fees = 434 * 100 + 699 * 100
    cash = sim.exchange.accounts[sim.demo_account.user_id].cash
    assert cash == start_cash - 4_500_000 - 2_080_000 + 4_000_000 - fees

    # 110-110 = 220 points: under 222.5, so the net NO position is paid $1 a contract.
    reply = await settle(http, sim, match.event_ticker, {"points": [110, 110]})
    assert reply.status_code == 200, reply.text
    overs = sorted(t for t in match.tickers if t.endswith(("-T214.5", "-T218.5")))
    assert sorted(reply.json()["yes"]) == overs
    [settled] = (await api.get("/portfolio/settlements", params={"ticker": ticker})).json()["settlements"]
    assert settled["market_result"] == "no" and settled["no_count_fp"] == "6.00" and settled["revenue"] == 600
    assert settled["yes_count_fp"] == "0.00" and settled["no_total_cost_dollars"] == "2.700000"
    assert sim.exchange.accounts[sim.demo_account.user_id].cash == cash + 6_000_000


# --- settling an event on a chosen outcome -----------------------------------------------------------


async def test_a_soccer_event_settles_on_the_tie_and_pays_yes_and_no_holders(
    sim: SimServer, api: Signed, http: httpx.AsyncClient
) -> None:
    match = match_of(sim, "KXEPLGAME")
    home, away, tie = match.tickers
    sim.place_competitor_order(tie, "ask", price_from_cents(26), contracts(10))
    sim.place_competitor_order(home, "bid", price_from_cents(47), contracts(10))
    for body in (order(tie, "bid", "0.2600", "10"), order(home, "ask", "0.4700", "10")):
        assert (await api.post("/portfolio/events/orders", json=body)).status_code == 201
    resting = (await api.post("/portfolio/events/orders", json=order(away, "bid", "0.2000", "5"))).json()

    reply = await settle(http, sim, match.event_ticker, {"winner": "TIE"})
    assert reply.status_code == 200 and reply.json() == {"yes": [tie]}
    assert await results(http, sim, match.event_ticker) == {"ARS": "no", "CHE": "no", "TIE": "yes"}
    settlements = (await api.get("/portfolio/settlements")).json()["settlements"]
    paid = {s["ticker"]: (s["market_result"], s["yes_count_fp"], s["no_count_fp"]) for s in settlements}
    revenue = {s["ticker"]: s["revenue"] for s in settlements}
    assert paid == {tie: ("yes", "10.00", "0.00"), home: ("no", "0.00", "10.00")}
    assert revenue == {tie: 1000, home: 1000}  # cents: $1 per YES on the tie and per NO on the home win
    left = (await api.get(f"/portfolio/orders/{resting['order_id']}")).json()["order"]
    assert left["status"] == "canceled"
    again = await settle(http, sim, match.event_ticker, {"winner": "ARS"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "market_closed"


async def test_totals_and_spreads_settle_on_the_final_score_and_bad_requests_say_why(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    spread = match_of(sim, "KXNBASPREAD")
    reply = await settle(http, sim, spread.event_ticker, {"points": [112, 108]})  # Boston by 4
    assert reply.status_code == 200
    assert await results(http, sim, spread.event_ticker) == {
        "BOS1.5": "yes", "BOS4.5": "no", "BOS7.5": "no", "NYK1.5": "no", "NYK4.5": "no", "NYK7.5": "no"
    }
    nhl = match_of(sim, "KXNHLTOTAL")
    wrong = await settle(http, sim, nhl.event_ticker, {"winner": "T5.5"})
    assert wrong.status_code == 400 and "settle it with points" in wrong.json()["error"]["message"]
    nba = match_of(sim, "KXNBAGAME")
    tie = await settle(http, sim, nba.event_ticker, {"points": [100, 100]})
    assert tie.status_code == 400 and "no TIE market" in tie.json()["error"]["message"]
    for body in ({}, {"winner": "BOS", "points": [1, 0]}, {"points": [1]}, {"points": ["1", "0"]}):
        assert (await settle(http, sim, nba.event_ticker, body)).status_code == 400, body
    assert (await settle(http, sim, nba.event_ticker, {"winner": "LAL"})).status_code == 400
    assert (await settle(http, sim, nba.event_ticker, {"winner": "NYK"})).json() == {"yes": [nba.tickers[1]]}
    assert all(sim.exchange.markets[t].status == "finalized" for t in nba.tickers)


async def test_a_scenario_change_settles_events_on_schedule(tmp_path: Path) -> None:
    path = tmp_path / "settles.toml"
    path.write_text(
        '[scenario]\nname = "settles"\nbase = "default"\n\n'
        '[[change]]\nat = "1m"\nkind = "settle"\nmatch = 8\nwinner = "TIE"\n\n'
        '[[change]]\nat = "1m"\nkind = "settle"\nmatch = 13\npoints = [1, 1]\n'
    )
    async with SimServer(path, agents=False, state_dir=tmp_path) as sim:
        soccer, goals = sim.matches[7], sim.matches[12]
        assert soccer.spec.series == "KXEPLGAME" and goals.spec.series == "KXUCLTOTAL"
        assert all(sim.exchange.markets[t].result == "" for t in soccer.tickers)
        sim.faults.advance(61)
        assert [sim.exchange.markets[t].result for t in soccer.tickers] == ["no", "no", "yes"]
        assert [sim.exchange.markets[t].result for t in goals.tickers] == ["yes", "no", "no"]  # 2 goals


def test_scenario_errors_for_totals_spreads_and_settle_changes_name_the_field() -> None:
    series = [{"ticker": "KXNBATOTAL", "title": "NBA totals", "fee_type": "quadratic"}]
    teams = [{"code": "BOS", "name": "Boston"}, {"code": "NYK", "name": "New York"}]
    total = {"series": "KXNBATOTAL", "kind": "total", "start_in": "1h", "teams": teams, "line": "221.5"}
    cases = [
        ({**total, "kind": "moneyline"}, "kind must be one of"),
        (total, "missing 'strikes'"),
        ({**total, "strikes": ["220.5", "220.5"]}, "distinct"),
        ({**total, "strikes": ["x"]}, "must be numbers"),
        ({**total, "strikes": ["220.5"], "teams": [*teams, {"code": "TIE", "name": "Tie"}]}, "two teams"),
    ]
    for match, message in cases:
        with pytest.raises(ScenarioError, match=message):
            parse_scenario({"series": series, "match": [match]})
    spec = parse_scenario({"series": series, "match": [{**total, "strikes": ["217.5", "225.5"]}]})
    assert spec.matches[0].fair[0] > 5000 > spec.matches[0].fair[1]
    unsettled = {"at": "1m", "kind": "settle", "match": 1}
    one = [{**total, "strikes": ["217.5"]}]
    with pytest.raises(ScenarioError, match="settle change needs winner"):
        parse_scenario({"series": series, "match": one, "change": [unsettled]})


# --- scripted traders trade both sides of every shape -------------------------------------------------


async def test_takers_lift_a_makers_ask_on_a_totals_strike_and_trade_both_sides(tmp_path: Path) -> None:
    async with SimServer(seed=3, state_dir=tmp_path) as sim, httpx.AsyncClient(timeout=10) as http:
        account = sim.demo_account
        api = Signed(http, sim.base_url, account.key_id, account.private_key_pem)
        match = match_of(sim, "KXNBATOTAL")
        ticker = match.tickers[2]
        _, best_ask = sim.exchange.top_of_book(ticker)
        assert best_ask is not None
        price = f"{Decimal(best_ask[0]) / 10_000:.4f}"
        offer = order(ticker, "ask", price, "5", post_only=True)
        placed = await api.post("/portfolio/events/orders", json=offer)
        assert placed.status_code == 201, placed.text
        sim.faults.set_fair(ticker, 7500)  # our offer is now cheap: informed takers buy it
        fills: list[dict[str, Any]] = []
        for _ in range(20):
            sim.faults.advance(15)
            fills = (await api.get("/portfolio/fills", params={"ticker": ticker})).json()["fills"]
            if sum(Decimal(f["count_fp"]) for f in fills) == 5:
                break
        assert fills and all(f["book_side"] == "ask" and f["outcome_side"] == "no" for f in fills)
        assert sum(Decimal(f["count_fp"]) for f in fills) == 5
        sim.faults.advance(600)
        taker_sides = {t.taker_side for t in sim.exchange.trades if t.ticker in match.tickers}
        assert taker_sides == {"bid", "ask"}  # takers buy YES and buy NO on the strikes


async def test_the_odds_source_prices_1x2_totals_and_spreads_from_the_fair_values(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    origin = sim.base_url.removesuffix("/trade-api/v2") + "/odds-sim/v4/sports"
    params = {"regions": "sim", "apiKey": "simulated", "markets": "h2h,totals,spreads"}
    [nba] = (await http.get(origin + "/basketball_nba/odds", params=params)).json()
    markets = {m["key"]: m["outcomes"] for m in nba["bookmakers"][0]["markets"]}
    total = match_of(sim, "KXNBATOTAL")
    over, under = markets["totals"]
    main = min(range(len(total.fair)), key=lambda i: abs(2 * total.fair[i] - 10_000))
    assert over["name"] == "Over" and under["name"] == "Under"
    assert over["point"] == under["point"] == float(total.outcomes[main].strike or 0)
    assert over["price"] == decimal_odds(total.fair[main])
    assert under["price"] == decimal_odds(10_000 - total.fair[main])
    favourite, underdog = markets["spreads"]
    assert favourite["point"] < 0 < underdog["point"] and favourite["point"] == -underdog["point"]
    assert {favourite["name"], underdog["name"]} == {"Boston", "New York K"}

    [epl] = (await http.get(origin + "/soccer_epl/odds", params={**params, "markets": "h2h"})).json()
    [h2h] = epl["bookmakers"][0]["markets"]
    soccer = match_of(sim, "KXEPLGAME")
    prices = {o["name"]: o["price"] for o in h2h["outcomes"]}
    assert h2h["key"] == "h2h" and prices["Draw"] == decimal_odds(soccer.fair[2])
    assert soccer.kind == GAME and match_of(sim, "KXUCLTOTAL").kind == TOTAL
    bad = await http.get(origin + "/soccer_epl/odds", params={**params, "markets": "h2h,outrights"})
    assert bad.status_code == 422 and bad.json()["error_code"] == "INVALID_MARKET"
