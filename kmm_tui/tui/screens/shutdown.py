"""Quitting safely: cancel every order we own, show progress until the exchange confirms zero remain,
then shut the engine down and exit. If orders survive, say so and let the user retry."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from kmm_tui.engine.commands import KillAll, Shutdown
from kmm_tui.engine.errors import EngineError
from kmm_tui.tui.port import EnginePort
from kmm_tui.tui.summary import quit_summary
from kmm_tui.tui.widgets.text_line import TextLine

POLL_S = 0.2


class ShutdownScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry cancel", show=False),
        Binding("q", "quit_anyway", "Quit anyway", show=False),
    ]

    def __init__(self, engine: EnginePort) -> None:
        super().__init__(classes="modal")
        self.engine = engine
        self.stuck = False
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Quitting", classes="question")
            yield TextLine("", id="shutdown-progress")

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self._poll)
        self._poll()
        self._run()

    def _poll(self) -> None:
        if self.stuck or not self.busy:
            return
        left = self.engine.snapshot().resting_orders
        self.query_one("#shutdown-progress", TextLine).show(f"cancelling our orders… {left} resting")

    def action_retry(self) -> None:
        if self.stuck:
            self._run()

    def action_quit_anyway(self) -> None:
        if self.stuck:
            summary = self._summary()
            summary.append("\nquit with orders possibly still resting: check the exchange", style="bold red")
            self.app.exit(1, message=summary)

    def _summary(self) -> Text:
        """The session in a few lines, printed to the terminal once the app has closed."""
        now = getattr(self.app, "now_ms", None)
        return quit_summary(
            self.engine.snapshot(),
            now() if callable(now) else 0,
            getattr(self.app, "tz", None),
            getattr(self.app, "fills_seen", None),
        )

    @work(exclusive=True, group="shutdown")
    async def _run(self) -> None:
        self.stuck, self.busy = False, True
        progress = self.query_one("#shutdown-progress", TextLine)
        try:
            await self.engine.execute(KillAll("quit"))
        except EngineError as error:
            progress.show(Text(f"cancel failed: {error.user_message}", style="red"))
        left = self.engine.snapshot().resting_orders
        self.busy = False
        if left:
            self.stuck = True
            progress.show(
                Text(
                    f"{left} order(s) still resting. r: retry cancelling · q: quit anyway "
                    "(then check the exchange)",
                    style="bold red",
                )
            )
            return
        progress.show("0 orders resting — closing connections…")
        summary = self._summary()
        try:
            await self.engine.execute(Shutdown("quit"))
        except EngineError as error:
            progress.show(Text(f"shutdown: {error.user_message}", style="yellow"))
        self.app.exit(0, message=summary)
