"""``kmm scan`` in-process: table, the JSON schema, --theo prompting, errors, and the embedded sim."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kmm_tui import cli as kmm_cli
from kmm_tui.cli import build_parser
from kmm_tui.config import EnvName, Settings
from kmm_tui.environments import Environment
from kmm_tui.logsetup import teardown_logging
from kmm_tui.scan.cli import ScanRequest, main
from kmm_tui.sim import SimServer

MARKET_KEYS = {
    "sport",
    "sport_label",
    "series",
    "event_ticker",
    "event_title",
    "ticker",
    "team",
    "is_tie",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "spread",
    "volume",
    "open_interest",
    "start_ms",
    "start",
    "start_date_eastern",
    "start_source",
}
MATCH_KEYS = {
    "sport",
    "sport_label",
    "series",
    "event_ticker",
    "title",
    "name",
    "shape",
    "ticker_a",
    "team_a",
    "ticker_b",
    "team_b",
    "ticker_tie",
    "outcomes",
    "bid_sum",
    "overround",
    "widest_spread",
    "depth",
    "mark",
    "start_ms",
    "start",
    "start_date_eastern",
    "start_source",
}
TOP_KEYS = {
    "schema",
    "generated_at_ms",
    "generated_at",
    "environment",
    "mode",
    "filters",
    "series",
    "markets_seen",
    "markets",
    "matches",
    "unsupported",
}


def scan_args(sim: SimServer | None, **flags: Any) -> argparse.Namespace:
    url = sim.base_url if sim is not None else None
    environment = Environment(EnvName.SIM, url, None, None, None, is_live=False)
    values: dict[str, Any] = {
        "mode": "game-day",
        "min_spread": None,
        "sport": None,
        "series": None,
        "json": False,
        "theo": False,
        "environment": environment,
    }
    values.update(flags)
    return argparse.Namespace(**values)


async def run(args: argparse.Namespace, **kwargs: Any) -> int:
    """main() runs its own event loop, so it goes to a thread while the simulator serves on this one."""
    return await asyncio.to_thread(main, args, Settings(), **kwargs)


def is_price(text: Any) -> bool:
    return isinstance(text, str) and len(text.split(".")[-1]) == 4 and text.startswith(("0.", "1."))


async def test_json_schema_is_stable_and_exact(large: SimServer, capsys: pytest.CaptureFixture[str]) -> None:
    status = await run(scan_args(large, mode="all", json=True, min_spread=Decimal("3")))
    captured = capsys.readouterr()
    assert status == 0 and captured.err == ""
    doc = json.loads(captured.out)
    assert set(doc) == TOP_KEYS and doc["schema"] == "kmm.scan/2" and doc["mode"] == "all"
    assert doc["environment"] == "sim" and doc["markets_seen"] == 600
    assert doc["filters"] == {
        "min_spread": "0.0300", "min_spread_cents": "3", "within_ms": None, "sports": [], "series": []
    }
    assert doc["markets"] and doc["matches"]
    for market in doc["markets"]:
        assert set(market) == MARKET_KEYS
        assert is_price(market["spread"])
        assert market["bid"] is None or is_price(market["bid"])
        assert isinstance(market["start_ms"], int) and market["start"].endswith("Z")
        assert market["start_source"] == "milestone" and market["is_tie"] is False
    tickers = {m["ticker"] for m in doc["markets"]}
    for match in doc["matches"]:
        assert set(match) == MATCH_KEYS | {"run_command"} and match["ticker_tie"] is None
        assert match["shape"] == "teams" and match["mark"] is None and is_price(match["widest_spread"])
        assert match["widest_spread"] >= "0.0300"  # --min-spread: the widest outcome is wide enough
        pair = f"--ticker-a {match['ticker_a']} --ticker-b {match['ticker_b']}"
        assert match["run_command"] == f"kmm run {pair}"
        assert match["ticker_a"] in tickers and match["ticker_b"] in tickers  # every market of a match
    starts = [m["start_ms"] for m in doc["matches"]]
    assert starts == sorted(starts)


async def test_table_lists_markets_and_a_summary(
    large: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(scan_args(large, mode="all", series=["KXCS2GAME"])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "START", "SPORT", "MATCH", "SHAPE", "OUTCOME", "TICKER", "BID", "ASK", "SPREAD", "DEPTH", "BID",
        "SUM", "OVERROUND", "VOLUME", "MARK",
    ]
    rows = [line for line in lines[1:] if "KXCS2GAME-" in line]
    assert len(rows) == 60 and sum(1 for line in rows if "2-way" in line) == 30  # a line per outcome
    summary = "60 markets, 30 matches (30 2-way, 0 3-way, 0 yes/no), 0 not supported"
    assert f"{summary} (all; 60 open markets in 1 series scanned)" in lines


async def test_theo_prompt_reasks_on_bad_input_and_prints_ceilings(
    large: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: Iterator[str] = iter(["abc", "55", "1.9 2.0", "o 1.9 2.0", "q"])
    prompts: list[str] = []

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    args = scan_args(large, mode="all", series=["KXCS2GAME"], theo=True)
    assert await run(args, read_line=read_line) == 0
    out = capsys.readouterr().out
    assert "not understood: 'abc'" in out and "Try again" in out
    assert "if these are decimal odds, type 'o 1.9 2.0'" in out
    assert prompts[0] == prompts[1] and prompts[2] != prompts[1] and prompts[2] == prompts[3]
    assert "theo 55c → ceiling 53c" in out and "theo 45c → ceiling 43c" in out  # edge 2c, 1c grid
    # 1.9 / 2.0 de-vigged multiplicatively: 51.28c and 48.71c (floored); minus 2c, floored to the cent grid
    assert "theo 51.28c → ceiling 49c" in out and "theo 48.71c → ceiling 46c" in out
    assert "Ceilings for 2 matches:" in out and "(typed: o 1.9 2.0)" in out


async def test_end_of_input_keeps_the_answers_given(
    large: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["60 40"])

    def read_line(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    assert await run(scan_args(large, mode="all", series=["KXNBAGAME"], theo=True), read_line=read_line) == 0
    out = capsys.readouterr().out
    # fee-aware (the default) on a maker-fee series: 58c + its planned fee (0.5c for 10) > 58c, so 57c
    assert "Ceilings for 1 match:" in out and "theo 60c ceiling 57c" in out


async def test_errors_are_one_line_and_exit_2(large: SimServer, capsys: pytest.CaptureFixture[str]) -> None:
    large.faults.http_errors(1000, status=503)
    assert await run(scan_args(large)) == 2
    err = capsys.readouterr().err
    assert err.startswith("kmm scan: scan of http://127.0.0.1:") and "HTTP 503" in err and " — " in err
    assert "kmm retries" not in err
    assert err.count("\n") == 1 and "Traceback" not in err
    large.faults.clear()
    large.faults.rate_limit(1000)
    assert await run(scan_args(large, json=True)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "429" in captured.err and captured.err.count("\n") == 1
    large.faults.clear()
    assert await run(scan_args(large, sport=["curling"])) == 2
    assert "unknown sport 'curling'" in capsys.readouterr().err


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("KMM_CONFIG", "KMM_ODDS_API_KEY", "KMM_ODDSPAPI_KEY", "KMM_SPORTSGAMEODDS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("KMM_STATE_DIR", str(tmp_path / "state"))
    yield
    teardown_logging()


def test_kmm_scan_in_sim_finds_the_demo_soccer_1x2_and_nba_totals(
    isolated: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", "--mode", "all", "--series", "KXEPLGAME", "--series", "KXNBATOTAL", "--json"]
    assert kmm_cli.main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    totals = [m for m in doc["matches"] if m["series"] == "KXNBATOTAL"]
    assert len(totals) > 1 and all(m["shape"] == "yes_no" for m in totals)  # one match per strike
    for total in totals:
        assert total["ticker_a"] == total["ticker_b"] and total["run_command"].startswith("kmm run --ticker ")
    strikes = {m["ticker"] for m in doc["markets"] if m["series"] == "KXNBATOTAL"}
    assert {m["ticker_a"] for m in totals} == strikes
    match = next(m for m in doc["matches"] if m["team_a"] == "Arsenal")
    assert match["series"] == "KXEPLGAME" and match["ticker_tie"] == f"{match['event_ticker']}-TIE"
    assert match["shape"] == "three_way" and [o["side"] for o in match["outcomes"]] == ["A", "T", "B"]
    markets = [m for m in doc["markets"] if m["event_ticker"] == match["event_ticker"]]
    assert [m["is_tie"] for m in markets] == [False, False, True]
    assert match["team_b"] == "Chelsea"


def test_within_hours_flag_reaches_the_scan_filter_in_milliseconds() -> None:
    args = build_parser().parse_args(["scan", "--within", "1.5"])
    assert ScanRequest.from_args(args, None).filters.within_ms == 5_400_000


def test_min_spread_from_the_command_line_is_cents_and_filters(
    isolated: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--min-spread 20` once filtered nothing (cents taken as price units) and crashed with --json."""
    assert kmm_cli.main(["scan", "--mode", "all", "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert kmm_cli.main(["scan", "--mode", "all", "--min-spread", "20", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    wide = json.loads(captured.out)
    assert wide["filters"]["min_spread"] == "0.2000" and wide["filters"]["min_spread_cents"] == "20"
    widest = [Decimal(m["widest_spread"]) for m in wide["matches"]]
    assert all(spread >= Decimal("0.20") for spread in widest)
    assert len(wide["matches"]) < len(everything["matches"])
    assert any(Decimal(m["widest_spread"]) < Decimal("0.20") for m in everything["matches"])


def test_min_spread_in_the_table_filters_too(isolated: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert kmm_cli.main(["scan", "--mode", "all", "--min-spread", "100"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if " 100c" in line or "No markets" in line]
    assert rows and all("100c" in line or "No markets" in line for line in rows)


async def test_theo_prints_the_ready_run_line(large: SimServer, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["55", "q"])
    args = scan_args(large, mode="all", series=["KXCS2GAME"], theo=True, sim_url="http://127.0.0.1:9")
    assert await run(args, read_line=lambda prompt: next(answers)) == 0
    out = capsys.readouterr().out
    run_lines = [line.strip() for line in out.splitlines() if line.strip().startswith("kmm run ")]
    assert run_lines and run_lines[0].endswith(
        "--theo-a 55 --theo-b 45 --sim-url http://127.0.0.1:9"
    ), run_lines
    words = run_lines[0].split()
    assert words[words.index("--ticker-a") + 1].startswith("KXCS2GAME-")
    parsed = build_parser().parse_args(words[1:])
    assert parsed.theo_a == Decimal("55") and parsed.theo_b == Decimal("45")


async def test_theo_with_json_asks_on_stderr_and_puts_the_run_line_in_the_document(
    large: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["o 1.9 2.0", "q"])
    args = scan_args(large, mode="all", series=["KXCS2GAME"], theo=True, json=True)
    assert await run(args, read_line=lambda prompt: next(answers)) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    [answer] = doc["theo"]
    assert answer["theo_a"] == "0.5128" and answer["theo_b"] == "0.4871"  # each floored
    assert answer["ceiling_a"] == "0.4900" and answer["ceiling_b"] == "0.4600"
    assert answer["run_command"].endswith("--theo-a 51.28 --theo-b 48.71")
    assert "ceiling 49c" in captured.err


def test_ctrl_c_at_the_theo_prompt_prints_the_summary_and_exits_130(
    isolated: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["55"])

    def read_line(prompt: str) -> str:
        for answer in answers:
            return answer
        raise KeyboardInterrupt

    argv = ["scan", "--mode", "all", "--sport", "nba", "--sport", "nhl", "--theo"]
    assert kmm_cli.main(argv, read_line=read_line) == 130
    captured = capsys.readouterr()
    assert "Ceilings for 1 match:" in captured.out
    assert captured.err == "kmm scan: interrupted\n"
