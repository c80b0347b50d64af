"""The scanner against the simulator's ``large`` scenario over loopback HTTP (600 markets, 10 series)."""

from __future__ import annotations

import pytest

from kmm_tui.domain.prices import PRICE_SCALE, price_from_cents
from kmm_tui.kalshi.errors import KalshiError
from kmm_tui.kalshi.rest import KalshiRest, RetryPolicy
from kmm_tui.odds.cli import kalshi_events_for
from kmm_tui.scan.catalogue import Catalogue
from kmm_tui.scan.model import GAME_DAY_WINDOW_MS, Mode, ScanFilter, StartSource
from kmm_tui.scan.scanner import Scanner
from kmm_tui.sim import SimServer

CAT = Catalogue.packaged()


def truth(sim: SimServer) -> dict[str, tuple[int, int | None, int | None]]:
    """Independent of the client: ticker -> (milestone start, best bid, best ask) from the exchange."""
    starts = {t: m.start_ms for m in sim.exchange.milestones.values() for t in m.event_tickers}
    out = {}
    for ticker, market in sim.exchange.markets.items():
        bid, ask = sim.exchange.top_of_book(ticker)
        out[ticker] = (starts[market.event_ticker], bid[0] if bid else None, ask[0] if ask else None)
    return out


async def test_all_mode_lists_every_open_market_grouped_into_matches(
    large: SimServer, rest: KalshiRest
) -> None:
    now = large.clock.now_ms()
    result = await Scanner(rest, CAT).scan(CAT.selection(), ScanFilter(Mode.ALL), now)
    expected = truth(large)
    assert result.markets_seen == len(expected) >= 500
    assert {r.ticker for r in result.rows} == set(expected)
    assert len({r.series for r in result.rows}) == 10
    assert len(result.matches) == len(expected) // 2
    for row in result.rows:
        start, bid, ask = expected[row.ticker]
        assert (row.start.ms, row.start.source, row.bid, row.ask) == (start, StartSource.MILESTONE, bid, ask)
        assert row.spread == (ask or PRICE_SCALE) - (bid or 0)
    for match in result.matches:
        assert match.a.event_ticker == match.b.event_ticker == match.event_ticker
        assert match.a.ticker != match.b.ticker and match.tie is None
        assert match.a.series == match.series and match.sport == CAT.sport_of(match.series)[1]
    keys = [(m.start.ms, -m.widest_spread) for m in result.matches]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


async def test_game_day_window_and_min_spread_match_the_exchange(large: SimServer, rest: KalshiRest) -> None:
    now = large.clock.now_ms()
    minimum = price_from_cents(5)
    result = await Scanner(rest, CAT).scan(CAT.selection(), ScanFilter(Mode.GAME_DAY, minimum), now)
    widest: dict[str, int] = {}
    for ticker, (start, bid, ask) in truth(large).items():
        if now <= start <= now + GAME_DAY_WINDOW_MS:
            event = large.exchange.markets[ticker].event_ticker
            widest[event] = max(widest.get(event, 0), (ask or PRICE_SCALE) - (bid or 0))
    wanted = {
        t for t, m in large.exchange.markets.items() if widest.get(m.event_ticker, -1) >= minimum
    }
    assert wanted and {r.ticker for r in result.rows} == wanted  # every market of a match wide enough
    assert {m.event_ticker for m in result.matches} == {e for e, w in widest.items() if w >= minimum}
    assert all(m.widest_spread >= minimum for m in result.matches)


async def test_sport_and_series_selection(large: SimServer, rest: KalshiRest) -> None:
    scanner = Scanner(rest, CAT)
    now = large.clock.now_ms()
    tennis = await scanner.scan(CAT.selection(sports=["atp", "wta"]), ScanFilter(Mode.ALL), now)
    assert {r.series for r in tennis.rows} == {"KXATPMATCH", "KXWTAMATCH"}
    assert tennis.series == ("KXATPMATCH", "KXWTAMATCH")
    one = await scanner.scan(CAT.selection(series=["KXCS2GAME"]), ScanFilter(Mode.ALL), now)
    assert {r.series for r in one.rows} == {"KXCS2GAME"} and one.markets_seen == 60


async def test_sequential_and_concurrent_scans_agree(large: SimServer, rest: KalshiRest) -> None:
    now = large.clock.now_ms()
    concurrent = await Scanner(rest, CAT, concurrency=8).scan(CAT.selection(), ScanFilter(Mode.ALL), now)
    sequential = await Scanner(rest, CAT, concurrency=1).scan(CAT.selection(), ScanFilter(Mode.ALL), now)
    assert concurrent == sequential
    with pytest.raises(ValueError, match="at least 1"):
        Scanner(rest, CAT, concurrency=0)


async def test_server_errors_surface_as_client_errors(large: SimServer) -> None:
    async with KalshiRest(large.base_url, retry=RetryPolicy(attempts=2, base_s=0.001)) as client:
        large.faults.http_errors(1000, status=503)
        with pytest.raises(KalshiError) as info:
            await Scanner(client, CAT).scan(CAT.selection(series=["KXNBAGAME"]), ScanFilter(), 0)
        assert info.value.status == 503 and info.value.retryable
        large.faults.clear()


async def test_kalshi_events_for_feeds_the_odds_matcher(large: SimServer, rest: KalshiRest) -> None:
    events = await kalshi_events_for(rest, "KXNBAGAME")
    expected = {
        m.event_ticker for m in large.exchange.markets.values() if m.event_ticker.startswith("KXNBAGAME-")
    }
    assert {e.event_ticker for e in events} == expected
    for event in events:
        a, b = event.teams
        assert a.label.startswith("Team ") and a.ticker.startswith(event.event_ticker + "-")
        assert b.label.startswith("Team ") and b.ticker != a.ticker
        assert event.start_ms is not None and event.tie is None
