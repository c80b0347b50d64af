"""The app driven by keys only, over the real engine, client and simulator (no mocks).

Scenario: add a match through the form, start it, see quotes and a fill, edit the edge and see the
ceiling move, kill all → zero orders on the exchange, start again, quit → the app exits with zero
orders resting. Plus the form's exchange validations: unknown ticker, tickers of different events.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kmm_tui.bootstrap import Connection, build_engine
from kmm_tui.domain.prices import contracts
from kmm_tui.domain.theo import BookOdds
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.engine import Engine
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.theo_feed import TheoFeed
from kmm_tui.kalshi.auth import Signer
from kmm_tui.odds.errors import MatchUnconfirmed
from kmm_tui.odds.matching import BookEvent, Matcher
from kmm_tui.odds.models import MatchRef, QuotaInfo, SourceResult
from kmm_tui.sim import SimServer
from kmm_tui.tui.app import KmmApp
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.screens.fills import FillsScreen
from kmm_tui.tui.screens.live import LiveScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from kmm_tui.tui.screens.pairing import PairingScreen
from kmm_tui.tui.widgets.ladder import Ladder
from kmm_tui.tui.widgets.table import SyncTable

pytestmark = pytest.mark.slow

CENT = 100


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@asynccontextmanager
async def sim_and_engine(tmp_path: Path) -> AsyncIterator[tuple[SimServer, Engine]]:
    """A quiet simulator and the real engine connected to it over loopback (REST + WebSocket)."""
    async with SimServer(agents=False, state_dir=tmp_path, seed=11) as sim:
        account = sim.demo_account
        signer = Signer.from_pem(account.key_id, account.private_key_pem)
        engine = build_engine(Connection("sim", sim.base_url, sim.ws_url, signer))  # the app's composition
        await engine.start()
        try:
            yield sim, engine
        finally:
            await engine.close()


def cs2_pair(sim: SimServer) -> tuple[str, str]:
    tickers = sorted(t for t in sim.exchange.markets if t.startswith("KXCS2GAME"))
    vit = next(t for t in tickers if t.endswith("-VIT"))
    faz = next(t for t in tickers if t.endswith("-FAZ"))
    return vit, faz


def other_event_ticker(sim: SimServer) -> str:
    return next(t for t in sorted(sim.exchange.markets) if t.startswith("KXNBAGAME"))


def resting_on_exchange(sim: SimServer) -> int:
    return len(sim.exchange.resting_orders(sim.demo_account.user_id))


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], bool], what: str, timeout_s: float = 10
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def quit_confirmed(pilot: Pilot[object], app: KmmApp) -> None:
    """Quit the way a trader does with orders resting: q, the confirmation, y; wait for the exit."""
    await pilot.press("q")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
    await pilot.press("y")
    await wait_for(pilot, lambda: not app.is_running, "the app to exit", timeout_s=20)


async def type_text(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*text)


async def open_form_with(
    pilot: Pilot[object], app: KmmApp, ticker_a: str, ticker_b: str, odds_a: str, odds_b: str
) -> MatchFormScreen:
    """Open the setup form with ``a`` and type both tickers and both odds, keys only."""
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
    form = app.screen
    assert isinstance(form, MatchFormScreen)
    for i, text in enumerate((ticker_a, ticker_b, odds_a, odds_b)):
        if i:
            await pilot.press("tab")
        await type_text(pilot, text)
    return form


async def test_add_start_fill_edit_kill_and_quit_with_keys_only(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        # competitors give the book a shape: our bids should step one tick above them
        sim.place_competitor_order(vit, "bid", 4500, contracts(20))
        sim.place_competitor_order(faz, "bid", 3800, contracts(20))
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            # --- add through the form, keys only, save & start
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
            await type_text(pilot, vit)
            await pilot.press("tab")
            await type_text(pilot, faz)
            await pilot.press("tab")
            await type_text(pilot, "1.80")
            await pilot.press("tab")
            await type_text(pilot, "2.10")
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the form to close")
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "two quotes on the exchange")

            match = engine.snapshot().matches[0]
            assert match.status is MatchStatus.QUOTING
            assert match.market_a is not None and match.market_a.title == "Vitality"
            await wait_for(
                pilot,
                lambda: "46/39" in str(app.screen.query_one("#matches", SyncTable).get_row_at(0)),
                "our bids 46c/39c in the Matches table",
            )

            # --- a taker sells into our Vitality bid: a fill shows up in Fills & P&L
            sim.place_competitor_order(vit, "ask", 4600, contracts(3), name="taker")
            await wait_for(pilot, lambda: bool(engine.snapshot().matches[0].fills), "the fill")
            await pilot.press("3")
            await wait_for(pilot, lambda: isinstance(app.screen, FillsScreen), "Fills mode")
            fills = app.screen.query_one("#fills", SyncTable)
            await wait_for(pilot, lambda: fills.row_count == 1, "one fill row")
            row = [str(c) for c in fills.get_row_at(0)]
            assert "46c" in row and "3" in row and "maker" in row
            await pilot.press("1")

            # --- edit the edge from 2c to 5c: the ceiling moves down 3c
            before = engine.snapshot().matches[0].quote_a
            assert before is not None and before.ceiling is not None
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the edit form")
            await pilot.press("tab", "tab", "tab", "tab")  # odds A → odds B → theo A → theo B → edge
            await pilot.press("backspace", "5", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the edit form to close")

            def ceiling_moved() -> bool:
                quote = engine.snapshot().matches[0].quote_a
                return quote is not None and quote.ceiling == before.ceiling - 3 * CENT

            await wait_for(pilot, ceiling_moved, "the ceiling to move down by 3c")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            ladder = app.screen.query_one("#ladder-a", Ladder)
            ceiling_text = f"ceiling {(before.ceiling - 3 * CENT) // CENT}c"
            await wait_for(
                pilot, lambda: ceiling_text in str(ladder.render()), "the new ceiling in the ladder"
            )
            await pilot.press("escape")

            # --- kill all (confirm) → zero orders on the exchange
            await pilot.press("K")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the kill-all question")
            await pilot.press("y")
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 0, "zero orders after kill all")
            await wait_for(
                pilot, lambda: engine.snapshot().matches[0].status is MatchStatus.STOPPED, "stopped"
            )

            # --- start again, then quit: confirm, cancel everything, exit 0
            await pilot.press("s")
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "quotes again after start")
            await wait_for(pilot, lambda: engine.snapshot().resting_orders == 2, "the engine to see them")
            await quit_confirmed(pilot, app)
        assert app.return_code == 0
        assert resting_on_exchange(sim) == 0


@pytest.mark.parametrize("case", ["unknown", "different_events"])
async def test_form_reports_exchange_errors_on_the_ticker_field(tmp_path: Path, case: str) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, _ = cs2_pair(sim)
        ticker_b = "KXCS2GAME-NOPE-XYZ" if case == "unknown" else other_event_ticker(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            form = await open_form_with(pilot, app, vit, ticker_b, "1.80", "2.10")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "ticker_b" in form.errors, "an error on ticker B")
            message = form.errors["ticker_b"]
            if case == "unknown":
                assert "KXCS2GAME-NOPE-XYZ" in message
            else:
                assert "one event" in message
            assert isinstance(app.screen, MatchFormScreen)
            assert form.values()["ticker_b"] == ticker_b  # nothing typed is lost
            assert engine.snapshot().matches == ()


async def test_saved_matches_are_added_stopped_and_bad_ones_reported(tmp_path: Path) -> None:
    from kmm_tui.config import load_settings
    from kmm_tui.tui.wiring import add_saved_matches

    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        path = tmp_path / "settings.toml"
        path.write_text(
            f'[[matches]]\nname = "cs2"\nticker_a = "{vit}"\nticker_b = "{faz}"\n'
            'odds_a = "1.8"\nodds_b = "2.1"\n\n'
            f'[[matches]]\nname = "broken"\nticker_a = "{vit}"\nticker_b = "{other_event_ticker(sim)}"\n'
            "theo_a = 55\ntheo_b = 45\n"
        )
        problems = await add_saved_matches(engine, load_settings(path))
        assert [m.spec.name for m in engine.snapshot().matches] == ["cs2"]
        assert engine.snapshot().matches[0].status is MatchStatus.NEW
        assert len(problems) == 1 and "'broken'" in problems[0] and "one event" in problems[0]
        assert await add_saved_matches(engine, load_settings(path)) == problems  # known ones are skipped


async def test_fetch_odds_without_a_configured_source_says_how_to_add_one(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            app.open_match_form(prefill={"ticker_a": vit, "ticker_b": faz})
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
            form = app.screen
            assert isinstance(form, MatchFormScreen)
            await wait_for(
                pilot, lambda: bool(form.query("#f-odds_a")) and form.focused is not None, "fields"
            )
            assert form.focused is form.query_one("#f-odds_a")  # tickers given: odds A is next
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: "odds_a" in form.errors, "an error on odds A")
            assert "[odds]" in form.errors["odds_a"]


async def test_an_unsure_odds_pairing_is_confirmed_with_one_key_and_fills_theo(tmp_path: Path) -> None:
    class UnsureBook:
        name = "testbook"

        def __init__(self) -> None:
            self.matcher = Matcher.load(tmp_path / "confirmed_matches.json")

        async def fetch(self, match: MatchRef) -> SourceResult:
            event = BookEvent("testbook", "ev-1", "Vitality B", "FaZe Clan", match.start_ms or now_ms())
            decision = self.matcher.decide(match.kalshi_event(), [event], match.sport)
            if not decision.matched:
                raise MatchUnconfirmed(self.name, decision.reason, decision)
            quote = BookOdds("pinnacle", (Decimal("1.62"), Decimal("2.42")), now_ms())
            return SourceResult(
                "testbook", (quote,), None, ("pinnacle",), QuotaInfo(), Decimal(1), fetched_ms=now_ms()
            )

    async with sim_and_engine(tmp_path) as (sim, engine):
        engine._feed = TheoFeed([UnsureBook()], clock=now_ms)
        vit, faz = cs2_pair(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            app.open_match_form(prefill={"ticker_a": vit, "ticker_b": faz})
            await wait_for(pilot, lambda: isinstance(app.screen, MatchFormScreen), "the setup form")
            form = app.screen
            await wait_for(pilot, lambda: form.focused is not None, "fields")
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PairingScreen), "the pairing question")
            assert "Vitality B vs FaZe Clan" in str(app.screen.query_one("#pairing-options").render())
            await pilot.press("1")
            await wait_for(pilot, lambda: app.screen is form, "back in the form")
            await wait_for(
                pilot, lambda: form.query_one("#f-theo_a").value == "59.9", "theo filled from the feed"
            )


async def test_shift_s_starts_a_dry_run_that_decides_but_sends_nothing(tmp_path: Path) -> None:
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        spec = MatchSpec(f"{vit}+{faz}", vit, faz, TheoInput(theo_a=6000, theo_b=4000), MatchSettings())  # type: ignore[arg-type]
        await engine.execute(cmd.AddMatch(spec))
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the matches mode")
            await pilot.pause(0.3)
            await pilot.press("S")
            view = lambda: engine.snapshot().matches[0]  # noqa: E731
            await wait_for(pilot, lambda: view().status is MatchStatus.DRY_RUN, "a dry run")
            await wait_for(pilot, lambda: view().quote_a is not None, "a decision")
            await pilot.pause(0.5)
            assert resting_on_exchange(sim) == 0


@pytest.mark.parametrize("answer", ["n", "y"])
async def test_odds_with_a_margin_above_the_cap_are_added_only_once_confirmed(
    tmp_path: Path, answer: str
) -> None:
    """1.2 / 2.1 is a 31 % margin: save asks first; 'n' keeps the form (nothing lost), 'y' adds it."""
    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            form = await open_form_with(pilot, app, vit, faz, "1.2", "2.1")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the margin question")
            assert "31.0 % bookmaker margin" in app.screen.question  # type: ignore[attr-defined]
            await pilot.press(answer)
            if answer == "n":
                await wait_for(pilot, lambda: "odds_a" in form.errors, "the margin named on odds A")
                assert isinstance(app.screen, MatchFormScreen) and form.values()["odds_a"] == "1.2"
                assert engine.snapshot().matches == ()
            else:
                await wait_for(pilot, lambda: isinstance(app.screen, MatchesScreen), "the form to close")
                [match] = engine.snapshot().matches
                assert match.spec.theo.margin_confirmed and match.status is MatchStatus.NEW


async def test_the_inventory_dialog_follows_fills_and_warns_before_a_count_the_exchange_lacks(
    tmp_path: Path,
) -> None:
    from textual.widgets import Input

    from kmm_tui.tui.screens.inventory import InventoryScreen

    async with sim_and_engine(tmp_path) as (sim, engine):
        vit, faz = cs2_pair(sim)
        sim.place_competitor_order(vit, "bid", 4500, contracts(20))
        spec = MatchSpec("m1", vit, faz, TheoInput(theo_a=6000, theo_b=4000), MatchSettings())
        await engine.execute(cmd.AddMatch(spec, start=True))
        app = KmmApp(engine, refresh_hz=10)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: resting_on_exchange(sim) == 2, "two quotes")
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen), "the correction dialog")
            dialog = app.screen
            assert isinstance(dialog, InventoryScreen)
            sim.place_competitor_order(vit, "ask", 4600, contracts(3), name="taker")  # fills while it is open
            field = dialog.query_one("#f-count_long_a", Input)
            await wait_for(pilot, lambda: field.value == "3", "the untouched count following the fill")
            await engine._portfolio.sync_positions()
            live = dialog.query_one("#inventory-live")
            await wait_for(pilot, lambda: "exchange: A 3 / B 0" in str(live.render()), "the position, live")
            field.value = "5"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the drift warning")
            assert "exchange holds A 3 / B 0" in app.screen.question  # type: ignore[attr-defined]
            await pilot.press("n")
            await wait_for(pilot, lambda: app.screen is dialog, "back in the dialog")
            assert engine.snapshot().matches[0].inventory.count_long_a == contracts(3)
