"""Engine scenarios against the simulator, asserting on the exchange's own state.

Every scenario here runs against an adversarial exchange (conftest ``adversarial()``): a share of writes
fails before or after it applied, reads lag writes, post-only crosses may be cancelled on arrival.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import MatchStatus, TheoInput

from .conftest import Trading, eventually, quoting_a, spec


@pytest.fixture
def trading(adversarial_trading: Trading) -> Trading:
    return adversarial_trading


async def test_follows_a_competitor_one_tick_at_a_time_and_stops_at_the_ceiling(trading: Trading) -> None:
    t = trading
    a = await quoting_a(t)  # theo 60/40, edge 2 -> ceilings 58/38
    for competitor in (50, 53, 56):
        t.compete(a, competitor)
        await eventually(lambda c=competitor: t.our_price(a) == (c + 1) * 100, what=f"outbid {competitor}c")
    t.compete(a, 58)
    await eventually(lambda: t.our_price(a) == 5800, what="bid at the 58c ceiling")
    await eventually(lambda: t.view().quote_a.reason is Reason.AT_CEILING, what="reason at ceiling")
    assert t.our_price(a) == 5800, "never above the ceiling"


async def test_backs_off_when_a_competitor_is_above_the_ceiling(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 62)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) == 5800, what="bid at the ceiling under the 62c competitor")
    quote = t.view().quote_a
    assert quote.reason is Reason.COMPETITOR_ABOVE_CEILING and "62c" in quote.detail


async def test_both_sides_fill_and_the_pair_profit_is_booked(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    t.compete(b, 34)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) == 5500 and t.our_price(b) == 3500, what="bids at 55c / 35c")
    t.compete(a, 55, count=5, side="ask")  # a seller hits our 55c bid
    t.compete(b, 35, count=5, side="ask")
    await eventually(lambda: t.view().inventory.locked_pairs == contracts(5), what="one locked pair of 5")
    inventory = t.view().inventory
    assert inventory.count_long_a == inventory.count_long_b == contracts(5)
    assert inventory.locked_profit == 5 * (100 - 55 - 35) * 10_000  # $0.10 per pair, no maker fee on CS2
    position = t.sim.exchange.account(t.account).positions
    assert position[a].position == contracts(5) and position[b].position == contracts(5)


async def test_at_the_inventory_limit_only_the_reducing_side_is_quoted_at_the_rebalance_ceiling(
    trading: Trading,
) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    t.compete(a, 54)
    await t.engine.execute(cmd.AddMatch(spec(t, inventory_max=5), start=True))
    await eventually(lambda: t.our_price(a) == 5500, what="bid on A at 55c")
    t.compete(a, 55, count=5, side="ask")
    await eventually(lambda: t.view().inventory.count_long_a == contracts(5), what="5 long A")
    await eventually(lambda: t.our_price(a) is None, what="A pulled: overexposed")
    view = t.view()
    assert view.quote_a.reason is Reason.OVEREXPOSED
    assert view.inventory.rebalance_ceiling(Side.B) == 4400  # 100 - 55 - 1
    t.compete(b, 40)  # above B's normal 38c ceiling, below the 44c rebalance ceiling
    await eventually(lambda: t.our_price(b) == 4100, what="B outbids 40c under the rebalance ceiling")
    assert t.view().quote_b.reason is Reason.REBALANCING


async def test_theo_update_moves_the_quotes(trading: Trading) -> None:
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 62)
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: t.our_price(a) == 5800, what="58c ceiling")
    await t.engine.execute(cmd.UpdateMatch("m1", theo=TheoInput(theo_a=Price(7000), theo_b=Price(3000))))
    await eventually(lambda: t.our_price(a) == 6300, what="outbid 62c under the new 68c ceiling")
    assert len(t.resting(a)) == 1


async def test_an_edge_changed_while_quoting_moves_the_ceiling_both_ways(trading: Trading) -> None:
    """The runner keeps the match's pricing settings between decisions: a settings update must reach
    the very next decision, and going back must not serve the earlier settings from a stale copy."""
    t = trading
    a, _ = t.tickers("KXCS2GAME")
    t.compete(a, 62)
    s = spec(t)
    await t.engine.execute(cmd.AddMatch(s, start=True))
    await eventually(lambda: t.our_price(a) == 5800, what="58c ceiling (edge 2c)")
    await t.engine.execute(cmd.UpdateMatch("m1", settings=replace(s.settings, edge=Price(500))))
    await eventually(lambda: t.our_price(a) == 5500, what="55c ceiling (edge 5c)")
    await t.engine.execute(cmd.UpdateMatch("m1", settings=s.settings))
    await eventually(lambda: t.our_price(a) == 5800, what="58c ceiling again (edge 2c)")


async def test_stop_pulls_every_order_of_the_match(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t), start=True))
    await eventually(lambda: len(t.resting()) == 2, what="two bids")
    await t.engine.execute(cmd.StopMatch("m1"))
    assert t.resting() == []
    assert t.view().status is MatchStatus.STOPPED


async def test_event_start_pulls_quotes_a_margin_before_the_start(trading: Trading) -> None:
    t = trading
    # starts in 9-10 minutes (schedules are on whole minutes): at least a minute of quoting left
    s = spec(t, "KXLOLGAME", start_margin_ms=8 * 60_000)
    await t.engine.execute(cmd.AddMatch(s, start=True))
    view = t.view()
    assert view.start_source == "milestone"
    await eventually(lambda: len(t.resting()) == 2, what="two bids before the margin")
    later = replace(s.settings, start_margin_ms=11 * 60_000)  # now inside the margin
    await t.engine.execute(cmd.UpdateMatch("m1", settings=later))
    await eventually(lambda: t.view().status is MatchStatus.HALTED, what="halted by the event-start guard")
    assert t.resting() == []
    assert "event starts" in t.view().status_reason


async def test_starting_with_theo_far_from_the_market_warns_of_a_swapped_mapping(trading: Trading) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    for ticker, bid, ask_as_no in ((a, 38, 58), (b, 58, 38)):  # market says A ~40c, B ~60c
        t.compete(ticker, bid)
        t.compete(ticker, 100 - ask_as_no + 4, side="ask")
    s = spec(t)  # theo A 60c, B 40c: the teams look swapped
    await t.engine.execute(cmd.AddMatch(s))
    await eventually(
        lambda: t.view().market_a.book.best_ask is not None and not t.view().market_a.stale,
        what="books loaded",
    )
    await eventually(
        lambda: t.view().market_b.book.best_ask is not None and not t.view().market_b.stale,
        what="books loaded",
    )
    warnings = t.engine.divergence_warnings("m1")
    assert len(warnings) == 2 and "check the team mapping" in warnings[0]
    await t.engine.execute(cmd.StartMatch("m1"))
    assert any("check the team mapping" in line.text for line in t.engine.snapshot().logs)


async def test_the_setup_preview_warns_before_starting_when_theo_is_far_from_the_mid(
    trading: Trading,
) -> None:
    t = trading
    a, b = t.tickers("KXCS2GAME")
    for ticker, bid, ask in ((a, 38, 42), (b, 58, 62)):  # the market says A ~40c, B ~60c
        t.compete(ticker, bid)
        t.compete(ticker, ask, side="ask")
    preview = await t.engine.preview_live(spec(t))  # theo A 60c, B 40c: swapped?
    assert len(preview.warnings) == 2 and "check the team mapping" in preview.warnings[0]
    assert not t.engine.snapshot().matches, "a preview adds nothing"


async def test_a_market_cannot_be_traded_by_two_matches(trading: Trading) -> None:
    t = trading
    await t.engine.execute(cmd.AddMatch(spec(t)))
    second = replace(spec(t), match_id="m2")
    with pytest.raises(EngineError, match="already traded by match") as error:
        await t.engine.execute(cmd.AddMatch(second))
    assert error.value.field == "ticker_a"
