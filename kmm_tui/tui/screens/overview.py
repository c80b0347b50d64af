"""Overview mode (5): every running match as a compact card, side by side, so ten can be watched at once.

Cards are kept by match id and only re-rendered when their text changes (``TextLine``), so a busy
evening costs about as much as the home table. Enter on a focused card opens its live view.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll

from kmm_tui.engine.state import EngineView, MatchView
from kmm_tui.tui.overview import CARD_WIDTH, card_inputs, card_text, overview_matches
from kmm_tui.tui.screens.base import ModeScreen
from kmm_tui.tui.widgets.text_line import TextLine

CARD_COLUMNS = CARD_WIDTH + 4  # border and padding


class Card(TextLine):
    """One match's card; focusable so arrows/Tab move between cards and Enter opens the live view."""

    can_focus = True

    def __init__(self, match_id: str) -> None:
        super().__init__("", classes="card")
        self.match_id = match_id
        self._inputs: tuple[object, ...] | None = None

    def show_match(self, match: MatchView) -> None:
        """Re-render only when what the card shows changed (``card_inputs``). A card is always six
        lines that never wrap (the grid keeps every card at least ``CARD_WIDTH`` wide), so a new text
        needs no layout pass, which would repaint the whole screen."""
        inputs = card_inputs(match)
        if inputs == self._inputs:
            return
        first = self._inputs is None
        self._inputs = inputs
        text = card_text(match)
        key = (text.plain, repr(text.spans))
        if key != self._last:
            self._last = key
            self.update(text, layout=first)

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            self.screen.kmm.open_live_view(self.match_id)  # type: ignore[attr-defined]


class OverviewScreen(ModeScreen):
    AUTO_FOCUS = ".card"

    def compose_body(self) -> ComposeResult:
        yield TextLine("Overview — every running match (Enter on a card: live view)", classes="mode-title")
        yield TextLine("", id="overview-hint", classes="hint")
        with VerticalScroll(id="overview"):
            yield Grid(id="cards")

    def on_resize(self) -> None:
        self._fit_grid()

    def _fit_grid(self) -> None:
        grid = self.query_one("#cards", Grid)  # n cards need n widths and n - 1 one-column gutters
        grid.styles.grid_size_columns = max(1, (self.app.size.width + 1) // (CARD_COLUMNS + 1))

    def open_filter(self) -> None:
        self.notify("the overview has no filter: use / in Matches (1)", severity="warning")

    def selected_match_id(self) -> str | None:
        focused = self.focused
        return focused.match_id if isinstance(focused, Card) else None

    def show_view(self, view: EngineView | None, now_ms: int) -> None:
        super().show_view(view, now_ms)
        shown, hidden = overview_matches(view.matches if view is not None else ())
        hint = self.query_one("#overview-hint", TextLine)
        if not shown:
            hint.show("No running match. Start one in Matches (1) with s.")
        else:
            hint.show(f"{hidden} stopped match(es) not shown" if hidden else "")
        grid = self.query_one("#cards", Grid)
        cards = {card.match_id: card for card in grid.children if isinstance(card, Card)}
        wanted = [m.spec.match_id for m in shown]
        for match_id, card in cards.items():
            if match_id not in wanted:
                card.remove()
        if [c for c in cards if c in wanted] != wanted:  # new cards, or the order changed: rebuild
            for card in cards.values():
                card.remove()
            cards = {m.spec.match_id: Card(m.spec.match_id) for m in shown}
            grid.mount(*cards.values())
            self._fit_grid()
        for match in shown:
            cards[match.spec.match_id].show_match(match)
