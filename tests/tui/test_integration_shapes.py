"""The setup form for a soccer event over the real engine, client and simulator (no mocks): home and
away alone are refused with the draw's field shown, three odds add a three-way match that quotes on
all three markets, and typed theos above 100c are refused on the field with nothing typed lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from kmm_tui.engine.model import Shape
from kmm_tui.sim import SimServer
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
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
            await wait_for(pilot, lambda: "Chelsea" in preview_text(form), "the preview")
            away_line = next(line for line in preview_text(form).splitlines() if line.startswith("away"))
            assert "Chelsea" in away_line and "theo 15c" in away_line  # implied: 100 − 60 − 25
