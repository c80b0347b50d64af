"""Restart reconciliation: make the engine's picture match the exchange before anything quotes.

Kalshi has no cancel-on-disconnect, so a crash (or ``kill -9``, or a lost machine) can leave our bids
resting and fills unrecorded. On every start, in this order:

1. bind client order ids to exchange order ids for orders the journal knew only as intents;
2. cancel every resting order that is ours (client id prefix ``kmm-``), verified by listing again;
3. back-fill fills since the last one journaled (deduplicated by trade id) into their matches;
4. reload the journal's matches, rebuilding each inventory from its journaled fills, stopped;
5. read the exchange's positions for those markets, so the drift guard can compare.

What was found is reported as one log line per step. Quoting starts only after this returns.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kmm_tui.domain.inventory import Side
from kmm_tui.engine.bus import Bus
from kmm_tui.engine.events import Level
from kmm_tui.engine.exchange import ExchangePort, order_state, side_price
from kmm_tui.engine.execution import Execution
from kmm_tui.engine.journal import Journal, JournalFill, JournalOrder
from kmm_tui.engine.lifecycle import Lifecycle
from kmm_tui.engine.model import MatchStatus
from kmm_tui.engine.orders import CLIENT_ID_PREFIX, NOT_FOUND_AFTER_MS
from kmm_tui.engine.portfolio import Portfolio, inventory_from_fills
from kmm_tui.kalshi.errors import KalshiError, RateLimited, Unavailable
from kmm_tui.kalshi.models import Order

LOOKBACK_WITHOUT_HISTORY_MS = 24 * 3_600_000
RECOVERY_ATTEMPTS = 5  # a 429 storm or an outage at start-up is waited out (about 30 s), then reported


@dataclass(frozen=True, slots=True)
class Components:
    """The parts of the engine that recovery rebuilds: it never goes through the facade."""

    bus: Bus
    port: ExchangePort
    lifecycle: Lifecycle
    execution: Execution
    portfolio: Portfolio


async def recover(parts: Components, journal: Journal | None, *, adopt: bool = False) -> None:
    """Run the five steps above. Network failures are reported and re-raised: never quote blind.

    With ``adopt``, resting orders of matches that were quoting when the last run ended are kept and
    handed to those matches, which resume quoting once reconciliation is complete; every other order
    of ours is still cancelled.
    """
    bus, port, lifecycle = parts.bus, parts.port, parts.lifecycle
    now = bus.clock()
    for attempt in range(1, RECOVERY_ATTEMPTS + 1):
        try:
            found_on_exchange = await _reconcile_exchange(port, journal, adopt, now)
            break
        except (Unavailable, RateLimited) as error:  # the exchange is busy: every step is safe to repeat
            if attempt == RECOVERY_ATTEMPTS:
                bus.log(Level.ERROR, f"restart reconciliation failed: {error.user_message}")
                raise
            delay_s = min(2.0**attempt, 15.0)
            bus.log(Level.WARNING, f"restart reconciliation: {error.user_message}; again in {delay_s:g}s")
            await asyncio.sleep(delay_s)
        except KalshiError as error:
            bus.log(Level.ERROR, f"restart reconciliation failed: {error.user_message}")
            raise
    bound, resumable, adopted, orphans, left, backfilled = found_on_exchange
    if journal is None:
        if left:
            bus.log(Level.ERROR, f"{left} order(s) of ours are still resting — check the exchange")
        return
    restored = await _restore_matches(bus, lifecycle, journal)
    for row, order in adopted:
        parts.execution.adopt(row.match_id, Side(row.side), order)
    found = [
        f"{restored} match(es) loaded",
        f"{orphans} resting order(s) of ours cancelled" if orphans else "no orders of ours were resting",
        f"{backfilled} fill(s) back-filled",
    ]
    if bound:
        found.append(f"{bound} unacknowledged order(s) found on the exchange")
    if adopted:
        found.append(f"{len(adopted)} resting order(s) adopted")
    bus.log(Level.WARNING if orphans or backfilled else Level.INFO, "recovery: " + ", ".join(found))
    if left:
        bus.log(Level.ERROR, f"{left} order(s) of ours are still resting after cancel — check the exchange")
    await parts.portfolio.sync_positions()
    for match_id in sorted(resumable & lifecycle.match_ids()):
        await lifecycle.resume(match_id)


async def _reconcile_exchange(
    port: ExchangePort, journal: Journal | None, adopt: bool, now: int
) -> tuple[int, set[str], list[tuple[JournalOrder, Order]], int, int, int]:
    """The network half of recovery: bind intents, keep adoptable orders, cancel every other order of
    ours (twice when the last run wrote moments ago), back-fill fills. Safe to repeat after a failure."""
    recent = journal.last_order_activity_ms() if journal is not None else None  # before binding edits it
    bound = await _bind_intents(port, journal, now)
    resumable: set[str] = set()
    adopted: list[tuple[JournalOrder, Order]] = []
    if adopt and journal is not None:
        resumable = {m.spec.match_id for m in journal.matches() if m.status == MatchStatus.QUOTING.value}
        adopted = _adoptable(journal, await port.resting_orders_of_ours(), resumable)
    keep = frozenset(order.order_id for _, order in adopted)
    orphans, left = await port.cancel_all_ours(keep=keep)
    if recent is not None and now - recent < NOT_FOUND_AFTER_MS:
        # The last run wrote moments ago: a write of it may still land, or a lagging read may not show
        # it yet. Look again once the read lag has passed.
        await asyncio.sleep((recent + NOT_FOUND_AFTER_MS - now) / 1000)
        late, left = await port.cancel_all_ours(keep=keep)
        orphans += late
    backfilled = await _backfill(port, journal, now)
    return bound, resumable, adopted, orphans, left, backfilled


def _adoptable(
    journal: Journal, resting: list[Order], resumable: set[str]
) -> list[tuple[JournalOrder, Order]]:
    """Our resting orders that the journal ties to a match that was quoting."""
    found = []
    for order in resting:
        row = journal.order_by_order_id(order.order_id)
        if row is None and order.client_order_id:
            row = journal.order_by_client_id(order.client_order_id)
        # our only asks are the NO bids of a single market's side B
        ours = order.book_side == "bid" or (order.book_side == "ask" and row is not None and row.side == "b")
        if row is not None and row.match_id in resumable and ours:
            found.append((row, order))
    return found


async def _bind_intents(port: ExchangePort, journal: Journal | None, now: int) -> int:
    """Orders whose create we never saw acknowledged: find them on the exchange by client id. One the
    read does not show never landed — if it is older than the read lag; a newer one may simply not show
    yet, so it stays open (the cancel of every order of ours by prefix covers it either way)."""
    if journal is None:
        return 0
    since = journal.earliest_open_intent_ms()
    if since is None:
        return 0
    open_rows = {o.client_order_id: o for o in journal.orders(states=("pending", "unknown", "resting"))}
    bound = 0
    for order in await port.orders_since(since):
        row = open_rows.get(order.client_order_id or "")
        if row is None:
            continue
        state = order_state(order.status, order.remaining_count).value
        journal.order_update(
            row.client_order_id,
            row.match_id,
            "recovered",
            price=side_price(order.book_side, order.price),
            count=order.initial_count,
            order_id=order.order_id,
            state=state,
            detail="found on the exchange at restart",
            ts_ms=order.last_update_ms or since,
        )
        bound += row.order_id is None
    for row in open_rows.values():  # still pending after the lookup: the create never landed
        found = journal.order_by_client_id(row.client_order_id)
        settled = now - journal.order_created_ms(row.client_order_id) >= NOT_FOUND_AFTER_MS
        if found is not None and found.state in ("pending", "unknown") and found.order_id is None and settled:
            journal.order_update(
                row.client_order_id,
                row.match_id,
                "lost",
                price=None,
                count=None,
                order_id=None,
                state="cancelled",
                detail="never reached the exchange",
                ts_ms=since,
            )
    return bound


async def _backfill(port: ExchangePort, journal: Journal | None, now: int) -> int:
    """Fills of our journaled orders that the journal does not have yet."""
    if journal is None:
        return 0
    since = journal.last_fill_ms()
    if since is None:
        since = journal.earliest_open_intent_ms() or (now - LOOKBACK_WITHOUT_HISTORY_MS)
    added = 0
    for fill in await port.fills_since(since):
        record = journal.order_by_order_id(fill.order_id)
        if record is None and fill.client_order_id and fill.client_order_id.startswith(CLIENT_ID_PREFIX):
            record = journal.order_by_client_id(fill.client_order_id)
        if record is None or not _our_side(fill.book_side, record.side):
            continue
        added += journal.record_fill(
            JournalFill(
                fill.trade_id,
                record.match_id,
                fill.order_id,
                fill.ticker,
                record.side,
                side_price(fill.book_side, fill.price),
                fill.count,
                fill.fee,
                fill.is_taker,
                fill.ts_ms,
            )
        )
    return added


def _our_side(book_side: str, side: str) -> bool:
    """A fill of ours: a bid, or an ask on side B (a single market's NO bid)."""
    return book_side == "bid" or (book_side == "ask" and side == "b")


async def _restore_matches(bus: Bus, lifecycle: Lifecycle, journal: Journal) -> int:
    restored = 0
    for record in journal.matches():
        inventory = inventory_from_fills(journal.fills(record.spec.match_id))
        seen = {f.trade_id for f in journal.fills(record.spec.match_id)}
        status = MatchStatus.HALTED if record.status == MatchStatus.HALTED.value else MatchStatus.STOPPED
        reason = record.reason if status is MatchStatus.HALTED else "restored after restart; start to quote"
        try:
            await lifecycle.restore(record.spec, status, reason, inventory, seen, record.order_group_id)
        except Exception as error:  # a market that no longer exists must not block the others
            bus.log(Level.WARNING, f"could not restore {record.spec.name or record.spec.match_id}: {error}")
            continue
        restored += 1
    return restored
