"""Every REST/WS fixture parses into domain units with the exact values the scenario describes."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from kmm_tui.domain.prices import Price, TickGrid, contracts, parse_price
from kmm_tui.kalshi.errors import BadResponse, DuplicateClientOrderId, NotFoundError, OrderRejected
from kmm_tui.kalshi.models import (
    AccountLimits,
    Balance,
    BatchItemResult,
    BookDelta,
    CreateOrderSpec,
    Event,
    EventFeeUpdate,
    ExchangeStatus,
    Fill,
    Lifecycle,
    Market,
    Milestone,
    Order,
    OrderAck,
    OrderBookSnapshot,
    OrderGroup,
    OrderGroupUpdate,
    Position,
    Series,
    amend_body,
    decrease_body,
    iso_to_ms,
)
from tests.support import load_fixture

VIT = "KXCS2GAME-26NOV281330VITFAZ-VIT"
FAZ = "KXCS2GAME-26NOV281330VITFAZ-FAZ"
EVENT = "KXCS2GAME-26NOV281330VITFAZ"


def rest(name: str) -> dict:
    return load_fixture(f"kalshi/rest/{name}")


def ws(name: str) -> dict:
    return load_fixture(f"kalshi/ws/{name}")


def test_iso_to_ms_is_exact() -> None:
    assert iso_to_ms("2026-11-28T16:05:00.412377Z") == 1795881900412
    assert iso_to_ms("2026-11-28T18:30:00Z") == 1795890600000


def test_exchange_status() -> None:
    status = ExchangeStatus.from_wire(rest("exchange_status.json"))
    assert status.exchange_active and status.trading_active
    assert [s.exchange_index for s in status.shards] == [0, 3]
    assert status.shard_trading(3)


def test_series_and_list() -> None:
    series = Series.from_wire(rest("series_get.json")["series"])
    assert (series.ticker, series.fee_type, series.fee_multiplier) == ("KXCS2GAME", "quadratic", Decimal(1))
    listed = [Series.from_wire(s) for s in rest("series_list.json")["series"]]
    assert [s.fee_type for s in listed] == ["quadratic", "quadratic_with_maker_fees"]


def test_market_full_object() -> None:
    market = Market.from_wire(rest("market_get.json")["market"])
    assert market.ticker == VIT and market.event_ticker == EVENT
    assert market.status == "active" and market.yes_sub_title == "Vitality"
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask) == (5600, 5800, 4200, 4400)
    assert (market.yes_bid_size, market.yes_ask_size) == (contracts(85), contracts(40))
    assert market.last_price == 5700
    assert market.volume == contracts(18432) and market.open_interest == contracts(9120)
    assert market.close_time_ms == iso_to_ms("2026-12-12T18:30:00Z")
    assert market.open_time_ms == iso_to_ms("2026-11-25T15:00:00Z")
    assert market.expected_expiration_ms == iso_to_ms("2026-11-28T21:30:00Z")
    assert market.grid == TickGrid.linear_cent()
    assert market.exchange_index == 0 and market.result == ""
    assert dict(market.custom_strike) == {"esports_team": "5b1e9c7a-2d4f-4a61-8e3b-7c0d9f2a6e14"}


def test_market_tennis_shard3_tapered_grid() -> None:
    market = Market.from_wire(rest("market_get_tennis_shard3_tapered.json")["market"])
    assert market.exchange_index == 3
    assert market.grid.is_valid(550) and not market.grid.is_valid(1550) and market.grid.is_valid(9550)
    assert market.grid.min_price == 50


def test_market_tolerates_missing_optional_and_deprecated_fields() -> None:
    raw = rest("market_get.json")["market"]
    minimal = {k: raw[k] for k in ("ticker", "event_ticker", "status")}
    market = Market.from_wire(minimal | {"brand_new_field": {"x": 1}})
    assert market.yes_bid is None and market.grid == TickGrid.linear_cent()
    assert market.volume == 0 and market.close_time_ms is None


def test_market_empty_book_sentinels_are_none() -> None:
    raw = rest("market_get.json")["market"] | {"yes_bid_dollars": "0.0000", "yes_ask_dollars": "1.0000"}
    market = Market.from_wire(raw)
    assert market.yes_bid is None and market.yes_ask is None


def test_market_missing_required_key_names_it() -> None:
    raw = copy.deepcopy(rest("market_get.json")["market"])
    del raw["event_ticker"]
    with pytest.raises(BadResponse, match="event_ticker"):
        Market.from_wire(raw)


def test_float_price_is_rejected() -> None:
    raw = rest("market_get.json")["market"] | {"yes_bid_dollars": 0.56}
    with pytest.raises(BadResponse, match="JSON number"):
        Market.from_wire(raw)


def test_events_with_nested_markets_and_milestones() -> None:
    page = rest("events_list.json")
    milestones = [Milestone.from_wire(m) for m in page["milestones"]]
    events = [Event.from_wire(e, milestones=milestones) for e in page["events"]]
    (event,) = events
    assert event.event_ticker == EVENT and event.series_ticker == "KXCS2GAME"
    assert event.mutually_exclusive and event.collateral_return_type == "MECNET"
    assert event.fee_type_override is None and event.fee_multiplier_override is None
    assert [m.ticker for m in event.markets] == [VIT, FAZ]
    assert event.start_ms == iso_to_ms("2026-11-28T18:30:00Z")
    assert event.milestone is not None and event.milestone.status == "scheduled"


def test_event_get() -> None:
    data = rest("event_get.json")
    event = Event.from_wire(data["event"], data["markets"])
    assert [m.yes_sub_title for m in event.markets] == ["Vitality", "FaZe Clan"]
    assert event.start_ms is None


def test_milestones() -> None:
    (milestone,) = [Milestone.from_wire(m) for m in rest("milestones_list.json")["milestones"]]
    assert milestone.start_ms == 1795890600000 and milestone.end_ms is None
    assert milestone.concerns(EVENT) and milestone.concerns("KXCS2MAP-26NOV281330VITFAZ")
    assert milestone.last_updated_ms == iso_to_ms("2026-11-28T15:58:10Z")


def test_orderbook_rest_to_yes_book() -> None:
    snapshot = OrderBookSnapshot.from_rest(rest("orderbook_get.json"), VIT)
    assert snapshot.yes[Price(5600)] == contracts(85) and snapshot.no[Price(4200)] == contracts(40)
    book = snapshot.book()
    assert book.best_bid == 5600 and book.best_ask == 5800  # 1 - best NO bid 0.42
    assert book.bids[0] == (5600, contracts(85)) and book.asks[0] == (5800, contracts(40))
    assert [p for p, _ in book.bids] == [5600, 5500, 5400, 5000]


def test_orderbook_empty_side() -> None:
    book = OrderBookSnapshot.from_rest(rest("orderbook_get_empty_side.json"), VIT).book()
    assert book.best_bid == 300 and book.best_ask is None


def test_orderbooks_multi() -> None:
    books = {
        b["ticker"]: OrderBookSnapshot.from_rest(b) for b in rest("orderbooks_multi_get.json")["orderbooks"]
    }
    assert books[FAZ].book().best_bid == 4200 and books[FAZ].book().best_ask == 4400


def test_orders_list_and_get() -> None:
    orders = [Order.from_wire(o) for o in rest("orders_list.json")["orders"]]
    resting, canceled, executed = orders
    assert resting.order_id == "0b7f3c52-9e1a-4d6b-8f27-5a9c1e3d7b40"
    assert resting.client_order_id == "c4f1a8e2-6d3b-4a97-b1c5-7e2f9d0a3b16"
    assert (resting.book_side, resting.price, resting.status) == ("bid", 5500, "resting")
    assert (resting.initial_count, resting.fill_count, resting.remaining_count) == (1000, 400, 600)
    assert resting.maker_fill_cost == 2_200_000 and resting.is_resting
    assert resting.order_group_id == "2c9e7b41-8d3a-4f56-a1e0-5b6d9c8f7e23"
    assert resting.created_ms == 1795881900412
    assert canceled.status == "canceled" and not canceled.is_resting
    assert (executed.book_side, executed.price, executed.maker_fees) == ("ask", 6100, 20_900)
    assert executed.order_group_id is None and executed.expiration_ms is None
    assert Order.from_wire(rest("order_get.json")["order"]) == resting


def test_order_without_book_side_uses_deprecated_fields() -> None:
    raw = dict(rest("order_get.json")["order"])
    for key in ("book_side", "outcome_side", "yes_price_dollars"):
        raw.pop(key)
    raw.update(side="no", action="buy")  # buy NO = ask on the YES book
    order = Order.from_wire(raw)
    assert order.book_side == "ask" and order.price == 5500  # 1 - no_price 0.45


def test_ws_user_orders() -> None:
    order = Order.from_wire(ws("user_order.json")["msg"])
    assert order.created_ms == 1795881900412 and order.last_update_ms == 1795881931905
    assert order.expiration_ms == 1795890300000 and order.remaining_count == 600
    canceled = Order.from_wire(ws("user_order_canceled.json")["msg"])
    assert canceled.status == "canceled" and canceled.remaining_count == 0


@pytest.mark.parametrize(
    ("name", "fill", "remaining", "on_arrival"),
    [
        ("order_create_response_resting.json", 0, 1000, False),
        ("order_create_response_partial_fill.json", 400, 0, False),
        ("order_create_response_cancelled_on_arrival.json", 0, 0, True),
        ("order_amend_response.json", 400, 600, False),
    ],
)
def test_order_acks(name: str, fill: int, remaining: int, on_arrival: bool) -> None:
    ack = OrderAck.from_wire(rest(name))
    assert (ack.fill_count, ack.remaining_count, ack.cancelled_on_arrival) == (fill, remaining, on_arrival)
    assert ack.ts_ms is not None and ack.order_id


def test_partial_fill_averages_are_exact_decimals() -> None:
    ack = OrderAck.from_wire(rest("order_create_response_partial_fill.json"))
    assert ack.average_fill_price == Decimal("0.5800") and ack.average_fee_paid == Decimal("0.017075")


def test_decrease_and_cancel_acks() -> None:
    decrease = OrderAck.from_wire(rest("order_decrease_response.json"))
    assert decrease.remaining_count == 300 and decrease.fill_count is None
    cancel = OrderAck.from_wire(rest("order_cancel_response.json"))
    assert cancel.reduced_by == 300


def test_batch_create_items() -> None:
    items = [
        BatchItemResult.from_wire(i, o)
        for i, o in enumerate(rest("orders_batch_create_response.json")["orders"])
    ]
    assert [item.ok for item in items] == [True, True, False]
    assert items[0].ack is not None and items[0].ack.remaining_count == 1000
    failed = items[2]
    assert isinstance(failed.error, OrderRejected) and failed.error.code == "invalid_price"
    assert failed.client_order_id == "b8e1d4a7-6c3f-4e92-a5b0-1d9c7f2e4a38" and failed.order_id is None


def test_batch_cancel_items() -> None:
    items = [
        BatchItemResult.from_wire(i, o)
        for i, o in enumerate(rest("orders_batch_cancel_response.json")["orders"])
    ]
    assert items[0].ack is not None and items[0].ack.reduced_by == 600
    assert isinstance(items[2].error, NotFoundError)
    dup = BatchItemResult.from_wire(0, {"order_id": None, "error": {"code": "order_already_exists"}})
    assert isinstance(dup.error, DuplicateClientOrderId)


def test_fills_rest_and_ws() -> None:
    vit, bos = [Fill.from_wire(f) for f in rest("fills.json")["fills"]]
    assert (vit.fill_id, vit.book_side, vit.yes_price, vit.count, vit.is_taker, vit.fee) == (
        "3a8d1f6c-0e2b-4c79-b5a4-9f7e2d1c6b58",
        "bid",
        5500,
        400,
        False,
        0,
    )
    assert vit.created_ms == 1795881931905
    assert (bos.book_side, bos.yes_price, bos.fee) == ("ask", 6100, 20_900)
    live = Fill.from_wire(ws("fill.json")["msg"])
    assert live.fill_id == vit.fill_id and live.ticker == VIT
    assert live.client_order_id == "c4f1a8e2-6d3b-4a97-b1c5-7e2f9d0a3b16"
    assert live.post_position == 400 and live.created_ms == 1795881931905


def test_positions_rest_and_ws() -> None:
    vit, bos = [Position.from_wire(p) for p in rest("positions.json")["market_positions"]]
    assert (vit.position, vit.market_exposure) == (400, 2_200_000)
    assert (bos.position, bos.fees_paid) == (-500, 20_900)
    live = Position.from_wire(ws("market_position.json")["msg"])
    assert (live.ticker, live.position, live.market_exposure) == (VIT, 400, 2_200_000)


def test_balance_prefers_dollars_and_keeps_shards() -> None:
    balance = Balance.from_wire(rest("balance.json"))
    assert balance.available == 487_319_200 and balance.portfolio_value == 4_190_000
    assert balance.shard(3) == 7_000_000 and balance.shard(0) == 480_319_200
    assert balance.updated_ms == 1795881900000
    cents_only = Balance.from_wire({"balance": 48731, "portfolio_value": 419})
    assert cents_only.available == 487_310_000


def test_order_groups() -> None:
    created = OrderGroup.from_wire(rest("order_group_create_response.json"))
    assert created.order_group_id == "2c9e7b41-8d3a-4f56-a1e0-5b6d9c8f7e23"
    got = OrderGroup.from_wire(rest("order_group_get.json"), created.order_group_id)
    assert got.contracts_limit == contracts(50) and got.is_auto_cancel_enabled
    assert len(got.order_ids) == 2
    (listed,) = [OrderGroup.from_wire(g) for g in rest("order_groups_list.json")["order_groups"]]
    assert listed.order_group_id == created.order_group_id and listed.contracts_limit == contracts(50)


def test_account_limits() -> None:
    limits = AccountLimits.from_wire(rest("account_limits.json"))
    assert (limits.usage_tier, limits.read_rate, limits.read_capacity) == ("basic", 200, 400)
    assert (limits.write_rate, limits.write_capacity) == (100, 100)


def test_ws_book_messages() -> None:
    snap = OrderBookSnapshot.from_ws(ws("orderbook_snapshot.json")["msg"])
    assert snap.book().best_ask == 5800
    flipped = OrderBookSnapshot.from_ws(
        ws("orderbook_snapshot_use_yes_price_true.json")["msg"], use_yes_price=True
    )
    assert flipped.book() == snap.book()
    one_side = OrderBookSnapshot.from_ws(ws("orderbook_snapshot_one_side_missing.json")["msg"])
    assert one_side.book().best_ask is None
    delta = BookDelta.from_ws(ws("orderbook_delta.json")["msg"])
    assert (delta.side, delta.price, delta.delta, delta.ts_ms) == ("yes", 5600, -500, 1795881910120)
    own = BookDelta.from_ws(ws("orderbook_delta_own_order.json")["msg"])
    assert own.client_order_id == "e9b3d7a1-2f5c-4e68-9d14-6a0c8b3f5e27"


@pytest.mark.parametrize(
    "name",
    [
        "lifecycle_activated.json",
        "lifecycle_close_date_updated.json",
        "lifecycle_created.json",
        "lifecycle_deactivated.json",
        "lifecycle_determined.json",
        "lifecycle_price_level_structure_updated.json",
        "lifecycle_settled.json",
    ],
)
def test_lifecycle_messages(name: str) -> None:
    lifecycle = Lifecycle.from_ws(ws(name)["msg"])
    assert lifecycle.ticker and lifecycle.event_type == name.removeprefix("lifecycle_").removesuffix(".json")


def test_lifecycle_details() -> None:
    assert Lifecycle.from_ws(ws("lifecycle_deactivated.json")["msg"]).is_deactivated is True
    assert Lifecycle.from_ws(ws("lifecycle_close_date_updated.json")["msg"]).close_ms == 1795910700000
    determined = Lifecycle.from_ws(ws("lifecycle_determined.json")["msg"])
    assert (determined.result, determined.settlement_value) == ("yes", 10_000)
    grid = Lifecycle.from_ws(ws("lifecycle_price_level_structure_updated.json")["msg"]).grid
    assert grid is not None and grid.is_valid(550)


def test_fee_update_and_order_group_update() -> None:
    fee = EventFeeUpdate.from_ws(ws("event_fee_update.json")["msg"])
    assert fee.fee_type_override == "quadratic" and fee.fee_multiplier_override == 0
    triggered = OrderGroupUpdate.from_ws(ws("order_group_updates_triggered.json")["msg"])
    assert triggered.event_type == "triggered"
    limit = OrderGroupUpdate.from_ws(ws("order_group_updates_limit_updated.json")["msg"])
    assert limit.contracts_limit == contracts(80)


def test_create_spec_wire_matches_fixture_shape() -> None:
    fixture = rest("order_create_request_buy_no.json")
    spec = CreateOrderSpec(
        fixture["ticker"],
        "ask",
        parse_price(fixture["price"]),
        contracts(5),
        fixture["client_order_id"],
        post_only=True,
        self_trade_prevention_type="maker",
        order_group_id=fixture["order_group_id"],
        cancel_order_on_pause=False,
    )
    wire = spec.to_wire()
    for key, value in fixture.items():
        assert wire[key] == value, key
    assert isinstance(wire["price"], str) and isinstance(wire["count"], str)


def test_create_spec_validation() -> None:
    good = dict(ticker=VIT, side="bid", price=Price(5500), count=contracts(1), client_order_id="abc-123")
    CreateOrderSpec(**good)  # type: ignore[arg-type]
    for bad in (
        {"side": "buy"},
        {"price": Price(0)},
        {"price": Price(10_000)},
        {"count": 0},
        {"client_order_id": "has space"},
        {"expiration_ts": 1795890300000},
    ):
        with pytest.raises(ValueError):
            CreateOrderSpec(**(good | bad))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="good_till_canceled"):
        CreateOrderSpec(**good, time_in_force="immediate_or_cancel", expiration_ts=1795890300)  # type: ignore[arg-type]


def test_amend_and_decrease_bodies_match_fixtures() -> None:
    amend = rest("order_amend_request.json")
    assert (
        amend_body(
            amend["ticker"],
            "bid",
            Price(5400),
            contracts(10),
            client_order_id=amend["client_order_id"],
            updated_client_order_id=amend["updated_client_order_id"],
        )
        == amend
    )
    assert decrease_body(reduce_to=contracts(3), reduce_by=None, market_ticker=VIT) == rest(
        "order_decrease_request.json"
    )
    with pytest.raises(ValueError, match="exactly one"):
        decrease_body(reduce_to=100, reduce_by=100, market_ticker=VIT)
