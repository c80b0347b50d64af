"""The simulator's matching engine and accounts: pure logic, no I/O, time from an injected clock.

Semantics follow §5 of the API notes: V2 orders on the YES book (``bid`` buys YES, ``ask`` buys NO
at 1 − price), price-time priority, GTC/IOC/FOK, post-only, self-trade prevention, amend/decrease/
cancel, order groups with a rolling 15 s matched-contracts limit, market pause/close/settle, and
quadratic fees rounded up per fill. Every change is announced to ``listeners`` (see ``events.py``).

Accounting model: ``cash`` is total cash; resting orders reserve their leg cost (bid p → p, ask p →
1 − p per contract) out of it, so ``available = cash − reserved``. Buying the leg opposite to a held
position redeems the pair for $1 at once, so cash, open pairs and fees always add up to the money
deposited (the conservation tests check this).

``fidelity`` (``fidelity.py``) switches on the real exchange's harder habits that live here: the
pause→resume cancel, close-time rejections, per-shard cash, whole-cent booking with a rounding fee,
and post-only crosses cancelled on arrival.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from kmm_tui.domain.prices import MONEY_SCALE, PRICE_SCALE, Count, Money, Price, TickGrid
from kmm_tui.sim import errors
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.events import (
    BookDelta,
    EventChanged,
    FillEvent,
    GroupEvent,
    LifecycleEvent,
    OrderEvent,
    PositionEvent,
    SimEvent,
    TickerEvent,
    TradeEvent,
)
from kmm_tui.sim.fees import FEE_TYPES, fill_fee
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.model import (
    STP_TYPES,
    TIME_IN_FORCE,
    Account,
    EventDef,
    Fill,
    Market,
    Milestone,
    Order,
    OrderGroup,
    SeriesDef,
    SeriesFeeChange,
    Settlement,
    Trade,
)
from kmm_tui.sim.orderbook import OrderBook

GROUP_WINDOW_MS = 15_000
CENT_MONEY = MONEY_SCALE // 100
MARKET_METADATA = ("title", "yes_sub_title", "rules_primary")
MAX_COUNT = 100_000_000  # 1 000 000 contracts
IOC = "immediate_or_cancel"
FOK = "fill_or_kill"
GTC = "good_till_canceled"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated create request in domain units (``expiration_ms`` already converted from seconds)."""

    ticker: str
    side: str
    price: Price
    count: Count
    time_in_force: str = GTC
    stp: str = "taker_at_cross"
    client_order_id: str | None = None
    post_only: bool = False
    expiration_ms: int | None = None
    cancel_on_pause: bool = False
    order_group_id: str | None = None
    subaccount: int = 0
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """Amend: ``count`` is filled + desired remaining (the API's definition)."""

    ticker: str
    side: str
    price: Price
    count: Count
    client_order_id: str | None = None
    updated_client_order_id: str | None = None
    expiration_ms: int | None = None
    clear_expiration: bool = False


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What a create/amend reply reports: the order after matching plus what this call filled."""

    order: Order
    filled_now: Count
    ts_ms: int


class Exchange:
    """All markets, books and accounts of one simulated exchange."""

    def __init__(
        self,
        clock: Callable[[], int],
        id_factory: Callable[[], str] | None = None,
        fidelity: Fidelity | None = None,
    ) -> None:
        self.clock = clock
        self.fidelity = fidelity or Fidelity()
        self._new_id = id_factory or (lambda: str(uuid.uuid4()))
        self.series: dict[str, SeriesDef] = {}
        self.events: dict[str, EventDef] = {}
        self.markets: dict[str, Market] = {}
        self.milestones: dict[str, Milestone] = {}
        self.books: dict[str, OrderBook] = {}
        self.accounts: dict[str, Account] = {}
        self.trades: list[Trade] = []
        self.listeners: list[Callable[[SimEvent], None]] = []
        self._orders: dict[str, Order] = {}
        self._priority = 0
        self._expiries: list[tuple[int, str]] = []
        self._touched: set[str] = set()
        self._halted: set[str] = set()  # in-flight takers whose order group triggered mid-match
        self._closing: dict[str, int] = {}  # closed market → when its leftover orders are cancelled
        self.fee_changes: list[SeriesFeeChange] = []  # every scheduled series fee change, applied or not
        self._pending_fees: list[SeriesFeeChange] = []
        self.exchange_active = True
        self.trading_active = True

    # --- setup ----------------------------------------------------------------------------------

    def add_series(self, series: SeriesDef) -> None:
        self.series[series.ticker] = series

    def add_event(self, event: EventDef) -> None:
        if event.series_ticker not in self.series:
            raise ValueError(f"event {event.event_ticker}: add series {event.series_ticker} first")
        self.events[event.event_ticker] = event

    def add_market(self, market: Market) -> None:
        if market.event_ticker not in self.events:
            raise ValueError(f"market {market.ticker}: add event {market.event_ticker} first")
        self.markets[market.ticker] = market
        self.books[market.ticker] = OrderBook()
        self._emit(LifecycleEvent(market.ticker, "created", {}))

    def add_milestone(self, milestone: Milestone) -> None:
        self.milestones[milestone.id] = milestone

    def open_account(self, account_id: str, balance: Money, tier: str = "basic", name: str = "") -> Account:
        if account_id in self.accounts:
            raise ValueError(f"account {account_id} already exists")
        account = Account(account_id=account_id, cash=balance, tier=tier, name=name)
        self.accounts[account_id] = account
        return account

    def deposit(self, account_id: str, amount: Money) -> None:
        self.account(account_id).add_cash(0, amount)

    # --- lookups --------------------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise errors.not_found() from None

    def market(self, ticker: str) -> Market:
        try:
            return self.markets[ticker]
        except KeyError:
            raise errors.not_found() from None

    def order(self, account_id: str, order_id: str) -> Order:
        """The caller's order; someone else's order is indistinguishable from a missing one (404)."""
        order = self._orders.get(order_id)
        if order is None or order.account_id != account_id:
            raise errors.not_found()
        return order

    def fee_schedule(self, ticker: str) -> tuple[str, Decimal]:
        """(fee_type, multiplier) for a market: event overrides win over the series."""
        event = self.events[self.markets[ticker].event_ticker]
        series = self.series[event.series_ticker]
        fee_type = event.fee_type_override or series.fee_type
        mult = event.fee_multiplier_override
        return fee_type, series.fee_multiplier if mult is None else mult

    def series_of(self, market: Market) -> SeriesDef:
        return self.series[self.events[market.event_ticker].series_ticker]

    # --- order entry ----------------------------------------------------------------------------

    def create_order(self, account_id: str, req: OrderRequest) -> OrderResult:
        """Validate, match, and rest (GTC) or cancel (IOC/FOK) the remainder."""
        self.sweep()
        now = self.clock()
        account = self.account(account_id)
        market = self._validate_new(account, req, now)
        count = req.count
        if req.reduce_only:
            count = self._reduce_only_count(account, req)
        fee_type, mult = self.fee_schedule(req.ticker)
        leg = req.price if req.side == "bid" else PRICE_SCALE - req.price
        needed = leg * count + fill_fee(fee_type, mult, req.price, count, is_taker=True)
        if needed > self._available(account, market):
            raise errors.insufficient_balance()
        book = self.books[req.ticker]
        post_only_cross = req.post_only and book.best_opposite(req.side, req.price) is not None
        if post_only_cross and not self.fidelity.roll(self.fidelity.post_only_cancel_pct):
            raise errors.invalid_order("post only cross")
        group = None
        if req.order_group_id is not None:
            group = account.groups.get(req.order_group_id)
            if group is None:
                raise SimError(404, "not_found", "not found", "order group not found")
            if group.triggered:
                raise errors.invalid_order("order group is triggered: reset it before placing orders")
            if group.exchange_index != market.exchange_index:
                raise errors.invalid_order(
                    f"order group lives on exchange_index {group.exchange_index} but {req.ticker} trades on "
                    f"{market.exchange_index}: create the group with that exchange_index"
                )
        if req.client_order_id is not None:
            account.client_order_ids.add(req.client_order_id)
        order = Order(
            order_id=self._new_id(),
            account_id=account_id,
            ticker=req.ticker,
            side=req.side,  # type: ignore[arg-type]
            price=req.price,
            initial_count=count,
            remaining=count,
            time_in_force=req.time_in_force,
            stp=req.stp,
            client_order_id=req.client_order_id,
            created_ms=now,
            updated_ms=now,
            priority=self._next_priority(),
            post_only=req.post_only,
            expiration_ms=req.expiration_ms,
            cancel_on_pause=req.cancel_on_pause,
            order_group_id=req.order_group_id,
            subaccount=req.subaccount,
            exchange_index=market.exchange_index,
            collateral_shard=self._shard(market.exchange_index),
        )
        self._orders[order.order_id] = order
        account.orders[order.order_id] = order
        if group is not None:
            group.order_ids.append(order.order_id)
        if post_only_cross:  # the other answer Kalshi gives: 201, cancelled on arrival (§5.5)
            self._finish(order, now, cancelled=True)
            return OrderResult(order, Count(0), now)
        filled = self._match_and_place(order, now)
        self._flush_tickers(now)
        return OrderResult(order, filled, now)

    def _validate_new(self, account: Account, req: OrderRequest, now: int) -> Market:
        market = self.market(req.ticker)
        self._require_trading(market)
        if req.side not in ("bid", "ask"):
            raise errors.invalid_parameters("side must be bid or ask")
        if req.time_in_force not in TIME_IN_FORCE:
            raise errors.invalid_parameters(f"time_in_force must be one of {', '.join(TIME_IN_FORCE)}")
        if req.stp not in STP_TYPES:
            allowed = ", ".join(STP_TYPES)
            raise errors.invalid_parameters(f"self_trade_prevention_type must be one of {allowed}")
        if not 0 < req.count <= MAX_COUNT:
            raise SimError(400, "invalid_order_size", "invalid order size", "count must be 0.01..1000000")
        if not (0 < req.price < PRICE_SCALE and market.grid.is_valid(req.price)):
            raise errors.invalid_price()
        if req.expiration_ms is not None:
            if req.time_in_force != GTC:
                raise errors.invalid_parameters("expiration_time is only allowed with good_till_canceled")
            if req.expiration_ms <= now:
                raise errors.invalid_parameters("expiration_time must be in the future")
        if req.reduce_only and req.time_in_force != IOC:
            raise errors.invalid_parameters("reduce_only is only allowed with immediate_or_cancel")
        if req.post_only and req.time_in_force != GTC:
            raise errors.invalid_parameters("post_only is only allowed with good_till_canceled")
        if req.client_order_id is not None and req.client_order_id in account.client_order_ids:
            raise errors.order_already_exists()
        return market

    def _reduce_only_count(self, account: Account, req: OrderRequest) -> Count:
        held = account.positions.get(req.ticker)
        pos = held.position if held else 0
        reducible = -pos if req.side == "bid" else pos
        if reducible <= 0:
            raise errors.invalid_order("reduce only order would increase the position")
        return Count(min(req.count, reducible))

    def _require_trading(self, market: Market) -> None:
        if market.status in ("closed", "determined", "finalized"):
            raise errors.market_closed()
        if market.status != "active" or not self.trading_active:
            raise errors.market_inactive()

    def _require_open(self, market: Market) -> None:
        """Cancels and decreases work while paused but not after close."""
        if market.status in ("closed", "determined", "finalized"):
            raise errors.market_closed()

    # --- matching -------------------------------------------------------------------------------

    def _match_and_place(self, order: Order, now: int) -> Count:
        """Trade ``order`` against the book, then rest or cancel what is left. Returns contracts filled."""
        book = self.books[order.ticker]
        filled = 0
        if order.time_in_force == FOK and not self._fok_fillable(order, book):
            self._finish(order, now, cancelled=True)
            return Count(0)
        stopped = False
        while order.remaining > 0:
            if order.order_id in self._halted:
                stopped = True
                break
            best = book.best_opposite(order.side, order.price)
            if best is None:
                break
            maker = book.level("ask" if order.side == "bid" else "bid", best)[0]
            if maker.account_id == order.account_id:
                if order.stp == "taker_at_cross":
                    stopped = True
                    break
                self._cancel_resting(maker, now)
                continue
            qty = Count(min(order.remaining, maker.remaining))
            self._execute(maker, order, Price(best), qty, now)
            filled += qty
        self._halted.discard(order.order_id)
        if order.remaining > 0:
            if order.time_in_force == GTC and not stopped:
                self._rest(order, now)
            else:
                self._finish(order, now, cancelled=True)
        elif order.status == "resting":
            self._finish(order, now, cancelled=False)
        return Count(filled)

    def _fok_fillable(self, order: Order, book: OrderBook) -> bool:
        """Fill-or-kill: enough opposite liquidity from others? A self-cross makes it behave like IOC."""
        available = 0
        for resting in book.crossing_orders(order.side, order.price):
            if resting.account_id == order.account_id:
                if order.stp == "taker_at_cross":
                    return True
                continue
            available += resting.remaining
            if available >= order.remaining:
                return True
        return False

    def _rest(self, order: Order, now: int) -> None:
        account = self.accounts[order.account_id]
        self.books[order.ticker].add(order)
        self._set_reserved(account, order, Money(order.leg_price * order.remaining))
        order.updated_ms = now
        if order.expiration_ms is not None:
            heapq.heappush(self._expiries, (order.expiration_ms, order.order_id))
        self._emit(self._delta(order, order.remaining, now))
        self._emit(OrderEvent(order))
        self._touched.add(order.ticker)

    def _finish(self, order: Order, now: int, *, cancelled: bool) -> None:
        """Close a non-resting order (not in the book): executed if fully filled, else cancelled."""
        order.remaining = Count(0)
        order.status = "canceled" if cancelled else "executed"
        order.updated_ms = now
        self._emit(OrderEvent(order))

    def _delta(self, order: Order, delta: int, now: int) -> BookDelta:
        side = "yes" if order.side == "bid" else "no"
        return BookDelta(
            order.ticker,
            side,
            order.leg_price,
            delta,
            now,
            order.account_id,
            order.client_order_id,
            order.subaccount,
        )

    def _set_reserved(self, account: Account, order: Order, amount: Money) -> None:
        account.add_reserved(order.collateral_shard, amount - order.reserved)
        order.reserved = amount

    def _execute(self, maker: Order, taker: Order, yes_price: Price, qty: Count, now: int) -> None:
        market = self.markets[maker.ticker]
        fee_type, mult = self.fee_schedule(maker.ticker)
        trade = Trade(self._new_id(), maker.ticker, qty, yes_price, taker.side, now)  # type: ignore[arg-type]
        self.trades.append(trade)
        book = self.books[maker.ticker]
        for order, is_taker in ((maker, False), (taker, True)):
            account = self.accounts[order.account_id]
            leg = yes_price if order.side == "bid" else PRICE_SCALE - yes_price
            paid = Money(leg * qty)
            fee = fill_fee(fee_type, mult, yes_price, qty, is_taker=is_taker)
            order.fill_count = Count(order.fill_count + qty)
            order.remaining = Count(order.remaining - qty)
            order.updated_ms = now
            if is_taker:
                order.taker_fill_cost = Money(order.taker_fill_cost + paid)
                order.taker_fees = Money(order.taker_fees + fee)
            else:
                order.maker_fill_cost = Money(order.maker_fill_cost + paid)
                order.maker_fees = Money(order.maker_fees + fee)
                self._set_reserved(account, order, Money(order.leg_price * order.remaining))
            account.add_cash(order.collateral_shard, -self._book_debit(account, order, Money(paid + fee)))
            post = self._apply_position(account, market, order.side, leg, qty, fee, now)
            fill = Fill(
                trade.trade_id,
                order.order_id,
                account.account_id,
                order.ticker,
                order.side,
                qty,
                yes_price,
                is_taker,
                fee,
                now,
                order.client_order_id,
                post,
                order.subaccount,
                market.exchange_index,
            )
            account.fills.append(fill)
            self._emit(FillEvent(fill))
        self._emit(self._delta(maker, -qty, now))
        if maker.remaining == 0:
            book.remove(maker)
            maker.status = "executed"
        self._emit(OrderEvent(maker))
        market.last_price = yes_price
        market.volume = Count(market.volume + qty)
        market.dollar_volume = Money(market.dollar_volume + yes_price * qty)
        market.last_trade_size = qty
        market.updated_ms = now
        self._emit(TradeEvent(trade))
        for order in (maker, taker):
            self._emit(PositionEvent(order.account_id, order.ticker))
            if order.order_group_id is not None:
                self._group_matched(order, qty, now)
        self._touched.add(maker.ticker)

    def _book_debit(self, account: Account, order: Order, exact: Money) -> Money:
        """What a fill takes from the balance. With ``Fidelity.rounding_fee`` (§10) the change is floored
        to whole cents (the debit rounded up, the difference a rounding fee), and once the order has
        overpaid its exact total rounded up to the cent by more than a cent, the excess is refunded."""
        if not self.fidelity.rounding_fee:
            return exact
        debit = _ceil_cent(exact)
        order.exact_debits = Money(order.exact_debits + exact)
        order.booked_debits = Money(order.booked_debits + debit)
        overpaid = order.booked_debits - _ceil_cent(order.exact_debits)
        if overpaid > CENT_MONEY:
            order.booked_debits = Money(order.booked_debits - overpaid)
            debit = Money(debit - overpaid)
        account.rounding_fees = Money(account.rounding_fees + debit - exact)
        return debit

    def _apply_position(
        self, account: Account, market: Market, side: str, leg: int, qty: int, fee: Money, now: int
    ) -> Count:
        """Buy ``qty`` of the YES (bid) or NO (ask) leg at ``leg``; opposite holdings redeem for $1 each."""
        pos = account.position(market.ticker)
        before_long = max(pos.position, 0)
        direction = 1 if side == "bid" else -1
        held_opposite = max(-direction * pos.position, 0)
        close = min(qty, held_opposite)
        if close:
            removed = pos.cost if close == held_opposite else pos.cost * close // held_opposite
            payout = PRICE_SCALE * close
            account.add_cash(self._shard(market.exchange_index), payout)
            pos.realized_pnl = Money(pos.realized_pnl + payout - leg * close - removed)
            pos.cost = Money(pos.cost - removed)
            pos.position = Count(pos.position + direction * close)
        opened = qty - close
        if opened:
            pos.position = Count(pos.position + direction * opened)
            pos.cost = Money(pos.cost + leg * opened)
        pos.fees_paid = Money(pos.fees_paid + fee)
        pos.total_traded = Money(pos.total_traded + leg * qty)
        pos.volume = Count(pos.volume + qty)
        pos.last_updated_ms = now
        market.open_interest = Count(market.open_interest + max(pos.position, 0) - before_long)
        return pos.position

    def _cancel_resting(self, order: Order, now: int) -> Count:
        """Take a resting order out of the book; returns how much was cancelled."""
        reduced = order.remaining
        self.books[order.ticker].remove(order)
        self._set_reserved(self.accounts[order.account_id], order, Money(0))
        self._emit(self._delta(order, -reduced, now))
        order.remaining = Count(0)
        order.status = "canceled"
        order.updated_ms = now
        self._emit(OrderEvent(order))
        self._touched.add(order.ticker)
        return reduced

    # --- amend / decrease / cancel --------------------------------------------------------------

    def amend_order(self, account_id: str, order_id: str, req: AmendRequest) -> OrderResult:
        """Change price and/or total size. New price or more size → back of the queue; less keeps it."""
        self.sweep()
        now = self.clock()
        account = self.account(account_id)
        order = self.order(account_id, order_id)
        if order.status != "resting":
            raise errors.not_found()
        market = self.markets[order.ticker]
        if req.ticker != order.ticker:
            raise SimError(400, "order_ticker_mismatch", "order ticker mismatch")
        if req.side != order.side:
            raise SimError(400, "order_side_mismatch", "order side mismatch")
        if req.client_order_id is not None and req.client_order_id != order.client_order_id:
            raise SimError(
                400, "order_id_and_client_order_id_mismatch", "order id and client order id mismatch"
            )
        self._require_trading(market)
        if not (0 < req.price < PRICE_SCALE and market.grid.is_valid(req.price)):
            raise errors.invalid_price()
        new_remaining = req.count - order.fill_count
        if new_remaining <= 0 or req.count > MAX_COUNT:
            raise SimError(
                400,
                "invalid_order_size",
                "invalid order size",
                "count must exceed the filled count (count = filled + desired remaining)",
            )
        new_cid = req.updated_client_order_id
        if new_cid is not None and new_cid != order.client_order_id and new_cid in account.client_order_ids:
            raise errors.order_already_exists()
        book = self.books[order.ticker]
        book.remove(order)  # look at the book without ourselves
        crosses = book.best_opposite(order.side, req.price) is not None
        leg = req.price if order.side == "bid" else PRICE_SCALE - req.price
        fee_type, mult = self.fee_schedule(order.ticker)
        needed = leg * new_remaining - order.reserved
        if crosses:
            needed += fill_fee(fee_type, mult, req.price, new_remaining, is_taker=True)
        problem: SimError | None = None
        if order.post_only and crosses:
            problem = errors.invalid_order("post only cross")
        elif needed > self._available(account, market):
            problem = errors.insufficient_balance()
        if problem is not None:
            book.add(order)  # undo; restore the queue position we had
            self._requeue_in_place(book, order)
            raise problem
        if new_cid is not None:
            account.client_order_ids.add(new_cid)
            order.client_order_id = new_cid
        if req.clear_expiration:
            order.expiration_ms = None
        elif req.expiration_ms is not None:
            order.expiration_ms = req.expiration_ms
            heapq.heappush(self._expiries, (req.expiration_ms, order.order_id))
        loses_priority = req.price != order.price or new_remaining > order.remaining
        filled = 0
        if not loses_priority:
            book.add(order)
            self._requeue_in_place(book, order)
            diff = new_remaining - order.remaining
            if diff:
                order.remaining = Count(new_remaining)
                self._set_reserved(account, order, Money(order.leg_price * order.remaining))
                self._emit(self._delta(order, diff, now))
                self._touched.add(order.ticker)
            order.initial_count = Count(req.count)
            order.updated_ms = now
            self._emit(OrderEvent(order))
        else:
            self._set_reserved(account, order, Money(0))
            self._emit(self._delta(order, -order.remaining, now))
            order.price = req.price
            order.remaining = Count(new_remaining)
            order.initial_count = Count(req.count)
            order.priority = self._next_priority()
            order.updated_ms = now
            filled = self._match_and_place(order, now)
        self._flush_tickers(now)
        return OrderResult(order, Count(filled), now)

    @staticmethod
    def _requeue_in_place(book: OrderBook, order: Order) -> None:
        """Put ``order`` back where its priority says (it was appended at the back)."""
        queue = book.level(order.side, order.price)
        queue.sort(key=lambda o: o.priority)

    def decrease_order(
        self,
        account_id: str,
        order_id: str,
        *,
        reduce_by: Count | None = None,
        reduce_to: Count | None = None,
    ) -> Order:
        """Shrink a resting order, keeping its place; reducing to zero cancels it."""
        self.sweep()
        now = self.clock()
        if (reduce_by is None) == (reduce_to is None):
            raise errors.invalid_parameters("send exactly one of reduce_by or reduce_to")
        order = self.order(account_id, order_id)
        if order.status != "resting":
            raise errors.not_found()
        self._require_open(self.markets[order.ticker])
        target = order.remaining - reduce_by if reduce_by is not None else reduce_to
        assert target is not None
        if reduce_by is not None and reduce_by <= 0:
            raise errors.invalid_parameters("reduce_by must be positive")
        if target < 0 or target > order.remaining:
            raise errors.invalid_parameters(
                f"cannot decrease to {target / 100:.2f}: the order has {order.remaining / 100:.2f} remaining"
            )
        if target == 0:
            self._cancel_resting(order, now)
        elif target != order.remaining:
            diff = target - order.remaining
            order.remaining = Count(target)
            order.initial_count = Count(order.initial_count + diff)
            order.updated_ms = now
            self._set_reserved(self.accounts[account_id], order, Money(order.leg_price * target))
            self._emit(self._delta(order, diff, now))
            self._emit(OrderEvent(order))
            self._touched.add(order.ticker)
        self._flush_tickers(now)
        return order

    def cancel_order(self, account_id: str, order_id: str) -> tuple[Order, Count]:
        """Cancel a resting order; unknown, cancelled and executed orders are all 404 (as Kalshi)."""
        self.sweep()
        now = self.clock()
        order = self.order(account_id, order_id)
        if order.status != "resting":
            raise errors.not_found()
        self._require_open(self.markets[order.ticker])
        reduced = self._cancel_resting(order, now)
        self._flush_tickers(now)
        return order, reduced

    def cancel_all(self, account_id: str, subaccount: int | None = None) -> list[Order]:
        now = self.clock()
        account = self.account(account_id)
        cancelled = []
        for order in list(account.orders.values()):
            if order.status != "resting" or (subaccount is not None and order.subaccount != subaccount):
                continue
            if self.markets[order.ticker].status in ("closed", "determined", "finalized"):
                continue
            self._cancel_resting(order, now)
            cancelled.append(order)
        self._flush_tickers(now)
        return cancelled

    def resting_orders(self, account_id: str) -> list[Order]:
        return [o for o in self.account(account_id).orders.values() if o.status == "resting"]

    # --- order groups ---------------------------------------------------------------------------

    def create_order_group(
        self, account_id: str, limit: Count, exchange_index: int = 0, subaccount: int = 0
    ) -> OrderGroup:
        account = self.account(account_id)
        if not 0 < limit <= MAX_COUNT:
            raise errors.invalid_parameters("contracts_limit must be 1..1000000")
        group = OrderGroup(self._new_id(), account_id, limit, exchange_index, subaccount)
        account.groups[group.group_id] = group
        self._emit(GroupEvent(account_id, group.group_id, "created", self.clock(), limit))
        return group

    def order_group(self, account_id: str, group_id: str) -> OrderGroup:
        group = self.account(account_id).groups.get(group_id)
        if group is None:
            raise errors.not_found()
        return group

    def trigger_order_group(self, account_id: str, group_id: str) -> None:
        self._trigger(self.order_group(account_id, group_id), self.clock())
        self._flush_tickers(self.clock())

    def reset_order_group(self, account_id: str, group_id: str) -> None:
        group = self.order_group(account_id, group_id)
        group.triggered = False
        group.matched.clear()
        self._emit(GroupEvent(account_id, group_id, "reset", self.clock()))

    def set_order_group_limit(self, account_id: str, group_id: str, limit: Count) -> None:
        group = self.order_group(account_id, group_id)
        if not 0 < limit <= MAX_COUNT:
            raise errors.invalid_parameters("contracts_limit must be 1..1000000")
        now = self.clock()
        group.limit = limit
        self._emit(GroupEvent(account_id, group_id, "limit_updated", now, limit))
        if not group.triggered and self._window_sum(group, now) >= limit:
            self._trigger(group, now)
        self._flush_tickers(now)

    def delete_order_group(self, account_id: str, group_id: str) -> None:
        group = self.order_group(account_id, group_id)
        now = self.clock()
        self._cancel_group_orders(group, now)
        del self.accounts[account_id].groups[group_id]
        self._emit(GroupEvent(account_id, group_id, "deleted", now))
        self._flush_tickers(now)

    def _window_sum(self, group: OrderGroup, now: int) -> int:
        while group.matched and group.matched[0][0] <= now - GROUP_WINDOW_MS:
            group.matched.popleft()
        return sum(n for _, n in group.matched)

    def _group_matched(self, order: Order, qty: int, now: int) -> None:
        group = self.accounts[order.account_id].groups.get(order.order_group_id or "")
        if group is None:
            return
        group.matched.append((now, qty))
        if not group.triggered and self._window_sum(group, now) >= group.limit:
            self._trigger(group, now)

    def _trigger(self, group: OrderGroup, now: int) -> None:
        group.triggered = True
        self._cancel_group_orders(group, now)
        self._emit(GroupEvent(group.account_id, group.group_id, "triggered", now))

    def _cancel_group_orders(self, group: OrderGroup, now: int) -> None:
        for order_id in group.order_ids:
            order = self._orders.get(order_id)
            # An order being matched right now (the taker) is not in the book yet: stop it too.
            if order is not None and order.status == "resting" and order.remaining > 0:
                if any(o is order for o in self.books[order.ticker].level(order.side, order.price)):
                    self._cancel_resting(order, now)
                else:
                    self._halted.add(order.order_id)

    # --- market lifecycle -----------------------------------------------------------------------

    def pause_market(self, ticker: str) -> None:
        """Trading halt: orders flagged ``cancel_order_on_pause`` are cancelled at once; the rest stay
        until the resume (which cancels them too, unless ``Fidelity.resume_cancels_all`` is off)."""
        market = self.market(ticker)
        if market.status != "active":
            return
        now = self.clock()
        market.status = "inactive"
        market.updated_ms = now
        for order in list(self.books[ticker].orders()):
            if order.cancel_on_pause:
                self._cancel_resting(order, now)
        self._emit(LifecycleEvent(ticker, "deactivated", {"is_deactivated": True}))
        self._flush_tickers(now)

    def resume_market(self, ticker: str) -> None:
        market = self.market(ticker)
        if market.status not in ("inactive", "initialized"):
            return
        now = self.clock()
        if market.status == "inactive" and self.fidelity.resume_cancels_all:
            # Kalshi: a pause→resume cancels every resting order (§11.2), reported on user channels.
            for order in list(self.books[ticker].orders()):
                self._cancel_resting(order, now)
        market.status = "active"
        market.updated_ms = now
        self._emit(LifecycleEvent(ticker, "activated", {"is_deactivated": False}))
        self._flush_tickers(now)

    def close_market(self, ticker: str, *, immediate: bool = False) -> None:
        """Stop trading for good and move the close time to now. Resting orders are cancelled at once,
        or (``Fidelity.close_at_close_time``) ``close_cancel_delay_ms`` later, as Kalshi does."""
        market = self.market(ticker)
        now = self.clock()
        if market.status not in ("closed", "determined", "finalized"):
            market.status = "closed"
            market.close_ms = now
            market.updated_ms = now
            self._emit(LifecycleEvent(ticker, "close_date_updated", {"close_ts": now // 1000}))
            if not immediate and self.fidelity.close_at_close_time:
                self._closing[ticker] = now + self.fidelity.close_cancel_delay_ms
        if immediate or not self.fidelity.close_at_close_time:
            self._cancel_leftovers(ticker, now)
        self._flush_tickers(now)

    def _cancel_leftovers(self, ticker: str, now: int) -> None:
        self._closing.pop(ticker, None)
        for order in list(self.books[ticker].orders()):
            self._cancel_resting(order, now)

    def _close_due(self, now: int) -> None:
        """Close markets whose close_time has passed (no lifecycle message: Kalshi sends none), then
        cancel the leftovers of markets closed long enough."""
        for market in self.markets.values() if self.fidelity.close_at_close_time else ():
            if market.close_ms <= now and market.status in ("initialized", "active", "inactive"):
                market.status = "closed"
                market.updated_ms = now
                self._closing[market.ticker] = market.close_ms + self.fidelity.close_cancel_delay_ms
                self._touched.add(market.ticker)
        for ticker, due in list(self._closing.items()):
            if due <= now:
                self._cancel_leftovers(ticker, now)

    def settle_market(self, ticker: str, result: str, value: Price | None = None) -> None:
        """Determine and pay out: YES holders get ``value`` per contract, NO holders 1 − value."""
        market = self.market(ticker)
        if market.status in ("determined", "finalized"):
            raise SimError(409, "market_closed", "market closed", f"{ticker} is already settled")
        if result not in ("yes", "no", "scalar"):
            raise errors.invalid_parameters("result must be yes, no or scalar")
        if value is None:
            if result == "scalar":
                raise errors.invalid_parameters("a scalar result needs a settlement value")
            value = Price(PRICE_SCALE if result == "yes" else 0)
        self.close_market(ticker, immediate=True)
        now = self.clock()
        market.status = "determined"
        market.result = result
        market.settlement_value = value
        self._emit(
            LifecycleEvent(
                ticker,
                "determined",
                {"result": result, "determination_ts": now // 1000, "settlement_value": value},
            )
        )
        event_ticker = market.event_ticker
        for account in self.accounts.values():
            pos = account.positions.get(ticker)
            if pos is None or pos.settled:
                continue
            held = pos.position
            yes_count = Count(max(held, 0))
            no_count = Count(max(-held, 0))
            revenue = Money(value * yes_count + (PRICE_SCALE - value) * no_count)
            account.add_cash(self._shard(market.exchange_index), revenue)
            settlement = Settlement(
                ticker,
                event_ticker,
                result,
                yes_count,
                no_count,
                Money(pos.cost if held > 0 else 0),
                Money(pos.cost if held < 0 else 0),
                revenue,
                value,
                now,
                market.exchange_index,
            )
            account.settlements.append(settlement)
            pos.realized_pnl = Money(pos.realized_pnl + revenue - pos.cost)
            pos.cost = Money(0)
            pos.position = Count(0)
            pos.settled = True
            pos.last_updated_ms = now
            self._emit(PositionEvent(account.account_id, ticker))
        market.open_interest = Count(0)
        market.status = "finalized"
        self._emit(LifecycleEvent(ticker, "settled", {"settled_ts": now // 1000}))

    def settle_event(self, event_ticker: str, yes_tickers: set[str]) -> None:
        """Determine every market of an event at once: ``yes_tickers`` YES, the others NO. A mutually
        exclusive event (a game: its teams and the TIE) settles exactly one market YES."""
        event = self._event(event_ticker)
        members = [t for t, m in self.markets.items() if m.event_ticker == event_ticker]
        unknown = sorted(yes_tickers - set(members))
        if unknown:
            raise errors.invalid_parameters(f"{', '.join(unknown)} is not a market of {event_ticker}")
        if event.mutually_exclusive and len(yes_tickers) != 1:
            raise errors.invalid_parameters(
                f"{event_ticker} is mutually exclusive: exactly one of its markets settles yes"
            )
        done = [t for t in members if self.markets[t].status in ("determined", "finalized")]
        if done:
            raise SimError(409, "market_closed", "market closed", f"{', '.join(done)} already settled")
        for ticker in members:
            self.settle_market(ticker, "yes" if ticker in yes_tickers else "no")

    # --- live metadata ----------------------------------------------------------------------------

    def set_price_levels(self, ticker: str, structure: str, ranges: list[dict[str, str]]) -> None:
        """A tick-size change: new orders must use the new grid; resting orders are kept (§3)."""
        market = self.market(ticker)
        grid = TickGrid.from_price_ranges(ranges)
        market.price_ranges = [dict(r) for r in ranges]
        market.price_level_structure = structure
        market.grid = grid
        market.updated_ms = self.clock()
        data = {"price_level_structure": structure, "price_ranges": [dict(r) for r in ranges]}
        self._emit(LifecycleEvent(ticker, "price_level_structure_updated", data))

    def update_market_metadata(self, ticker: str, changes: dict[str, str]) -> None:
        """Retitle a market (``title``, ``yes_sub_title``, ``rules_primary``): ``metadata_updated``."""
        market = self.market(ticker)
        for name, value in changes.items():
            if name not in MARKET_METADATA or not isinstance(value, str):
                raise ValueError(f"market metadata takes string {', '.join(MARKET_METADATA)}, not {name!r}")
            setattr(market, name, value)
        market.updated_ms = self.clock()
        self._emit(LifecycleEvent(ticker, "metadata_updated", {"additional_metadata": dict(changes)}))

    def set_close_time(self, ticker: str, close_ms: int) -> None:
        """Move ``close_time`` (postponement, or a winner known early): ``close_date_updated``."""
        market = self.market(ticker)
        market.close_ms = close_ms
        market.updated_ms = self.clock()
        self._emit(LifecycleEvent(ticker, "close_date_updated", {"close_ts": close_ms // 1000}))

    def update_event(self, event_ticker: str, changes: dict[str, str]) -> None:
        """Retitle an event (``title``, ``sub_title``): ``event_lifecycle`` on the lifecycle channel."""
        event = self._event(event_ticker)
        for name, value in changes.items():
            if name not in ("title", "sub_title") or not isinstance(value, str):
                raise ValueError(f"event metadata takes string title and sub_title, not {name!r}")
        self.events[event_ticker] = replace(event, **changes)
        self._emit(EventChanged(event_ticker, "event_lifecycle"))

    def set_event_fees(self, event_ticker: str, fee_type: str | None, multiplier: Decimal | None) -> None:
        """Set or clear an event's fee overrides (they win over the series'): ``event_fee_update``."""
        event = self._event(event_ticker)
        if fee_type is not None and fee_type not in FEE_TYPES:
            raise errors.invalid_parameters(f"fee_type_override must be one of {', '.join(FEE_TYPES)}")
        if multiplier is not None and multiplier < 0:
            raise errors.invalid_parameters("fee_multiplier_override must be >= 0")
        self.events[event_ticker] = replace(
            event, fee_type_override=fee_type, fee_multiplier_override=multiplier
        )
        self._emit(EventChanged(event_ticker, "event_fee_update"))

    def schedule_series_fee_change(
        self, series_ticker: str, fee_type: str, multiplier: Decimal, at_ms: int
    ) -> SeriesFeeChange:
        """Announce a series fee change; it takes effect at ``at_ms`` (market clock)."""
        if series_ticker not in self.series:
            raise errors.not_found()
        if fee_type not in FEE_TYPES:
            raise errors.invalid_parameters(f"fee_type must be one of {', '.join(FEE_TYPES)}")
        if multiplier < 0:
            raise errors.invalid_parameters("fee_multiplier must be >= 0")
        change = SeriesFeeChange(self._new_id(), series_ticker, fee_type, multiplier, at_ms)
        self.fee_changes.append(change)
        self._pending_fees.append(change)
        self._pending_fees.sort(key=lambda c: c.scheduled_ms)
        self.sweep()
        return change

    def _apply_fee_changes(self, now: int) -> None:
        while self._pending_fees and self._pending_fees[0].scheduled_ms <= now:
            change = self._pending_fees.pop(0)
            series = self.series[change.series_ticker]
            self.series[change.series_ticker] = replace(
                series, fee_type=change.fee_type, fee_multiplier=change.fee_multiplier
            )

    def _event(self, event_ticker: str) -> EventDef:
        try:
            return self.events[event_ticker]
        except KeyError:
            raise errors.not_found() from None

    # --- time -----------------------------------------------------------------------------------

    def sweep(self) -> None:
        """Cancel orders whose ``expiration_time`` has passed. Called before every operation."""
        now = self.clock()
        while self._expiries and self._expiries[0][0] <= now:
            exp, order_id = heapq.heappop(self._expiries)
            order = self._orders.get(order_id)
            if order is None or order.status != "resting" or order.expiration_ms != exp:
                continue
            self._cancel_resting(order, now)
        if self.fidelity.close_at_close_time or self._closing:
            self._close_due(now)
        if self._pending_fees:
            self._apply_fee_changes(now)
        self._flush_tickers(now)

    # --- helpers --------------------------------------------------------------------------------

    def _shard(self, exchange_index: int) -> int:
        """Where collateral for a market on ``exchange_index`` lives: its shard, or all on shard 0."""
        return exchange_index if self.fidelity.per_shard_cash else 0

    def _available(self, account: Account, market: Market) -> Money:
        if self.fidelity.per_shard_cash:
            return account.available_on(market.exchange_index)
        return account.available

    def transfer(self, account_id: str, source: int, destination: int, amount: Money) -> None:
        """Move available cash between shards (``POST /portfolio/intra_exchange_instance_transfer``)."""
        account = self.account(account_id)
        shards = self.shards()
        if source not in shards or destination not in shards or source == destination:
            raise errors.invalid_parameters(
                f"source and destination must be two different exchange shards of {sorted(shards)}"
            )
        if amount <= 0:
            raise errors.invalid_parameters("amount must be positive")
        if amount > account.available_on(source):
            raise errors.insufficient_balance()
        account.add_cash(source, -amount)
        account.add_cash(destination, amount)

    def shards(self) -> set[int]:
        return {m.exchange_index for m in self.markets.values()} | {0}

    def _next_priority(self) -> int:
        self._priority += 1
        return self._priority

    def _emit(self, event: SimEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    def _flush_tickers(self, now: int) -> None:
        touched, self._touched = self._touched, set()
        for ticker in sorted(touched):
            self._emit(TickerEvent(ticker, now))

    def top_of_book(self, ticker: str) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """((best YES bid, size), (best YES ask, size)) or None per side."""
        book = self.books[ticker]
        bid = book.best_bid()
        ask = book.best_ask()
        bid_level = (bid, sum(o.remaining for o in book.bids[bid])) if bid is not None else None
        ask_level = (ask, sum(o.remaining for o in book.asks[ask])) if ask is not None else None
        return bid_level, ask_level

    def all_orders(self) -> Iterable[Order]:
        return self._orders.values()


def _ceil_cent(amount: int) -> Money:
    """Round a Money amount up to a whole cent (toward +infinity)."""
    return Money(-(-amount // CENT_MONEY) * CENT_MONEY)
