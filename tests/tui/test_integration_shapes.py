"""Every shape in the app over the real engine, client and simulator (no mocks): for a soccer event,
home and away alone are refused with the draw's field shown, three odds add a three-way match that
quotes on all three markets, and typed theos above 100c are refused on the field with nothing typed
lost; for one totals market, the live view marks our YES bid and our NO bid on its YES book."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input

from kmm_tui.bootstrap import Connection, build_engine
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.model import MatchSettings, MatchSpec, Shape, TheoInput
from kmm_tui.kalshi.auth import Signer
from kmm_tui.sim import SimServer
from kmm_tui.sim.model import EventDef
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.live import LiveScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from kmm_tui.tui.widgets.ladder import Ladder
from tests.engine.test_shapes import SHAPES
from tests.tui.test_integration import resting_on_exchange, sim_and_engine, type_text, wait_for

pytestmark = pytest.mark.slow


def preview_text(form: MatchFormScreen) -> str:
    return str(form.query_one("#form-preview").render())


def epl(sim: SimServer) -> tuple[str, str, str]:
    """(home, tie, away) of the default scenario's EPL event."""
    tickers = sorted(t for t in sim.exchange.markets if t.startswith("KXEPLGAME"))
    tie = next(t for t in tickers if t.endswith("-TIE"))
    home = next(t for t in tickers if t.endswith("-ARS"))
    away = next(t for t in tickers if t.endswith("-CHE"))
    return home, tie, away


async def test_home_and_away_alone_ask_for_the_draw_then_three_odds_quote_all_three(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        home, tie, away = epl(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
            form = app.screen
            assert isinstance(form, MatchFormScreen)
            await type_text(pilot, home)
            await pilot.press("tab")
            await type_text(pilot, away)
            await pilot.press("tab")
            await type_text(pilot, "2.1")
            await pilot.press("tab")
            await type_text(pilot, "3.6")
            await wait_for(pilot, lambda: "ticker_tie" in form.errors, "the exchange asking for the draw")
            assert tie in form.errors["ticker_tie"]
            assert form.query_one("#f-ticker_tie", Input).display
            assert form.query_one("#f-odds_draw", Input).display
            assert form.values()["odds_b"] == "3.6"  # nothing typed is lost
            form.query_one("#f-ticker_tie", Input).focus()
            await type_text(pilot, tie)
            form.query_one("#f-odds_draw", Input).focus()
            await type_text(pilot, "3.4")
            await wait_for(pilot, lambda: "draw" in preview_text(form), "the preview")
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the form to close")
            (match,) = engine.snapshot().matches
            assert match.spec.shape is Shape.THREE_WAY and match.spec.ticker_tie == tie
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 3, "a bid on home, draw and away")


async def test_typed_theos_above_100c_are_refused_on_the_field(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        home, tie, away = epl(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 45)) as pilot:
            app.open_match_form(prefill={"ticker_a": home, "ticker_tie": tie, "ticker_b": away})
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
            form = app.screen
            assert isinstance(form, MatchFormScreen)
            await wait_for(pilot, lambda: form.focused is not None, "the fields")
            form.query_one("#f-theo_a", Input).focus()
            await type_text(pilot, "60")
            await pilot.press("tab")
            await type_text(pilot, "45")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "theo_tie" in form.errors, "the refusal on the draw's theo")
            assert "leaves nothing for away" in form.errors["theo_tie"]
            assert (form.values()["theo_a"], form.values()["theo_tie"]) == ("60", "45")
            assert engine.snapshot().matches == ()
            await pilot.press("backspace", "backspace")
            await type_text(pilot, "25")
            def away_line() -> str:  # the preview follows the keys: wait for the one after "25"
                return next((line for line in preview_text(form).splitlines() if line.startswith("away")), "")

            await wait_for(pilot, lambda: "theo 15c" in away_line(), "away implied at 100 − 60 − 25 = 15c")
            assert "Chelsea" in away_line()


@asynccontextmanager
async def shapes_sim_and_engine(tmp_path: Path) -> AsyncIterator[tuple[SimServer, Engine]]:
    """The engine shapes scenario (a soccer event and a CS2 match, no traders) and the app's engine."""
    async with SimServer(SHAPES, agents=False, state_dir=tmp_path) as sim:
        account = sim.demo_account
        signer = Signer.from_pem(account.key_id, account.private_key_pem)
        engine = build_engine(Connection("sim", sim.base_url, sim.ws_url, signer))
        await engine.start()
        try:
            yield sim, engine
        finally:
            await engine.close()


def add_total(sim: SimServer) -> str:
    """A one-market totals event beside the CS2 match (not mutually exclusive, as Kalshi lists them)."""
    cs2 = next(m for m in sim.matches if m.event_ticker.startswith("KXCS2GAME"))
    event_ticker = cs2.event_ticker.replace("KXCS2GAME", "KXCS2TOTAL")
    sim.exchange.add_event(EventDef(event_ticker, "KXCS2GAME", "Vitality vs FaZe: total maps", "",
                                    "Test Masters", mutually_exclusive=False))
    ticker = f"{event_ticker}-2.5"
    sim.exchange.add_market(replace(
        sim.exchange.market(cs2.tickers[0]), ticker=ticker, event_ticker=event_ticker,
        market_id=str(uuid.uuid4()), title="Over 2.5 maps?", yes_sub_title="Over 2.5 maps",
        custom_strike={},
    ))
    return ticker


async def test_the_live_view_of_one_market_marks_our_yes_bid_and_our_no_bid(tmp_path: Path) -> None:
    async with shapes_sim_and_engine(tmp_path) as (sim, engine):
        total = add_total(sim)
        sim.place_competitor_order(total, "bid", Price(4000), contracts(20))  # YES bid 40c
        sim.place_competitor_order(total, "ask", Price(6500), contracts(20))  # = a NO bid at 35c
        settings = MatchSettings(contracts=contracts(5))
        spec = MatchSpec(total, total, total, TheoInput(theo_a=Price(5500)), settings)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(160, 45)) as pilot:
            await engine.execute(cmd.AddMatch(spec, start=True))
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "our YES bid and our NO bid")
            app.open_live_view(total)
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")

            def ladder() -> list[str]:
                found = app.screen.query("#ladder-a")
                return str(found.first(Ladder).render()).splitlines() if found else []

            await wait_for(pilot, lambda: sum("◆5" in line for line in ladder()) == 2, "both of ours marked")
            lines = ladder()
            ours = [line for line in lines if "◆5" in line]
            assert ours[0].startswith("ask     64c")  # our NO bid at 36c: one tick above the NO side's 35c
            assert ours[1].startswith("bid     41c")  # our YES bid: one tick above 40c
            assert lines[0].startswith("YES book · Over 2.5 maps")
            assert not app.screen.query_one("#ladder-b", Ladder).display
