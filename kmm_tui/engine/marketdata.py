"""Market data: every market the engine watches, its live book, status, metadata and staleness.

Owns the ``ticker -> MarketState`` registry and the ``ticker -> matches`` index. Feed events (books,
lifecycle, feed health) land here first; each change wakes only the matches that trade that ticker.
It also answers "what does the book look like without our own bids" (``side_input``), so the strategy
never mistakes our own level for a competitor's: what is subtracted is what the feed's book shows of
us (``presence``), which follows the feed's own attributed deltas rather than the ledger, so neither a
fill the feed has not shown yet nor an amend the feed showed before its reply makes us outbid ourselves.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, Count, Price, TickGrid, no_price
from kmm_tui.domain.quoting import SideInput
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import BookUpdated, FeedHealthChanged, Level
from kmm_tui.engine.exchange import BookChange, ExchangePort, FeedStatus, MarketStatus
from kmm_tui.engine.exchange.reference import EventInfo
from kmm_tui.engine.guards import PAUSED_STATUSES
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.markets import MarketState, start_from_ticker
from kmm_tui.engine.match import RUNNING, Matches
from kmm_tui.engine.model import MatchSpec, Shape
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, LIVE_STATES, OrderState, OwnOrder
from kmm_tui.engine.presence import FeedPresence, no_key
from kmm_tui.engine.pricing_inputs import OutcomeTheos
from kmm_tui.engine.state import MarketView
from kmm_tui.odds.consensus import divergence_warning

DIVERGENCE_THRESHOLD = Price(15 * CENT)  # theo this far from Kalshi's mid suggests a wrong mapping


@dataclass(frozen=True, slots=True)
class PairInfo:
    """What the exchange says about a proposed match: for the setup form and AddMatch validation.

    ``markets`` holds one market per distinct ticker in outcome order (A, tie, B; one for YES_NO).
    """

    event_ticker: str
    event_title: str
    team_a: str
    team_b: str
    start_ms: int | None
    start_source: str
    markets: tuple[MarketState, ...]
    shape: Shape = Shape.TEAMS
    team_t: str = ""  # three-way only: the tie market's title

    @property
    def three_way(self) -> bool:
        """A soccer event: a draw pays neither team."""
        return self.shape is Shape.THREE_WAY


class MarketData:
    """Books, statuses and feed health of the watched markets (engine loop only)."""

    def __init__(self, bus: Bus, port: ExchangePort, matches: Matches, orders: OrderLedger) -> None:
        self._bus = bus
        self._x = port
        self._matches = matches
        self._orders = orders
        self.presence = FeedPresence()
        self.markets: dict[str, MarketState] = {}
        self.by_ticker: dict[str, list[str]] = {}
        self._tops: dict[str, VisibleTop] = {}  # what the last book of each market woke its matches with
        self.feed_connected = False
        self.feed_detail = "not connected"
        # called when a feed event woke a runner (the engine: ``ExchangePort.give_turn``, so the runner
        # runs before the rest of the feed's burst); nothing by default
        self.on_wake: Callable[[], None] = _nothing

    # --- metadata ---------------------------------------------------------------------------------

    async def describe_pair(self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> PairInfo:
        """Look the markets up and check they form one match of a known shape (``docs/shapes.md``):
        two team markets of a two-market exclusive event, a soccer event's full home/tie/away set, or
        one market traded on both sides (``ticker_b`` equal to ``ticker_a``).
        Raises EngineError(field=...)."""
        ticker_a, ticker_b = ticker_a.strip().upper(), ticker_b.strip().upper()
        tie = (ticker_tie or "").strip().upper() or None
        if not ticker_a:
            raise EngineError("enter the market ticker for team A", field="ticker_a")
        if not ticker_b:
            raise EngineError("enter the market ticker for team B", field="ticker_b")
        if tie is not None and len({ticker_a, tie, ticker_b}) < 3:
            raise EngineError("home, tie and away must be three different markets", field="ticker_tie")
        fields = {ticker_a: "ticker_a", ticker_b: "ticker_b"} | ({tie: "ticker_tie"} if tie else {})
        markets = {t: await self._x.load_market(t, field=f) for t, f in fields.items()}
        market_a = markets[ticker_a]
        for ticker, market in markets.items():
            if market.event_ticker != market_a.event_ticker:
                raise EngineError(
                    f"{ticker_a} belongs to {market_a.event_ticker} but {ticker} belongs to "
                    f"{market.event_ticker}: every outcome must be from one event",
                    field=fields[ticker],
                )
        event = await self._x.load_event(market_a.event_ticker)
        shape = _check_shape(market_a.event_ticker, event, ticker_a, ticker_b, tie)
        start_ms = event.start_ms
        source = "milestone" if start_ms is not None else "unknown"
        if start_ms is None:
            start_ms = start_from_ticker(market_a.event_ticker)
            source = "ticker (guess)" if start_ms is not None else "unknown"
        if shape is Shape.YES_NO:
            team_a, team_b = market_a.title, f"not {market_a.title}"
        else:
            team_a, team_b = market_a.title, markets[ticker_b].title
        order = (ticker_a, tie, ticker_b) if tie else (ticker_a, ticker_b)
        return PairInfo(
            market_a.event_ticker,
            event.title,
            team_a,
            team_b,
            start_ms,
            source,
            tuple(markets[t] for t in dict.fromkeys(order) if t is not None),
            shape,
            markets[tie].title if tie else "",
        )

    def track(self, markets: tuple[MarketState, ...]) -> None:
        """Start tracking these markets (a market already tracked keeps its live state)."""
        for market in markets:
            self.markets.setdefault(market.ticker, market)

    def index(self) -> None:
        """Rebuild ticker -> match ids (a book update wakes only the matches that trade it)."""
        self.by_ticker = {}
        for match in self._matches.values():
            for ticker in match.spec.tickers:
                self.by_ticker.setdefault(ticker, []).append(match.match_id)

    def forget_unused(self, tickers: tuple[str, ...]) -> list[str]:
        """Stop tracking those of ``tickers`` no match trades any more; returns them (to unwatch)."""
        still_used = {t for m in self._matches.values() for t in m.spec.tickers}
        gone = [t for t in tickers if t not in still_used]
        for ticker in gone:
            self.markets.pop(ticker, None)
            self._tops.pop(ticker, None)
            self.presence.forget(ticker)
            self.presence.forget(no_key(ticker))
        return gone

    async def wait_fresh(self, tickers: tuple[str, ...], within_s: float) -> None:
        """Wait (at most ``within_s``) until none of these books is stale."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within_s
        while any(self.markets[t].stale for t in tickers) and loop.time() < end:  # noqa: ASYNC110 - bounded, once per restart
            await asyncio.sleep(0.02)

    # --- feed events ------------------------------------------------------------------------------

    def on_book(self, event: BookChange) -> None:
        market = self.markets.get(event.ticker)
        if market is None:
            return
        now = self._bus.clock()
        if event.snapshot:  # it shows our acknowledged orders; a create still in flight is not in it
            acked = [o for o in self._orders.all() if o.state is OrderState.RESTING]
            self.presence.on_snapshot(event.ticker, _resting_levels(acked, event.ticker, ask=False))
            self.presence.on_snapshot(no_key(event.ticker), _resting_levels(acked, event.ticker, ask=True))
        elif (event.client_order_id or "").startswith(CLIENT_ID_PREFIX):
            if event.delta is not None:
                self.presence.on_delta(event.ticker, *event.delta)
            if event.no_delta is not None:
                self.presence.on_delta(no_key(event.ticker), *event.no_delta)
        market.book, market.stale, market.book_ts_ms = event.book, event.stale, now
        problem = market.check_scale()
        if problem is not None:
            self._bus.log(Level.ERROR, problem)
        self._bus.emit(BookUpdated(event.ticker, event.book, now, event.stale))
        top = visible_top(
            event.book,
            self.presence.levels(event.ticker),
            event.stale,
            self.presence.levels(no_key(event.ticker)),
        )
        if event.snapshot or problem is not None or self._tops.get(event.ticker) != top:
            self._tops[event.ticker] = top
            self.wake_ticker(event.ticker)

    def on_status(self, event: MarketStatus) -> None:
        market = self.markets.get(event.ticker)
        if market is not None and market.status != event.status:
            market.status = event.status
            self._bus.log(Level.WARNING, f"{event.ticker} is now {event.status} ({event.detail})")
            self.wake_ticker(event.ticker)

    def on_feed_status(self, event: FeedStatus) -> None:
        self.feed_connected, self.feed_detail = event.connected, event.detail
        for ticker in event.stale_tickers:
            market = self.markets.get(ticker)
            if market is not None:
                market.stale = True
                self.wake_ticker(ticker)
        self._bus.emit(
            FeedHealthChanged(event.connected, event.stale_tickers, event.detail, self._bus.clock())
        )

    async def recheck_paused(self) -> None:
        """Read the status of every paused market a running match trades: reopening is not always
        announced on the feed, and a match waiting on a pause must not wait forever."""
        for ticker, match_ids in list(self.by_ticker.items()):
            market = self.markets.get(ticker)
            if market is None or market.status not in PAUSED_STATUSES:
                continue
            if any((m := self._matches.get(i)) is not None and m.status in RUNNING for i in match_ids):
                await self._x.recheck_status(ticker)

    def wake_ticker(self, ticker: str) -> None:
        woke = False
        for match_id in self.by_ticker.get(ticker, ()):
            match = self._matches.get(match_id)
            if match is not None and match.status in RUNNING:
                match.wake.set()
                woke = True
        if woke:
            self.on_wake()

    # --- reads ------------------------------------------------------------------------------------

    def side_input(
        self,
        market: MarketState | None,
        theo: Price | None,
        orders: list[OwnOrder],
        side: Side,
        *,
        no_side: bool = False,
        now: int | None = None,
    ) -> SideInput:
        """One outcome's pricing input: the book without what the feed shows of our own orders.

        ``orders`` are the match's live orders (``OrderLedger.live``); those of other sides and markets
        are skipped. With ``no_side`` (side B of a single market) the input is the NO bidder's view: the
        book flipped, on the mirrored grid, our NO bids (asks on the YES book) taken out like our YES
        bids. ``now`` saves a clock read when the caller has one.
        """
        if market is None:
            return SideInput(theo, Book(), None, Count(0), TickGrid.linear_cent(), market_open=False)
        ticker = market.ticker
        if now is None:
            now = self._bus.clock()
        yes_levels: list[tuple[Price, Count]] = []
        no_levels: list[tuple[Price, Count]] = []
        resting = None
        for order in orders:  # one pass: a match has a live order or two per market
            if order.ticker != ticker or order.state not in LIVE_STATES:
                continue
            if order.remaining > 0:
                (no_levels if order.ask else yes_levels).append((order.price, order.remaining))
            if resting is None and order.side is side and order.state is OrderState.RESTING:
                resting = order
        bids = self.presence.settle(ticker, yes_levels, now)
        no_bids = self.presence.settle(no_key(ticker), no_levels, now)
        visible = market.book
        if bids or no_bids:
            own_asks = ((no_price(p), c) for p, c in no_bids.items())
            visible = visible.without(own_bids=bids.items(), own_asks=own_asks)
        return SideInput(
            theo,
            visible.flipped() if no_side else visible,
            resting.price if resting else None,
            resting.remaining if resting else Count(0),
            _flipped(market.grid) if no_side else market.grid,
            market_open=market.is_open,
        )

    def side_inputs(
        self, spec: MatchSpec, theos: OutcomeTheos, orders: list[OwnOrder], now: int | None = None
    ) -> tuple[SideInput, SideInput, SideInput | None]:
        """Every outcome's pricing input as (A, B, tie); the tie None unless three-way. ``theos`` are
        (A, B, tie); ``orders`` the match's live orders."""
        markets = self.markets
        if now is None:
            now = self._bus.clock()
        single = spec.shape is Shape.YES_NO
        a = self.side_input(markets.get(spec.ticker_a), theos[0], orders, Side.A, now=now)
        b = self.side_input(markets.get(spec.ticker_b), theos[1], orders, Side.B, no_side=single, now=now)
        if spec.ticker_tie is None:
            return a, b, None
        return a, b, self.side_input(markets.get(spec.ticker_tie), theos[2], orders, Side.T, now=now)

    def divergence(self, sides: tuple[tuple[str, str, Price | None], ...], *, no_side: str = "") -> list[str]:
        """Theo far from Kalshi's mid is the usual sign of swapped teams or a stale line: say so. The
        side labelled ``no_side`` is a single market's NO: its mid is 100c − the YES mid."""
        warnings = []
        for ticker, label, theo in sides:
            market = self.markets.get(ticker)
            if market is None or market.stale or theo is None:
                continue
            bid, ask = market.book.best_bid, market.book.best_ask
            mid = Price((bid + ask) // 2) if bid is not None and ask is not None else None
            if mid is not None and label == no_side:
                mid = no_price(mid)
            warning = divergence_warning(theo, mid, DIVERGENCE_THRESHOLD)
            if warning:
                warnings.append(f"{'team ' if len(label) == 1 else ''}{label}: {warning}")
        return warnings

    def match_divergence(
        self, spec: MatchSpec, theos: tuple[Price | None, Price | None, Price | None]
    ) -> list[str]:
        """``divergence`` for every outcome of a match, theos given as (A, B, tie)."""
        by_side = {Side.A: theos[0], Side.B: theos[1], Side.T: theos[2]}
        sides = tuple((spec.ticker(side), spec.label(side), by_side[side]) for side in spec.outcomes)
        return self.divergence(sides, no_side=spec.label(Side.B) if spec.shape is Shape.YES_NO else "")

    def on_grid(self, ticker: str, grid: TickGrid) -> None:
        """The exchange changed a market's tick structure: quote on the new grid from the next decision
        (a resting order off the new grid is amended onto it by the normal plan)."""
        market = self.markets.get(ticker)
        if market is not None and market.grid != grid:
            market.grid = grid
            self._bus.log(Level.WARNING, f"{ticker}: the exchange changed its tick sizes; requoting on them")
            self.wake_ticker(ticker)

    def view(self, ticker: str) -> MarketView | None:
        market = self.markets.get(ticker)
        if market is None:
            return None
        return MarketView(market.ticker, market.title, market.book, market.status, market.stale)


def _nothing() -> None:
    pass


@functools.lru_cache(maxsize=64)
def _flipped(grid: TickGrid) -> TickGrid:
    """A market's NO grid, built once (grids rarely change; the decision path asks on every wake)."""
    return grid.flipped()


VisibleTop = tuple[Price | None, Price | None, bool]
_NONE: Mapping[Price, Count] = {}


def visible_top(
    book: Book, ours: Mapping[Price, Count], stale: bool, our_no: Mapping[Price, Count] = _NONE
) -> VisibleTop:
    """What a decision reads of a book: the best bid and the best ask that are not ours, staleness.

    ``domain.quoting.decide`` prices against exactly these two numbers (a single market's NO side reads
    them flipped), so a delta that leaves them unchanged (deeper levels, or our own order's level
    moving in the feed) wakes nobody: at 200 matches most deltas are such, and each wake costs a whole
    decision. ``our_no`` are our NO bids, by NO price (asks on the YES book).
    """
    best_bid = None
    for price, size in book.bids:
        if size > ours.get(price, 0):
            best_bid = price
            break
    best_ask = book.best_ask
    if our_no:
        best_ask = None
        for price, size in book.asks:
            if size > our_no.get(no_price(price), 0):
                best_ask = price
                break
    return best_bid, best_ask, stale


def _resting_levels(orders: list[OwnOrder], ticker: str, *, ask: bool) -> list[tuple[Price, Count]]:
    """The ledger's view of our bids (``ask``: our NO bids) on one market: every live order at its
    price (a NO bid's NO price) and remaining size."""
    return [
        (o.price, o.remaining)
        for o in orders
        if o.ticker == ticker and o.ask is ask and o.is_live and o.remaining > 0
    ]


def _check_shape(event_ticker: str, event: EventInfo, ticker_a: str, ticker_b: str, tie: str | None) -> Shape:
    """The match's shape, or EngineError keyed to the field to fix. Two team markets must be the whole
    of a mutually exclusive two-market event; a three-way set must be the whole of a mutually exclusive
    event (its home, TIE and away); one market alone is always a YES/NO match (totals and spreads events
    are not exclusive, and need not be)."""
    count = len(event.market_tickers)
    if tie is not None:
        if not event.mutually_exclusive:
            raise EngineError(
                f"{event_ticker} is not mutually exclusive (its markets do not settle as one winner): "
                "trade each of its markets on its own, as YES/NO",
                field="ticker_tie",
            )
        if set(event.market_tickers) != {ticker_a, tie, ticker_b}:
            raise EngineError(
                f"{event_ticker} has {count} markets ({', '.join(event.market_tickers)}): a three-way match "
                "needs exactly the event's home, tie and away markets",
                field="ticker_tie",
            )
        return Shape.THREE_WAY
    if ticker_a == ticker_b:
        return Shape.YES_NO
    if not event.mutually_exclusive:
        raise EngineError(
            f"{event_ticker} is not mutually exclusive (both markets can settle the same way): trade each "
            "market on its own, as YES/NO",
            field="ticker_b",
        )
    if count > 2:
        others = [t for t in event.market_tickers if t not in (ticker_a, ticker_b)]
        hint = " (the TIE market)" if any(t.endswith("-TIE") for t in others) else ""
        raise EngineError(
            f"{event_ticker} has a third outcome, {', '.join(others)}{hint}: YES on both teams is no "
            "locked pair when it wins — enter it as the tie (home, tie, away)",
            field="ticker_tie",
        )
    return Shape.TEAMS
