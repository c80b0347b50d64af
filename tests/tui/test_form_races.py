"""The setup form's look-ups cross to the engine (in its own process) and may answer after the form is
gone (seen in CI: a preview refused for its margin landed after save-and-start had closed the form):
an answer that lands on a closed form must be dropped, never crash the app."""

from __future__ import annotations

from textual.pilot import Pilot

from kmm_tui.engine.errors import EngineError
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from tests.tui.views import TZ, StaticEngine, fixed_clock


async def open_add_form(pilot: Pilot[object], app: KmmApp) -> MatchFormScreen:
    await pilot.press("a")
    await pilot.pause(0.1)
    form = app.screen
    assert isinstance(form, MatchFormScreen)
    return form


async def test_an_engine_error_that_arrives_after_the_form_closed_is_dropped() -> None:
    app = KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_add_form(pilot, app)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MatchesScreen)
        form.show_engine_error(EngineError("odds 1.2 / 1.5: margin 50 % above the 15 % cap", field="odds_a"))
        form.show_errors({"ticker_a": "unknown ticker"}, "fix the marked fields")
        await pilot.pause(0.1)
        assert app.is_running and isinstance(app.screen, MatchesScreen)


async def test_an_engine_error_that_arrives_while_the_form_is_closing_is_dropped() -> None:
    """Seen in CI: the form still attached, its widgets already being removed (dismissed by save)."""
    app = KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_add_form(pilot, app)
        await form.query_one("#e-name").remove()  # what the dismissal does first to its children
        assert form.is_attached
        form.show_engine_error(EngineError("odds 1.2 / 2.1: margin 31 % above the 15 % cap", field="odds_a"))
        await pilot.pause(0.1)
        assert app.is_running and form.errors == {"odds_a": "odds 1.2 / 2.1: margin 31 % above the 15 % cap"}
