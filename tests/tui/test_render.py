"""Pilot tests of rendering and keyboard navigation over a fixed snapshot (no commands are sent here;
everything that trades is tested against the real engine and the simulator in test_integration.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.widgets import Input

from kmm_tui.engine.events import Level, LogEvent
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.keymap import ACTIONS
from kmm_tui.tui.screens.fills import FillsScreen
from kmm_tui.tui.screens.help import HelpScreen
from kmm_tui.tui.screens.live import LiveScreen
from kmm_tui.tui.screens.log import LogScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from kmm_tui.tui.screens.scanner import ScannerScreen
from kmm_tui.tui.widgets.table import Column, SyncTable
from tests.tui.scan_views import scan_result
from tests.tui.views import NOW_MS, TZ, StaticEngine, demo_view, fixed_clock


async def _rows():  # type: ignore[no-untyped-def]
    return scan_result()


def _app(engine: StaticEngine | None = None, **kwargs: object) -> KmmApp:
    options: dict[str, object] = {"clock": fixed_clock, "tz": TZ, "live": False, "scanner": _rows}
    options.update(kwargs)
    return KmmApp(engine or StaticEngine(), **options)  # type: ignore[arg-type]


async def test_number_keys_switch_between_the_four_modes() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, MatchesScreen)
        for key, screen in (("2", ScannerScreen), ("3", FillsScreen), ("4", LogScreen), ("1", MatchesScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen)


async def test_enter_opens_the_live_view_of_the_selected_match_and_escape_returns() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        assert app.screen.match_id == demo_view().matches[1].spec.match_id
        await pilot.press("escape")
        assert isinstance(app.screen, MatchesScreen)


async def test_home_keeps_the_essentials_at_80x24_and_spends_width_on_names_and_reasons() -> None:
    plans = {}
    for size in ((80, 24), (120, 40), (200, 50)):
        app = _app()
        async with app.run_test(size=size):
            table = app.screen.query_one("#matches", SyncTable)
            plans[size[0]] = (table.visible_columns, dict(table._widths), table.render_line(1).text)
    narrow, wide, widest = plans[80], plans[120], plans[200]
    essentials = {"match", "status", "theo", "bid", "best", "pos", "pnl_a", "pnl_b"}
    assert essentials <= set(narrow[0])
    assert set(narrow[0]) < set(wide[0]) and {"reason_a", "reason_b", "locked"} <= set(wide[0])
    assert "Vitality v FaZe" in wide[2]  # the whole name, not "Vitality v F…"
    assert widest[1]["reason_a"] > wide[1]["reason_a"]  # wider terminals show the reason's detail
    assert "competitor at ceiling" in widest[2] or "at ceiling 53c" in widest[2]


async def test_help_lists_every_action_with_its_remapped_key() -> None:
    app = _app(keys={"kill_all": "ctrl+k"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.keys["kill_all"] == "ctrl+k"
        await pilot.press("escape")
        assert isinstance(app.screen, MatchesScreen)


async def test_remapped_key_runs_the_action_and_the_old_key_does_not() -> None:
    app = _app(keys={"help": "h"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_every_action_and_no_unsafe_quit() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
    for action in ACTIONS:
        assert action.label in titles
    assert "Quit" in titles  # ours (safe quit), not Textual's immediate exit
    assert titles.count("Quit") == 1


async def test_palette_opens_with_ctrl_p() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


async def test_slash_filters_the_table_shows_the_filter_and_escape_clears_it_from_the_table() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#matches", SyncTable)
        assert table.row_count == 4
        await pilot.press("slash", *"lakers")
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("enter")  # keep the filter, back to the table
        await pilot.pause()
        assert table.has_focus and table.row_count == 1
        screen_text = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "filtered ▸" in screen_text and "lakers" in screen_text  # visible while it narrows
        await pilot.press("escape")  # from the table, not only from the box
        await pilot.pause()
        assert table.row_count == 4
        assert app.screen.query_one("#filter-bar").has_class("hidden")


async def test_form_marks_bad_odds_and_keeps_everything_typed() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MatchFormScreen)
        await pilot.press(*"KXA-1", "tab", *"KXA-2", "tab", *"0.9", "tab", *"abc", "ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MatchFormScreen)  # still open
        assert "greater than 1" in form.errors["odds_a"]
        assert "not a number" in form.errors["odds_b"]
        assert form.query_one("#f-odds_a", Input).has_class("error")
        values = form.values()
        assert (values["ticker_a"], values["ticker_b"], values["odds_a"], values["odds_b"]) == (
            "KXA-1",
            "KXA-2",
            "0.9",
            "abc",
        )
        await pilot.press("escape")
        assert isinstance(app.screen, MatchesScreen)


async def test_match_keys_are_inactive_while_a_form_is_open() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("K", "question_mark")  # typed into the ticker field, not kill-all or help
        await pilot.pause()
        assert isinstance(app.screen, MatchFormScreen)
        assert app.screen.values()["ticker_a"] == "K?"


async def test_scanner_m_turns_the_selected_outcome_into_a_setup_of_its_whole_match() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause(0.2)
        await pilot.press("down", "down", "m")  # the second outcome row of the first match
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MatchFormScreen)
        values = form.values()
        first = scan_result().matches[0]
        assert (values["ticker_a"], values["ticker_b"]) == (first.a.ticker, first.b.ticker)


async def test_many_events_are_rendered_at_most_ten_times_a_second() -> None:
    engine = StaticEngine()
    app = _app(engine, live=True, refresh_hz=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        before = app.renders
        for i in range(2000):
            for listener in list(engine.listeners):
                listener(LogEvent(Level.INFO, f"event {i}", NOW_MS))
            if i % 200 == 0:
                await asyncio.sleep(0.05)
        await pilot.pause(0.6)
        elapsed_renders = app.renders - before
    assert 1 <= elapsed_renders <= 14  # ~1.1 s of wall time at ≤ 10 Hz


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SyncTable([Column("k", "K"), Column("v", "V")], id="t")


async def test_sync_table_updates_cells_in_place_and_keeps_the_cursor() -> None:
    app = _TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(SyncTable)
        table.sync([("a", {"k": "a", "v": "1"}), ("b", {"k": "b", "v": "2"}), ("c", {"k": "c", "v": "3"})])
        await pilot.press("down", "down")
        assert table.selected_key == "c"
        table.sync([("a", {"k": "a", "v": "1"}), ("b", {"k": "b", "v": "20"}), ("c", {"k": "c", "v": "3"})])
        assert table.get_cell("b", "v") == "20"
        table.sync([("b", {"k": "b", "v": "20"}), ("c", {"k": "c", "v": "3"})])
        assert table.row_count == 2 and table.selected_key == "c"


async def test_sync_table_re_renders_only_the_rows_that_changed() -> None:
    app = _TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(SyncTable)
        rows = [(k, {"k": k, "v": f"value{i}"}) for i, k in enumerate("abcde")]
        table.sync(rows)
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(1, 6)]
        assert "value2" in lines[2]
        rendered: list[int] = []
        original = table._render_cell

        def spy(row_index, column_index, *args, **kwargs):  # type: ignore[no-untyped-def]
            rendered.append(row_index)
            return original(row_index, column_index, *args, **kwargs)

        table._render_cell = spy  # type: ignore[method-assign]
        rows[2] = ("c", {"k": "c", "v": "twenty"})
        table.sync(rows)
        lines = [table.render_line(y).text for y in range(1, 6)]
        assert "twenty" in lines[2] and "twenty" not in "".join(lines[:2] + lines[3:])
        assert rendered and set(rendered) == {2}  # unchanged rows came from the cache
        assert table.render_line(3).text.split() == ["c", "twenty"]


async def test_halted_match_and_missing_match_render_without_errors() -> None:
    view = demo_view()
    engine = StaticEngine(replace(view, matches=view.matches[2:3]))
    app = _app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        engine.view = replace(view, matches=())
        app.render_now()
        await pilot.pause()
        assert "no longer exists" in str(app.screen.query_one("#live-header").render())


async def test_sync_table_renders_a_cell_that_changes_after_a_busier_neighbour() -> None:
    """The home table went stale: a cell reaching version N reused the row cached when a busier cell
    (the best bid) reached version N. Every rendered cell must show the latest value."""
    app = _TableApp3()
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.query_one(SyncTable)
        table.sync([("m", {"status": "quoting", "best": "50", "pos": "0"})])
        await pilot.pause()
        for best in ("51", "52", "53"):  # the busy column moves: versions 1, 2, 3
            table.sync([("m", {"status": "quoting", "best": best, "pos": "0"})])
            table.render_line(1)
        for n, status in enumerate(("stopped", "halted", "quoting")):
            table.sync([("m", {"status": status, "best": "53", "pos": str(n + 1)})])
            assert table.render_line(1).text.split() == [status, "53", str(n + 1)]


class _TableApp3(App[None]):
    def compose(self) -> ComposeResult:
        yield SyncTable([Column("status", "S", 8), Column("best", "B", 4), Column("pos", "P", 4)])


async def test_redraws_during_every_screens_mount_never_touch_an_unmounted_screen() -> None:
    """A redraw landing between pushing a screen and its mount finishing crashed with NoMatches."""
    app = _app()
    match_id = demo_view().matches[0].spec.match_id
    async with app.run_test(size=(120, 40)) as pilot:
        opens = [lambda: app.push_screen(LiveScreen(match_id))]
        modes = ("scanner", "fills", "log", "overview", "matches")
        opens += [lambda mode=mode: app.switch_mode(mode) for mode in modes]
        for open_screen in opens:
            open_screen()
            for _ in range(20):  # redraw on every turn of the loop while the screen mounts
                app.render_now()
                await asyncio.sleep(0)
            await pilot.pause()
            assert app.screen.is_mounted
        assert isinstance(app.screen, LiveScreen)  # pushed over home, still there after the modes
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MatchesScreen)


def _burst(app: App[object], keys: str) -> None:
    """Queue every key at once, as a paste without bracketed paste or SSH latency delivers them."""
    from textual import events

    for key in keys:
        name = {"\t": "tab", "\r": "enter"}.get(key, key)
        app.post_message(events.Key(name, None if name in ("tab", "enter") else key))


async def test_keys_typed_in_one_burst_after_tab_go_to_the_next_field() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MatchFormScreen)
        _burst(app, "KXFAKE-AAA\tKXNHL-TOR\t1.9\r2.05")
        await pilot.pause(0.3)
        values = form.values()
        assert (values["ticker_a"], values["ticker_b"], values["odds_a"], values["odds_b"]) == (
            "KXFAKE-AAA",
            "KXNHL-TOR",
            "1.9",
            "2.05",
        )


async def test_pasting_tab_separated_values_fills_the_form_from_the_focused_field() -> None:
    from textual import events

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MatchFormScreen)
        form.focused.post_message(events.Paste("KXFAKE-AAA\tKXNHL-TOR\t1.9\t2.05"))  # type: ignore[union-attr]
        await pilot.pause(0.3)
        values = form.values()
        assert (values["ticker_a"], values["ticker_b"], values["odds_a"], values["odds_b"]) == (
            "KXFAKE-AAA",
            "KXNHL-TOR",
            "1.9",
            "2.05",
        )
        assert form.focused is form.query_one("#f-odds_b")
        form.focused.post_message(events.Paste("5"))  # type: ignore[union-attr]
        await pilot.pause()
        assert form.values()["odds_b"] == "2.055"  # a single value is inserted once, at the cursor


async def test_messages_with_brackets_are_shown_as_typed_not_eaten_as_markup() -> None:
    from kmm_tui.tui.widgets.text_line import TextLine

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        line = TextLine("add an API key under [odds] in settings.toml")
        await app.screen.mount(line)
        line.show("no source: add an API key under [odds] in settings.toml")
        await pilot.pause()
        assert "under [odds] in" in str(line.render())
        app.notify("add an API key under [odds] in settings.toml")
        await pilot.pause()
        toast = list(app._notifications)[-1]
        assert toast.markup is False and "[odds]" in toast.message


async def test_a_halt_raises_a_banner_on_every_screen_until_acknowledged_and_fills_never_toast() -> None:
    from kmm_tui.domain.prices import contracts
    from kmm_tui.engine.events import Filled, MatchStatusChanged
    from kmm_tui.engine.model import MatchStatus

    engine = StaticEngine()
    app = _app(engine)
    m0, m2 = demo_view().matches[0], demo_view().matches[2]
    async with app.run_test(size=(80, 24)) as pilot:
        for listener in list(engine.listeners):
            listener(MatchStatusChanged(m2.spec.match_id, MatchStatus.HALTED, "market A is paused", NOW_MS))
            listener(MatchStatusChanged(m0.spec.match_id, MatchStatus.HALTED, "event starts 14:00", NOW_MS))
            for n in range(5):
                fill = Filled(m0.spec.match_id, "T", "a", f"t{n}", "o", 4600, contracts(1), 0, False, NOW_MS)
                listener(fill)
        app.render_now()
        await pilot.pause()
        assert not app._notifications  # no toast for fills or halts
        for key in ("1", "3", "4"):
            await pilot.press(key)
            await pilot.pause()
            banner = str(app.screen.query_one(".alert-banner").render())
            assert "HALTED" in banner and "Lakers v Celtics: market A is paused" in banner
        assert len(app.alerts) == 1  # the pre-start pull is not an alarm
        fills = str(app.screen.query_one(".fills-line").render())
        assert "Vitality v FaZe 5 A @ 46c" in fills
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert not app.alerts and not app.screen.query_one(".alert-banner").display


async def test_enter_on_a_log_line_opens_it_in_full_and_the_match_is_named_at_80_columns() -> None:
    from kmm_tui.engine.state import LogLine
    from kmm_tui.tui.screens.message import MessageScreen

    view = demo_view()
    long = "amend rejected: the new price would have crossed the book: the best ask moved to 47c " * 2
    line = LogLine(NOW_MS - 5_000, Level.WARNING, long.strip(), view.matches[0].spec.match_id)
    engine = StaticEngine(replace(view, logs=(*view.logs, line)))
    app = _app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#log", SyncTable)
        assert "match" in table.visible_columns
        await pilot.press("end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen)
        body = str(app.screen.query_one("#message-body").render()).replace("\n", " ")
        assert body.count("crossed the book") == 2
        await pilot.press("escape")
        assert isinstance(app.screen, LogScreen)


async def test_overview_shows_every_running_or_halted_match_as_a_card_and_enter_opens_it() -> None:
    from kmm_tui.engine.model import MatchStatus
    from kmm_tui.tui.screens.overview import Card, OverviewScreen

    view = demo_view()
    stopped = replace(view.matches[1], status=MatchStatus.STOPPED)
    engine = StaticEngine(replace(view, matches=(view.matches[0], stopped, *view.matches[2:])))
    app = _app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        cards = list(app.screen.query(Card))
        assert [c.match_id for c in cards] == [view.matches[i].spec.match_id for i in (0, 2, 3)]
        first = str(cards[0].render())
        assert "A Vitality 53◆10 52 ┆53 │ 57 58" in first and "outbid at 42c → 43c" in first
        assert "1 stopped match(es) not shown" in str(app.screen.query_one("#overview-hint").render())
        engine.view = replace(engine.view, matches=engine.view.matches[:1])
        app.render_now()
        await pilot.pause()
        assert len(app.screen.query(Card)) == 1
        app.screen.query_one(Card).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen) and app.screen.match_id == view.matches[0].spec.match_id


async def test_save_typed_in_the_same_burst_saves_what_was_typed_before_it() -> None:
    """ctrl+s right after keys (one burst) must not save the field as it was before those keys."""
    from kmm_tui.engine.commands import Command, UpdateMatch

    class Recording(StaticEngine):
        async def execute(self, command: Command) -> None:
            self.sent.append(command)

    engine = Recording()
    engine.sent = []  # type: ignore[attr-defined]
    app = _app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MatchFormScreen)
        form.query_one("#f-edge", Input).focus()
        await pilot.pause()
        from textual import events

        for key, char in (("backspace", None), ("4", "4"), ("ctrl+s", None)):
            app.post_message(events.Key(key, char))
        await pilot.pause(0.3)
        sent = [c for c in engine.sent if isinstance(c, UpdateMatch)]  # type: ignore[attr-defined]
        assert sent and sent[0].settings is not None and sent[0].settings.edge == 400
