"""Markout columns and the account line of Fills & P&L, from snapshot values (pure)."""

from dataclasses import replace

from kmm_tui.domain.markouts import FillMarkout, Mark, summarize
from kmm_tui.domain.prices import Money, Price, format_cents
from kmm_tui.domain.quoting import Reason
from kmm_tui.engine.guards import AccountTotals
from kmm_tui.engine.model import AccountLimits
from kmm_tui.engine.state import AccountView
from kmm_tui.tui import format as fmt
from kmm_tui.tui.markout_cells import account_line, edge_suggestion, fill_markout_cells, total_markout_cells

from .views import demo_view


def test_fill_and_match_markout_cells() -> None:
    match = demo_view().matches[0]
    fill = match.fills[0]
    record = FillMarkout(
        fill.trade_id,
        match.spec.match_id,
        "S",
        fill.ticker,
        fill.side,
        fill.price,
        fill.count,
        fill.ts_ms,
        Mark(None, Price(fill.price + 200)),
        ((5_000, Mark(None, Price(fill.price - 300))), (60_000, Mark(None, Price(fill.price)))),
    )
    summary = summarize([record], (5_000, 60_000))
    match = replace(
        match,
        fill_markouts=(record,),
        markouts=summary,
        suggested_edge=Price(200),
        closing=(Price(fill.price + 100), Price(fill.price + 100)),
    )
    cells = fill_markout_cells(match, fill)
    assert str(cells["mo_first"]) == "-5c" and str(cells["mo_last"]) == "-2c"
    assert str(cells["clv"]) == "+1c"
    totals = total_markout_cells(match)
    assert str(totals["spread"]) == "+2.00c" and str(totals["markout"]) == "-2.00c"
    assert totals["adverse"] == "100%" and totals["suggest"].endswith("→2c")


def test_account_line_shows_headroom_or_the_breach() -> None:
    totals = AccountTotals(Money(-1_000_000), Money(-5_000_000), Money(5_000_000), Money(3_000_000))
    view = AccountView(AccountLimits(max_session_loss=Money(10_000_000)), totals, None)
    assert str(account_line(view)) == "account headroom: loss $9.00"
    latched = replace(view, latched="account resting notional $3.00 is past the limit $2.00")
    assert "press R to reset" in str(account_line(latched))


def test_the_form_shows_the_suggested_edge_beside_the_current_one() -> None:
    view = demo_view()
    match = view.matches[0]
    assert "no markouts yet" in str(edge_suggestion(view, match.spec.match_id))
    summary = summarize([], (5_000,))
    view = replace(view, matches=(replace(match, markouts=summary, suggested_edge=Price(400)),))
    text = str(edge_suggestion(view, match.spec.match_id))
    assert "suggest 4c" in text and f"edge now {format_cents(match.spec.settings.edge)}" in text


def test_flow_guard_reasons_are_red_and_fit_the_narrow_column() -> None:
    for reason in (Reason.FILL_BURST, Reason.LINE_MOVE, Reason.ACCOUNT_LIMIT):
        assert "red" in fmt.reason_style(reason.value)
        assert len(fmt.reason_label(reason.value)) <= 10
