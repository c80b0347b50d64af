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
from collections.abc import Mapping
from dataclasses import dataclass

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, Count, Price, TickGrid
from kmm_tui.domain.quoting import SideInput
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import BookUpdated, FeedHealthChanged, Level
from kmm_tui.engine.exchange import BookChange, ExchangePort, FeedStatus, MarketStatus
from kmm_tui.engine.guards import PAUSED_STATUSES
from kmm_tui.engine.ledger import OrderLedger
from kmm_tui.engine.markets import MarketState, start_from_ticker
from kmm_tui.engine.match import RUNNING, Matches
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, OrderState, OwnOrder
from kmm_tui.engine.presence import FeedPresence
from kmm_tui.engine.state import MarketView
from kmm_tui.odds.consensus import divergence_warning

DIVERGENCE_THRESHOLD = Price(15 * CENT)  # theo this far from Kalshi's mid suggests a wrong mapping


@dataclass(frozen=True, slots=True)
class PairInfo:
    """What the exchange says about a proposed match: for the setup form and AddMatch validation."""

    event_ticker: str
    event_title: str
    team_a: str
    team_b: str
    start_ms: int | None
    start_source: str
    markets: tuple[MarketState, MarketState]
    three_way: bool = False  # a third outcome (soccer TIE) exists: YES on both teams is no locked pair


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

    # --- metadata ---------------------------------------------------------------------------------

    async def describe_pair(self, ticker_a: str, ticker_b: str) -> PairInfo:
        """Look both markets up and check they form one match. Raises EngineError(field=...)."""
        ticker_a, ticker_b = ticker_a.strip().upper(), ticker_b.strip().upper()
        if not ticker_a:
            raise EngineError("enter the market ticker for team A", field="ticker_a")
        if not ticker_b:
            raise EngineError("enter the market ticker for team B", field="ticker_b")
        if ticker_a == ticker_b:
            raise EngineError("team A and team B must be different markets", field="ticker_b")
        market_a = await self._x.load_market(ticker_a, field="ticker_a")
        market_b = await self._x.load_market(ticker_b, field="ticker_b")
        if market_a.event_ticker != market_b.event_ticker:
            raise EngineError(
                f"{ticker_a} belongs to {market_a.event_ticker} but {ticker_b} belongs to "
                f"{market_b.event_ticker}: both teams must be from one event",
                field="ticker_b",
            )
        title, start_ms, outcomes = await self._x.load_event(market_a.event_ticker)
        source = "milestone" if start_ms is not None else "unknown"
        if start_ms is None:
            start_ms = start_from_ticker(market_a.event_ticker)
            source = "ticker (guess)" if start_ms is not None else "unknown"
        return PairInfo(
            market_a.event_ticker,
            title,
            market_a.title,
            market_b.title,
            start_ms,
            source,
            (market_a, market_b),
            three_way=outcomes > 2,
        )

    def track(self, markets: tuple[MarketState, ...]) -> None:
        """Start tracking these markets (a market already tracked keeps its live state)."""
        for market in markets:
            self.markets.setdefault(market.ticker, market)

    def index(self) -> None:
        """Rebuild ticker -> match ids (a book update wakes only the matches that trade it)."""
        self.by_ticker = {}
        for match in self._matches.values():
            for ticker in (match.spec.ticker_a, match.spec.ticker_b):
                self.by_ticker.setdefault(ticker, []).append(match.match_id)

    def forget_unused(self, tickers: tuple[str, ...]) -> list[str]:
        """Stop tracking those of ``tickers`` no match trades any more; returns them (to unwatch)."""
        still_used = {t for m in self._matches.values() for t in (m.spec.ticker_a, m.spec.ticker_b)}
        gone = [t for t in tickers if t not in still_used]
        for ticker in gone:
            self.markets.pop(ticker, None)
            self._tops.pop(ticker, None)
            self.presence.forget(ticker)
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
            self.presence.on_snapshot(event.ticker, _resting_levels(acked, event.ticker))
        elif event.delta is not None and (event.client_order_id or "").startswith(CLIENT_ID_PREFIX):
            self.presence.on_delta(event.ticker, *event.delta)
        market.book, market.stale, market.book_ts_ms = event.book, event.stale, now
        problem = market.check_scale()
        if problem is not None:
            self._bus.log(Level.ERROR, problem)
        self._bus.emit(BookUpdated(event.ticker, event.book, now, event.stale))
        top = visible_top(event.book, self.presence.levels(event.ticker), event.stale)
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
        for match_id in self.by_ticker.get(ticker, ()):
            match = self._matches.get(match_id)
            if match is not None and match.status in RUNNING:
                match.wake.set()

    # --- reads ------------------------------------------------------------------------------------

    def side_input(
        self, market: MarketState | None, theo: Price | None, orders: list[OwnOrder], side: Side
    ) -> SideInput:
        """One side's pricing input: the book without what the feed shows of our own bids.

        ``orders`` are every order of the match; those of other sides and markets are skipped.
        """
        if market is None:
            return SideInput(theo, Book(), None, Count(0), TickGrid.linear_cent(), market_open=False)
        ticker = market.ticker
        mine = self.presence.settle(ticker, _resting_levels(orders, ticker), self._bus.clock())
        visible = market.book.without(own_bids=mine.items()) if mine else market.book
        resting = next(
            (
                o
                for o in orders
                if o.side is side and o.ticker == ticker and o.state is OrderState.RESTING
            ),
            None,
        )
        return SideInput(
            theo,
            visible,
            resting.price if resting else None,
            resting.remaining if resting else Count(0),
            market.grid,
            market_open=market.is_open,
        )

    def divergence(self, sides: tuple[tuple[str, str, Price | None], ...]) -> list[str]:
        """Theo far from Kalshi's mid is the usual sign of swapped teams or a stale line: say so."""
        warnings = []
        for ticker, label, theo in sides:
            market = self.markets.get(ticker)
            if market is None or market.stale or theo is None:
                continue
            bid, ask = market.book.best_bid, market.book.best_ask
            mid = Price((bid + ask) // 2) if bid is not None and ask is not None else None
            warning = divergence_warning(theo, mid, DIVERGENCE_THRESHOLD)
            if warning:
                warnings.append(f"team {label}: {warning}")
        return warnings

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


VisibleTop = tuple[Price | None, Price | None, bool]


def visible_top(book: Book, ours: Mapping[Price, Count], stale: bool) -> VisibleTop:
    """What a decision reads of a book: the best bid that is not ours, the best ask, staleness.

    ``domain.quoting.decide`` prices against exactly these two numbers, so a delta that leaves them
    unchanged (deeper levels, or our own order's level moving in the feed) wakes nobody: at 200
    matches most deltas are such, and each wake costs a whole decision.
    """
    best_bid = None
    for price, size in book.bids:
        if size > ours.get(price, 0):
            best_bid = price
            break
    return best_bid, book.best_ask, stale


def _resting_levels(orders: list[OwnOrder], ticker: str) -> list[tuple[Price, Count]]:
    """The ledger's view of our bids on one market: every live order at its price and remaining size."""
    return [(o.price, o.remaining) for o in orders if o.ticker == ticker and o.is_live and o.remaining > 0]
