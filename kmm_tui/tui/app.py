"""The kmm Textual app: five modes over one engine, modal forms, safe quit, and ``main`` for ``kmm``.

The app owns the engine connection for the UI: it listens to events only to mark the view dirty, to
raise the alert banner on halts, to keep recent fills for the fills line and to toast errors, and it
renders one ``engine.snapshot()`` per tick at ≤ 10 Hz on the screen that is on top (once mounted).
Screens render; the app sends commands. No trading logic lives here.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.commands import Command, DeleteMatch, KillAll, ResetAccountLimits, StartMatch, StopMatch
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import Event, Filled, Level, LogEvent, MatchStatusChanged
from kmm_tui.engine.model import MatchSettings, MatchSpec, MatchStatus
from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.scan.model import ScanResult
from kmm_tui.tui.forms import form_values
from kmm_tui.tui.keymap import ACTIONS, app_bindings, display_key, resolve_keys
from kmm_tui.tui.port import EnginePort, MatchStore
from kmm_tui.tui.rows import PRE_START_PREFIX, match_name
from kmm_tui.tui.scan_source import ScanSource
from kmm_tui.tui.screens.base import ModeScreen, ViewScreen
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.screens.fills import FillsScreen
from kmm_tui.tui.screens.help import HelpScreen
from kmm_tui.tui.screens.inventory import InventoryScreen
from kmm_tui.tui.screens.live import LiveScreen
from kmm_tui.tui.screens.log import LogScreen
from kmm_tui.tui.screens.match_form import MatchFormScreen
from kmm_tui.tui.screens.matches import MatchesScreen
from kmm_tui.tui.screens.overview import OverviewScreen
from kmm_tui.tui.screens.replay import ReplayScreen
from kmm_tui.tui.screens.scanner import ScannerScreen
from kmm_tui.tui.screens.shutdown import ShutdownScreen
from kmm_tui.tui.widgets.banner import Alert

log = logging.getLogger(__name__)

RUNNING = frozenset({MatchStatus.QUOTING, MatchStatus.DRY_RUN, MatchStatus.STARTING})
MATCH_ACTIONS = frozenset(
    {
        "add_match",
        "edit_match",
        "start_match",
        "start_dry_run",
        "stop_match",
        "delete_match",
        "correct_inventory",
        "kill_all",
        "reset_account_limits",
        "filter",
        "acknowledge",
        "help",
        "quit_app",
        "switch_mode",
    }
)
IDLE_REDRAW_MS = 1000  # the clock in the status bar still ticks when nothing else changes
MAX_RECENT_FILLS = 200  # far more than one fills-line window needs


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class KmmApp(App[int]):
    """One engine, five modes (1–5), modal forms; every action on a key, in the footer and palette."""

    CSS_PATH = "app.tcss"
    TITLE = "kmm"
    MODES: ClassVar[dict[str, Any]] = {
        "matches": MatchesScreen,
        "scanner": ScannerScreen,
        "fills": FillsScreen,
        "log": LogScreen,
        "overview": OverviewScreen,
        "replay": ReplayScreen,
    }
    DEFAULT_MODE = "matches"
    BINDINGS: ClassVar = app_bindings()
    # screen classes for app.tcss: narrow terminals stack panels, short ones shrink the forms
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        engine: EnginePort,
        *,
        keys: Mapping[str, str] | None = None,
        defaults: MatchSettings | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        tz: tzinfo | None = None,
        refresh_hz: float = 10.0,  # float-ok: a UI rate, not money
        live: bool = True,
        scanner: ScanSource | None = None,
        store: MatchStore | None = None,
        startup: Callable[[KmmApp], Awaitable[None]] | None = None,
        devig: DevigMethod = DevigMethod.MULTIPLICATIVE,
        sessions_dir: Path | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        if not 0 < refresh_hz <= 10:
            raise ValueError("refresh_hz must be in (0, 10]: the UI redraws at most 10 times a second")
        self.engine = engine
        self.keys = resolve_keys(keys)
        self.defaults = defaults or MatchSettings()
        self.tz = tz
        self.live = live
        self.refresh_hz = refresh_hz
        self.scanner = scanner
        self.store = store
        self._startup = startup
        self._on_ready = on_ready  # once the first frame is on screen (kmm: the heap is frozen then)
        self.devig = devig
        self.sessions_dir = sessions_dir  # recorded sessions for the Replay mode (docs/replay.md)
        self._clock = clock
        self._dirty = True
        self._last_render_ms = 0
        self._unlisten: Callable[[], None] | None = None
        self.alerts: list[Alert] = []  # unacknowledged halts and failures: the red banner
        self.recent_fills: deque[Filled] = deque(maxlen=MAX_RECENT_FILLS)  # the fills line, newest last
        self.fills_seen = 0  # every fill this session (the snapshot keeps only the latest per match)
        self.renders = 0  # for the frame-time bench

    # --- lifecycle and rendering -------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_keymap(self.keys)
        self._unlisten = self.engine.listen(self._on_event)
        if self.live:
            self.set_interval(1 / self.refresh_hz, self._tick)
        self.render_now()
        if self._startup is not None:
            self.run_worker(self._startup(self), group="startup")

    def on_ready(self) -> None:
        if self._on_ready is not None:
            self._on_ready()

    def on_unmount(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def now_ms(self) -> int:
        return self._clock()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,  # float-ok: seconds on screen
        markup: bool = False,
    ) -> None:
        """Toasts are plain text: engine messages contain brackets ("[odds]") that markup would eat.

        ``markup`` is ignored on purpose (``Widget.notify`` always passes True).
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def snapshot(self) -> EngineView:
        return self.engine.snapshot()

    def _on_event(self, event: Event) -> None:
        """Engine events only wake the renderer; halts raise the banner, errors toast, fills are kept
        for the fills line (never a toast: toasts cover forms and the decision log)."""
        self._dirty = True
        if isinstance(event, MatchStatusChanged) and event.status is MatchStatus.HALTED:
            if not event.reason.startswith(PRE_START_PREFIX):  # the planned pull is not an alarm
                self.raise_alert(Alert(event.ts_ms, "HALTED", event.reason, event.match_id))
        elif isinstance(event, Filled):
            self.fills_seen += 1
            self.recent_fills.append(event)
        elif isinstance(event, LogEvent) and event.level is Level.ERROR and self.live:
            self.notify(event.text, title="error", severity="error", timeout=10)

    @property
    def ack_key(self) -> str:
        return display_key(self.keys["acknowledge"]).split(" / ")[0]

    def raise_alert(self, alert: Alert) -> None:
        """A halt or failure: the banner stays on every screen until acknowledged; the terminal beeps."""
        self.alerts.append(alert)
        self._dirty = True
        self.bell()

    def action_acknowledge(self) -> None:
        if self.alerts:
            self.alerts.pop()
            self.render_now()

    def _tick(self) -> None:
        now = self._clock()
        if self._dirty or now - self._last_render_ms >= IDLE_REDRAW_MS:
            self.render_now()

    def render_now(self) -> None:
        """Render the current snapshot on the screen on top (cheap when nothing changed)."""
        screen = self._underlying_view_screen()
        if screen is None:
            return
        self._dirty = False
        now = self._clock()
        self._last_render_ms = now
        try:
            view = self.engine.snapshot()
        except Exception as error:  # never let one bad snapshot kill the UI; the log file has details
            log.exception("snapshot failed")
            self.notify(f"could not read engine state: {error}", severity="error")
            return
        try:
            screen.show_view(view, now)
        except NoMatches:  # the screen's widgets are being removed (the app is closing): nothing to draw
            return
        self.renders += 1

    def _underlying_view_screen(self) -> ViewScreen | None:
        """The view screen the user sees (under any modal), or None while it is still mounting.

        A screen is in the stack before its widgets are: a redraw landing in between must wait for
        the screen's own first render (``ViewScreen.on_mount``) instead of querying missing widgets.
        """
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ViewScreen):
                return screen if screen.is_mounted else None
        return None

    # --- helpers used by screens -------------------------------------------------------------------

    def selected_match(self) -> MatchView | None:
        screen = self._underlying_view_screen()
        match_id = screen.selected_match_id() if screen is not None else None
        if match_id is None:
            return None
        return next((m for m in self.engine.snapshot().matches if m.spec.match_id == match_id), None)

    def _need_match(self) -> MatchView | None:
        match = self.selected_match()
        if match is None:
            self.notify("select a match first (mode 1, arrow keys)", severity="warning")
        return match

    async def load_scan(self) -> ScanResult:
        if self.scanner is None:
            raise RuntimeError("the market scanner is not available in this build")
        return await self.scanner()

    def log_exception(self, what: str, error: BaseException) -> None:
        log.error("%s: %r", what, error, exc_info=error)

    def open_live_view(self, match_id: str) -> None:
        self.push_screen(LiveScreen(match_id))

    def open_match_form(
        self, prefill: Mapping[str, str] | None = None, editing: MatchView | None = None
    ) -> None:
        if editing is not None:
            screen = MatchFormScreen(
                self.engine,
                self.defaults,
                values=form_values(editing.spec),
                editing=editing.spec,
                running=editing.status in RUNNING,
            )
        else:
            screen = MatchFormScreen(self.engine, self.defaults, values=prefill, method=self.devig)
        self.push_screen(screen, self._form_closed)

    def _form_closed(self, spec: MatchSpec | None) -> None:
        if spec is None:
            return
        saved = next(
            (m.spec for m in self.engine.snapshot().matches if m.spec.match_id == spec.match_id), spec
        )
        self.notify(f"saved {saved.name or saved.match_id}", timeout=3)
        self.persist(saved)
        self.render_now()

    def persist(self, spec: MatchSpec, *, remove: bool = False) -> None:
        """Write a match to (or remove it from) settings.toml: the user's configuration is the truth."""
        if self.store is None:
            return
        try:
            if remove:
                self.store.remove(spec)
            else:
                self.store.save(spec)
        except Exception as error:
            log.exception("saving matches failed")
            self.notify(f"could not update settings.toml: {error}", severity="error", timeout=10)

    def run_command(
        self, command: Command, done: str | None = None, then: Callable[[], None] | None = None
    ) -> None:
        """Send a command in the background; errors come back as a toast with the engine's sentence."""

        async def send() -> None:
            try:
                await self.engine.execute(command)
            except EngineError as error:
                self.notify(error.user_message, severity="error", timeout=8)
                return
            except Exception as error:
                log.exception("command %r failed", command)
                self.notify(
                    f"{type(command).__name__} failed: {error!r} (details in the log file)",
                    severity="error",
                    timeout=10,
                )
                return
            if done:
                self.notify(done, timeout=3)
            if then is not None:
                then()
            self._dirty = True

        self.run_worker(send(), group="commands")

    # --- actions (keys, footer, palette) -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """App keys are inactive while a modal (form, confirm, help) is open: keys belong to it."""
        return not (action in MATCH_ACTIONS and isinstance(self.screen, ModalScreen))

    def action_add_match(self) -> None:
        screen = self._underlying_view_screen()
        prefill = None
        if isinstance(screen, ScannerScreen):
            prefill = screen.selected_prefill()
        self.open_match_form(prefill=prefill)

    def action_edit_match(self) -> None:
        if (match := self._need_match()) is not None:
            self.open_match_form(editing=match)

    def action_start_match(self) -> None:
        if (match := self._need_match()) is not None:
            self.run_command(StartMatch(match.spec.match_id), f"starting {match_name(match)}")

    def action_start_dry_run(self) -> None:
        if (match := self._need_match()) is not None:
            self.run_command(
                StartMatch(match.spec.match_id, dry_run=True), f"dry run of {match_name(match)}: no orders"
            )

    def action_stop_match(self) -> None:
        if (match := self._need_match()) is not None:
            self.run_command(StopMatch(match.spec.match_id), f"stopped {match_name(match)}")

    def action_delete_match(self) -> None:
        match = self._need_match()
        if match is None:
            return
        name = match_name(match)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if isinstance(self.screen, LiveScreen) and self.screen.match_id == match.spec.match_id:
                self.pop_screen()
            self.run_command(
                DeleteMatch(match.spec.match_id),
                f"deleted {name}",
                then=lambda: self.persist(match.spec, remove=True),
            )

        self.push_screen(ConfirmScreen(f"Delete {name}? Its orders are cancelled first."), answered)

    def action_correct_inventory(self) -> None:
        if (match := self._need_match()) is not None:
            self.push_screen(
                InventoryScreen(self.engine, match), lambda ok: self.render_now() if ok else None
            )

    def action_kill_all(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_command(KillAll("kill switch (K)"), then=self._report_kill)

        resting = self.engine.snapshot().resting_orders
        self.push_screen(
            ConfirmScreen(
                f"KILL ALL: cancel every order ({resting} resting) and stop every match?", yes="Kill all"
            ),
            answered,
        )

    def action_reset_account_limits(self) -> None:
        self.run_command(ResetAccountLimits(), done="account limits reset: start matches again")

    def _report_kill(self) -> None:
        left = self.engine.snapshot().resting_orders
        if left:
            text = f"{left} order(s) still resting — press K again and check the exchange"
            self.raise_alert(Alert(self._clock(), "KILL ALL FAILED", text))
        else:
            self.notify("kill all: every match stopped, 0 orders resting", severity="warning", timeout=6)

    def action_filter(self) -> None:
        screen = self.screen
        if isinstance(screen, ModeScreen):
            screen.open_filter()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.keys))

    def action_quit_app(self) -> None:
        resting = self.engine.snapshot().resting_orders
        if not resting:
            self.push_screen(ShutdownScreen(self.engine))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.push_screen(ShutdownScreen(self.engine))

        self.push_screen(
            ConfirmScreen(
                f"{resting} order(s) rest on the exchange. Cancel them all and quit?", yes="Cancel all & quit"
            ),
            answered,
        )

    async def action_quit(self) -> None:
        """ctrl+q and the palette's Quit go through the safe quit too (never leave orders behind)."""
        self.action_quit_app()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists every action by name (plus Textual's theme/keys commands, minus its quit)."""
        for action in ACTIONS:
            yield SystemCommand(action.label, action.help, self._palette_callback(action.action))
        for command in super().get_system_commands(screen):
            if command.title.lower() != "quit":
                yield command

    def _palette_callback(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run


# --- entry point -------------------------------------------------------------------------------------


def main(args: argparse.Namespace, settings: Any) -> int:
    """``kmm`` with no subcommand: open the engine for the configured environment and run the app."""
    from kmm_tui.tui.wiring import run_app

    return asyncio.run(run_app(args, settings))
