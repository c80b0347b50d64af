"""What the feed shows of our orders: attributed deltas, snapshots, and settling to the ledger."""

from kmm_tui.domain.prices import Count, Price
from kmm_tui.engine.presence import FeedPresence

P = Price(5500)
N = Count(500)


def test_attributed_deltas_move_our_presence_exactly_as_they_move_the_book() -> None:
    presence = FeedPresence()
    presence.on_delta("T", P, N)
    presence.on_delta("T", P, -200)  # a partial fill the feed has now shown
    assert dict(presence.levels("T")) == {P: 300}
    presence.on_delta("T", P, -300)
    assert dict(presence.levels("T")) == {}


def test_the_feed_lagging_the_ledger_is_not_corrected_before_the_settle_time() -> None:
    """Filled 3 of 5: the ledger already has 2, the feed still shows 5 — all 5 are ours until then."""
    presence = FeedPresence(settle_ms=3_000)
    presence.on_delta("T", P, N)
    assert dict(presence.settle("T", [(P, Count(200))], now_ms=1_000)) == {P: 500}
    assert dict(presence.settle("T", [(P, Count(200))], now_ms=3_999)) == {P: 500}
    assert dict(presence.settle("T", [(P, Count(200))], now_ms=4_000)) == {P: 200}


def test_agreeing_again_restarts_the_clock() -> None:
    presence = FeedPresence(settle_ms=3_000)
    presence.on_delta("T", P, N)
    presence.settle("T", [(P, Count(200))], now_ms=0)
    presence.on_delta("T", P, -300)  # the feed caught up
    assert dict(presence.settle("T", [(P, Count(200))], now_ms=2_000)) == {P: 200}
    presence.on_delta("T", Price(5600), N)  # an amend the feed showed before its reply
    assert dict(presence.settle("T", [(P, Count(200))], now_ms=4_500)) == {P: 200, Price(5600): 500}


def test_a_snapshot_restarts_from_the_ledger() -> None:
    presence = FeedPresence()
    presence.on_delta("T", P, N)
    presence.on_snapshot("T", [(Price(5400), N), (Price(5400), Count(100))])
    assert dict(presence.levels("T")) == {Price(5400): 600}
