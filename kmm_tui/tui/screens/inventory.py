"""Manual inventory correction (``i``): set the contracts held per outcome (team, the draw of a soccer
event, YES / NO of one market) and, optionally, their average price. Used after fills the engine could
not see (another tool, a restart gap).

The dialog stays live: a line shows the exchange's position and kmm's inventory as they are now, a
count left as it was pre-filled follows the fills that arrive while the dialog is open, and saving
counts the exchange does not hold asks first (the position-drift guard would halt the match). One
YES/NO market is one netted position on the exchange: YES held minus NO held is what must agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, format_contracts
from kmm_tui.engine.commands import CorrectInventory
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.model import Shape
from kmm_tui.engine.state import MatchView
from kmm_tui.tui.forms import INVENTORY_FIELDS, cents_text, parse_inventory_form
from kmm_tui.tui.outcomes import outcome_word
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
        three_way = Side.T in self.match.spec.outcomes
        labels = dict.fromkeys(INVENTORY_FIELDS, "")  # a two-outcome match's tie fields stay hidden
        values = dict.fromkeys(INVENTORY_FIELDS, "")
        for side in self.match.spec.outcomes:
            labels[f"count_long_{side.value}"] = f"Contracts {team(self.match, side.value)[:16]}"
            labels[f"avg_cost_{side.value}"] = f"Avg price {outcome_word(self.match, side)} ¢ (blank = keep)"
            values[f"count_long_{side.value}"] = format_contracts(inv.count_long(side))
            values[f"avg_cost_{side.value}"] = cents_text(inv.avg_price(side))
        self.prefilled = dict(values)
        with Vertical(classes="dialog form"):
            yield Static(f"Correct inventory — {match_name(self.match)}", classes="question")
            yield TextLine(position_text(self.match), id="inventory-live")
            with Grid(id="inventory-grid"):
                for name in INVENTORY_FIELDS:
                    shown = three_way or not name.endswith("_t")
                    label = Label(labels[name], classes="field-label")
                    field = FormInput(values[name], id=f"f-{name}", compact=True, select_on_focus=False)
                    label.display = field.display = shown
                    yield label
                    yield field
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
        for side in latest.spec.outcomes:
            name, count = f"count_long_{side.value}", latest.inventory.count_long(side)
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
        latest = self._latest()
        counts = {Side.A: form.count_long_a, Side.B: form.count_long_b}
        if Side.T in latest.spec.outcomes:
            tie = form.count_long_t
            counts[Side.T] = tie if tie is not None else latest.inventory.count_long_t
        if not agrees(latest, counts):
            question = (
                f"The exchange holds {held_text(latest)}, not {counts_text(latest, counts)}: the "
                "position-drift guard will halt this match. Save anyway?"
            )
            if not await self.app.push_screen_wait(ConfirmScreen(question, "Save", "Go back")):
                return
        command = CorrectInventory(
            self.match.spec.match_id,
            form.count_long_a,
            form.count_long_b,
            form.avg_cost_a,
            form.avg_cost_b,
            form.count_long_t if Side.T in latest.spec.outcomes else None,
            form.avg_cost_t if Side.T in latest.spec.outcomes else None,
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


def counts_text(match: MatchView, counts: Mapping[Side, Count]) -> str:
    """'A 5 / B 3'; 'home 5 / draw 2 / away 3'; 'over 5 / under 3'."""
    return " / ".join(
        f"{outcome_word(match, side)} {format_contracts(counts[side])}" for side in match.spec.outcomes
    )


def held_text(match: MatchView) -> str:
    held = match.exchange_positions
    if held is None:
        return "not read yet"
    if match.spec.shape is Shape.YES_NO:  # Kalshi nets a market: YES held minus NO held
        net = held[0] - held[1]
        return f"net {'YES' if net >= 0 else 'NO'} {format_contracts(Count(abs(net)))}"
    order = {Shape.TEAMS: (Side.A, Side.B), Shape.THREE_WAY: (Side.A, Side.B, Side.T)}[match.spec.shape]
    return counts_text(match, dict(zip(order, held, strict=True)))


def agrees(match: MatchView, counts: Mapping[Side, Count]) -> bool:
    """Do these counts match the exchange's positions (unknown: nothing to contradict)?"""
    held = match.exchange_positions
    if held is None:
        return True
    if match.spec.shape is Shape.YES_NO:
        return held[0] - held[1] == counts[Side.A] - counts[Side.B]
    order = (Side.A, Side.B, Side.T) if match.spec.shape is Shape.THREE_WAY else (Side.A, Side.B)
    return tuple(held) == tuple(counts[side] for side in order)


def position_text(match: MatchView) -> str:
    """The exchange's position beside kmm's inventory, as they are now."""
    inv = match.inventory
    ours = counts_text(match, {side: inv.count_long(side) for side in match.spec.outcomes})
    live = " (live)" if match.exchange_positions is not None else ""
    return f"kmm: {ours} · exchange: {held_text(match)}{live}"
