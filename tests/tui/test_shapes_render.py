"""Pilot tests of every match shape on screen: the three-way setup form (three odds, an implied theo,
the over-100c refusal), the single-market live view (our YES bid and our NO bid both marked on the
YES book), three ladders for soccer, and P&L per outcome. Fixed snapshots; no exchange here (the
same form against the real engine and the simulator is in test_integration_shapes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.widgets import Input, Label

from kmm_tui.engine.commands import AddMatch, Command
from kmm_tui.engine.model import Shape
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.live import LiveScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.widgets.ladder import Ladder
from kmm_tui.tui.widgets.table import SyncTable
from kmm_tui.tui.widgets.text_line import TextLine
from tests.tui.shape_views import shapes_view, soccer_match, total_match
from tests.tui.views import TZ, StaticEngine, fixed_clock


@dataclass
class Recording(StaticEngine):
    """Records the commands the form sends (rendering tests only: nothing trades)."""

    sent: list[Command] = field(default_factory=list)

    async def execute(self, command: Command) -> None:
        self.sent.append(command)


def _app(engine: StaticEngine | None = None) -> KmmApp:
    return KmmApp(engine or StaticEngine(shapes_view()), clock=fixed_clock, tz=TZ, live=False)


async def _until(pilot, condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for the form's workers under load (they run after the keys), at most 5 s."""
    for _ in range(250):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _shown(form: MatchFormScreen, name: str) -> bool:
    return bool(form.query_one(f"#f-{name}", Input).display)


async def _open_form(pilot, app: KmmApp, prefill: dict[str, str] | None = None) -> MatchFormScreen:  # type: ignore[no-untyped-def]
    app.open_match_form(prefill=prefill)
    for _ in range(50):
        await pilot.pause(0.02)
        if isinstance(app.screen, MatchFormScreen) and app.screen.focused is not None:
            break
    form = app.screen
    assert isinstance(form, MatchFormScreen)
    return form


async def test_a_two_team_form_has_no_draw_fields() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app)
        assert not any(_shown(form, name) for name in ("ticker_tie", "odds_draw", "theo_tie"))
        assert str(form.query_one("#l-odds_a", Label).render()) == "Odds A (1.85 / +150)"


async def test_the_scanners_draw_ticker_opens_a_home_draw_away_form_and_three_odds_save() -> None:
    engine = Recording(shapes_view())
    app = _app(engine)
    tickers = {"ticker_a": "KXEPLGAME-X-ARS", "ticker_tie": "KXEPLGAME-X-TIE", "ticker_b": "KXEPLGAME-X-CHE"}
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app, tickers)
        assert all(_shown(form, name) for name in ("ticker_tie", "odds_draw", "theo_tie"))
        assert form.focused is form.query_one("#f-odds_a")
        labels = [str(form.query_one(f"#l-{n}", Label).render()) for n in ("odds_a", "odds_draw", "odds_b")]
        assert labels[0].startswith("Odds home") and labels[1] == "Odds draw" and labels[2] == "Odds away"
        await pilot.press(*"2.1", "tab", *"3.4", "tab", *"3.6", "ctrl+s")
        await _until(pilot, lambda: engine.sent, "the match to be added")
        added = [c for c in engine.sent if isinstance(c, AddMatch)]
        assert len(added) == 1
        spec = added[0].spec
        assert spec.shape is Shape.THREE_WAY and spec.ticker_tie == "KXEPLGAME-X-TIE"
        odds = (spec.theo.odds_a, spec.theo.odds_draw, spec.theo.odds_b)
        assert [str(o) for o in odds] == ["2.1", "3.4", "3.6"]


async def test_a_left_out_theo_is_implied_and_typed_ones_above_100c_are_refused_on_the_field() -> None:
    engine = Recording(shapes_view())
    app = _app(engine)
    tickers = {"ticker_a": "KXEPLGAME-X-ARS", "ticker_tie": "KXEPLGAME-X-TIE", "ticker_b": "KXEPLGAME-X-CHE"}
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app, tickers)
        form.query_one("#f-theo_a", Input).focus()
        await pilot.press(*"60", "tab", *"45", "ctrl+s")  # home 60 + draw 45: nothing left for away
        await _until(pilot, lambda: "theo_tie" in form.errors, "the error on the draw's theo")
        assert isinstance(app.screen, MatchFormScreen) and not engine.sent
        assert "leaves nothing for away" in form.errors["theo_tie"]
        error = form.query_one("#e-theo_tie", TextLine)
        assert error.display and "leaves nothing for away" in str(error.render())
        assert (form.values()["theo_a"], form.values()["theo_tie"]) == ("60", "45")  # nothing lost
        await pilot.press("backspace", "backspace", *"29", "ctrl+s")
        await _until(pilot, lambda: engine.sent, "the match to be added")
        added = [c for c in engine.sent if isinstance(c, AddMatch)]
        assert len(added) == 1
        theo = added[0].spec.theo
        assert (theo.theo_a, theo.theo_tie, theo.theo_b) == (6000, 2900, 1100)  # away implied: 100 − 89


async def test_a_draw_typed_by_hand_shows_the_draw_fields() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app)
        assert not _shown(form, "odds_draw")
        form.query_one("#f-ticker_tie", Input).value = "KXEPLGAME-X-TIE"
        await _until(pilot, lambda: _shown(form, "odds_draw"), "the draw's fields")
        assert _shown(form, "odds_draw") and _shown(form, "theo_tie")
        assert str(form.query_one("#l-ticker_a", Label).render()) == "Ticker home"


async def test_one_market_twice_is_one_ticker_field_with_over_and_under_labels() -> None:
    engine = Recording(shapes_view())
    app = _app(engine)
    ticker = "KXNBATOTAL-X-220"
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app, {"ticker_a": ticker, "ticker_b": ticker})
        assert not _shown(form, "ticker_b") and not _shown(form, "ticker_tie")
        assert str(form.query_one("#l-odds_a", Label).render()) == "Odds YES / over"
        assert str(form.query_one("#l-odds_b", Label).render()) == "Odds NO / under"
        await pilot.press(*"1.95", "tab", *"1.87", "ctrl+s")
        await _until(pilot, lambda: engine.sent, "the match to be added")
        added = [c for c in engine.sent if isinstance(c, AddMatch)]
        assert len(added) == 1 and added[0].spec.shape is Shape.YES_NO
        assert added[0].spec.match_id == ticker


async def test_the_single_market_live_view_marks_our_yes_bid_and_our_no_bid_on_the_yes_book() -> None:
    app = _app()
    target = total_match().spec.match_id
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_live_view(target)
        await pilot.pause(0.2)
        assert isinstance(app.screen, LiveScreen)
        assert not app.screen.query_one("#ladder-b", Ladder).display
        assert not app.screen.query_one("#ladder-t", Ladder).display
        ladder = str(app.screen.query_one("#ladder-a", Ladder).render())
        lines = ladder.splitlines()
        assert lines[0].startswith("YES book · Over 220.5 points")
        ask = next(line for line in lines if line.startswith("ask     53c"))
        bid = next(line for line in lines if line.startswith("bid     48c"))
        assert "◆10" in ask  # our NO bid at 47c rests as a YES ask at 53c
        assert "◆10" in bid  # our YES bid at 48c
        assert any("NO ceiling 47c" in line for line in lines)  # drawn among the asks
        inventory = str(app.screen.query_one("#live-inventory", TextLine).render())
        assert "if over $" in inventory and "if under -$" in inventory


async def test_a_soccer_live_view_shows_three_ladders_and_pnl_if_home_draw_away() -> None:
    app = _app()
    async with app.run_test(size=(160, 45)) as pilot:
        app.open_live_view(soccer_match().spec.match_id)
        await pilot.pause(0.2)
        titles = [
            str(app.screen.query_one(f"#ladder-{side}", Ladder).render()).splitlines()[0].strip()
            for side in ("a", "t", "b")
        ]
        assert titles == ["home Arsenal", "draw Tie", "away Chelsea"]
        inventory = str(app.screen.query_one("#live-inventory", TextLine).render())
        assert "sets 4" in inventory
        for word in ("if home", "if draw", "if away"):
            assert word in inventory


async def test_the_matches_table_shows_if_draw_only_while_a_three_way_match_is_listed() -> None:
    app = _app()
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause(0.2)
        table = app.screen.query_one("#matches", SyncTable)
        assert {"pnl_t", "reason_t"} <= set(table.visible_columns)
    plain = KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False)
    async with plain.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.2)
        visible = plain.screen.query_one("#matches", SyncTable).visible_columns
        assert "pnl_t" not in visible and "reason_t" not in visible


async def test_the_inventory_dialog_of_a_soccer_match_corrects_the_draw_too() -> None:
    from kmm_tui.engine.commands import CorrectInventory
    from kmm_tui.tui.screens.inventory import InventoryScreen

    engine = Recording(shapes_view())
    app = _app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = InventoryScreen(engine, soccer_match())
        app.push_screen(screen)
        await _until(pilot, lambda: bool(screen.query("#f-count_long_t")), "the dialog")
        tie = screen.query_one("#f-count_long_t", Input)
        assert tie.display and tie.value == "10"
        assert "Contracts Tie" in str(screen.query_one("#inventory-grid").query(Label)[2].render())
        live = str(screen.query_one("#inventory-live", TextLine).render())
        assert live.startswith("kmm: home 10 / draw 10 / away 4")
        tie.value = "7"
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: engine.sent, "the correction")
        (command,) = engine.sent
        assert isinstance(command, CorrectInventory)
        assert (command.count_long_a, command.count_long_t, command.count_long_b) == (1000, 700, 400)


async def test_typing_one_ticker_twice_folds_b_away_and_clearing_the_ticker_brings_it_back() -> None:
    app = _app()
    ticker = "KXNBATOTAL-X-220"
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open_form(pilot, app)
        await pilot.press(*ticker, "tab", *ticker)
        assert _shown(form, "ticker_b")  # B keeps its field while it is being typed in
        await pilot.press("tab")
        await _until(pilot, lambda: not _shown(form, "ticker_b"), "B to fold into one ticker field")
        assert str(form.query_one("#l-odds_a", Label).render()) == "Odds YES / over"
        form.query_one("#f-ticker_a", Input).focus()
        await pilot.press(*["backspace"] * len(ticker))
        await _until(pilot, lambda: _shown(form, "ticker_b"), "both ticker fields again")
        assert form.values()["ticker_b"] == ""
        assert str(form.query_one("#l-odds_a", Label).render()).startswith("Odds A")
