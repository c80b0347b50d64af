"""``--theo`` parsing and ceilings (grid and fee aware), and ``kmm odds coverage`` wired to Kalshi."""

from __future__ import annotations

import argparse
import asyncio
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kmm_tui.config import Defaults, EnvName
from kmm_tui.domain.prices import TickGrid, price_from_cents
from kmm_tui.domain.theo import DevigMethod, OddsError
from kmm_tui.environments import Environment
from kmm_tui.odds.cli import main as odds_main
from kmm_tui.scan.model import Outcome, ScanMatch, ScanRow, Shape, StartSource, StartTime
from kmm_tui.scan.theo_prompt import FeeSchedule, ceilings, parse_answer, quote_settings
from kmm_tui.sim import SimServer
from tests.odds.fakes import FakeProvider

MULT = DevigMethod.MULTIPLICATIVE
HALF_CENT_EDGES = TickGrid.from_price_ranges(
    [
        {"start": "0.0000", "end": "0.1000", "step": "0.0050"},
        {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
        {"start": "0.9000", "end": "1.0000", "step": "0.0050"},
    ]
)


def row(ticker: str, grid: TickGrid) -> ScanRow:
    return ScanRow(
        "ATP tennis",
        "atp",
        "KXATPMATCH",
        "KXATPMATCH-26NOV28SINALC",
        "Sinner vs Alcaraz",
        ticker,
        ticker[-3:],
        None,
        None,
        None,
        None,
        0,
        0,
        StartTime(None, StartSource.UNKNOWN),
        grid=grid,
    )


def match(grid: TickGrid = HALF_CENT_EDGES, shape: Shape = Shape.TEAMS) -> ScanMatch:
    sinner, alcaraz = row("KXATPMATCH-26NOV28SINALC-SIN", grid), row("KXATPMATCH-26NOV28SINALC-ALC", grid)
    outcomes = {
        Shape.TEAMS: (Outcome("A", "Sinner", sinner), Outcome("B", "Alcaraz", alcaraz)),
        Shape.THREE_WAY: (
            Outcome("A", "Sinner", sinner),
            Outcome("T", "Tie", row("KXATPMATCH-26NOV28SINALC-TIE", grid)),
            Outcome("B", "Alcaraz", alcaraz),
        ),
        Shape.YES_NO: (Outcome("A", "YES", sinner), Outcome("B", "NO", sinner, is_no=True)),
    }[shape]
    start = StartTime(None, StartSource.UNKNOWN)
    event = "KXATPMATCH-26NOV28SINALC"
    return ScanMatch("ATP tennis", "atp", "KXATPMATCH", event, "Sinner vs Alcaraz", start, shape, outcomes)


def test_parse_answer_theo_odds_and_soccer() -> None:
    c = price_from_cents
    assert parse_answer("  ", 2, MULT) is None
    assert parse_answer("55", 2, MULT) == (c(55), c(45))
    assert parse_answer("55, 44.5", 2, MULT) == (c(55), c("44.5"))
    assert parse_answer("40 35 25", 3, MULT) == (c(40), c(35), c(25))
    assert parse_answer("o 2 2", 2, MULT) == (c(50), c(50))
    assert parse_answer("odds 2.8 2.8 2.8", 3, MULT) == (3333, 3333, 3333)
    for text, outcomes, fragment in [
        ("o1.9 2.0", 2, "put a space after 'o'"),
        ("1.9 2.0", 2, "type 'o 1.9 2.0'"),
        ("40 35", 3, "team A, team B and the draw"),
        ("40 35 20", 3, "must sum to exactly 100c"),
        ("o 2.5 2.5", 2, "less than 100 %"),
        ("o 0.9 3", 2, "greater than 1.0"),
        ("120", 2, "between 0 and 100"),
    ]:
        with pytest.raises(OddsError, match=None) as info:
            parse_answer(text, outcomes, MULT)
        assert fragment in str(info.value), text


def test_ceilings_follow_the_market_grid_and_the_maker_fee() -> None:
    defaults = Defaults(edge_cents=Decimal(2))
    a, b = ceilings(
        match(), (price_from_cents("7.75"), price_from_cents("92.25")), quote_settings(defaults, None)
    )
    assert a.ceiling == price_from_cents("5.5")  # 5.75c floored to the half-cent band under 10c
    assert b.ceiling == price_from_cents(90)  # 90.25c floored: 90c is on both bands
    fees = FeeSchedule("quadratic_with_maker_fees", Decimal(1))
    aware = quote_settings(Defaults(edge_cents=Decimal(2), fee_aware=True), fees)
    a, _ = ceilings(match(TickGrid.linear_cent()), (price_from_cents(55), price_from_cents(45)), aware)
    assert a.ceiling == price_from_cents(52)  # 53c + its 0.44c maker fee > 53c; 52c + 0.44c fits
    with pytest.raises(OddsError, match="unknown fee schedule 'mystery'"):
        quote_settings(defaults, FeeSchedule("mystery", Decimal(1)))


def test_every_outcome_gets_a_ceiling_in_outcome_order() -> None:
    settings = quote_settings(Defaults(edge_cents=Decimal(2)), None)
    c = price_from_cents
    soccer = match(TickGrid.linear_cent(), Shape.THREE_WAY)
    home, tie, away = ceilings(soccer, (c(45), c(28), c(27)), settings)
    assert (home.ceiling, tie.ceiling, away.ceiling) == (c(43), c(26), c(25))
    yes, no = ceilings(match(TickGrid.linear_cent(), Shape.YES_NO), (c(55), c(45)), settings)
    assert (yes.ceiling, no.ceiling) == (c(53), c(43))  # the NO ceiling is a NO price


async def test_odds_coverage_counts_the_kalshi_events(large: SimServer) -> None:
    provider = (
        FakeProvider()
        .add("/v4/sports", fixture="theoddsapi/sports.json", headers="theoddsapi/headers_sports_200.json")
        .add(
            "/v4/sports/basketball_nba/events",
            fixture="theoddsapi/odds_basketball_nba_h2h.json",
            headers="theoddsapi/headers_sports_200.json",
        )
    )
    settings = SimpleNamespace(
        odds=SimpleNamespace(the_odds_api_key="k", oddspapi_key=None, regions=("us",), bookmakers=()),
        scanner=SimpleNamespace(series=("KXNBAGAME", "KXCS2GAME")),
    )
    environment = Environment(EnvName.DEMO, large.base_url, None, None, None, is_live=False)
    args = argparse.Namespace(odds_command="coverage", json=False, state_dir=None, environment=environment)
    out = io.StringIO()
    status = await asyncio.to_thread(odds_main, args, settings, out=out, transport=provider.transport())
    assert status == 0
    lines = out.getvalue().splitlines()
    nba_events = len(
        {m.event_ticker for m in large.exchange.markets.values() if m.event_ticker.startswith("KXNBAGAME-")}
    )
    nba = next(line for line in lines if line.startswith("KXNBAGAME")).split()
    assert nba[2:5] == ["theoddsapi", "basketball_nba", "2"] and nba[5] == str(nba_events)
    assert nba[6:8] == ["0", "0"]  # generated "Team ABC" names match no sportsbook event
    assert "Kalshi market list unavailable" not in out.getvalue()
