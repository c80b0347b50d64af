"""What a match is to the engine: its outcomes and markets, how theo is obtained, its quoting settings.

A match is a set of mutually exclusive, exhaustive outcomes, each bought as a bid (``Shape``): two team
markets (sides A and B), a soccer event's three markets (home A, tie T, away B), or one market whose
YES is side A and whose NO is side B.

These are the values the front-ends put into commands and read back from snapshots. Prices are
domain ``Price`` integers (1 cent = 100); user text is parsed at the front-end edge with
``price_from_cents`` / ``parse_decimal_odds`` so that a typo never reaches the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, COUNT_SCALE, Count, Money, Price
from kmm_tui.domain.theo import MAX_OVERROUND, DevigMethod


class Shape(StrEnum):
    """The three shapes of a Kalshi sports match (docs/shapes.md)."""

    TEAMS = "teams"  # two markets of one event, YES = that team wins: sides A and B
    THREE_WAY = "three_way"  # soccer: home (A), TIE (T) and away (B) markets of one event, YES on each
    YES_NO = "yes_no"  # one market: side A bids for YES (over / covers), side B for NO (under / not)


class MatchStatus(StrEnum):
    """Lifecycle of one match inside the engine (shown as the match's status in the UI)."""

    NEW = "new"  # added, not started
    STARTING = "starting"  # loading markets, order group, reconciling
    QUOTING = "quoting"
    DRY_RUN = "dry_run"  # deciding from live books, sending nothing
    STOPPING = "stopping"  # pulling orders
    STOPPED = "stopped"
    HALTED = "halted"  # a guard tripped or something failed; orders pulled


@dataclass(frozen=True, slots=True)
class TheoInput:
    """Two (or three, with a draw) decimal odds to de-vig, a manual theo per team in Price, or the odds
    feed (``from_feed``), which prices the match from sportsbooks while it runs."""

    odds_a: Decimal | None = None
    odds_b: Decimal | None = None
    odds_draw: Decimal | None = None
    theo_a: Price | None = None
    theo_b: Price | None = None
    theo_tie: Price | None = None  # three-way only: the draw's theo (one manual theo may be implied)
    method: DevigMethod = DevigMethod.MULTIPLICATIVE
    from_feed: bool = False  # theo comes from the configured odds sources, refreshed while quoting
    # Typed odds whose bookmaker margin is above ``max_margin`` are refused unless the user confirmed
    # them: a 43 % margin is nearly always a typo or a stale, one-sided price.
    max_margin: Decimal = MAX_OVERROUND
    margin_confirmed: bool = False

    @property
    def is_manual(self) -> bool:
        """Theo typed in cents (for at least all outcomes but one) rather than from odds."""
        return self.theo_a is not None or self.theo_b is not None or self.theo_tie is not None


DEFAULT_EDGE = Price(2 * CENT)
DEFAULT_CONTRACTS = Count(10 * COUNT_SCALE)
DEFAULT_INVENTORY_MAX = Count(50 * COUNT_SCALE)
DEFAULT_LINE_MOVE_THEO = Price(3 * CENT)
DEFAULT_LINE_MOVE_MID = Price(5 * CENT)


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Per-match quoting knobs. ``edge`` is a Price distance (200 = 2 cents)."""

    edge: Price = DEFAULT_EDGE
    contracts: Count = DEFAULT_CONTRACTS
    inventory_max: Count = DEFAULT_INVENTORY_MAX
    start_margin_ms: int = 5 * 60_000
    retest_interval_ms: int = 30_000
    backoff_ticks: int = 0
    fee_aware: bool = True  # plan the maker fee into every ceiling (a pair must profit after fees)
    post_only: bool = True
    max_loss: Money | None = None  # halt when P&L marked to theo falls below -max_loss
    resume_after_pause: bool = True  # a paused market pulls quotes and waits to reopen (False: halt)
    # Fill-burst guard: this many fills on one side within the window pull that side for the
    # cooling-off period (0 fills = off). Informed flow arrives in bursts; our quotes refill after each.
    burst_fills: int = 3
    burst_window_ms: int = 10_000
    burst_cooloff_ms: int = 30_000
    # Line-move guard: theo from the odds feed moving more than this between refreshes, or (theo typed
    # by hand) Kalshi's mid moving more than this within the window, pulls the match's quotes at once.
    line_move_theo: Price | None = DEFAULT_LINE_MOVE_THEO
    line_move_mid: Price | None = DEFAULT_LINE_MOVE_MID
    line_move_window_ms: int = 10_000
    line_move_hold_ms: int = 5_000  # then requote on the new prices ...
    line_move_confirm: bool = False  # ... or (True) halt until the trader confirms by starting again


@dataclass(frozen=True, slots=True)
class MatchSpec:
    """Everything needed to run one match. ``match_id`` is stable across restarts (journal key).

    The shape follows from the tickers: a ``ticker_tie`` makes a three-way match; ``ticker_a`` equal to
    ``ticker_b`` is one market traded on both its sides (A = YES, B = NO); otherwise two team markets.
    """

    match_id: str
    ticker_a: str
    ticker_b: str
    theo: TheoInput
    settings: MatchSettings = field(default_factory=MatchSettings)
    name: str = ""
    start_ms: int | None = None  # scheduled start if the user knows it better than the exchange
    ticker_tie: str | None = None  # three-way events: the TIE (draw) market
    # Derived from the tickers once, at construction: every decision asks for them, and rebuilding the
    # tuples on each ask cost a fifth of the decision path (docs/benchmarks.md "Decisions per second").
    shape: Shape = field(init=False, repr=False, compare=False)
    outcomes: tuple[Side, ...] = field(init=False, repr=False, compare=False)
    tickers: tuple[str, ...] = field(init=False, repr=False, compare=False)
    market_labels: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        single = self.ticker_a == self.ticker_b
        three_way = self.ticker_tie is not None
        shape = Shape.THREE_WAY if three_way else Shape.YES_NO if single else Shape.TEAMS
        # the match's outcomes as sides, in display order (home, tie, away for three-way)
        outcomes = (Side.A, Side.T, Side.B) if three_way else (Side.A, Side.B)
        # the distinct markets the match trades, in outcome order
        tickers = tuple(dict.fromkeys(self.ticker(side) for side in outcomes))
        # how guard reasons and logs name the match's markets (one per ticker, in outcome order)
        labels = ("YES/NO",) if single else tuple("tie" if side is Side.T else side.name for side in outcomes)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "outcomes", outcomes)
        object.__setattr__(self, "tickers", tickers)
        object.__setattr__(self, "market_labels", labels)

    def ticker(self, side: Side) -> str:
        """The market an outcome is bought in (for YES_NO both sides are the one market)."""
        if side is Side.T:
            if self.ticker_tie is None:
                raise ValueError(f"match {self.match_id} has no tie outcome")
            return self.ticker_tie
        return self.ticker_a if side is Side.A else self.ticker_b

    def is_no(self, side: Side) -> bool:
        """Side B of a single market: bought as NO, i.e. an ask on the YES book at 100c − its price."""
        return side is Side.B and self.ticker_a == self.ticker_b

    def label(self, side: Side) -> str:
        """How a trader names an outcome: YES / NO for a single market, else the side's letter (T: tie)."""
        if self.ticker_a == self.ticker_b:
            return "YES" if side is Side.A else "NO"
        return "tie" if side is Side.T else side.name

    def with_settings(self, **changes: object) -> MatchSpec:
        return replace(self, settings=replace(self.settings, **changes))


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """Account-wide limits across every match (Money; None = no limit). Given to the Engine at
    construction; a breach pulls everything and refuses new quotes until the trader resets it."""

    max_session_loss: Money | None = None  # P&L marked to theo, summed over matches
    max_session_loss_worst_case: Money | None = None  # P&L if every match settles on its worst outcome
    max_exposure: Money | None = None  # loss at each match's worst outcome, summed (no netting)
    max_resting_notional: Money | None = None  # price x remaining of every live order
