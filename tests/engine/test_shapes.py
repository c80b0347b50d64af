"""Every shape of match against the simulator: a soccer 1X2 event (home, tie, away) and a single totals
market traded on its YES and NO sides. Quoting on every outcome, fills on every outcome, the limit on the
worst outcome, rebalancing, settlement on each outcome with the P&L the exchange pays, pre-start pull."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, Shape, TheoInput
from kmm_tui.sim import SimServer
from kmm_tui.sim.model import EventDef

from .conftest import Trading, adversarial, connect, eventually
from .test_recovery import crash, start_engine

SHAPES = Path(__file__).with_name("shapes.toml")


@contextlib.asynccontextmanager
async def shapes_trading() -> AsyncIterator[Trading]:
    async with SimServer(SHAPES, agents=False, fidelity=adversarial()) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        engine.listen(t.events.append)
        try:
            yield t
        finally:
            await engine.close()
        assert t.resting() == [], "orders left resting after close"


def soccer(t: Trading) -> tuple[str, str, str]:
    """(home, tie, away) tickers of the EPL event."""
    match = next(m for m in t.sim.matches if m.event_ticker.startswith("KXEPLGAME"))
    home, away = (x for x in match.tickers if not x.endswith("-TIE"))
    return home, next(x for x in match.tickers if x.endswith("-TIE")), away


def add_total(t: Trading) -> str:
    """A totals event of one market, not mutually exclusive (as Kalshi lists them), beside the CS2 match."""
    cs2 = next(m for m in t.sim.matches if m.event_ticker.startswith("KXCS2GAME"))
    exchange = t.sim.exchange
    event_ticker = cs2.event_ticker.replace("KXCS2GAME", "KXCS2TOTAL")
    exchange.add_event(EventDef(event_ticker, "KXCS2GAME", "Vitality vs FaZe: total maps", "", "Test Masters",
                                mutually_exclusive=False))
    return add_market(t, cs2.tickers[0], event_ticker, f"{event_ticker}-2.5", "Over 2.5 maps")


def add_market(t: Trading, template: str, event_ticker: str, ticker: str, title: str) -> str:
    """Another market like ``template`` in ``event_ticker``."""
    t.sim.exchange.add_market(replace(
        t.sim.exchange.market(template), ticker=ticker, event_ticker=event_ticker,
        market_id=str(uuid.uuid4()), title=f"{title}?", yes_sub_title=title, custom_strike={},
    ))
    return ticker


def settings(**overrides: object) -> MatchSettings:
    values: dict = {"edge": Price(200), "contracts": contracts(5), "inventory_max": contracts(5)}
    values.update(overrides)
    return MatchSettings(**values)


def cash(t: Trading) -> int:
    return t.sim.exchange.account(t.account).cash


def price_of(t: Trading, ticker: str, side: str) -> int | None:
    orders = [o for o in t.resting(ticker) if o.side == side]
    assert len(orders) <= 1, f"more than one resting {side} on {ticker}: {orders}"
    return orders[0].price if orders else None


async def settle(t: Trading, tickers: tuple[str, ...], winner: str | None) -> None:
    await t.engine.execute(cmd.StopMatch("m1"))
    for ticker in tickers:
        t.sim.exchange.settle_market(ticker, "yes" if ticker == winner else "no")


@pytest.mark.parametrize("winner", [Side.A, Side.T, Side.B])
async def test_three_way_quotes_fills_rebalances_and_settles_every_outcome(winner: Side) -> None:
    async with shapes_trading() as t:
        home, tie, away = soccer(t)
        start_cash = cash(t)
        theo = TheoInput(theo_a=Price(4500), theo_tie=Price(2800))  # away implied: 27c
        spec = MatchSpec("m1", home, away, theo, settings(), ticker_tie=tie)
        for ticker, cents in ((home, 40), (tie, 20), (away, 20)):
            t.compete(ticker, cents)
        await t.engine.execute(cmd.AddMatch(spec, start=True))
        view = t.view()
        assert view.spec.shape is Shape.THREE_WAY and view.theo_t == 2800 and view.theo_b == 2700
        await eventually(
            lambda: (t.our_price(home), t.our_price(tie), t.our_price(away)) == (4100, 2100, 2100),
            what="one tick above every competitor: home 41c, tie 21c, away 21c",
        )

        t.compete(home, 41, count=5, side="ask")  # 5 home fill: home is at the limit, the others quote on
        await eventually(lambda: t.view().inventory.count_long_a == contracts(5), what="5 home")
        await eventually(lambda: t.our_price(home) is None, what="home pulled at the limit")
        assert t.view().quote_a.reason is Reason.OVEREXPOSED
        assert t.our_price(tie) == 2100 and t.our_price(away) == 2100

        t.compete(tie, 21, count=5, side="ask")  # 5 tie: away is now the only outcome that reduces exposure
        await eventually(lambda: t.view().inventory.count_long_t == contracts(5), what="5 tie")
        await eventually(lambda: t.our_price(tie) is None, what="tie pulled at the limit")
        t.compete(away, 30)  # above away's 25c ceiling, under the set's 100 - 41 - 21 - 1 = 37c
        await eventually(lambda: t.our_price(away) == 3100, what="away rebalancing one tick above 30c")
        assert t.view().quote_b.reason is Reason.REBALANCING and t.view().quote_t.reason is Reason.OVEREXPOSED

        t.compete(away, 31, count=3, side="ask")  # 3 of the 5 sets complete
        await eventually(lambda: t.view().inventory.count_long_b == contracts(3), what="3 away")
        inventory = t.view().inventory
        assert inventory.locked_sets(spec.outcomes) == contracts(3)
        assert inventory.locked_set_profit(spec.outcomes) == 3 * (100 - 41 - 21 - 31) * 10_000
        positions = t.sim.exchange.account(t.account).positions
        held = [positions[x].position for x in (home, tie, away)]
        assert held == [contracts(5), contracts(5), contracts(3)]

        await settle(t, (home, tie, away), spec.ticker(winner))
        assert cash(t) - start_cash == inventory.pnl_if(winner)
        assert inventory.worst_pnl(spec.outcomes) == inventory.pnl_if(Side.B) == -103 * 10_000


@pytest.mark.parametrize("winner", [Side.A, Side.B])
async def test_a_single_market_quotes_yes_and_no_rebalances_and_settles_either_way(winner: Side) -> None:
    async with shapes_trading() as t:
        total = add_total(t)
        start_cash = cash(t)
        t.compete(total, 50)  # a YES bid at 50c
        t.compete(total, 60, side="ask")  # a NO bid at 40c
        spec = MatchSpec("m1", total, total, TheoInput(theo_a=Price(5500)), settings())
        await t.engine.execute(cmd.AddMatch(spec, start=True))
        view = t.view()
        assert view.spec.shape is Shape.YES_NO and view.theo_b == 4500 and view.market_t is None
        # YES bid one tick above 50c; NO bid one tick above 40c, written as an ask at 100 - 41 = 59c
        await eventually(lambda: (price_of(t, total, "bid"), price_of(t, total, "ask")) == (5100, 5900),
                         what="YES bid 51c and NO bid 41c (ask 59c)")
        await asyncio.sleep(0.3)  # our own NO bid, an ask on the YES book, is never taken for a competitor
        assert (price_of(t, total, "bid"), price_of(t, total, "ask")) == (5100, 5900)
        assert t.view().quote_b.reason is Reason.BEST_BID and t.view().quote_a.reason is Reason.BEST_BID
        orders = {o.side: o for o in t.view().orders}
        assert (orders["b"].price, orders["b"].book_side, orders["b"].label) == (4100, "ask", "NO bid")
        assert orders["b"].yes_price == 5900 and orders["a"].label == "YES bid"

        t.compete(total, 51, count=5, side="ask")  # someone sells YES into our bid
        await eventually(lambda: t.view().inventory.count_long_a == contracts(5), what="5 YES")
        await eventually(lambda: price_of(t, total, "bid") is None, what="YES pulled at the limit")
        t.compete(total, 55, side="ask")  # a NO bid at 45c: above NO's 43c ceiling, under 100 - 51 - 1 = 48c
        await eventually(lambda: price_of(t, total, "ask") == 5400, what="NO rebalancing at 46c (ask 54c)")
        assert t.view().quote_b.reason is Reason.REBALANCING

        t.compete(total, 54, count=3)  # someone buys YES from our ask: we bought 3 NO at 46c
        await eventually(lambda: t.view().inventory.count_long_b == contracts(3), what="3 NO")
        inventory = t.view().inventory
        assert [f.price for f in t.view().fills if f.side == "b"] == [4600]
        net = t.sim.exchange.account(t.account).positions[total].position
        assert net == inventory.count_long_a - inventory.count_long_b == contracts(2)  # Kalshi nets YES/NO
        assert t.view().exchange_positions in (None, (contracts(2), 0))
        await eventually(lambda: t.view().exchange_positions == (contracts(2), 0), what="position read")
        assert t.view().status is MatchStatus.QUOTING, "the net position is no drift"

        await settle(t, (total,), total if winner is Side.A else None)
        assert cash(t) - start_cash == inventory.pnl_if(winner)
        assert (inventory.pnl_if(Side.A), inventory.pnl_if(Side.B)) == (107 * 10_000, -93 * 10_000)


@pytest.mark.parametrize("shape", [Shape.THREE_WAY, Shape.YES_NO])
async def test_every_outcome_is_pulled_a_margin_before_the_start(shape: Shape) -> None:
    async with shapes_trading() as t:
        if shape is Shape.THREE_WAY:
            home, tie, away = soccer(t)
            spec = MatchSpec("m1", home, away, TheoInput(theo_a=Price(4500), theo_b=Price(2700)), settings(),
                             ticker_tie=tie)
        else:
            total = add_total(t)
            spec = MatchSpec("m1", total, total, TheoInput(theo_a=Price(5500)), settings())
        await t.engine.execute(cmd.AddMatch(spec, start=True))
        await eventually(lambda: len(t.resting()) == len(spec.outcomes), what="a bid on every outcome")
        later = replace(spec.settings, start_margin_ms=4 * 3_600_000)  # the start is now inside the margin
        await t.engine.execute(cmd.UpdateMatch("m1", settings=later))
        await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted by the start guard")
        assert t.resting() == [] and "event starts" in t.view().status_reason


async def test_shapes_are_refused_with_a_reason_keyed_to_the_field() -> None:
    async with shapes_trading() as t:
        home, _, away = soccer(t)
        cs2 = next(m for m in t.sim.matches if m.event_ticker.startswith("KXCS2GAME"))
        with pytest.raises(EngineError, match="third outcome") as two_of_three:
            await t.engine.describe_pair(home, away)
        assert two_of_three.value.field == "ticker_tie"
        with pytest.raises(EngineError, match="every outcome must be from one event") as mixed:
            await t.engine.describe_pair(home, away, cs2.tickers[0])
        assert mixed.value.field == "ticker_tie"
        with pytest.raises(EngineError, match="three different markets"):
            await t.engine.describe_pair(home, away, home)
        extra = [add_market(t, cs2.tickers[0], cs2.event_ticker, f"{cs2.event_ticker}-{code}", code)
                 for code in ("X", "Y")]  # the event now has four markets: three of them are no match
        with pytest.raises(EngineError, match=r"has 4 markets.*home, tie and away markets") as partial:
            await t.engine.describe_pair(*cs2.tickers, extra[0])
        assert partial.value.field == "ticker_tie"
        total = add_total(t)
        single = await t.engine.describe_pair(total, total)
        assert single.shape is Shape.YES_NO and len(single.markets) == 1 and single.team_b.startswith("not ")
        event = total.rsplit("-", 1)[0]
        over_3, over_4 = (add_market(t, total, event, f"{event}-{n}.5", f"Over {n}.5 maps") for n in (3, 4))
        with pytest.raises(EngineError, match="not mutually exclusive") as lines:
            await t.engine.describe_pair(total, over_4, over_3)
        assert lines.value.field == "ticker_tie"


async def test_a_restart_rebuilds_every_outcome_from_the_journal_and_backfills_a_no_fill(
    tmp_path: Path,
) -> None:
    """Tie and NO fills are journaled as their outcome; a NO bid filled while the engine was down is
    back-filled as side B at its NO price, and the netted position is no drift after the restart."""
    async with SimServer(SHAPES, agents=False) as sim:
        engine = await start_engine(sim, Journal(tmp_path / "journal.sqlite3"))
        t = Trading(sim, engine, engine._x.feed)
        home, tie, away = soccer(t)
        total = add_total(t)
        soccer_spec = MatchSpec("m1", home, away, TheoInput(theo_a=Price(4500), theo_tie=Price(2800)),
                                settings(), ticker_tie=tie)
        total_spec = MatchSpec("m2", total, total, TheoInput(theo_a=Price(5500)), settings())
        for s in (soccer_spec, total_spec):
            await engine.execute(cmd.AddMatch(s, start=True))
        await eventually(lambda: len(t.resting()) == 5, what="a bid on every outcome of both matches")
        t.compete(tie, t.our_price(tie) // 100, count=2, side="ask")
        t.compete(total, price_of(t, total, "bid") // 100, count=4, side="ask")
        await eventually(lambda: t.view("m1").inventory.count_long_t == contracts(2), what="2 tie")
        await eventually(lambda: t.view("m2").inventory.count_long_a == contracts(4), what="4 YES")
        no_ask = price_of(t, total, "ask")
        assert no_ask is not None
        await crash(engine)
        t.compete(total, no_ask // 100, count=1)  # a YES buyer takes our NO bid while we are down

        engine = await start_engine(sim, Journal(tmp_path / "journal.sqlite3"))
        t = Trading(sim, engine, engine._x.feed)
        try:
            three, single = t.view("m1"), t.view("m2")
            assert three.spec.ticker_tie == tie and three.market_t is not None
            assert three.inventory.count_long_t == contracts(2) and three.inventory.count_long_a == 0
            held = (single.inventory.count_long_a, single.inventory.count_long_b)
            assert held == (contracts(4), contracts(1))
            assert single.inventory.avg_price(Side.B) == 10_000 - no_ask
            await engine.execute(cmd.StartMatch("m2"))
            await eventually(lambda: t.view("m2").exchange_positions == (contracts(3), 0), what="net read")
            # YES may add 2 more (4 − 1 held, limit 5), NO the full 5
            await eventually(
                lambda: sorted((o.side, o.remaining) for o in t.resting(total))
                == [("ask", contracts(5)), ("bid", contracts(2))],
                what="m2 quoting both sides again",
            )
            assert t.view("m2").status is MatchStatus.QUOTING
        finally:
            await engine.close()


async def test_the_setup_preview_prices_every_outcome_of_a_match_not_watched_yet() -> None:
    async with shapes_trading() as t:
        home, tie, away = soccer(t)
        t.compete(tie, 20)
        theo = TheoInput(theo_a=Price(4500), theo_b=Price(2700))  # the draw implied: 28c
        preview = await t.engine.preview_live(MatchSpec("p", home, away, theo, settings(), ticker_tie=tie))
        assert (preview.theo_a, preview.theo_t, preview.theo_b) == (4500, 2800, 2700)
        assert preview.decision.t is not None and preview.decision.t.price == 2100
        assert preview.decision.t.ceiling == 2600 and not t.engine.snapshot().matches
        total = add_total(t)
        t.compete(total, 60, side="ask")  # a NO bid at 40c
        one_market = MatchSpec("p", total, total, TheoInput(theo_a=Price(5500)), settings())
        single = await t.engine.preview_live(one_market)
        assert (single.theo_b, single.decision.b.price, single.decision.t) == (4500, 4100, None)
