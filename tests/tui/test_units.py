"""Pure TUI helpers: formatting, colours, keymap validation, form parsing, ladders (scanner filters:
test_scanner_shapes.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Money, Price, contracts
from kmm_tui.engine.model import MatchSettings
from kmm_tui.outcome_input import match_id_for
from kmm_tui.tui import format as fmt
from kmm_tui.tui.forms import (
    default_values,
    form_values,
    parse_inventory_form,
    parse_match_form,
)
from kmm_tui.tui.keymap import ACTIONS, KeymapError, display_key, resolve_keys
from kmm_tui.tui.rows import MATCH_COLUMNS, match_row, unrealized
from kmm_tui.tui.widgets.ladder import ladder_text
from kmm_tui.tui.widgets.status_bar import status_text
from kmm_tui.tui.widgets.table import Fit
from tests.tui.views import NOW_MS, TZ, book, c, demo_view

# --- reasons and formatting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "style"),
    [
        ("quoting", "green"),
        ("best_bid", "green"),
        ("at_ceiling", "yellow"),
        ("outbid", "cyan"),
        ("competitor_above_ceiling", "magenta"),
        ("overexposed", "bold red"),
        ("rebalancing", "blue"),
        ("halted", "bold white on red"),
        ("paused_before_start", "bright_black"),
    ],
)
def test_each_reason_family_has_its_own_colour(reason: str, style: str) -> None:
    assert fmt.reason_style(reason) == style


def test_competitor_above_ceiling_is_not_coloured_as_at_ceiling() -> None:
    assert fmt.reason_style("competitor_above_ceiling") != fmt.reason_style("at_ceiling")


def test_reason_labels_fit_the_narrow_column() -> None:
    for reason in ("competitor_above_ceiling", "paused_before_start", "market_not_open", "overexposed"):
        assert len(fmt.reason_label(reason)) <= 10


def test_prod_is_shown_as_live_in_a_warning_colour() -> None:
    text = fmt.environment_text("prod")
    assert text.plain.strip() == "LIVE"
    assert "red" in str(text.style)
    assert fmt.environment_text("sim").plain.strip() == "SIM"


def test_position_names_the_long_team() -> None:
    assert fmt.position(1200) == "12A"
    assert fmt.position(-350) == "3.5B"
    assert fmt.position(0) == "0"


def test_pair_drops_the_cent_sign_and_keeps_fractions() -> None:
    assert fmt.pair(5500, 4450) == "55/44.5"
    assert fmt.pair(None, 100) == "—/1"


def test_start_in_counts_down_and_says_when_started() -> None:
    assert fmt.start_in(NOW_MS + 125 * 60_000, NOW_MS) == "2h05m"
    assert fmt.start_in(NOW_MS + 4 * 60_000, NOW_MS) == "4m"
    assert fmt.start_in(NOW_MS - 3 * 60_000, NOW_MS) == "started 3m ago"
    assert fmt.start_in(None, NOW_MS) == "—"


def test_sparkline_uses_a_shared_scale_and_blanks_for_missing() -> None:
    assert fmt.sparkline([0, 7, None, 14], 10, 0, 14) == "▁▄ █"
    assert fmt.sparkline([5, 5], 5) == "▄▄"
    assert fmt.sparkline([1, 2, 3, 4], 2) == "▁█"  # only the last `width` values


def test_usd_colours_losses_red() -> None:
    assert fmt.usd(Money(-50_000)).plain == "-$0.05"
    assert fmt.usd(Money(-50_000)).style == "red"
    assert fmt.usd(None).plain == "—"


# --- status bar -------------------------------------------------------------------------------------


def test_status_bar_shows_session_totals_feed_rate_orders_and_the_clock_with_its_zone() -> None:
    text = status_text(demo_view(), NOW_MS, 120, TZ).plain
    # realised = locked $0.29; worst case over outcomes = -$2.30 (Vitality v FaZe if B wins)
    for part in ("SIM", "P&L $0.29", "worst -$2.30", "5 pairs", "2 resting", "feed ok", "11:06:40 UTC"):
        assert part in text
    assert len(text) <= 120 and text.endswith("11:06:40 UTC")


def test_status_bar_drops_the_least_important_parts_at_80_columns_never_the_totals() -> None:
    text = status_text(demo_view(), NOW_MS, 80, TZ).plain
    for part in ("SIM", "$0.29", "worst -$2.30", "2 ord", "feed ok", "11:06:40 UTC"):
        assert part in text
    assert "r98%" not in text  # healthy headroom goes first
    assert len(text) <= 80


def test_status_bar_keeps_low_rate_headroom_even_when_narrow() -> None:
    from dataclasses import replace

    text = status_text(replace(demo_view(), write_headroom=0.1), NOW_MS, 80, TZ)
    assert "w10%" in text.plain


def test_status_bar_flags_a_dead_feed() -> None:
    from dataclasses import replace

    view = replace(demo_view(), feed_connected=False, feed_detail="reconnecting in 4s", environment="prod")
    text = status_text(view, NOW_MS, 120, TZ)
    assert "LIVE" in text.plain and "feed DOWN: reconnecting in 4s" in text.plain


def test_status_bar_shows_odds_credits_left_when_sources_report_them() -> None:
    from dataclasses import replace

    view = replace(demo_view(), odds_quota=(("oddspapi", None), ("theoddsapi", 41)))
    text = status_text(view, NOW_MS, 120, TZ).plain
    assert "odds oddspapi ? theoddsapi 41" in text


# --- keymap -------------------------------------------------------------------------------------------


def test_default_keys_are_the_documented_ones() -> None:
    keys = resolve_keys(None)
    assert {
        keys[a] for a in ("add", "edit", "start", "stop", "delete", "inventory", "kill_all", "quit")
    } == set("aesxdiKq")
    assert keys["filter"] == "slash" and display_key(keys["help"]) == "? / F1"


def test_remapping_moves_a_key() -> None:
    assert resolve_keys({"kill_all": "ctrl+k"})["kill_all"] == "ctrl+k"


def test_unknown_action_in_keys_table_suggests_the_closest() -> None:
    with pytest.raises(KeymapError, match="did you mean 'kill_all'"):
        resolve_keys({"kill_al": "k"})


def test_a_key_bound_twice_is_refused() -> None:
    with pytest.raises(KeymapError, match="used by both"):
        resolve_keys({"stop": "s"})


def test_every_action_has_a_unique_id() -> None:
    assert len({a.id for a in ACTIONS}) == len(ACTIONS)


# --- forms --------------------------------------------------------------------------------------------


def _values(**changes: str) -> dict[str, str]:
    values = default_values(MatchSettings())
    values.update(ticker_a="kxa-1", ticker_b="KXA-2", odds_a="1.80", odds_b="2.10")
    values.update(changes)
    return values


def test_a_complete_form_parses_to_exact_values() -> None:
    form, errors = parse_match_form(_values(edge="1.5", contracts="12"), MatchSettings())
    assert errors == {}
    assert form is not None
    assert (form.ticker_a, form.ticker_b) == ("KXA-1", "KXA-2")
    assert form.theo.odds_a == Decimal("1.80") and form.theo.theo_a is None
    assert form.settings.edge == 150 and form.settings.contracts == contracts(12)
    assert form.settings.start_margin_ms == 5 * 60_000


def test_bad_odds_are_reported_on_their_field() -> None:
    form, errors = parse_match_form(_values(odds_a="0.95", odds_b="abc"), MatchSettings())
    assert form is None
    assert "greater than 1" in errors["odds_a"]
    assert "not a number" in errors["odds_b"]


def test_american_odds_are_accepted() -> None:
    form, _ = parse_match_form(_values(odds_a="+150", odds_b="-200"), MatchSettings())
    assert form is not None and form.theo.odds_a == Decimal("2.5") and form.theo.odds_b == Decimal("1.5")


def test_manual_theo_defaults_b_to_the_complement() -> None:
    form, errors = parse_match_form(_values(odds_a="", odds_b="", theo_a="55.5"), MatchSettings())
    assert errors == {} and form is not None
    assert (form.theo.theo_a, form.theo.theo_b) == (5550, 4450)


def test_odds_and_theo_together_is_an_error() -> None:
    _, errors = parse_match_form(_values(theo_a="55"), MatchSettings())
    assert "not both" in errors["theo_a"]


def test_every_bad_field_is_reported_at_once() -> None:
    _, errors = parse_match_form(
        _values(ticker_b="", edge="x", contracts="0", inventory_max="-1", start_margin="soon"),
        MatchSettings(),
    )
    assert set(errors) == {"ticker_b", "edge", "contracts", "inventory_max", "start_margin"}


def test_inventory_max_below_order_size_is_refused() -> None:
    _, errors = parse_match_form(_values(contracts="20", inventory_max="10"), MatchSettings())
    assert "at least the order size" in errors["inventory_max"]


def test_edit_form_round_trips_a_spec() -> None:
    form, _ = parse_match_form(_values(edge="2.5", theo_a="", odds_a="1.91", odds_b="1.91"), MatchSettings())
    assert form is not None
    again, errors = parse_match_form(form_values(form.spec("x")), MatchSettings())
    assert errors == {} and again == form


def test_match_id_is_stable_and_case_insensitive() -> None:
    assert match_id_for(" kxa-1", "KXA-2 ") == match_id_for("KXA-1", "kxa-2") == "KXA-1+KXA-2"


def test_inventory_form_parses_counts_and_optional_costs() -> None:
    form, errors = parse_inventory_form(
        {"count_long_a": "12", "count_long_b": "0", "avg_cost_a": "48.5", "avg_cost_b": ""}
    )
    assert errors == {} and form is not None
    assert (form.count_long_a, form.count_long_b, form.avg_cost_a, form.avg_cost_b) == (1200, 0, 4850, None)
    _, errors = parse_inventory_form({"count_long_a": "-1", "count_long_b": "x"})
    assert set(errors) == {"count_long_a", "count_long_b"}


# --- ladder -------------------------------------------------------------------------------------------


def test_ladder_marks_our_order_and_draws_the_ceiling_between_levels() -> None:
    text = ladder_text(
        "A Vitality",
        book([(55, 10), (53, 25), (50, 5)], [(57, 40)]),
        [(c(53), contracts(10))],
        c(54),
        depth=3,
    ).plain.splitlines()
    ceiling = next(i for i, line in enumerate(text) if "ceiling 54c" in line)
    assert "55c" in text[ceiling - 1] and "53c" in text[ceiling + 1]
    assert "◆10" in text[ceiling + 1]
    assert any("spread 2c" in line for line in text)


def test_ladder_lines_fit_a_narrow_column_and_keep_our_marker() -> None:
    """Three ladders side by side get ~28 columns at 120 wide and ~24 at 80: no line may wrap (a wrapped
    separator pushed every level down a row) and our order's marker must survive."""
    for width in (24, 26, 28, 34):
        lines = ladder_text(
            "home Arsenal",
            book([(44, 1500), (43, 5)], [(49, 15)]),
            [(c(44), contracts(1000))],
            c(44),
            width=width,
        ).plain.splitlines()
        assert all(len(line) <= width for line in lines), (width, lines)
        assert any("44c" in line and "◆1000" in line for line in lines), (width, lines)


def test_ladder_keeps_a_fixed_height_for_a_stable_layout() -> None:
    full = ladder_text("x", book([(50, 1)] * 1, [(52, 1)]), (), c(49), depth=4).plain.count("\n")
    empty = ladder_text("x", Book(), (), None, depth=4).plain.count("\n")
    assert full == empty


# --- rows ---------------------------------------------------------------------------------------------


def test_match_row_shows_every_home_column() -> None:
    key, cells = match_row(demo_view().matches[0])
    assert set(cells) == {c.key for c in MATCH_COLUMNS if not c.optional}  # "If draw": three-way only
    assert key == demo_view().matches[0].spec.match_id
    assert str(cells["bid"]) == "53/43" and str(cells["pos"]) == "5A"
    assert cells["reason_a"].short.plain == "at ceiling"  # narrow columns
    assert cells["reason_a"].long.plain == "at ceiling 53c"  # wide ones: the detail


def test_halted_match_shows_halted_on_both_sides() -> None:
    _, cells = match_row(demo_view().matches[2])
    assert cells["reason_a"].short.plain == cells["reason_b"].short.plain == "halted"
    assert cells["reason_a"].long.plain == "halted: feed stale for 30s"


def test_the_pre_start_pull_reads_as_paused_not_halted() -> None:
    from dataclasses import replace

    from kmm_tui.engine.model import MatchStatus

    view = replace(
        demo_view().matches[0],
        status=MatchStatus.HALTED,
        status_reason="event starts 14:00:00 (milestone); orders pulled 5m before",
    )
    _, cells = match_row(view)
    assert cells["status"].plain == "paused" and cells["status"].style == "bright_black"
    assert cells["reason_a"].short.plain == "pre-start"


def test_unrealized_marks_only_the_unpaired_side_at_its_best_bid() -> None:
    inv = (
        Inventory()
        .apply_fill(Side.A, c(50), contracts(10), Money(0))
        .apply_fill(Side.B, c(45), contracts(4), Money(0))
    )
    # 6 unpaired A contracts cost 6 * 50c = $3.00, worth 6 * 47c = $2.82
    assert unrealized(inv, book([(47, 1)], []), None) == Money(-180_000)
    assert unrealized(inv, None, None) is None
    assert unrealized(Inventory(), None, None) == 0


def test_feed_priced_match_needs_no_odds_and_uses_the_configured_method() -> None:
    from kmm_tui.domain.theo import DevigMethod

    values = _values(odds_a="", odds_b="")
    form, errors = parse_match_form(values, MatchSettings(), method=DevigMethod.POWER, from_feed=True)
    assert errors == {} and form is not None
    assert form.theo.from_feed and form.theo.method is DevigMethod.POWER and form.theo.odds_a is None
    _, errors = parse_match_form(values, MatchSettings())
    assert "odds_a" in errors  # without the feed, odds or a theo are required
    form, _ = parse_match_form(_values(), MatchSettings(), method=DevigMethod.SHIN)
    assert form is not None and form.theo.method is DevigMethod.SHIN and not form.theo.from_feed


def test_plan_columns_keeps_priorities_groups_and_gives_the_rest_to_flex_columns() -> None:
    from kmm_tui.tui.widgets.table import Column, plan_columns

    columns = (
        Column("name", "Name", 6, flex=True),
        Column("a", "A", 4, priority=1, group="ab"),
        Column("b", "B", 4, priority=1, group="ab"),
        Column("why", "Why", 5, priority=2, flex=True),
    )
    naturals = {"name": 20, "a": 4, "b": 4, "why": 30}
    narrow = {c.key: w for c, w in plan_columns(columns, naturals, 20)}
    assert narrow == {"name": 6, "a": 4, "b": 4}  # 'why' does not fit (each cell is padded by 2)
    assert {c.key for c, _ in plan_columns(columns, naturals, 17)} == {"name", "why"}  # a and b go together
    wide = {c.key: w for c, w in plan_columns(columns, naturals, 60)}
    assert wide == {"name": 20, "a": 4, "b": 4, "why": 24}  # the name is satisfied first, then the reason
    assert sum(w + 2 for w in wide.values()) == 60


def test_quit_summary_names_fills_pairs_realised_worst_case_fees_and_resting_orders() -> None:
    from kmm_tui.tui.summary import quit_summary

    text = quit_summary(demo_view(), NOW_MS, TZ).plain
    assert "4 match(es), 2 fill(s), 5 pair(s) locked" in text
    assert "realised P&L $0.29 (fees $0.0035 included), worst case -$2.30" in text
    assert "Vitality v FaZe: 2 fill(s), pairs 5, if A $2.69 / if B -$2.30" in text
    assert "2 order(s) still resting" in text


def test_a_pull_for_a_stale_order_book_does_not_read_as_a_stale_theo() -> None:
    from kmm_tui.tui.format import reason_text

    detail = "order book is stale; waiting for a fresh snapshot"
    assert reason_text("book_stale", detail).plain == "book stale"
    assert "theo" not in reason_text("book_stale", detail, long=True).plain
    assert reason_text("theo_stale", "theo is 130s old").plain == "theo stale"


def test_rebalancing_detail_is_not_prefixed_twice() -> None:
    from kmm_tui.tui.format import reason_text

    detail = "rebalancing: long 5 A @ 52c, ceiling 55c; at ceiling 55c"
    assert reason_text("rebalancing", detail, long=True).plain == detail


def test_preview_says_which_fields_are_empty_and_which_are_wrong() -> None:
    from kmm_tui.tui.screens.match_form import waiting_text

    values = {"ticker_a": "KXA", "ticker_b": "", "odds_a": "0.9", "odds_b": ""}
    errors = {"ticker_b": "enter…", "odds_a": "odds must be greater than 1.0", "odds_b": "enter decimal odds"}
    text = waiting_text(errors, values).plain
    assert "fix Odds A: odds must be greater than 1.0" in text
    assert "waits for: Ticker B, Odds B" in text and "waits for: Ticker B, Odds A" not in text


def test_a_market_far_from_a_typed_theo_is_flagged_on_the_row_while_quoting() -> None:
    from dataclasses import replace

    from kmm_tui.engine.model import MatchStatus
    from kmm_tui.tui.rows import drift_text

    m0 = demo_view().matches[0]  # Vitality v FaZe, theo 55/45, quoting
    assert drift_text(m0) == "" and "⚠" not in match_row(m0)[1]["theo"]
    assert m0.market_a is not None
    moved = replace(m0, market_a=replace(m0.market_a, book=book([(77, 10)], [(79, 10)])))
    assert match_row(moved)[1]["theo"].plain == "55/45⚠"
    assert drift_text(moved).startswith("market A moved to 78c (mid), 23c from your theo 55c")
    stopped = replace(moved, status=MatchStatus.STOPPED)
    assert drift_text(stopped) == ""  # only while quoting


def test_a_card_is_redrawn_when_what_it_shows_changes_and_only_then() -> None:
    """``card_inputs`` decides whether the overview rebuilds a card: depth sizes, which a card does not
    show, leave it equal; every shown fact (book prices, our bid, status, inventory, reason) changes it."""
    from dataclasses import replace

    from kmm_tui.domain.quoting import Reason
    from kmm_tui.engine.model import MatchStatus
    from kmm_tui.engine.state import OrderView
    from kmm_tui.tui.overview import card_inputs, card_text
    from tests.tui.views import quote

    base = demo_view().matches[0]
    assert base.market_a is not None
    resized = base.market_a.book
    resized = Book(tuple((p, n + contracts(1)) for p, n in resized.bids), resized.asks)
    same = replace(base, market_a=replace(base.market_a, book=resized))
    assert card_inputs(same) == card_inputs(base) and card_text(same).plain == card_text(base).plain
    moved = book([(60, 5), (59, 5)], [(64, 5)])
    order = OrderView("c9", "o9", base.spec.ticker_a, "a", c(55), contracts(3), contracts(0), "resting")
    changes = [
        replace(base, market_a=replace(base.market_a, book=moved)),
        replace(base, orders=(*base.orders, order)),
        replace(base, status=MatchStatus.HALTED, status_reason="guard: max loss"),
        replace(base, inventory=Inventory().apply_fill(Side.A, c(40), contracts(2), Money(0))),
        replace(base, quote_a=quote(41, Reason.OUTBID, "outbid by 42c", 58)),
    ]
    for changed in changes:
        assert card_inputs(changed) != card_inputs(base)


def test_a_narrow_theo_column_shows_exact_theos_to_the_nearest_cent_marked() -> None:
    match = demo_view().matches[0]
    typed = replace(match, theo_a=Price(4713), theo_b=Price(5287))
    cell = match_row(typed)[1]["theo"]
    assert isinstance(cell, Fit)
    assert str(cell.long) == "47.13/52.87" and str(cell.short) == "≈47/53"
    assert str(match_row(replace(match, theo_a=Price(4700), theo_b=Price(5300)))[1]["theo"]) == "47/53"
