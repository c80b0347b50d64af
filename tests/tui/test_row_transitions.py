"""The home row never goes stale: every transition a trader causes shows on screen within one refresh.

Driven by keys over the real engine and simulator. After each transition the test waits until the
engine's snapshot shows it, lets the app render twice (≤ 10 Hz, so "within one refresh"), then reads
the row as it is drawn on screen (``render_line``, not the table's data) and compares it with the
snapshot: status, our bid, position, P&L and both reasons.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kmm_tui.domain.prices import contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.state import MatchView
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.rows import match_row
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from kmm_tui.tui.widgets.table import Fit, SyncTable
from tests.tui.test_integration import cs2_pair, resting_on_exchange, sim_and_engine, wait_for

pytestmark = pytest.mark.slow

SHOWN = ("status", "bid", "pos", "pnl_a", "pnl_b", "reason_a", "reason_b")


def forms(cell: object) -> list[str]:
    """What a cell may be drawn as: its text, or for a Fit cell its long or short form."""
    if isinstance(cell, Fit):
        return [forms(cell.long)[0], forms(cell.short)[0]]
    return [getattr(cell, "plain", str(cell))]


async def one_refresh(pilot: Pilot[object], app: KmmApp) -> None:
    """Two renders after the engine state is reached: the first may have started before it."""
    target = app.renders + 2
    await wait_for(pilot, lambda: app.renders >= target, "two renders")
    await pilot.pause()


async def assert_row_shows(pilot: Pilot[object], app: KmmApp, engine: Engine, *expected: str) -> MatchView:
    """The drawn row equals the snapshot's cells (and contains the words the transition must show)."""
    await one_refresh(pilot, app)
    match = engine.snapshot().matches[0]
    table = app.screen.query_one("#matches", SyncTable)
    drawn = table.render_line(1).text  # line 0 is the header
    _, cells = match_row(match)
    for key in SHOWN:
        values = forms(cells[key])
        assert any(v[:8] in drawn for v in values), f"{key} {values!r} not drawn in {drawn!r}"
    for word in expected:
        assert word in drawn, f"{word!r} not drawn in {drawn!r}"
    return match


async def test_the_home_row_follows_every_transition_within_one_refresh(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        sim.place_competitor_order(vit, "bid", 4500, contracts(20))
        sim.place_competitor_order(faz, "bid", 3800, contracts(20))
        spec = MatchSpec(
            f"{vit}+{faz}", vit, faz, TheoInput(theo_a=5500, theo_b=4500), MatchSettings(), name="cs2"  # type: ignore[arg-type]
        )
        await engine.execute(cmd.AddMatch(spec))
        view = lambda: engine.snapshot().matches[0]  # noqa: E731
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "home")
            await assert_row_shows(pilot, app, engine, "new")

            # start
            await pilot.press("s")
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "two quotes")
            await wait_for(pilot, lambda: len(view().orders) == 2, "the engine to see them")
            await assert_row_shows(pilot, app, engine, "quoting", "46/39")

            # fill: a taker sells 3 into our Vitality bid
            sim.place_competitor_order(vit, "ask", 4600, contracts(3), name="taker")
            await wait_for(pilot, lambda: view().inventory.count_long_a == contracts(3), "the fill")
            await assert_row_shows(pilot, app, engine, "3A")

            # settings edit through the form: edge 2c → 15c puts the ceiling A (40c) under the competitor
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the edit form")
            await pilot.press("tab", "tab", "tab", "tab")  # odds A → odds B → theo A → theo B → edge
            await pilot.press("backspace", "1", "5", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the form to close")
            await wait_for(pilot, lambda: view().spec.settings.edge == 1500, "the new edge")
            await wait_for(
                pilot,
                lambda: view().quote_a is not None and view().quote_a.ceiling == 4000,  # type: ignore[union-attr]
                "the new ceiling",
            )
            await wait_for(pilot, lambda: all(o.price <= 4000 for o in view().orders), "orders under it")
            await assert_row_shows(pilot, app, engine)

            # stop
            await pilot.press("x")
            await wait_for(pilot, lambda: view().status is MatchStatus.STOPPED, "stopped")
            await wait_for(pilot, lambda: not view().orders, "orders pulled")
            await assert_row_shows(pilot, app, engine, "stopped", "—/—")

            # halt: the exchange triggers the match's order group (a market pause only pulls, then requotes)
            await engine.execute(cmd.UpdateMatch(spec.match_id, settings=MatchSettings()))
            await pilot.press("s")
            await wait_for(pilot, lambda: len(view().orders) == 2, "quoting again")
            await assert_row_shows(pilot, app, engine, "quoting")
            group = engine._matches[spec.match_id].order_group_id
            assert group is not None
            sim.exchange.trigger_order_group(sim.demo_account.user_id, group)
            await wait_for(pilot, lambda: view().status is MatchStatus.HALTED, "halted")
            await wait_for(pilot, lambda: not view().orders, "orders pulled")
            await assert_row_shows(pilot, app, engine, "halted")

            # pre-start pull: a margin longer than the time to the start pulls at once
            long_margin = replace(MatchSettings(), start_margin_ms=24 * 3_600_000)
            await engine.execute(cmd.UpdateMatch(spec.match_id, settings=long_margin))
            await pilot.press("s")
            await wait_for(
                pilot,
                lambda: view().status_reason.startswith("event starts"),
                "the pre-start pull",
            )
            await assert_row_shows(pilot, app, engine, "paused", "pre-start")

            # kill all
            await engine.execute(cmd.UpdateMatch(spec.match_id, settings=MatchSettings()))
            await pilot.press("s")
            await wait_for(pilot, lambda: len(view().orders) == 2, "quoting again")
            await pilot.press("K")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the kill question")
            await pilot.press("y")
            await wait_for(pilot, lambda: view().status is MatchStatus.STOPPED, "stopped by kill all")
            await wait_for(pilot, lambda: not view().orders, "no orders")
            match = await assert_row_shows(pilot, app, engine, "stopped")
            assert "over limit" not in app.screen.query_one("#matches", SyncTable).render_line(1).text
            assert match.status is MatchStatus.STOPPED
