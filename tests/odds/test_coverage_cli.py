"""``kmm odds coverage`` end to end against a loopback server (free calls only)."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from kmm_tui.odds.cli import main
from kmm_tui.odds.matching import KalshiEvent, KalshiOutcome
from tests.odds.fakes import FakeProvider

SERIES = ("KXNBAGAME", "KXNHLGAME", "KXCS2GAME", "KXATPMATCH", "KXFOOGAME")


def settings(odds_key: str | None = "toa-key", papi_key: str | None = "papi-key") -> SimpleNamespace:
    return SimpleNamespace(
        odds=SimpleNamespace(
            the_odds_api_key=odds_key, oddspapi_key=papi_key, regions=("us",), bookmakers=()
        ),
        scanner=SimpleNamespace(series=SERIES),
    )


def fake() -> FakeProvider:
    return (
        FakeProvider()
        .add("/v4/sports", fixture="theoddsapi/sports.json", headers="theoddsapi/headers_sports_200.json")
        .add(
            "/v4/sports/basketball_nba/events",
            fixture="theoddsapi/odds_basketball_nba_h2h.json",
            headers="theoddsapi/headers_sports_200.json",
        )
        .add("/v4/sports/icehockey_nhl/events", fixture="theoddsapi/events_icehockey_nhl.json")
        .add("/v4/account", body={"requestsRemaining": 180, "requestsUsed": 70})
    )


def event(ticker: str, a: str, b: str) -> KalshiEvent:
    return KalshiEvent(
        ticker, f"{a} vs {b}", (KalshiOutcome(f"{ticker}-A", a), KalshiOutcome(f"{ticker}-B", b))
    )


async def kalshi_events(series: Sequence[str]) -> Mapping[str, Sequence[KalshiEvent]]:
    assert tuple(series) == SERIES
    return {
        "KXNBAGAME": [
            event("KXNBAGAME-26NOV28BOSNYK", "Boston", "New York"),
            event("KXNBAGAME-26NOV28MIAORL", "Miami", "Orlando"),
        ],
        "KXNHLGAME": [event("KXNHLGAME-26NOV28MTLTOR", "Montreal", "Toronto")],
    }


def args(tmp_path: Path, *, as_json: bool = False) -> argparse.Namespace:
    return argparse.Namespace(odds_command="coverage", json=as_json, state_dir=tmp_path)


def test_coverage_table(tmp_path: Path) -> None:
    server, out = fake(), io.StringIO()
    status = main(
        args(tmp_path), settings(), out=out, kalshi_events=kalshi_events, transport=server.transport()
    )
    text = out.getvalue()
    assert status == 0
    nba = next(line for line in text.splitlines() if line.startswith("KXNBAGAME"))
    assert nba.split()[2:8] == ["theoddsapi", "basketball_nba", "2", "2", "1", "0"]
    assert "listing is billable" in next(line for line in text.splitlines() if line.startswith("KXCS2GAME"))
    assert "no active The Odds API league" in next(
        ln for ln in text.splitlines() if ln.startswith("KXATPMATCH")
    )
    assert "Quota theoddsapi: 437 left (63 used)" in text
    assert "Quota oddspapi: 180 left (70 used)" in text
    assert all(c.path != "/v4/odds" and not c.path.endswith("/odds") for c in server.calls)  # no credits


def test_coverage_json(tmp_path: Path) -> None:
    out = io.StringIO()
    status = main(
        args(tmp_path, as_json=True),
        settings(),
        out=out,
        kalshi_events=kalshi_events,
        transport=fake().transport(),
    )
    data = json.loads(out.getvalue())
    assert status == 0
    nhl = next(r for r in data["series"] if r["series"] == "KXNHLGAME")
    assert (nhl["book_events"], nhl["kalshi_events"], nhl["matched"]) == (2, 1, 1)
    assert data["quota"]["theoddsapi"]["remaining"] == 437
    unknown = next(r for r in data["series"] if r["series"] == "KXFOOGAME")
    assert "manual theo" in unknown["note"]


def test_coverage_without_kalshi_list_still_reports(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(args(tmp_path), settings(papi_key=None), out=out, transport=fake().transport()) == 0
    assert "Kalshi market list unavailable" in out.getvalue()


def test_without_keys_every_source_is_listed_with_how_to_enable_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert main(args(tmp_path), settings(None, None), out=out, kalshi_events=kalshi_events) == 0
    text = out.getvalue()
    assert capsys.readouterr().err == ""
    for name, setting, variable in (
        ("theoddsapi", "the_odds_api_key", "KMM_ODDS_API_KEY"),
        ("oddspapi", "oddspapi_key", "KMM_ODDSPAPI_KEY"),
        ("sportsgameodds", "sportsgameodds_key", "KMM_SPORTSGAMEODDS_KEY"),
    ):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"Source {name} "))
        assert line.endswith(f"no key: set [odds] {setting} in settings.toml or {variable}")
    nba = next(line for line in text.splitlines() if line.startswith("KXNBAGAME"))
    assert "no configured source covers it" in nba
    out = io.StringIO()
    assert main(args(tmp_path, as_json=True), settings(None, None), out=out) == 0
    sources = json.loads(out.getvalue())["sources"]
    assert [(s["name"], s["configured"]) for s in sources] == [
        ("theoddsapi", False), ("oddspapi", False), ("sportsgameodds", False)
    ]


def test_a_sportsgameodds_key_covers_its_leagues(tmp_path: Path) -> None:
    only_sgo = settings(None, None)
    only_sgo.odds.sportsgameodds_key = "sgo-key-123456"
    out = io.StringIO()
    assert main(args(tmp_path), only_sgo, out=out, kalshi_events=kalshi_events) == 0
    nba = next(line for line in out.getvalue().splitlines() if line.startswith("KXNBAGAME"))
    assert nba.split()[2:4] == ["sportsgameodds", "NBA"] and "not polled" in nba
    assert "Source sportsgameodds  key set" in out.getvalue()


def test_rejected_key_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = FakeProvider().add(
        "/v4/sports/basketball_nba/events", fixture="theoddsapi/error_invalid_key_401.json", status=401
    )
    status = main(args(tmp_path), settings(papi_key=None), out=io.StringIO(), transport=server.transport())
    assert status == 2
    err = capsys.readouterr().err
    assert "INVALID_KEY" in err and "toa-key" not in err


def test_totals_series_are_covered_through_the_games_they_are_about(tmp_path: Path) -> None:
    ticker = "KXNBATOTAL-26NOV28BOSNYK"
    strikes = tuple(KalshiOutcome(f"{ticker}-T{k}", f"Over {k} points scored") for k in ("218.5", "220.5"))

    async def totals(series: Sequence[str]) -> Mapping[str, Sequence[KalshiEvent]]:
        return {"KXNBATOTAL": [KalshiEvent(ticker, "Boston vs. New York: Total Points", strikes)]}

    configured = settings(papi_key=None)
    configured.scanner = SimpleNamespace(series=("KXNBATOTAL",))
    out = io.StringIO()
    status = main(args(tmp_path, as_json=True), configured, out=out, kalshi_events=totals,
                  transport=fake().transport())
    [row] = json.loads(out.getvalue())["series"]
    assert status == 0
    assert (row["series"], row["title"], row["source"], row["leagues"]) == (
        "KXNBATOTAL", "NBA", "theoddsapi", ["basketball_nba"]
    )
    assert (row["kalshi_events"], row["matched"]) == (1, 1)
