"""The queue model on its own: pure rules on hand-made books (docs/replay.md)."""

from __future__ import annotations

from kmm_tui.domain.book import Book
from kmm_tui.replay.queue import Spot, on_book, on_trade

P = 5000  # our bid


def book(bids: dict[int, int], asks: dict[int, int] | None = None) -> Book:
    return Book(tuple(sorted(bids.items(), reverse=True)), tuple(sorted((asks or {}).items())))


def test_a_decrease_eats_the_size_ahead_before_us() -> None:
    step = on_book(P, Spot(500), remaining=300, old=book({P: 500}), new=book({P: 200}))
    assert (step.filled, step.spot) == (0, Spot(200))


def test_a_decrease_past_everything_ahead_fills_us() -> None:
    step = on_book(P, Spot(200), remaining=300, old=book({P: 500}), new=book({P: 100}))
    assert (step.filled, step.spot) == (200, Spot(0))


def test_joiners_queue_behind_us_and_their_cancels_do_not_fill_us() -> None:
    joined = on_book(P, Spot(200), remaining=300, old=book({P: 200}), new=book({P: 900}))
    assert (joined.filled, joined.spot) == (0, Spot(200, 700))
    left = on_book(P, joined.spot, remaining=300, old=book({P: 900}), new=book({P: 200}))
    assert (left.filled, left.spot) == (0, Spot(0, 200))  # the front moved up; nothing traded through us


def test_a_level_shrinking_past_the_queue_ahead_and_behind_trades_through_us() -> None:
    step = on_book(P, Spot(100, 100), remaining=300, old=book({P: 500}), new=book({}))
    assert (step.filled, step.spot) == (300, Spot(0, 0))


def test_changes_at_other_levels_change_nothing() -> None:
    step = on_book(P, Spot(0), remaining=300, old=book({4900: 500}), new=book({4900: 0}))
    assert (step.filled, step.spot) == (0, Spot(0))


def test_a_new_ask_at_our_price_trades_past_better_bids_then_the_queue_then_us() -> None:
    old = book({5100: 100, P: 200}, {5200: 100})
    new = book({5100: 100, P: 200}, {P: 600, 5200: 100})
    step = on_book(P, Spot(200), remaining=1000, old=old, new=new)
    assert (step.filled, step.spot) == (300, Spot(0))


def test_a_recorded_trade_below_our_bid_fills_us_first() -> None:
    assert on_trade(P, Spot(700), remaining=300, trade_price=4900, count=500).filled == 300


def test_a_recorded_trade_at_our_bid_eats_the_queue_first() -> None:
    step = on_trade(P, Spot(200), remaining=300, trade_price=P, count=250)
    assert (step.filled, step.spot) == (50, Spot(0))


def test_a_recorded_trade_above_our_bid_does_not_reach_us() -> None:
    assert on_trade(P, Spot(0), remaining=300, trade_price=5100, count=500).filled == 0
