"""The Scanner's rendering data: markets and events as the exchange sends them, grouped by the real
scanner code (``kmm_tui.scan.grouping``) into a :class:`ScanResult` with every shape."""

from __future__ import annotations

from datetime import UTC, datetime

from kmm_tui.kalshi.models import Event, Market, Milestone
from kmm_tui.scan.catalogue import Catalogue
from kmm_tui.scan.grouping import ScanEvent, apply_filters, build_events
from kmm_tui.scan.model import Mode, ScanFilter, ScanResult
from tests.tui.views import MIN, NOW_MS


def _wire_market(ticker: str, team: str, bid: int, ask: int, size: int) -> Market:
    return Market.from_wire(
        {
            "ticker": ticker,
            "event_ticker": ticker.rsplit("-", 1)[0],
            "status": "active",
            "yes_sub_title": team,
            "no_sub_title": team,
            "yes_bid_dollars": f"0.{bid:02d}00",
            "yes_bid_size_fp": f"{size}.00",
            "yes_ask_dollars": f"0.{ask:02d}00",
            "yes_ask_size_fp": f"{size * 2}.00",
            "volume_fp": f"{size * 10}.00",
        }
    )


def scan_result() -> ScanResult:
    """The Scanner's data, grouped by the real scanner code from wire-shaped markets and events: a
    two-team CS2 match (the one ``demo_view`` quotes), an NBA game, an EPL game with its TIE market, an
    NBA totals event (two strikes, not mutually exclusive) and a tournament winner (not supported)."""
    catalogue = Catalogue.packaged()
    specs = [
        # series, event, title, exclusive, start offset (min), markets (suffix, team, bid, ask, size)
        ("KXCS2GAME", "KXCS2GAME-26NOV281300TEAM0", "Vitality vs FaZe", True, 45,
         [("A", "Vitality", 52, 55, 40), ("B", "FaZe", 43, 46, 25)]),
        ("KXNBAGAME", "KXNBAGAME-26NOV28LALBOS", "Lakers at Celtics", True, 180,
         [("LAL", "Lakers", 45, 47, 100), ("BOS", "Celtics", 51, 54, 80)]),
        ("KXEPLGAME", "KXEPLGAME-26NOV28ARSCHE", "Arsenal vs Chelsea", True, 270,
         [("ARS", "Arsenal", 46, 48, 60), ("CHE", "Chelsea", 24, 27, 30), ("TIE", "Tie", 25, 29, 20)]),
        ("KXNBATOTAL", "KXNBATOTAL-26NOV28LALBOS", "Lakers at Celtics: Total Points", False, 180,
         [("220", "Over 220.5 points", 55, 58, 50), ("225", "Over 225.5 points", 40, 45, 30)]),
        ("KXLOLCHAMP", "KXLOLCHAMP-26", "LoL Worlds winner", True, 24 * 60,
         [("T1", "T1", 30, 34, 10), ("GEN", "Gen.G", 25, 30, 10), ("BLG", "BLG", 20, 24, 10)]),
    ]
    events: list[ScanEvent] = []
    for series, event_ticker, title, exclusive, start_min, markets in specs:
        entry = catalogue.entry_for(series)
        assert entry is not None
        start = datetime.fromtimestamp((NOW_MS + start_min * MIN) / 1000, UTC).isoformat()
        milestone = Milestone.from_wire(
            {"id": f"m-{event_ticker}", "start_date": start, "primary_event_tickers": [event_ticker]}
        )
        event = Event.from_wire(
            {"event_ticker": event_ticker, "title": title, "mutually_exclusive": exclusive},
            milestones=[milestone],
        )
        wire = [_wire_market(f"{event_ticker}-{code}", *rest) for code, *rest in markets]
        events += build_events(entry, wire, {event_ticker: event})
    rows, matches, unsupported = apply_filters(events, ScanFilter(Mode.ALL), NOW_MS)
    return ScanResult(rows, matches, tuple(s[0] for s in specs), len(rows), NOW_MS, ScanFilter(Mode.ALL),
                      unsupported)


