"""Markouts, the flow guards and the account limits against the simulator, with scripted traders.

An informed trader sells into our bid just before the market's fair value drops (the competitors'
book is moved down right after); an uninformed one sells at the same price into a book that stays.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from kmm_tui.domain.markouts import fill_clv
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import AccountLimits, MatchStatus
from kmm_tui.sim import SimServer

from .conftest import QUIET, Trading, connect, eventually, spec

HORIZONS = (300, 1_000)


@pytest.fixture
async def fast() -> AsyncIterator[Trading]:
    """``trading`` with markout horizons short enough for a test."""
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim, markout_horizons_ms=HORIZONS)
        t = Trading(sim, engine, feed)
        try:
            yield t
        finally:
            await engine.close()
        assert t.resting() == [], "orders left resting after close"


def book(t: Trading, ticker: str, bid: int, ask: int) -> list[str]:
    """Competitors' best bid and ask (cents): Kalshi's mid sits between them."""
    return [t.compete(ticker, bid), t.compete(ticker, ask, side="ask")]


def move(t: Trading, ticker: str, old: list[str], bid: int, ask: int) -> list[str]:
    """The fair value jumps: the competitors requote around it."""
    for order_id in old:
        t.sim.cancel_competitor_order(order_id)
    return book(t, ticker, bid, ask)


async def quoting(t: Trading, ticker: str) -> int:
    await eventually(lambda: t.our_price(ticker) is not None, what="our bid")
    price = t.our_price(ticker)
    assert price is not None
    return price


async def test_informed_flow_marks_out_negative(fast: Trading) -> None:
    t = fast
    a, _ = t.tickers("KXCS2GAME")
    competitors = book(t, a, 55, 65)
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60, line_move_mid=None), start=True))
    ours = await quoting(t, a)
    assert t.sim.take(a, "ask", Price(ours), contracts(5), name="informed") == contracts(5)
    move(t, a, competitors, 45, 55)  # right after the informed sale, fair drops 10c
    await eventually(
        lambda: t.view().fill_markouts and len(t.view().fill_markouts[0].later) == 2, what="samples"
    )
    fill = t.view().fill_markouts[0]
    assert fill.at_fill.mid == 6000 and fill.at_fill.theo == 6000
    assert fill.markout(1_000) == -1000  # the mid fell 10c after we bought
    summary = t.view().markouts
    assert summary is not None and summary.at(1_000).adverse_share == 1  # type: ignore[union-attr]
    assert t.view().suggested_edge == Price(1000)


async def test_uninformed_flow_marks_out_near_zero(fast: Trading) -> None:
    t = fast
    a, _ = t.tickers("KXCS2GAME")
    book(t, a, 55, 65)
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60), start=True))
    ours = await quoting(t, a)
    t.sim.take(a, "ask", Price(ours), contracts(5), name="noise")
    await eventually(
        lambda: t.view().fill_markouts and len(t.view().fill_markouts[0].later) == 2, what="samples"
    )
    fill = t.view().fill_markouts[0]
    assert fill.markout(300) == 0 and fill.markout(1_000) == 0
    assert fill.spread() == 6000 - ours > 0  # the edge we took was really earned
    assert t.view().markouts.at(1_000).adverse_share == 0  # type: ignore[union-attr]


async def test_a_fill_burst_pulls_that_side_within_one_decision(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    book(t, a, 55, 65)
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60, line_move_mid=None), start=True))
    for _ in range(3):
        ours = await quoting(t, a)
        assert t.sim.take(a, "ask", Price(ours), contracts(1), name="informed") == contracts(1)
        await eventually(lambda: t.view().inventory.count_long_a > 0, what="fill booked")
    await eventually(lambda: t.our_price(a) is None, within=1.0, what="side A pulled")
    quote = t.view().quote_a
    assert quote is not None and quote.reason is Reason.FILL_BURST
    assert "3 fills on A within 10s" in quote.detail
    assert t.our_price(b) is not None  # the other side keeps quoting


async def test_a_kalshi_line_move_pulls_the_match_then_requotes(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    competitors = book(t, a, 55, 65)
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60, line_move_hold_ms=1_500), start=True))
    await quoting(t, a)
    await quoting(t, b)
    move(t, a, competitors, 68, 72)  # up: the new competitors do not trade against our bid
    await eventually(lambda: t.resting() == [], within=1.0, what="every quote pulled")
    quote = t.view().quote_a
    assert quote is not None and quote.reason is Reason.LINE_MOVE
    assert "Kalshi mid A moved 60c → 70c" in quote.detail
    await eventually(lambda: t.our_price(a) is not None, within=4.0, what="requoted after the hold")


async def test_our_own_bid_moving_is_never_read_as_a_line_move(trading: Trading) -> None:
    """The guard watches Kalshi's mid without our bids: when the only competing bid leaves, our bid
    drops to the bottom of an empty side — the mid with it would fall 22c, without it there is none."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    competing = t.compete(a, 45)
    t.compete(a, 75, side="ask")
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=70), start=True))
    assert await quoting(t, a) == Price(4600)  # one tick above 45c, under the 68c ceiling
    t.sim.cancel_competitor_order(competing)
    await eventually(lambda: t.our_price(a) == Price(100), what="our bid alone on the bid side")
    for _ in range(30):  # past the runner's timed re-decision (1 s): the guard would pull at once
        quote = t.view().quote_a
        assert quote is not None and quote.reason is not Reason.LINE_MOVE, quote.detail
        assert t.our_price(a) == Price(100)
        await asyncio.sleep(0.05)


async def test_a_line_move_halts_when_confirmation_is_required(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    competitors = book(t, a, 55, 65)
    await t.engine.execute(cmd.AddMatch(spec(t, theo_a=60, line_move_confirm=True), start=True))
    await quoting(t, a)
    move(t, a, competitors, 68, 72)
    await eventually(lambda: t.view().status is MatchStatus.HALTED, within=1.0, what="halted")
    assert "confirm theo" in t.view().status_reason
    await eventually(lambda: t.resting() == [], what="quotes pulled")


async def test_account_limit_stops_everything_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    limits = AccountLimits(max_resting_notional=Money(2_000_000))  # $2: a 5-lot at 56c exceeds it
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim, journal=Journal(path), account_limits=limits)
        t = Trading(sim, engine, feed)
        a, _ = t.tickers("KXCS2GAME")
        lol_a, lol_b = t.tickers("KXLOLGAME")
        book(t, a, 55, 65)
        try:
            other = replace(spec(t, theo_a=60), match_id="m2", ticker_a=lol_a, ticker_b=lol_b)
            await engine.execute(cmd.AddMatch(other, start=True))  # an empty book: low bids, within the limit
            await eventually(lambda: t.our_price(lol_a) is not None, what="the other match quoting")
            await engine.execute(cmd.AddMatch(spec(t, theo_a=60), start=True))
            await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted on the limit")
            assert "resting notional" in t.view().status_reason
            await eventually(lambda: t.view("m2").status is MatchStatus.HALTED, within=2, what="m2 too")
            await eventually(lambda: t.resting() == [], what="everything pulled")
            view = engine.snapshot().account
            assert view is not None and view.latched is not None
            with pytest.raises(EngineError, match="reset the account limits"):
                await engine.execute(cmd.StartMatch("m1"))
        finally:
            await engine.close()

        engine, feed = await connect(sim, journal=Journal(path))  # no limits configured this time
        t = Trading(sim, engine, feed)
        try:
            with pytest.raises(EngineError, match="resting notional"):
                await engine.execute(cmd.StartMatch("m1"))
            await engine.execute(cmd.ResetAccountLimits())
            await engine.execute(cmd.StartMatch("m1"))
            await eventually(lambda: t.our_price(a) is not None, what="quoting after the reset")
        finally:
            await engine.close()
        assert t.resting() == []


async def test_the_closing_line_is_the_last_fair_value_before_the_start(fast: Trading) -> None:
    t = fast
    a, _ = t.tickers("KXCS2GAME")
    book(t, a, 55, 65)
    margin = 60_000
    starting = replace(
        spec(t, theo_a=60, start_margin_ms=margin), start_ms=t.engine.now_ms() + margin + 1_500
    )
    await t.engine.execute(cmd.AddMatch(starting, start=True))
    ours = await quoting(t, a)
    t.sim.take(a, "ask", Price(ours), contracts(5), name="noise")
    await eventually(lambda: t.view().status is MatchStatus.HALTED, within=4.0, what="pulled at the start")
    assert t.view().closing == (Price(6000), Price(4000))  # A: the mid; B (one-sided book): the theo
    fill = t.view().fill_markouts[0]
    assert fill_clv(fill, t.engine._markouts.closing) == 6000 - ours
