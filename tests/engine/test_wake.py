"""A book change wakes a match only when what its decision reads changed: the best bid that is not
ours, the best ask, staleness. Deeper levels and our own order moving in the feed wake nobody; nor does
the feed's echo of a write whose reply was applied already."""

from __future__ import annotations

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, TickGrid, contracts
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.exchange import BookChange, OrderUpdate
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.marketdata import MarketData, visible_top
from kmm_tui.engine.markets import MarketState
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.orders import OrderState, OwnOrder
from kmm_tui.engine.recorder import Recorder

from .conftest import spec as match_spec

A = "KXT-A"


def book(bids: dict[int, int], no_bids: dict[int, int] | None = None) -> Book:
    return Book.from_legs(bids, no_bids or {4000: 500})


class Setup:
    def __init__(self) -> None:
        bus = Bus(lambda: 1_000, Recorder(None))
        self.match = MatchRuntime(_spec(), "EV", "title", Price(6000), Price(4000), MatchStatus.QUOTING)
        self.data = MarketData(bus, None, {"m1": self.match}, OrderLedger())  # type: ignore[arg-type]
        self.data.track((MarketState(A, "EV", "A", TickGrid.linear_cent(), "active"),))
        self.data.index()

    def change(self, b: Book, *, ours: str | None = None, delta: tuple[int, int] | None = None) -> bool:
        """Apply one feed change; True when it woke the match."""
        self.match.wake.clear()
        d = (Price(delta[0]), delta[1]) if delta else None
        self.data.on_book(BookChange(A, b, False, ours, d, snapshot=False))
        return self.match.wake.is_set()


def _spec():  # the conftest's spec needs a Trading helper only for its tickers
    class T:
        def tickers(self, series: str) -> tuple[str, str]:
            return A, "KXT-B"

    return match_spec(T())  # type: ignore[arg-type]


def test_visible_top_skips_our_own_size() -> None:
    b = book({5500: 500, 5400: 300})
    assert visible_top(b, {Price(5500): Count(500)}, False) == (5400, 6000, False)
    assert visible_top(b, {Price(5500): Count(200)}, False) == (5500, 6000, False), "a competitor joins us"
    assert visible_top(b, {}, True) == (5500, 6000, True)


def test_only_changes_a_decision_reads_wake_the_match() -> None:
    s = Setup()
    assert s.change(book({5400: 300})), "the first book always wakes"
    assert not s.change(book({5400: 300, 5000: 100})), "a deeper level"
    assert not s.change(book({5400: 300, 5000: 200})), "a deeper level grows"
    assert s.change(book({5500: 100, 5400: 300, 5000: 200})), "a competitor outbids"
    assert s.change(book({5500: 100, 5400: 300, 5000: 200}, {3900: 100})), "the best ask moved"


def test_our_own_order_moving_in_the_feed_wakes_nobody_but_a_competitor_at_our_level_does() -> None:
    s = Setup()
    ours = "kmm-1"
    assert s.change(book({5400: 300}))
    assert not s.change(book({5500: 500, 5400: 300}), ours=ours, delta=(5500, 500)), "our bid appears"
    assert not s.change(book({5600: 500, 5500: 500, 5400: 300}), ours=ours, delta=(5600, 500))
    assert not s.change(book({5600: 500, 5400: 300}), ours=ours, delta=(5500, -500)), "our old level goes"
    assert s.change(book({5600: 800, 5400: 300})), "a competitor joins our level"


def test_the_feeds_echo_of_an_applied_write_wakes_nobody_but_a_change_to_our_order_does() -> None:
    bus = Bus(lambda: 1_000, Recorder(None))
    match = MatchRuntime(_spec(), "EV", "title", Price(6000), Price(4000), MatchStatus.QUOTING)
    orders = OrderLedger()
    execution = Execution(bus, None, {"m1": match}, orders, None)  # type: ignore[arg-type]
    order = OwnOrder("kmm-1", "m1", Side.A, A, Price(5100), contracts(5), order_id="o1",
                     state=OrderState.RESTING)
    orders.add(order)

    def update(price: int = 5100, filled: int = 0, state: OrderState = OrderState.RESTING) -> bool:
        match.wake.clear()
        execution.on_order_update(
            OrderUpdate("o1", "kmm-1", A, Price(price), contracts(filled), contracts(5 - filled), state)
        )
        return match.wake.is_set()

    assert not update(), "the echo of the amend whose reply we applied"
    assert update(price=5200), "the exchange shows another price"
    assert update(price=5200, filled=2), "a fill"
    assert update(price=5200, filled=2, state=OrderState.CANCELLED), "gone"
