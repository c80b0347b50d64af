"""Scanner mode with matches of every shape: filters, the marker of matches this engine has, and
``m`` (or the app's add key) opening the setup form for the whole match from any of its rows."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from kmm_tui.domain.prices import price_from_cents
from kmm_tui.engine.model import MatchStatus
from kmm_tui.scan.model import Shape
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.scanner import (
    ScanFilterError,
    ScannerScreen,
    engine_marks,
    filter_matches,
    filter_unsupported,
    parse_filters,
)
from kmm_tui.tui.widgets.table import SyncTable
from tests.tui.scan_views import scan_result
from tests.tui.views import NOW_MS, TZ, StaticEngine, demo_view, fixed_clock

RESULT = scan_result()
SOCCER = next(m for m in RESULT.matches if m.shape is Shape.THREE_WAY)
TOTAL = next(m for m in RESULT.matches if m.shape is Shape.YES_NO)
TEAMS = next(m for m in RESULT.matches if m.shape is Shape.TEAMS)


async def _result():  # type: ignore[no-untyped-def]
    return RESULT


def _app() -> KmmApp:
    return KmmApp(StaticEngine(), clock=fixed_clock, tz=TZ, live=False, scanner=_result)


async def _scanner(pilot: Pilot[int]) -> SyncTable:
    await pilot.press("2")
    for _ in range(50):
        await pilot.pause(0.05)
        screen = pilot.app.screen
        if isinstance(screen, ScannerScreen) and screen.main_table.row_count:
            return screen.main_table
    raise AssertionError("the scanner never showed its rows")


async def _open(pilot: Pilot[int], row_key: str, key: str = "m") -> MatchFormScreen:
    table = await _scanner(pilot)
    table.move_cursor(row=table.get_row_index(row_key))
    await pilot.press(key)
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, MatchFormScreen), f"{key} on {row_key} opened {form!r}"
    return form


def _cells(table: SyncTable, key: str) -> dict[str, str]:
    row = table.get_row(key)
    return dict(zip(table.visible_columns, (str(getattr(c, "plain", c)) for c in row), strict=True))


# --- pure: filters and markers -------------------------------------------------------------------------


def test_the_scan_data_has_every_shape_and_one_refusal() -> None:
    assert [m.shape for m in RESULT.matches].count(Shape.YES_NO) == 2
    assert SOCCER.form_tickers["ticker_tie"].endswith("-TIE")
    [refused] = RESULT.unsupported
    assert refused.event_ticker == "KXLOLCHAMP-26" and "3 mutually exclusive outcomes" in refused.reason


def test_filters_by_sport_widest_spread_and_start() -> None:
    def shown(sport: str = "", spread: str = "", hours: str = "") -> set[str]:
        return {m.key for m in filter_matches(RESULT, parse_filters(sport, spread, hours), NOW_MS)}

    assert shown("epl") == {SOCCER.key}
    assert shown("nbatotal") == {m.key for m in RESULT.matches if m.shape is Shape.YES_NO}
    # the soccer match's widest outcome (the TIE, 4c) passes 4c though its home market is 2c wide
    assert SOCCER.widest_spread == price_from_cents(4) and SOCCER.a.spread == price_from_cents(2)
    assert SOCCER.key in shown(spread="4") and SOCCER.key not in shown(spread="4.5")
    assert shown(hours="1") == {TEAMS.key}  # only the CS2 match starts within the hour
    assert filter_unsupported(RESULT, parse_filters("lol", "", ""), NOW_MS) == list(RESULT.unsupported)
    assert filter_unsupported(RESULT, parse_filters("", "", "2"), NOW_MS) == []


def test_filter_typos_are_explained() -> None:
    with pytest.raises(ScanFilterError, match="min spread"):
        parse_filters("", "wide", "")
    with pytest.raises(ScanFilterError, match="hours"):
        parse_filters("", "", "-1")


def test_engine_marks_say_which_matches_this_engine_quotes() -> None:
    view = demo_view()
    marks = engine_marks(view)
    first = view.matches[0]
    assert marks[frozenset(first.spec.tickers)] == f"● {first.status.value}"
    assert first.status is MatchStatus.QUOTING and frozenset(TEAMS.tickers) in marks
    assert engine_marks(None) == {}


# --- Pilot: rows, marker and `m` ---------------------------------------------------------------------


async def test_each_match_is_a_row_with_a_row_per_outcome_and_ours_is_marked() -> None:
    app = _app()
    async with app.run_test(size=(160, 40)) as pilot:
        table = await _scanner(pilot)
        keys = [row.key.value for row in table.ordered_rows]
        at = keys.index(SOCCER.key)
        assert keys[at + 1 : at + 4] == [f"{SOCCER.key}|A", f"{SOCCER.key}|T", f"{SOCCER.key}|B"]
        assert keys[-1] == "unsupported|KXLOLCHAMP-26"
        cells = _cells(table, SOCCER.key)
        assert (cells["shape"], cells["sum"], cells["over"]) == ("3-way", "95c", "+4c")  # 46+24+25; 48+27+29
        assert _cells(table, TEAMS.key)["ours"] == "● quoting"  # demo_view quotes this CS2 match
        no_side = _cells(table, f"{TOTAL.key}|B")
        assert (no_side["bid"], no_side["ask"]) == ("42c", "45c")  # 100c - YES ask 58c, 100c - YES bid 55c


async def test_m_on_the_tie_row_sets_up_home_tie_away_never_the_tie_as_team_a() -> None:
    """The bug: `m` on the EPL "Tie" row made TIE team A and Arsenal team B."""
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open(pilot, f"{SOCCER.key}|T")
        values = form.values()
        event = SOCCER.event_ticker
        assert (values["ticker_a"], values["ticker_b"]) == (f"{event}-ARS", f"{event}-CHE")
        assert form.initial["ticker_tie"] == f"{event}-TIE"


async def test_every_row_of_a_match_opens_the_same_setup() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key in (SOCCER.key, f"{SOCCER.key}|A", f"{SOCCER.key}|B"):
            form = await _open(pilot, key)
            event = SOCCER.event_ticker
            assert (form.values()["ticker_a"], form.initial["ticker_tie"]) == (f"{event}-ARS", f"{event}-TIE")
            await pilot.press("escape")
            await pilot.pause()


async def test_m_on_a_totals_no_row_sets_up_one_yes_no_market() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open(pilot, f"{TOTAL.key}|B")
        values = form.values()
        assert values["ticker_a"] == values["ticker_b"] == TOTAL.key == TOTAL.a.ticker
        assert "ticker_tie" not in form.initial or not form.initial["ticker_tie"]


async def test_m_on_a_two_team_match_and_the_apps_add_key_fill_both_teams() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _open(pilot, TEAMS.key, key="a")
        assert (form.values()["ticker_a"], form.values()["ticker_b"]) == (TEAMS.a.ticker, TEAMS.b.ticker)
        await pilot.press("escape")
        await pilot.pause()
        form = await _open(pilot, f"{SOCCER.key}|T", key="a")
        assert form.initial["ticker_tie"] == SOCCER.tie.ticker  # type: ignore[union-attr]


async def test_an_unsupported_event_opens_no_form_and_says_why() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _scanner(pilot)
        table.move_cursor(row=table.get_row_index("unsupported|KXLOLCHAMP-26"))
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ScannerScreen)
        assert any("3 mutually exclusive outcomes" in str(n.message) for n in app._notifications)
