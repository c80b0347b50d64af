"""Hand-built engine snapshots for rendering tests and SVG snapshots (deterministic: fixed clock).

``StaticEngine`` serves one fixed ``EngineView``; it is for rendering only. Anything that sends
commands is tested against the real engine and the simulator (test_integration.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Inventory
from kmm_tui.domain.prices import Count, Money, Price, contracts
from kmm_tui.domain.quoting import Decision, QuoteMemo, Reason, SideQuote
from kmm_tui.engine.commands import Command
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.events import Event, Level
from kmm_tui.engine.model import MatchSpec, MatchStatus, TheoInput
from kmm_tui.engine.state import (
    DecisionLogEntry,
    EngineView,
    FillView,
    LogLine,
    MarketView,
    MatchView,
    OrderView,
)

NOW_MS = 1_795_000_000_000  # fixed clock for deterministic rendering
TZ = UTC
MIN = 60_000


def c(cents: int) -> Price:
    return Price(cents * 100)


def book(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> Book:
    return Book(
        tuple((c(p), contracts(n)) for p, n in bids),
        tuple((c(p), contracts(n)) for p, n in asks),
    )


def quote(price: int | None, reason: Reason, detail: str, ceiling: int | None, size: int = 10) -> SideQuote:
    return SideQuote(
        c(price) if price is not None else None,
        contracts(size),
        reason,
        detail,
        c(ceiling) if ceiling is not None else None,
    )


def match(
    index: int,
    name: str,
    teams: tuple[str, str],
    status: MatchStatus,
    theo: tuple[int, int],
    books: tuple[Book, Book],
    quotes: tuple[SideQuote, SideQuote] | None,
    inventory: Inventory = Inventory(),  # noqa: B008 - frozen value
    fills: tuple[FillView, ...] = (),
    orders: tuple[OrderView, ...] = (),
    status_reason: str = "",
) -> MatchView:
    event = f"KXCS2GAME-26NOV28{1300 + index}TEAM{index}"
    ta, tb = f"{event}-A", f"{event}-B"
    spec = MatchSpec(f"{ta}+{tb}", ta, tb, TheoInput(theo_a=c(theo[0]), theo_b=c(theo[1])), name=name)
    history = tuple(
        (NOW_MS - (30 - i) * 1000, c(theo[0]), c(theo[0] - 3 - i % 3), c(theo[1]), c(theo[1] - 2 - i % 2))
        for i in range(30)
    )
    decisions = (
        (
            DecisionLogEntry(NOW_MS - 2000, "a", quotes[0].reason.value, quotes[0].detail, quotes[0].price),
            DecisionLogEntry(NOW_MS - 3000, "b", quotes[1].reason.value, quotes[1].detail, quotes[1].price),
        )
        if quotes
        else ()
    )
    return MatchView(
        spec=spec,
        status=status,
        status_reason=status_reason or status.value,
        event_ticker=event,
        market_a=MarketView(ta, teams[0], books[0], "active", False),
        market_b=MarketView(tb, teams[1], books[1], "active", False),
        theo_a=c(theo[0]),
        theo_b=c(theo[1]),
        quote_a=quotes[0] if quotes else None,
        quote_b=quotes[1] if quotes else None,
        inventory=inventory,
        orders=orders,
        fills=fills,
        decisions=decisions,
        history=history,
        start_ms=NOW_MS + (45 + index * 30) * MIN,
        start_source="milestone",
    )


def fill(trade: str, ticker: str, side: str, price: int, n: int, fee_micro: int, ago_s: int) -> FillView:
    return FillView(
        trade, ticker, side, c(price), contracts(n), Money(fee_micro), False, NOW_MS - ago_s * 1000
    )


def demo_view() -> EngineView:
    inv = _inventory()
    m0 = match(
        0,
        "Vitality v FaZe",
        ("Vitality", "FaZe"),
        MatchStatus.QUOTING,
        (55, 45),
        (
            book([(53, 25), (52, 100)], [(57, 40), (58, 120)]),
            book([(43, 30), (41, 50)], [(46, 20), (47, 80)]),
        ),
        (
            quote(53, Reason.AT_CEILING, "at ceiling 53c", 53),
            quote(43, Reason.OUTBID, "outbid at 42c → 43c", 43),
        ),
        inventory=inv,
        fills=(
            fill("t2", "KXCS2GAME-26NOV281300TEAM0-B", "b", 42, 5, 1400, 40),
            fill("t1", "KXCS2GAME-26NOV281300TEAM0-A", "a", 52, 10, 2100, 90),
        ),
        orders=(
            OrderView(
                "c1", "o1", "KXCS2GAME-26NOV281300TEAM0-A", "a", c(53), contracts(10), Count(0), "resting"
            ),
            OrderView(
                "c2", "o2", "KXCS2GAME-26NOV281300TEAM0-B", "b", c(43), contracts(5), contracts(5), "resting"
            ),
        ),
    )
    m1 = match(
        1,
        "",
        ("Fnatic", "G2"),
        MatchStatus.QUOTING,
        (48, 52),
        (book([(49, 60)], [(51, 10)]), book([(50, 5)], [(53, 10)])),
        (
            quote(45, Reason.COMPETITOR_ABOVE_CEILING, "competitor above ceiling at 49c", 46),
            quote(48, Reason.QUOTING, "one tick above 47c", 50),
        ),
    )
    m2 = match(
        2,
        "Lakers v Celtics",
        ("Lakers", "Celtics"),
        MatchStatus.HALTED,
        (40, 60),
        (book([], []), book([], [])),
        None,
        status_reason="feed stale for 30s",
    )
    m3 = match(
        3,
        "Arsenal v Chelsea",
        ("Arsenal", "Chelsea"),
        MatchStatus.QUOTING,
        (50, 50),
        (book([(47, 10)], [(52, 10)]), book([(46, 10)], [(51, 10)])),
        (
            quote(None, Reason.PAUSED_BEFORE_START, "paused: event starts in 4m", 48),
            quote(None, Reason.OVEREXPOSED, "long 50 B at the limit", 48),
        ),
    )
    logs = (
        LogLine(NOW_MS - 50_000, Level.INFO, "added Vitality v FaZe", m0.spec.match_id),
        LogLine(NOW_MS - 40_000, Level.WARNING, "amend rejected: post only cross", m0.spec.match_id),
        LogLine(NOW_MS - 30_000, Level.ERROR, "halted: feed stale for 30s", m2.spec.match_id),
        LogLine(NOW_MS - 20_000, Level.WARNING, "kill all: kill switch", None),
    )
    return EngineView(
        environment="sim",
        matches=(m0, m1, m2, m3),
        balance=Money(9_950_120_000),
        feed_connected=True,
        feed_detail="ok",
        read_headroom=0.98,
        write_headroom=0.75,
        resting_orders=2,
        logs=logs,
        ts_ms=NOW_MS,
    )


def _inventory() -> Inventory:
    from kmm_tui.domain.inventory import Side

    return (
        Inventory()
        .apply_fill(Side.A, c(52), contracts(10), Money(2100))
        .apply_fill(Side.B, c(42), contracts(5), Money(1400))
    )


@dataclass
class StaticEngine:
    """Serves a fixed snapshot; refuses commands (rendering tests only)."""

    view: EngineView = field(default_factory=demo_view)
    environment: str = "sim"
    listeners: list[Callable[[Event], None]] = field(default_factory=list)

    def snapshot(self) -> EngineView:
        return self.view

    async def execute(self, command: Command) -> None:
        raise EngineError("this is a read-only snapshot: commands need the real engine")

    def listen(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    async def describe_pair(self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None) -> object:
        raise EngineError("no exchange in rendering tests", field="ticker_a")

    def preview(self, spec: MatchSpec) -> Decision:
        raise EngineError("no preview in rendering tests")

    async def preview_live(self, spec: MatchSpec) -> Decision:
        return self.preview(spec)


def fixed_clock() -> int:
    return NOW_MS


__all__ = ["NOW_MS", "TZ", "Decision", "QuoteMemo", "StaticEngine", "demo_view", "fixed_clock"]
