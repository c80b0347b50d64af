"""Property tests of the matching engine: random order flow must keep the books and the money sound.

Invariants after every operation: the resting book is never crossed; every YES held has a NO on the
other side (positions sum to zero); cash + $1 per open pair + fees collected never changes; reserved
collateral equals the resting orders' cost; queues stay in time order; and every maker fill took the
best-priced, earliest order in the book.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmm_tui.domain.prices import MONEY_SCALE, PRICE_SCALE, Count, Money, Price
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.events import FillEvent, SimEvent
from kmm_tui.sim.exchange import AmendRequest, Exchange, OrderRequest
from tests.sim.simkit import NBA, TICKER, TICKER2, FakeClock, make_exchange

ACCOUNTS = ("a", "b", "c")
START = Money(500 * MONEY_SCALE)

create = st.tuples(
    st.just("create"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from((TICKER, NBA)),
    st.sampled_from(("bid", "ask")),
    st.integers(1, 99),
    st.integers(1, 30),
    st.sampled_from(("good_till_canceled", "good_till_canceled", "immediate_or_cancel", "fill_or_kill")),
    st.sampled_from(("taker_at_cross", "maker")),
    st.booleans(),
)
cancel = st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(0, 50))
amend = st.tuples(
    st.just("amend"), st.sampled_from(ACCOUNTS), st.integers(0, 50), st.integers(1, 99), st.integers(1, 30)
)
decrease = st.tuples(st.just("decrease"), st.sampled_from(ACCOUNTS), st.integers(0, 50), st.integers(0, 30))
tick = st.tuples(st.just("tick"), st.integers(1, 20_000))
ops = st.lists(st.one_of(create, create, create, cancel, amend, decrease, tick), min_size=1, max_size=60)


def check_invariants(ex: Exchange) -> None:
    total_fees = sum(f.fee for acc in ex.accounts.values() for f in acc.fills)
    open_pairs = sum(m.open_interest for m in ex.markets.values())
    cash = sum(acc.cash for acc in ex.accounts.values())
    rounding = sum(acc.rounding_fees for acc in ex.accounts.values())
    assert cash + open_pairs * PRICE_SCALE + total_fees + rounding == START * len(ACCOUNTS)
    if ex.fidelity.rounding_fee:
        assert all(acc.cash % (MONEY_SCALE // 100) == 0 for acc in ex.accounts.values()), "whole cents"
    for ticker, book in ex.books.items():
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, f"crossed book {ticker}: {bid} >= {ask}"
        positions = [
            acc.positions[ticker].position for acc in ex.accounts.values() if ticker in acc.positions
        ]
        assert sum(positions) == 0
        assert ex.markets[ticker].open_interest == sum(p for p in positions if p > 0)
        for levels in (book.bids, book.asks):
            for price, queue in levels.items():
                assert queue, "empty level left behind"
                assert [o.priority for o in queue] == sorted(o.priority for o in queue)
                assert all(o.price == price and o.status == "resting" and o.remaining > 0 for o in queue)
    for acc in ex.accounts.values():
        resting = [o for o in acc.orders.values() if o.status == "resting"]
        assert acc.reserved == sum(o.leg_price * o.remaining for o in resting)
        assert sum(acc.shard_cash.values()) == acc.cash and sum(acc.shard_reserved.values()) == acc.reserved
        for o in acc.orders.values():
            assert o.fill_count + o.remaining <= o.initial_count or o.status == "resting"
            assert o.remaining >= 0 and o.fill_count >= 0
        assert acc.cash >= 0


def priority_watcher(ex: Exchange) -> list[str]:
    problems: list[str] = []

    def watch(event: SimEvent) -> None:
        if not isinstance(event, FillEvent) or event.fill.is_taker:
            return
        fill = event.fill
        book = ex.books[fill.ticker]
        maker = ex._orders[fill.order_id]
        levels = book.bids if maker.side == "bid" else book.asks
        best = max(levels) if maker.side == "bid" else min(levels)
        if maker.price != best or levels[best][0] is not maker:
            problems.append(f"maker {maker.order_id} filled out of price-time order")

    ex.listeners.append(watch)
    return problems


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.booleans())
def test_random_order_flow_keeps_invariants(operations: list[tuple], rounding_fee: bool) -> None:
    clock = FakeClock()
    ex = make_exchange(clock)
    ex.fidelity.rounding_fee = rounding_fee
    for name in ACCOUNTS:
        ex.open_account(name, START)
    problems = priority_watcher(ex)
    for op in operations:
        kind = op[0]
        try:
            if kind == "create":
                _, acct, ticker, side, cents, n, tif, stp, post_only = op
                ex.create_order(
                    acct,
                    OrderRequest(
                        ticker,
                        side,
                        Price(cents * 100),
                        Count(n * 100),
                        tif,
                        stp,
                        post_only=post_only and tif == "good_till_canceled",
                    ),
                )
            elif kind == "tick":
                clock.now += op[1]
                ex.sweep()
            else:
                acct = op[1]
                resting = ex.resting_orders(acct)
                if not resting:
                    continue
                order = resting[op[2] % len(resting)]
                if kind == "cancel":
                    ex.cancel_order(acct, order.order_id)
                elif kind == "amend":
                    ex.amend_order(
                        acct,
                        order.order_id,
                        AmendRequest(
                            order.ticker,
                            order.side,
                            Price(op[3] * 100),
                            Count(order.fill_count + op[4] * 100),
                        ),
                    )
                else:
                    ex.decrease_order(
                        acct, order.order_id, reduce_to=Count(min(op[3] * 100, order.remaining))
                    )
        except SimError as exc:
            assert exc.code in {"insufficient_balance", "invalid_order", "invalid_parameters"}, exc
        check_invariants(ex)
    assert problems == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ACCOUNTS), st.sampled_from(("bid", "ask")), st.integers(1, 99), st.integers(1, 20)
        ),
        min_size=2,
        max_size=40,
    ),
    st.sampled_from(("yes", "no")),
)
def test_settlement_returns_all_collateral(flow: list[tuple], result: str) -> None:
    ex = make_exchange()
    for name in ACCOUNTS:
        ex.open_account(name, START)
    for acct, side, cents, n in flow:
        with contextlib.suppress(SimError):
            ex.create_order(acct, OrderRequest(TICKER, side, Price(cents * 100), Count(n * 100)))
    ex.settle_market(TICKER, result)
    fees = sum(f.fee for acc in ex.accounts.values() for f in acc.fills)
    assert sum(acc.cash for acc in ex.accounts.values()) + fees == START * len(ACCOUNTS)
    assert all(acc.reserved == 0 for acc in ex.accounts.values())
    assert all(
        acc.positions.get(TICKER) is None or acc.positions[TICKER].position == 0
        for acc in ex.accounts.values()
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ACCOUNTS),
            st.sampled_from((TICKER, TICKER2)),
            st.sampled_from(("bid", "ask")),
            st.integers(1, 99),
            st.integers(1, 20),
        ),
        min_size=2,
        max_size=40,
    ),
    st.sampled_from((TICKER, TICKER2)),
)
def test_an_event_settles_each_account_as_if_every_contract_bought_were_held(
    flow: list[tuple], winner: str
) -> None:
    """Netting (buying NO while long YES redeems pairs at once) must not change what anyone ends with:
    each account's cash equals its deposit − every fill's cost and fee + $1 per contract bought on
    the side that won, and its realised P&L is that cash change before fees."""
    ex = make_exchange()
    for name in ACCOUNTS:
        ex.open_account(name, START)
    for acct, ticker, side, cents, n in flow:
        with contextlib.suppress(SimError):
            ex.create_order(acct, OrderRequest(ticker, side, Price(cents * 100), Count(n * 100)))
    ex.settle_event("KXCS2GAME-26NOV281330VITFAZ", {winner})
    for acc in ex.accounts.values():
        expected = START
        for fill in acc.fills:
            leg = fill.yes_price if fill.side == "bid" else PRICE_SCALE - fill.yes_price
            won = (fill.side == "bid") == (fill.ticker == winner)
            expected += (PRICE_SCALE if won else 0) * fill.count - leg * fill.count - fill.fee
        assert acc.cash == expected
        fees = sum(f.fee for f in acc.fills)
        assert sum(p.realized_pnl for p in acc.positions.values()) == acc.cash - START + fees
        assert all(p.position == 0 and p.cost == 0 for p in acc.positions.values())
