"""The match setup / edit form: tickers checked against the exchange, odds or theo, quoting settings,
and a live preview of ceilings and would-be quotes. Errors are shown on the offending field and the
form stays open with everything typed, so a typo never costs the user their input.

The form follows the shape the tickers make (docs/shapes.md): a draw (TIE) ticker adds the draw's
odds and theo fields (home, draw, away order); the same ticker for A and B is one YES/NO market, shown
as one ticker field with YES (over) / NO (under) labels. The draw's fields appear when a draw ticker
is given (the scanner pre-fills it) or when the exchange says the event has one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, Static

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import format_contracts
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.commands import AddMatch, StartMatch, UpdateMatch
from kmm_tui.engine.errors import EngineError, MarginAboveCap, PairingNeeded
from kmm_tui.engine.model import MatchSettings, MatchSpec, Shape
from kmm_tui.outcome_input import OUTCOME_WORDS, match_id_for, shape_of
from kmm_tui.tui.format import cents, clock, reason_text, start_in
from kmm_tui.tui.forms import (
    MATCH_FIELDS,
    MatchForm,
    cents_text,
    default_values,
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
    "ticker_tie": "Ticker draw (TIE)",
    "ticker_b": "Ticker B",
    "odds_a": "Odds A (1.85 / +150)",
    "odds_draw": "Odds draw",
    "odds_b": "Odds B",
    "theo_a": "…or theo A ¢",
    "theo_tie": "Theo draw ¢",
    "theo_b": "Theo B ¢ (100−A)",
    "edge": "Edge ¢",
    "contracts": "Contracts",
    "inventory_max": "Inventory max",
    "start_margin": "Pull before start (min)",
}
# The labels that change with the shape (two team markets keep LABELS).
SHAPE_LABELS: dict[Shape, dict[str, str]] = {
    Shape.TEAMS: {},
    Shape.THREE_WAY: {
        "ticker_a": "Ticker home",
        "ticker_b": "Ticker away",
        "odds_a": "Odds home (2.1 / +110)",
        "odds_b": "Odds away",
        "theo_a": "…or theo home ¢",
        "theo_tie": "Theo draw ¢ (one may",
        "theo_b": "Theo away ¢ be empty)",
    },
    Shape.YES_NO: {
        "ticker_a": "Market (one YES/NO)",
        "odds_a": "Odds YES / over",
        "odds_b": "Odds NO / under",
        "theo_a": "…or theo YES ¢",
        "theo_b": "Theo NO ¢ (100−YES)",
    },
}
DRAW_FIELDS = ("ticker_tie", "odds_draw", "theo_tie")
LOCKED_WHEN_EDITING = ("ticker_a", "ticker_tie", "ticker_b", "name")
PREVIEW_DELAY_S = 0.25


def labels_for(shape: Shape) -> dict[str, str]:
    return {**LABELS, **SHAPE_LABELS[shape]}


def waiting_text(errors: Mapping[str, str], values: Mapping[str, str], shape: Shape = Shape.TEAMS) -> Text:
    """Why there is no preview yet: fields still empty, or typed ones that do not parse (and why)."""
    labels = labels_for(shape)
    label = {name: labels[name].split(" (")[0].removeprefix("…or ") for name in labels}
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
        self._described: tuple[str, str, str | None] | None = None
        # One YES/NO market (ticker A == ticker B): B's field is hidden and follows A.
        self.single = False
        self.draw_needed = False  # the exchange says this event has a draw (TIE) market
        self._preview_timer: Timer | None = None
        self.feed_line = Text()

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title = f"Edit {self.editing.name or self.editing.match_id}" if self.editing else "New match"
        with Vertical(classes="dialog form"):
            yield Static(title, classes="question")
            with VerticalScroll(id="form-fields"), Grid(id="form-grid"):
                for name in MATCH_FIELDS:
                    yield Label(LABELS[name], id=f"l-{name}", classes="field-label")
                    locked = self.editing is not None and name in LOCKED_WHEN_EDITING
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
        self.single = values["ticker_a"] != "" and values["ticker_a"] == values["ticker_b"]
        self.apply_shape()
        self.query_one(f"#f-{first}", Input).focus()
        self._schedule_preview()

    @property
    def shape(self) -> Shape:
        values = self.values()
        tie = values["ticker_tie"].strip().upper()
        return shape_of(values["ticker_a"].strip().upper(), values["ticker_b"].strip().upper(), tie)

    def apply_shape(self) -> None:
        """Show the fields and labels of the shape the tickers make (a focused field never hides)."""
        shape = self.shape
        labels = labels_for(shape)
        draw = shape is Shape.THREE_WAY or self.draw_needed or "ticker_tie" in self.errors
        for name in MATCH_FIELDS:
            field = self.query_one(f"#f-{name}", Input)
            if name in DRAW_FIELDS:
                shown = (draw and not self.single) or (name == "ticker_tie" and field.has_focus)
            elif name == "ticker_b":
                shown = not self.single or field.has_focus
            else:
                shown = True
            self.query_one(f"#l-{name}", Label).update(labels[name])
            self.query_one(f"#l-{name}", Label).display = shown
            field.display = shown
            self.query_one(f"#e-{name}", TextLine).display = shown and name in self.errors

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
        try:
            for name in MATCH_FIELDS:
                message = errors.get(name, "")
                line = self.query_one(f"#e-{name}", TextLine)
                line.show(f"↑ {message}" if message else "")
                line.display = bool(message)
                self.query_one(f"#f-{name}", Input).set_class(bool(message), "error")
            self.query_one("#form-error", TextLine).show(general)
        except NoMatches:  # an engine answer that arrived as the form closed: nothing left to mark
            return
        self.apply_shape()

    def show_engine_error(self, error: EngineError) -> None:
        if error.field in MATCH_FIELDS:
            self.show_errors({**self.errors, error.field: error.user_message})
        else:
            self.show_errors(self.errors, error.user_message)

    # --- live preview -------------------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if name == "ticker_a" and self.single:  # one YES/NO market: B follows A (empty A: two fields again)
            self.single = bool(event.value.strip())
            self.query_one("#f-ticker_b", Input).value = event.value
        elif name == "ticker_b":
            ticker_a = self.query_one("#f-ticker_a", Input).value.strip().upper()
            self.single = ticker_a != "" and event.value.strip().upper() == ticker_a
        if name in self.errors:  # typing in a field clears its stale message
            self.show_errors({k: v for k, v in self.errors.items() if k != name})
        self.apply_shape()
        self._schedule_preview()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self.apply_shape)  # a field typed into while focused may hide now

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
        ticker_tie = values["ticker_tie"].strip().upper() or None
        preview = self.query_one("#form-preview", TextLine)
        preview.show(Text("fetching odds…", style="bright_black"))
        try:
            feed = await self.engine.feed_theo(ticker_a, ticker_b, self.method, ticker_tie)
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
        if not self.is_attached:  # the form closed while the odds were fetched
            return
        theo_t = feed.theo_t
        fields = ("odds_a", "odds_draw", "odds_b", "theo_a", "theo_tie", "theo_b")
        if not any(values[k].strip() for k in fields):
            self.query_one("#f-theo_a", Input).value = cents_text(feed.theo_a)
            self.query_one("#f-theo_b", Input).value = cents_text(feed.theo_b)
            self.query_one("#f-theo_tie", Input).value = cents_text(theo_t)
        theos = {Side.A: feed.theo_a, Side.B: feed.theo_b, Side.T: theo_t}
        words = OUTCOME_WORDS[self.shape]
        priced = " / ".join(f"{words[side]} {cents(theos[side])}" for side in words)
        self.feed_line = Text(
            # the summary names the books and the de-vig method already: "simulated (multiplicative)"
            f"odds feed: {priced} from {feed.summary}, "
            f"newest price {clock(feed.priced_ms, getattr(self.app, 'tz', None))}\n",
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
            preview.show(waiting_text(errors, self.values(), self.shape))
            return
        tickers = (form.ticker_a, form.ticker_b, form.ticker_tie)
        if self._described != tickers:
            try:
                self.pair = await self.engine.describe_pair(*tickers)
            except EngineError as error:
                self.pair = None
                self._described = None
                if error.field == "ticker_tie":  # a soccer event needs its draw: show where it goes
                    self.draw_needed = True
                self.show_engine_error(error)
                preview.show(Text(f"preview: {error.user_message}", style="yellow"))
                return
            self._described = tickers
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
        words = OUTCOME_WORDS[spec.shape]
        if pair is not None:
            now = self.app_now()
            title = pair.team_a if spec.shape is Shape.YES_NO else " v ".join(
                self.outcome_name(side) for side in spec.outcomes if side is not Side.T
            )
            text.append(title, style="bold")
            text.append(
                f" · {pair.event_ticker} · starts in {start_in(pair.start_ms, now)} ({pair.start_source})\n"
            )
        for side in spec.outcomes:
            theo = {Side.A: result.theo_a, Side.B: result.theo_b, Side.T: result.theo_t}[side]
            quote = result.decision.quote(side)
            name = self.outcome_name(side)
            text.append(
                f"{words[side]:<5} {name[:14]:<14} theo {cents(theo):<7} ceiling {cents(quote.ceiling):<7} → "
            )
            if quote.price is None:
                text.append("no quote ")
            else:
                text.append(f"bid {cents(quote.price)} x{format_contracts(quote.size)} ")
            text.append_text(reason_text(quote.reason.value, quote.detail, long=True))
            text.append("\n")
        for warning in result.warnings:
            text.append(f"⚠ {warning}\n", style="bold yellow")
        return text

    def outcome_name(self, side: Side) -> str:
        """The team (or YES / NO) an outcome stands for, as the exchange names it."""
        pair = self.pair
        if self.shape is Shape.YES_NO:
            return "YES" if side is Side.A else "NO"
        if pair is None:
            return OUTCOME_WORDS[self.shape][side]
        return {Side.A: pair.team_a, Side.B: pair.team_b, Side.T: pair.team_t or "Tie"}[side]

    def app_now(self) -> int:
        now = getattr(self.app, "now_ms", None)
        return now() if callable(now) else 0

    def match_id(self, form: MatchForm) -> str:
        if self.editing:
            return self.editing.match_id
        return match_id_for(form.ticker_a, form.ticker_b, form.ticker_tie)

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
