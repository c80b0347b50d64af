"""Hand-built snapshots of every shape of match, for rendering tests and SVG snapshots: a soccer
event mid-session (home, draw and away quoted, a fill on each) and one totals market with our YES bid
and our NO bid resting (deterministic: the fixed clock of views)."""

from __future__ import annotations

from dataclasses import replace

from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Money, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine.model import MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.state import EngineView, MarketView, MatchView, OrderView
from tests.tui.views import MIN, NOW_MS, book, c, demo_view, fill, quote


def soccer_match() -> MatchView:
    """A three-way event mid-session: home, draw and away quoted, one fill on each outcome."""
    event = "KXEPLGAME-26NOV28ARSCHE"
    ta, tt, tb = f"{event}-ARS", f"{event}-TIE", f"{event}-CHE"
    spec = MatchSpec(
        f"{ta}+{tt}+{tb}", ta, tb, TheoInput(theo_a=c(45), theo_b=c(26), theo_tie=c(29)),
        name="Arsenal v Chelsea", ticker_tie=tt,
    )
    inventory = (
        Inventory()
        .apply_fill(Side.A, c(43), contracts(10), Money(17_000))
        .apply_fill(Side.T, c(27), contracts(10), Money(14_000))
        .apply_fill(Side.B, c(24), contracts(4), Money(5_000))
    )
    orders = (
        OrderView("s1", "o1", ta, "a", c(43), contracts(10), Count(0), "resting"),
        OrderView("s2", "o2", tt, "t", c(27), contracts(10), Count(0), "resting"),
        OrderView("s3", "o3", tb, "b", c(24), contracts(6), contracts(4), "resting"),
    )
    return MatchView(
        spec=spec,
        status=MatchStatus.QUOTING,
        status_reason="quoting",
        event_ticker=event,
        market_a=MarketView(ta, "Arsenal", book([(43, 10), (42, 50)], [(46, 30)]), "active", False),
        market_b=MarketView(tb, "Chelsea", book([(24, 6), (23, 40)], [(27, 25)]), "active", False),
        theo_a=c(45),
        theo_b=c(26),
        quote_a=quote(43, Reason.QUOTING, "one tick above 42c", 43),
        quote_b=quote(24, Reason.AT_CEILING, "at ceiling 24c", 24),
        inventory=inventory,
        orders=orders,
        fills=(
            fill("s-t3", tb, "b", 24, 4, 5_000, 20),
            fill("s-t2", tt, "t", 27, 10, 14_000, 60),
            fill("s-t1", ta, "a", 43, 10, 17_000, 90),
        ),
        decisions=(),
        history=(),
        start_ms=NOW_MS + 60 * MIN,
        start_source="milestone",
        market_t=MarketView(tt, "Tie", book([(27, 10), (26, 80)], [(30, 15)]), "active", False),
        theo_t=c(29),
        quote_t=quote(27, Reason.AT_CEILING, "at ceiling 27c", 27),
    )


def total_match() -> MatchView:
    """One YES/NO market (an NBA total): our YES bid at 48c and our NO bid at 47c (a YES ask at 53c)."""
    ticker = "KXNBATOTAL-26NOV28LALBOS-220"
    spec = MatchSpec(ticker, ticker, ticker, TheoInput(theo_a=c(51), theo_b=c(49)), name="")
    yes_book = book([(48, 10), (47, 60)], [(53, 10), (55, 40)])
    market = MarketView(ticker, "Over 220.5 points", yes_book, "active", False)
    return MatchView(
        spec=spec,
        status=MatchStatus.QUOTING,
        status_reason="quoting",
        event_ticker="KXNBATOTAL-26NOV28LALBOS",
        market_a=market,
        market_b=market,
        theo_a=c(51),
        theo_b=c(49),
        quote_a=quote(48, Reason.QUOTING, "one tick above 47c", 49),
        quote_b=quote(47, Reason.QUOTING, "one tick above 45c", 47),
        inventory=Inventory().apply_fill(Side.A, c(48), contracts(5), Money(9_000)),
        orders=(
            OrderView("y1", "o1", ticker, "a", c(48), contracts(10), Count(0), "resting", "bid", "YES bid"),
            OrderView("n1", "o2", ticker, "b", c(47), contracts(10), Count(0), "resting", "ask", "NO bid"),
        ),
        fills=(fill("y-t1", ticker, "a", 48, 5, 9_000, 30),),
        decisions=(),
        history=(),
        start_ms=NOW_MS + 120 * MIN,
        start_source="milestone",
    )


def shapes_view() -> EngineView:
    """The demo view plus a soccer event and an NBA total (every shape on one screen)."""
    view = demo_view()
    return replace(view, matches=(view.matches[0], soccer_match(), total_match()))
