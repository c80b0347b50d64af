"""Scripted participants that keep the simulated markets alive.

* a fair-value random walk per match (small steps in ticks, occasional jumps), moving probability
  between the outcomes so they keep summing to $1;
* competing market makers per market that join, quote around fair (sometimes *above* it), requote
  by amending, and leave;
* takers that hit bids and lift offers at a configured rate, so resting bids on both markets of a
  match get filled;
* the scheduled start: the milestone goes ``inprogress`` and the markets may pause for a while.

Totals and spreads walk their line (expected total or margin) instead, and every strike's fair value
follows from it (``sim.lines``), so strikes stay consistent with each other.

Everything is driven by the market clock in fixed steps (``run_until``) with one seeded RNG, so a
run is reproducible and ``advance(60)`` plays out exactly 60 simulated seconds.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from kmm_tui.domain.prices import COUNT_SCALE, PRICE_SCALE, Count, Money, Price, TickGrid
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.exchange import AmendRequest, Exchange, OrderRequest
from kmm_tui.sim.lines import GAME, centre_for, line_fairs
from kmm_tui.sim.scenario import MatchState

AGENT_BALANCE = Money(10_000_000 * 1_000_000)  # $10M: agents never run out
MAX_CATCHUP_STEPS = 600  # after a big jump, only the last steps are simulated in detail
LINE_MOVE_STEPS = 300  # one line move per ~300 steps (five minutes at 1 s) per match
LINE_RANGE = 1200  # the line stays within 12c of the opening line
LINE_RELAX = 400  # each step the line closes 1/400 of its gap to the opening line (at least $0.0001)
FAIR_PULL = 8  # each step the fair value closes 1/8 of its gap to the line
EDGE_OF_BOOK = 300  # no outcome's fair value goes under 3c or over 97c
# Totals/spreads, in units of the event's scale: a line move of 1/4 scale moves a 50c strike ~6c.
LINE_UNIT = Decimal("0.25")
LINE_RANGE_UNITS = 2  # the line stays within 2 units (~12c at the middle strike) of the opening line
JITTER = Decimal("0.02")  # one jitter step of the fair line (~0.5c at the middle strike)
CENTRE_PLACES = Decimal("0.0001")


@dataclass(slots=True)
class MakerQuote:
    """One competitor's presence in one market: a YES bid and a YES ask (= NO bid), or nothing."""

    account_id: str
    active: bool = False
    bid_id: str | None = None
    ask_id: str | None = None
    edge_ticks: int = 2
    deep: bool = False  # background depth: far from fair, rarely moves, never leaves
    quoted_fair: int = 0  # the fair value the current quotes were built around


@dataclass(slots=True)
class MarketAgents:
    ticker: str
    match: MatchState
    outcome: int
    makers: list[MakerQuote] = field(default_factory=list)


class Simulation:
    """Owns the agent accounts and advances every match to a given market time."""

    def __init__(
        self, exchange: Exchange, matches: list[MatchState], rng: random.Random, step_ms: int
    ) -> None:
        self.exchange = exchange
        self.matches = matches
        self.rng = rng
        self.step_ms = step_ms
        self.enabled = True
        self.last_ms = exchange.clock()
        max_makers = max((m.spec.makers for m in matches), default=0)
        self.maker_accounts = [self._agent_account(f"agent-mm-{i + 1}") for i in range(max_makers)]
        self.taker_account = self._agent_account("agent-taker")
        self.depth_accounts = [self._agent_account(f"agent-depth-{i + 1}") for i in range(2)]
        self.markets: list[MarketAgents] = []
        for match in matches:
            for outcome, ticker in enumerate(match.tickers):
                agents = MarketAgents(ticker, match, outcome)
                agents.makers = [
                    MakerQuote(acc, edge_ticks=rng.randint(1, 4))
                    for acc in self.maker_accounts[: match.spec.makers]
                ]
                if match.spec.makers > 1:
                    agents.makers += [
                        MakerQuote(acc, edge_ticks=rng.randint(5 + 3 * i, 7 + 3 * i), deep=True)
                        for i, acc in enumerate(self.depth_accounts)
                    ]
                self.markets.append(agents)

    def _agent_account(self, account_id: str) -> str:
        if account_id not in self.exchange.accounts:
            self.exchange.open_account(account_id, AGENT_BALANCE, "prestige", name=account_id)
        return account_id

    # --- driving -------------------------------------------------------------------------------

    def seed_books(self) -> None:
        """Put every active maker in the book at once so markets start with depth."""
        now = self.exchange.clock()
        for agents in self.markets:
            for i, maker in enumerate(agents.makers):
                maker.active = i < 2 or maker.deep or self.rng.random() < 0.5
                if maker.active:
                    self._requote(agents, maker, now)

    def run_until(self, now_ms: int) -> None:
        """Play every step up to ``now_ms`` (market time)."""
        if now_ms <= self.last_ms:
            return
        steps = (now_ms - self.last_ms) // self.step_ms
        if steps > MAX_CATCHUP_STEPS:
            self.last_ms += (steps - MAX_CATCHUP_STEPS) * self.step_ms
            steps = MAX_CATCHUP_STEPS
        for _ in range(steps):
            self.last_ms += self.step_ms
            self.step(self.last_ms)

    def step(self, now_ms: int) -> None:
        for match in self.matches:
            self._schedule(match, now_ms)
            if self.enabled:
                self._walk(match)
        if not self.enabled:
            return
        for agents in self.markets:
            if self.exchange.markets[agents.ticker].status != "active":
                continue
            self._makers(agents, now_ms)
            self._takers(agents)

    # --- the match clock -----------------------------------------------------------------------

    def _schedule(self, match: MatchState, now_ms: int) -> None:
        if not match.started and now_ms >= match.start_ms:
            match.started = True
            milestone = self.exchange.milestones[match.milestone_id]
            milestone.status = "inprogress"
            milestone.last_updated_ms = now_ms
            if match.spec.pause_on_start_ms > 0:
                for ticker in match.tickers:
                    self.exchange.pause_market(ticker)
                match.resume_at_ms = now_ms + match.spec.pause_on_start_ms
        if match.resume_at_ms is not None and now_ms >= match.resume_at_ms:
            match.resume_at_ms = None
            for ticker in match.tickers:
                self.exchange.resume_market(ticker)

    def _walk(self, match: MatchState) -> None:
        """Fair value wanders around the bookmakers' line, which moves now and then and drifts back.

        Without an anchor the walk wandered 20–35c from where it started within minutes, so a demo
        quoting a typed theo ended one-sided at its inventory limit and stopped filling. Now: the fair
        jitters and is pulled towards the line each step; about every five minutes the line moves
        (3–6c, now and then 8–12c: a goal, an injury) and relaxes back to the opening line over
        several minutes, so quotes fill on both sides, rebalance after a move, and a big move shows
        a typed theo going stale.
        """
        if match.kind != GAME:
            self._walk_line(match)
            return
        rng = self.rng
        line, opening = self._lines(match)
        if rng.randrange(LINE_MOVE_STEPS) == 0:
            big = rng.random() < 0.25
            moved = list(line)
            _shift(moved, rng, rng.randint(8, 12) * 100 if big else rng.randint(3, 6) * 100)
            if max(abs(m - o) for m, o in zip(moved, opening, strict=True)) <= LINE_RANGE:
                line[:] = moved  # moves do not stack past the range: the demo stays tradeable
        _pull(line, opening, LINE_RELAX)
        _pull(match.fair, line, FAIR_PULL)
        if rng.random() < 0.4:
            _shift(match.fair, rng, rng.randint(1, 2) * 50 * match.spec.volatility)

    def _walk_line(self, match: MatchState) -> None:
        """The same habits for a totals/spreads event, on its line: the bookmakers' line moves now and
        then and relaxes back to the opening line; the fair line follows it with jitter; each strike's
        fair value is then recomputed from the fair line (``extra["line"]``: the strikes at the
        bookmakers' line)."""
        rng = self.rng
        scale = match.spec.scale
        if "line_centre" not in match.extra:
            match.extra["line_centre"] = match.extra["opening_centre"] = match.centre
        line: Decimal = match.extra["line_centre"]
        opening: Decimal = match.extra["opening_centre"]
        unit = scale * LINE_UNIT
        if rng.randrange(LINE_MOVE_STEPS) == 0:
            moved = line + rng.choice((-1, 1)) * unit * (2 if rng.random() < 0.25 else 1)
            if abs(moved - opening) <= LINE_RANGE_UNITS * unit:
                line = moved
        line += (opening - line) / LINE_RELAX
        centre = match.centre + (line - match.centre) / FAIR_PULL
        if rng.random() < 0.4:
            centre += rng.choice((-1, 1)) * rng.randint(1, 2) * match.spec.volatility * scale * JITTER
        match.extra["line_centre"] = line.quantize(CENTRE_PLACES)
        match.centre = centre.quantize(CENTRE_PLACES)
        match.fair[:] = line_fairs(match.kind, match.outcomes, match.centre, scale)
        match.extra["line"] = line_fairs(match.kind, match.outcomes, match.extra["line_centre"], scale)

    def _lines(self, match: MatchState) -> tuple[list[int], list[int]]:
        """The current and the opening line of a match (kept with the match's state)."""
        if "line" not in match.extra:
            match.extra["line"] = list(match.fair)
            match.extra["opening"] = list(match.fair)
        return match.extra["line"], match.extra["opening"]

    def set_fair(self, ticker: str, price: int) -> None:
        """Pin one outcome's fair value; the others share the rest in their current proportions."""
        if not 0 < price < PRICE_SCALE:
            raise ValueError("fair value must be strictly between 0 and 1 dollar")
        for match in self.matches:
            if ticker not in match.tickers:
                continue
            idx = match.tickers.index(ticker)
            if match.kind != GAME:  # move the line so this strike is worth ``price``; the others follow
                centre = centre_for(match.kind, match.outcomes[idx], price, match.spec.scale)
                match.centre = centre.quantize(CENTRE_PLACES)
                match.extra["line_centre"] = match.extra["opening_centre"] = match.centre
                match.fair[:] = line_fairs(match.kind, match.outcomes, match.centre, match.spec.scale)
                match.extra["line"] = list(match.fair)
                return
            others = [i for i in range(len(match.fair)) if i != idx]
            rest = PRICE_SCALE - price
            total_other = sum(match.fair[i] for i in others) or 1
            assigned = 0
            for j, i in enumerate(others):
                share = rest - assigned if j == len(others) - 1 else rest * match.fair[i] // total_other
                match.fair[i] = share
                assigned += share
            match.fair[idx] = price
            match.extra["line"] = list(match.fair)  # a pinned value stays: it is the new line
            match.extra["opening"] = list(match.fair)
            return
        raise KeyError(ticker)

    def fair(self, ticker: str) -> Price | None:
        for match in self.matches:
            if ticker in match.tickers:
                return Price(match.fair[match.tickers.index(ticker)])
        return None

    # --- makers --------------------------------------------------------------------------------

    def _makers(self, agents: MarketAgents, now_ms: int) -> None:
        rng = self.rng
        fair = agents.match.fair[agents.outcome]
        tick = _step_at(self.exchange.markets[agents.ticker].grid, fair)
        for maker in agents.makers:
            stale = maker.active and abs(fair - maker.quoted_fair) >= 2 * tick
            if maker.deep:
                if stale or rng.random() < 0.03:
                    self._requote(agents, maker, now_ms)
                continue
            if not maker.active:
                if rng.random() < 0.05:
                    maker.active = True
                    maker.edge_ticks = rng.randint(1, 4)
                    self._requote(agents, maker, now_ms)
                continue
            if rng.random() < 0.01:
                self._leave(maker)
                continue
            if stale or rng.random() < 0.3:
                if rng.random() < 0.1:
                    maker.edge_ticks = rng.randint(-1, 4)  # sometimes quote through fair
                self._requote(agents, maker, now_ms)

    def _leave(self, maker: MakerQuote) -> None:
        maker.active = False
        for order_id in (maker.bid_id, maker.ask_id):
            if order_id is not None:
                self._cancel(maker.account_id, order_id)
        maker.bid_id = maker.ask_id = None

    def _requote(self, agents: MarketAgents, maker: MakerQuote, now_ms: int) -> None:
        market = self.exchange.markets[agents.ticker]
        grid = market.grid
        fair = agents.match.fair[agents.outcome]
        maker.quoted_fair = fair
        tick = _step_at(grid, fair)
        bid = _snap_down(grid, fair - maker.edge_ticks * tick - self.rng.randint(0, 1) * tick)
        ask = _snap_up(grid, fair + maker.edge_ticks * tick + self.rng.randint(0, 1) * tick)
        sizes = (100, 150, 250, 300, 500) if maker.deep else (5, 10, 10, 20, 25, 50, 100, 150)
        size = Count(self.rng.choice(sizes) * COUNT_SCALE)
        if bid is not None:
            maker.bid_id = self._place(maker.account_id, agents.ticker, "bid", bid, size, maker.bid_id)
        if ask is not None:
            maker.ask_id = self._place(maker.account_id, agents.ticker, "ask", ask, size, maker.ask_id)

    def _place(
        self, account_id: str, ticker: str, side: str, price: Price, size: Count, existing: str | None
    ) -> str | None:
        ex = self.exchange
        if existing is not None:
            order = ex.accounts[account_id].orders.get(existing)
            if order is not None and order.status == "resting":
                try:
                    ex.amend_order(
                        account_id,
                        existing,
                        AmendRequest(ticker, side, price, Count(order.fill_count + size)),
                    )
                    return existing
                except SimError:
                    self._cancel(account_id, existing)
        try:
            result = ex.create_order(
                account_id,
                OrderRequest(ticker, side, price, size, post_only=True, stp="maker", cancel_on_pause=True),
            )
        except SimError:
            return None
        return result.order.order_id if result.order.status == "resting" else None

    def _pick_off(self, agents: MarketAgents) -> None:
        fair = agents.match.fair[agents.outcome]
        margin = 3 * _step_at(self.exchange.markets[agents.ticker].grid, fair)
        bid, ask = self.exchange.top_of_book(agents.ticker)
        with contextlib.suppress(SimError):
            if ask is not None and ask[0] <= fair - margin:
                self.exchange.create_order(
                    self.taker_account,
                    OrderRequest(
                        agents.ticker, "bid", Price(ask[0]), _pick_off_size(ask), "immediate_or_cancel"
                    ),
                )
            elif bid is not None and bid[0] >= fair + margin:
                self.exchange.create_order(
                    self.taker_account,
                    OrderRequest(
                        agents.ticker, "ask", Price(bid[0]), _pick_off_size(bid), "immediate_or_cancel"
                    ),
                )

    def _cancel(self, account_id: str, order_id: str) -> None:
        with contextlib.suppress(SimError):
            self.exchange.cancel_order(account_id, order_id)

    # --- takers --------------------------------------------------------------------------------

    def _takers(self, agents: MarketAgents) -> None:
        """Informed flow picks off quotes far through fair (stale after a jump); then Poisson-ish
        random arrivals: each step a taker shows up with probability rate × step."""
        rate = agents.match.spec.taker_per_min
        if rate <= 0:
            return
        self._pick_off(agents)
        if self.rng.randrange(60_000) >= rate * self.step_ms:
            return
        bid, ask = self.exchange.top_of_book(agents.ticker)
        fair = agents.match.fair[agents.outcome]
        # Sell into bids more often when they are rich, buy offers when they are cheap.
        sell = bid is not None and (ask is None or self.rng.random() < 0.5 + (bid[0] - fair) / 2000)
        size = Count(self.rng.choice((1, 2, 3, 5, 5, 10, 20)) * COUNT_SCALE)
        try:
            if sell and bid is not None:
                self.exchange.create_order(
                    self.taker_account,
                    OrderRequest(agents.ticker, "ask", Price(bid[0]), size, "immediate_or_cancel"),
                )
            elif ask is not None:
                self.exchange.create_order(
                    self.taker_account,
                    OrderRequest(agents.ticker, "bid", Price(ask[0]), size, "immediate_or_cancel"),
                )
        except SimError:
            pass


def _shift(values: list[int], rng: random.Random, size: int) -> None:
    """Move ``size`` of probability from one outcome to another (the total stays $1)."""
    src, dst = rng.sample(range(len(values)), 2)
    size = min(size, values[src] - EDGE_OF_BOOK)
    if size <= 0 or values[dst] + size > PRICE_SCALE - EDGE_OF_BOOK:
        return
    values[src] -= size
    values[dst] += size


def _pull(values: list[int], target: list[int], divisor: int) -> None:
    """Close 1/divisor of each outcome's gap to ``target`` (at least one unit), the last outcome taking
    the rest so the total stays $1; a step that would push it out of the book is skipped."""
    moved = list(values)
    for i in range(len(values) - 1):
        gap = target[i] - values[i]
        if gap:
            step = max(1, abs(gap) // divisor)
            moved[i] = values[i] + (step if gap > 0 else -step)
    moved[-1] = PRICE_SCALE - sum(moved[:-1])
    if all(EDGE_OF_BOOK <= v <= PRICE_SCALE - EDGE_OF_BOOK for v in moved):
        values[:] = moved


def _pick_off_size(level: tuple[int, int] | None) -> Count:
    return Count(min(level[1], 50 * COUNT_SCALE)) if level else Count(0)


def _step_at(grid: TickGrid, price: int) -> int:
    for band in grid.bands:
        if band.start <= price <= band.end:
            return band.step
    return grid.bands[0].step


def _snap_down(grid: TickGrid, price: int) -> Price | None:
    return grid.clamp_quote(max(price, 0))


def _snap_up(grid: TickGrid, price: int) -> Price | None:
    if price > grid.max_price:
        return None
    return grid.ceil(max(price, grid.min_price))
