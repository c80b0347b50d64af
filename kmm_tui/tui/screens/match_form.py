"""The match setup / edit form: tickers checked against the exchange, odds or theo, quoting settings,
and a live preview of ceilings and would-be quotes. Errors are shown on the offending field and the
form stays open with everything typed, so a typo never costs the user their input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, Static

from kmm_tui.domain.prices import format_contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.commands import AddMatch, StartMatch, UpdateMatch
from kmm_tui.engine.errors import EngineError, MarginAboveCap, PairingNeeded
from kmm_tui.engine.model import MatchSettings, MatchSpec
from kmm_tui.tui.format import cents, clock, reason_text, start_in
from kmm_tui.tui.forms import (
    MATCH_FIELDS,
    MatchForm,
    cents_text,
    default_values,
    match_id_for,
    parse_match_form,
)
from kmm_tui.tui.markout_cells import edge_suggestion
from kmm_tui.tui.port import EnginePort, PairLike
from kmm_tui.tui.screens.confirm import ConfirmScreen
from kmm_tui.tui.screens.pairing import PairingScreen
from kmm_tui.tui.widgets.form_input import FormInput, FormScreen
from kmm_tui.tui.widgets.text_line import TextLine

LABELS: dict[str, str] = {
    "name": "Name (optional)",
    "ticker_a": "Ticker A",
    "ticker_b": "Ticker B",
    "odds_a": "Odds A (1.85 / +150)",
    "odds_b": "Odds B",
    "theo_a": "…or theo A ¢",
    "theo_b": "Theo B ¢ (100−A)",
    "edge": "Edge ¢",
    "contracts": "Contracts",
    "inventory_max": "Inventory max",
    "start_margin": "Pull before start (min)",
}
PREVIEW_DELAY_S = 0.25


def waiting_text(errors: Mapping[str, str], values: Mapping[str, str]) -> Text:
    """Why there is no preview yet: fields still empty, or typed ones that do not parse (and why)."""
    label = {name: LABELS[name].split(" (")[0].removeprefix("…or ") for name in LABELS}
    empty = [label[k] for k in errors if not values.get(k, "").strip()]
    wrong = [f"{label[k]}: {message}" for k, message in errors.items() if values.get(k, "").strip()]
    text = Text(style="bright_black")
    if wrong:
        text.append(f"preview: fix {'; '.join(wrong)}", style="yellow")
    if empty:
        text.append(f"{' · ' if wrong else ''}preview waits for: {', '.join(empty)}")
    return text


class MatchFormScreen(FormScreen[MatchSpec | None]):
    """Dismisses with the saved spec, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *FormScreen.BINDINGS,
        Binding("ctrl+s", "save(False)", "Save"),  # not priority: after the keys typed before it
        Binding("ctrl+t", "save(True)", "Save & start"),
        Binding("ctrl+o", "fetch_odds", "Fetch odds"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        engine: EnginePort,
        defaults: MatchSettings,
        *,
        values: Mapping[str, str] | None = None,
        editing: MatchSpec | None = None,
        running: bool = False,
        method: DevigMethod = DevigMethod.MULTIPLICATIVE,
    ) -> None:
        super().__init__(classes="modal")
        self.engine = engine
        self.defaults = editing.settings if editing else defaults
        self.editing = editing
        self.running = running
        self.initial = {**default_values(defaults), **(values or {})}
        self.method = editing.theo.method if editing else method
        self.initial_feed = bool(editing and editing.theo.from_feed)
        self.errors: dict[str, str] = {}
        self.pair: PairLike | None = None
        self._described: tuple[str, str] | None = None
        self._preview_timer: Timer | None = None
        self.feed_line = Text()

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title = f"Edit {self.editing.name or self.editing.match_id}" if self.editing else "New match"
        with Vertical(classes="dialog form"):
            yield Static(title, classes="question")
            with VerticalScroll(id="form-fields"), Grid(id="form-grid"):
                for name in MATCH_FIELDS:
                    yield Label(LABELS[name], classes="field-label")
                    locked = self.editing is not None and name in ("ticker_a", "ticker_b", "name")
                    yield FormInput(
                        self.initial.get(name, ""),
                        id=f"f-{name}",
                        compact=True,
                        disabled=locked,
                        select_on_focus=False,
                    )
                    error = TextLine("", id=f"e-{name}", classes="field-error")
                    error.display = False
                    yield error
            yield Checkbox(
                "Theo from the odds feed, refreshed while quoting (ctrl+o: fetch odds now)",
                self.initial_feed,
                id="f-feed",
                compact=True,
            )
            if self.editing is not None:
                yield TextLine(edge_suggestion(self.engine.snapshot(), self.editing.match_id), id="edge-hint")
            yield TextLine("", id="form-error", classes="field-error")
            yield TextLine(
                Text("preview: fill in both tickers and odds or theo", style="bright_black"),
                id="form-preview",
                classes="preview",
            )
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Save & start (ctrl+t)", id="save-start", variant="success")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        """Focus the first field still to fill (odds A when the tickers came from the scanner)."""
        values = self.values()
        order = ("odds_a",) if self.editing else ("ticker_a", "ticker_b", "odds_a")
        first = next((name for name in order if not values[name]), order[-1])
        self.query_one(f"#f-{first}", Input).focus()
        self._schedule_preview()

    # --- values and errors --------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#f-{name}", Input).value for name in MATCH_FIELDS}

    @property
    def from_feed(self) -> bool:
        return self.query_one("#f-feed", Checkbox).value

    def parse(self) -> tuple[MatchForm | None, dict[str, str]]:
        return parse_match_form(self.values(), self.defaults, method=self.method, from_feed=self.from_feed)

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        self.errors = dict(errors)
        for name in MATCH_FIELDS:
            message = errors.get(name, "")
            line = self.query_one(f"#e-{name}", TextLine)
            line.show(f"↑ {message}" if message else "")
            line.display = bool(message)
            self.query_one(f"#f-{name}", Input).set_class(bool(message), "error")
        self.query_one("#form-error", TextLine).show(general)

    def show_engine_error(self, error: EngineError) -> None:
        if error.field in MATCH_FIELDS:
            self.show_errors({**self.errors, error.field: error.user_message})
        else:
            self.show_errors(self.errors, error.user_message)

    # --- live preview -------------------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if name in self.errors:  # typing in a field clears its stale message
            self.show_errors({k: v for k, v in self.errors.items() if k != name})
        self._schedule_preview()

    @on(Checkbox.Changed)
    def _feed_toggled(self) -> None:
        self._schedule_preview()

    def action_fetch_odds(self) -> None:
        self._fetch_odds()

    @work(exclusive=True, group="fetch")
    async def _fetch_odds(self) -> None:
        """Price the pair from the odds sources now: theo per team, the books used, the de-vig method."""
        values = self.values()
        ticker_a, ticker_b = values["ticker_a"].strip().upper(), values["ticker_b"].strip().upper()
        preview = self.query_one("#form-preview", TextLine)
        preview.show(Text("fetching odds…", style="bright_black"))
        try:
            feed = await self.engine.feed_theo(ticker_a, ticker_b, self.method)
        except PairingNeeded as needed:
            preview.show(Text(f"odds feed: {needed.user_message}", style="yellow"))
            picked = await self.app.push_screen_wait(PairingScreen(needed.user_message, needed.choices))
            if picked is not None:
                choice, index = picked
                self.engine.confirm_pairing(choice, index)
                self._fetch_odds()
            return
        except EngineError as error:
            self.show_engine_error(error)
            preview.show(Text(f"odds feed: {error.user_message}", style="yellow"))
            return
        if not any(values[k].strip() for k in ("odds_a", "odds_b", "theo_a", "theo_b")):
            self.query_one("#f-theo_a", Input).value = cents_text(feed.theo_a)
            self.query_one("#f-theo_b", Input).value = cents_text(feed.theo_b)
        self.feed_line = Text(
            f"odds feed: A {cents(feed.theo_a)} / B {cents(feed.theo_b)} from {feed.summary} "
            f"({self.method.value}), newest price {clock(feed.priced_ms, getattr(self.app, 'tz', None))}\n",
            style="cyan",
        )
        self._schedule_preview()

    def _schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._refresh_preview)

    @work(exclusive=True, group="preview")
    async def _refresh_preview(self) -> None:
        form, errors = self.parse()
        preview = self.query_one("#form-preview", TextLine)
        if form is None:
            preview.show(waiting_text(errors, self.values()))
            return
        if self._described != (form.ticker_a, form.ticker_b):
            try:
                self.pair = await self.engine.describe_pair(form.ticker_a, form.ticker_b)
            except EngineError as error:
                self.pair = None
                self._described = None
                self.show_engine_error(error)
                preview.show(Text(f"preview: {error.user_message}", style="yellow"))
                return
            self._described = (form.ticker_a, form.ticker_b)
        preview.show(await self.preview_text(form))

    async def preview_text(self, form: MatchForm) -> Text:
        spec = form.spec(self.match_id(form))
        try:
            result = await self.engine.preview_live(spec)
        except EngineError as error:
            self.show_engine_error(error)
            return Text(f"preview: {error.user_message}", style="yellow")
        pair = self.pair
        text = self.feed_line.copy()
        if pair is not None:
            now = self.app_now()
            text.append(f"{pair.team_a} v {pair.team_b}", style="bold")
            text.append(
                f" · {pair.event_ticker} · starts in {start_in(pair.start_ms, now)} ({pair.start_source})\n"
            )
        for side, theo, quote in (
            ("A", result.theo_a, result.decision.a),
            ("B", result.theo_b, result.decision.b),
        ):
            name = (pair.team_a if side == "A" else pair.team_b) if pair else side
            text.append(f"{side} {name[:14]:<14} theo {cents(theo):<7} ceiling {cents(quote.ceiling):<7} → ")
            if quote.price is None:
                text.append("no quote ")
            else:
                text.append(f"bid {cents(quote.price)} x{format_contracts(quote.size)} ")
            text.append_text(reason_text(quote.reason.value, quote.detail, long=True))
            text.append("\n")
        for warning in result.warnings:
            text.append(f"⚠ {warning}\n", style="bold yellow")
        return text

    def app_now(self) -> int:
        now = getattr(self.app, "now_ms", None)
        return now() if callable(now) else 0

    def match_id(self, form: MatchForm) -> str:
        return self.editing.match_id if self.editing else match_id_for(form.ticker_a, form.ticker_b)

    # --- save -------------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_save(event.button.id == "save-start")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self, start: bool) -> None:
        self._save(start)

    @work(exclusive=True, group="save")
    async def _save(self, start: bool) -> None:
        form, errors = self.parse()
        if form is None:
            self.show_errors(errors, "fix the marked fields, then save again")
            return
        self.show_errors({}, "")
        spec = form.spec(self.match_id(form))
        while True:
            try:
                if self.editing is None:
                    await self.engine.execute(AddMatch(spec, start=start))
                else:
                    await self.engine.execute(
                        UpdateMatch(spec.match_id, theo=spec.theo, settings=spec.settings)
                    )
                    if start and not self.running:
                        await self.engine.execute(StartMatch(spec.match_id))
            except MarginAboveCap as error:  # a typo is likelier than such a margin: ask, never assume
                message = error.user_message
                question = f"{message[0].upper()}{message[1:]}.\n\nUse these odds anyway?"
                if not await self.app.push_screen_wait(ConfirmScreen(question, "Use them", "Fix the odds")):
                    self.show_engine_error(error)
                    return
                spec = replace(spec, theo=replace(spec.theo, margin_confirmed=True))
                continue
            except EngineError as error:
                self.show_engine_error(error)
                return
            break
        self.dismiss(spec)
