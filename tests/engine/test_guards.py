"""Each guard trips on its condition and only then (pure)."""

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import Count, Money, Price, TickGrid, contracts
from kmm_tui.engine import guards
from kmm_tui.engine.guards import GuardAction, GuardContext
from kmm_tui.engine.markets import MarketState, start_from_ticker
from kmm_tui.engine.match import MatchRuntime
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine.risk import Risk

START = 1_795_890_600_000  # 2026-11-28T18:30:00Z


def ctx(**changes: object) -> GuardContext:
    base = GuardContext(
        now_ms=START - 3_600_000,
        start_ms=START,
        start_source="milestone",
        start_margin_ms=300_000,
        market_statuses=("active", "active"),
        feed_stale=False,
        feed_silent_ms=0,
        theo_age_ms=None,
        theo_max_age_ms=120_000,
        inventory=Inventory(),
        exchange_positions=None,
        drift_tolerance=Count(0),
        order_group_triggered=False,
        mark_a=Price(6000),
        mark_b=Price(4000),
        max_loss_match=None,
        session_pnl=Money(0),
        max_loss_session=None,
    )
    return replace(base, **changes)


def test_quiet_match_trips_nothing() -> None:
    assert guards.check(ctx()) is None


def test_event_start_pulls_a_margin_before_the_start() -> None:
    assert guards.check(ctx(now_ms=START - 300_001)) is None
    trip = guards.check(ctx(now_ms=START - 300_000))
    assert trip is not None and trip.guard == "event_start" and trip.action is GuardAction.HALT
    local = datetime.fromtimestamp(START // 1000, tz=UTC).astimezone().strftime("%H:%M:%S")
    assert f"event starts {local} (milestone)" in trip.reason  # the user's zone, like the rest of the app


def test_a_paused_market_pulls_and_waits_unless_the_match_halts_on_pauses() -> None:
    trip = guards.check(ctx(market_statuses=("active", "inactive")))
    assert trip is not None and trip.guard == "market_status" and trip.action is GuardAction.PULL
    assert "B is paused" in trip.reason and "resumes when it reopens" in trip.reason
    trip = guards.check(ctx(market_statuses=("active", "inactive"), resume_after_pause=False))
    assert trip is not None and trip.action is GuardAction.HALT


def test_a_closed_market_halts() -> None:
    trip = guards.check(ctx(market_statuses=("closed", "active")))
    assert trip is not None and trip.action is GuardAction.HALT and "A is closed" in trip.reason


def test_stale_feed_only_pulls() -> None:
    trip = guards.check(ctx(feed_stale=True))
    assert trip is not None and trip.action is GuardAction.PULL


def test_stale_theo_pulls_but_manual_theo_never_goes_stale() -> None:
    assert guards.check(ctx(theo_age_ms=None)) is None
    trip = guards.check(ctx(theo_age_ms=200_000))
    assert trip is not None and trip.guard == "stale_theo"


def test_position_drift_halts_beyond_tolerance() -> None:
    inv = Inventory(count_long_a=contracts(5), cost_long_a=Money(5 * 5500 * 100))
    assert guards.check(ctx(inventory=inv, exchange_positions=(contracts(5), Count(0)))) is None
    trip = guards.check(ctx(inventory=inv, exchange_positions=(contracts(6), Count(0))))
    assert trip is not None and trip.guard == "position_drift"


def test_max_loss_marked_to_theo() -> None:
    inv = Inventory(
        count_long_a=contracts(10), cost_long_a=Money(7000 * contracts(10))
    )  # bought 70c, theo 60c
    assert guards.check(ctx(inventory=inv, max_loss_match=Money(2_000_000))) is None  # -$1 vs $2 limit
    trip = guards.check(ctx(inventory=inv, max_loss_match=Money(500_000)))
    assert trip is not None and trip.guard == "max_loss"


def test_order_group_trigger_halts_first() -> None:
    trip = guards.check(ctx(order_group_triggered=True, feed_stale=True))
    assert trip is not None and trip.guard == "order_group"


def test_ticker_start_guess_reads_us_eastern_hhmm() -> None:
    assert start_from_ticker("KXCS2GAME-26NOV281330VITFAZ") == START
    midnight_eastern = start_from_ticker("KXNBAGAME-26NOV28BOSNYK")
    assert midnight_eastern is not None and midnight_eastern < START
    assert start_from_ticker("NOTATICKER") is None


def _market(rest_ask_cents: int, feed_ask_cents: int) -> MarketState:
    market = MarketState(
        "T-A", "T", "A", TickGrid.linear_cent(), "active", rest_yes_ask=Price(rest_ask_cents * 100)
    )
    market.book = Book(asks=((Price(feed_ask_cents * 100), contracts(5)),))
    market.stale = False
    market.rest_read_ms, market.book_ts_ms = 1_000, 2_000
    return market


def test_feed_asks_mirrored_around_50c_stop_quoting_once_checked() -> None:
    market = _market(rest_ask_cents=72, feed_ask_cents=29)  # 1 - 0.72 = 0.28: the NO leg read as YES
    assert market.check_scale() is not None
    assert market.scale_suspect
    assert market.check_scale() is None, "checked once per session"


def test_a_book_that_merely_moved_since_the_rest_read_passes_the_scale_check() -> None:
    assert _market(rest_ask_cents=72, feed_ask_cents=70).check_scale() is None
    assert (
        _market(rest_ask_cents=52, feed_ask_cents=47).check_scale() is None
    )  # near 50c: ambiguous, not flagged


def test_the_scale_check_skips_a_rest_read_too_old_to_compare() -> None:
    market = _market(rest_ask_cents=72, feed_ask_cents=29)
    market.book_ts_ms = market.rest_read_ms + 60_000  # the market may simply have moved since
    assert market.check_scale() is None and not market.scale_suspect


def test_risk_fills_every_guard_context_field_from_the_match() -> None:
    """``Risk`` builds the context positionally (keywords cost four times as much): each field must
    still carry its own input. Every input here is distinct, so a swapped pair shows."""
    settings = MatchSettings(start_margin_ms=240_000, max_loss=Money(7_000_000), resume_after_pause=False)
    spec = MatchSpec("m", "EV-H", "EV-W", TheoInput(theo_a=Price(4500), theo_b=Price(3000)),
                     settings, ticker_tie="EV-TIE")
    inventory = Inventory().apply_fill(Side.A, Price(4000), contracts(3), Money(0))
    match = MatchRuntime(spec, "EV", "Home v Away", Price(4500), Price(3000), inventory=inventory,
                         start_ms=START, start_source="milestone", theo_priced_ms=START - 9_000_000,
                         group_triggered=True, corrected_ms=5, theo_t=Price(2500),
                         drift_since_ms=START - 9_000_000)
    grid = TickGrid.linear_cent()
    markets = (MarketState("EV-H", "EV", "H", grid, "active", stale=False),
               MarketState("EV-TIE", "EV", "T", grid, "inactive", stale=False),
               MarketState("EV-W", "EV", "W", grid, "active", stale=True))
    positions = {"EV-H": contracts(2), "EV-TIE": contracts(1), "EV-W": Count(0)}  # drifted, long since
    risk = Risk(SimpleNamespace(positions=positions), None)  # type: ignore[arg-type]
    now = START - 8_000_000
    got = risk._context(match, markets, now)
    assert got == GuardContext(
        now_ms=now, start_ms=START, start_source="milestone", start_margin_ms=240_000,
        market_statuses=("active", "inactive", "active"), feed_stale=True, feed_silent_ms=0,
        theo_age_ms=1_000_000, theo_max_age_ms=120_000, inventory=inventory,
        exchange_positions=(contracts(2), contracts(1), Count(0)),
        drift_tolerance=Count(0), order_group_triggered=True, mark_a=Price(4500), mark_b=Price(3000),
        max_loss_match=Money(7_000_000), session_pnl=Money(0), max_loss_session=None,
        corrected_by_hand=True, resume_after_pause=False, market_labels=("A", "tie", "B"),
        held_positions=(inventory.count_long_a, inventory.count_long_t, inventory.count_long_b),
        mark_t=Price(2500),
    )
