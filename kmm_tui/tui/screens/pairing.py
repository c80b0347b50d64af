"""Which sportsbook event is this match? Shown when an odds source is not sure enough to decide alone.

The engine never assumes a pairing below the confidence threshold (a wrong one prices a match from
another game). This modal lists each source's candidates; a number key confirms one, which the
matcher remembers (with the team-name aliases it implies) for every later fetch; Esc confirms none.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

MAX_SHOWN = 9


class PairingScreen(ModalScreen[tuple[object, int] | None]):
    """Dismisses with (choice, candidate index) for a number key, None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(n), f"pick({n})", show=False) for n in range(1, MAX_SHOWN + 1)),
        Binding("escape", "dismiss_none", "None of these"),
    ]

    def __init__(self, reason: str, choices: tuple[object, ...]) -> None:
        super().__init__(classes="modal")
        self.reason = reason
        self.options: list[tuple[object, int]] = [
            (choice, index)
            for choice in choices
            for index in range(len(choice.decision.candidates))  # type: ignore[attr-defined]
        ][:MAX_SHOWN]

    def compose(self) -> ComposeResult:
        lines = [
            "The odds sources found these events but are not sure which one is this match.",
            "Press its number to confirm it (remembered from now on), or Esc for none of these.",
            "",
        ]
        lines += [f"{n}) {choice.describe(index)}" for n, (choice, index) in enumerate(self.options, 1)]  # type: ignore[attr-defined]
        with Vertical(classes="dialog"):
            yield Static("\n".join(lines), classes="question", id="pairing-options")

    def action_pick(self, number: int) -> None:
        if 1 <= number <= len(self.options):
            self.dismiss(self.options[number - 1])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
