"""Manual inventory correction (``i``): set the contracts held per team and, optionally, their average
price. Used after fills the engine could not see (another tool, a restart gap).

The dialog stays live: a line shows the exchange's position and kmm's inventory as they are now, a
count left as it was pre-filled follows the fills that arrive while the dialog is open, and saving
counts the exchange does not hold asks first (the position-drift guard would halt the match)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import format_contracts
from kmm_tui.engine.commands import CorrectInventory
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.state import MatchView
from kmm_tui.tui.forms import INVENTORY_FIELDS, cents_text, parse_inventory_form
from kmm_tui.tui.port import EnginePort
from kmm_tui.tui.rows import match_name, team
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.widgets.form_input import FormInput, FormScreen
from kmm_tui.tui.widgets.text_line import TextLine


class InventoryScreen(FormScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *FormScreen.BINDINGS,
        Binding("ctrl+s", "save", "Save"),  # not priority: after the keys typed before it
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, engine: EnginePort, match: MatchView) -> None:
        super().__init__(classes="modal")
        self.engine = engine
        self.match = match

    def compose(self) -> ComposeResult:
        inv = self.match.inventory
        labels = {
            "count_long_a": f"Contracts {team(self.match, 'a')[:16]}",
            "count_long_b": f"Contracts {team(self.match, 'b')[:16]}",
            "avg_cost_a": "Avg price A ¢ (blank = keep)",
            "avg_cost_b": "Avg price B ¢ (blank = keep)",
        }
        values = {
            "count_long_a": format_contracts(inv.count_long_a),
            "count_long_b": format_contracts(inv.count_long_b),
            "avg_cost_a": cents_text(inv.avg_price(Side.A)),
            "avg_cost_b": cents_text(inv.avg_price(Side.B)),
        }
        self.prefilled = dict(values)
        with Vertical(classes="dialog form"):
            yield Static(f"Correct inventory — {match_name(self.match)}", classes="question")
            yield TextLine(position_text(self.match), id="inventory-live")
            with Grid(id="inventory-grid"):
                for name in INVENTORY_FIELDS:
                    yield Label(labels[name], classes="field-label")
                    yield FormInput(values[name], id=f"f-{name}", compact=True, select_on_focus=False)
                    error = TextLine("", id=f"e-{name}", classes="field-error")
                    error.display = False
                    yield error
            yield TextLine("", id="form-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#f-count_long_a", Input).focus()
        self.set_interval(0.5, self._follow)

    def _latest(self) -> MatchView:
        wanted = self.match.spec.match_id
        return next((m for m in self.engine.snapshot().matches if m.spec.match_id == wanted), self.match)

    def _follow(self) -> None:
        """Keep the live line current, and untouched count fields equal to the inventory as fills land."""
        latest = self._latest()
        self.query_one("#inventory-live", TextLine).show(position_text(latest))
        for name, count in (("count_long_a", latest.inventory.count_long_a),
                            ("count_long_b", latest.inventory.count_long_b)):
            field = self.query_one(f"#f-{name}", Input)
            if field.value == self.prefilled[name] and format_contracts(count) != field.value:
                field.value = self.prefilled[name] = format_contracts(count)
        self.match = latest

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        for name in INVENTORY_FIELDS:
            line = self.query_one(f"#e-{name}", TextLine)
            line.show(f"↑ {errors[name]}" if name in errors else "")
            line.display = name in errors
            self.query_one(f"#f-{name}", Input).set_class(name in errors, "error")
        self.query_one("#form-error", TextLine).show(general)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        self._save()

    @work(exclusive=True, group="save")
    async def _save(self) -> None:
        values = {name: self.query_one(f"#f-{name}", Input).value for name in INVENTORY_FIELDS}
        form, errors = parse_inventory_form(values)
        if form is None:
            self.show_errors(errors, "fix the marked fields, then save again")
            return
        held = self._latest().exchange_positions
        if held is not None and held != (form.count_long_a, form.count_long_b):
            question = (
                f"The exchange holds A {format_contracts(held[0])} / B {format_contracts(held[1])}, not "
                f"A {format_contracts(form.count_long_a)} / B {format_contracts(form.count_long_b)}: the "
                "position-drift guard will halt this match. Save anyway?"
            )
            if not await self.app.push_screen_wait(ConfirmScreen(question, "Save", "Go back")):
                return
        command = CorrectInventory(
            self.match.spec.match_id, form.count_long_a, form.count_long_b, form.avg_cost_a, form.avg_cost_b
        )
        try:
            await self.engine.execute(command)
        except EngineError as error:
            field = error.field if error.field in INVENTORY_FIELDS else None
            self.show_errors(
                {field: error.user_message} if field else {}, "" if field else error.user_message
            )
            return
        self.dismiss(True)


def position_text(match: MatchView) -> str:
    """The exchange's position beside kmm's inventory, as they are now."""
    inv = match.inventory
    ours = f"kmm: A {format_contracts(inv.count_long_a)} / B {format_contracts(inv.count_long_b)}"
    held = match.exchange_positions
    if held is None:
        return f"{ours} · exchange: not read yet"
    return f"{ours} · exchange: A {format_contracts(held[0])} / B {format_contracts(held[1])} (live)"
