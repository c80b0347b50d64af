"""``kmm scan`` on a simulator with one event of every shape: the table and the JSON document.

Expected numbers come from the exchange's own books (``top_of_book``), not from the scanner."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kmm_tui.config import Settings
from kmm_tui.config.schema import SavedMatch
from kmm_tui.domain.prices import CENT, PRICE_SCALE, format_cents, format_price
from kmm_tui.scan.cli import main
from kmm_tui.sim import SimServer
from tests.scan.test_cli import scan_args

BERLIN = ZoneInfo("Europe/Berlin")
SERIES = ["KXEPLGAME", "KXNBATOTAL", "KXCS2GAME", "KXLOLCHAMP"]


async def scan(sim: SimServer, settings: Settings | None = None, **flags: Any) -> int:
    args = scan_args(sim, mode="all", series=SERIES, **flags)
    return await asyncio.to_thread(
        main, args, settings or Settings(), tz=BERLIN, now_ms=sim.clock.now_ms()
    )


def tops(sim: SimServer, ticker: str) -> tuple[int, int, int, int]:
    """(YES bid, bid size, YES ask, ask size) as the exchange holds them (the scenario seeds both sides)."""
    bid, ask = sim.exchange.top_of_book(ticker)
    assert bid is not None and ask is not None
    return bid[0], bid[1], ask[0], ask[1]


def event_of(sim: SimServer, series: str) -> str:
    return next(t for t, e in sim.exchange.events.items() if e.series_ticker == series)


async def test_json_groups_every_shape_with_exact_sums(
    shapes: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await scan(shapes, json=True) == 0
    doc = json.loads(capsys.readouterr().out)
    matches = {m["name"]: m for m in doc["matches"]}
    assert sorted(m["shape"] for m in doc["matches"]) == ["teams", "three_way", "yes_no", "yes_no"]

    soccer = event_of(shapes, "KXEPLGAME")
    three = matches["Arsenal vs. Chelsea"]
    assert [(o["side"], o["label"], o["ticker"]) for o in three["outcomes"]] == [
        ("A", "Arsenal", f"{soccer}-ARS"),
        ("T", "Tie", f"{soccer}-TIE"),
        ("B", "Chelsea", f"{soccer}-CHE"),
    ]
    books = [tops(shapes, f"{soccer}-{code}") for code in ("ARS", "TIE", "CHE")]
    assert [(o["bid"], o["ask"]) for o in three["outcomes"]] == [
        (format_price(b), format_price(a)) for b, _, a, _ in books
    ]
    assert three["bid_sum"] == format_price(sum(b for b, _, _, _ in books))
    assert three["overround"] == format_price(sum(a for _, _, a, _ in books) - PRICE_SCALE)
    assert three["depth"] == f"{min(min(bs, as_) for _, bs, _, as_ in books) // 100}.00"
    assert three["ticker_tie"] == f"{soccer}-TIE"
    assert three["run_command"] == f"kmm run --tickers {soccer}-ARS,{soccer}-TIE,{soccer}-CHE"

    total = event_of(shapes, "KXNBATOTAL")
    over = matches["Over 220.5 points · Boston at New York: Total Points"]
    bid, bid_size, ask, ask_size = tops(shapes, f"{total}-220")
    yes, no = over["outcomes"]
    assert (over["ticker_a"], over["ticker_b"], over["ticker_tie"]) == (f"{total}-220", f"{total}-220", None)
    assert (yes["bid"], yes["ask"], yes["is_no"]) == (format_price(bid), format_price(ask), False)
    assert (no["bid"], no["ask"], no["is_no"]) == (
        format_price(PRICE_SCALE - ask),  # a NO bid is an ask on the YES book
        format_price(PRICE_SCALE - bid),
        True,
    )
    assert (no["bid_size"], no["ask_size"]) == (f"{ask_size // 100}.00", f"{bid_size // 100}.00")
    assert over["bid_sum"] == format_price(PRICE_SCALE - (ask - bid))
    assert over["overround"] == format_price(ask - bid) == over["widest_spread"]
    assert over["run_command"] == f"kmm run --ticker {total}-220"

    [refused] = doc["unsupported"]
    champ = event_of(shapes, "KXLOLCHAMP")
    assert refused["event_ticker"] == champ and "3 mutually exclusive outcomes" in refused["reason"]
    assert all(m["event_ticker"] != champ for m in doc["matches"])  # never offered as a match
    assert {m["ticker"] for m in doc["markets"]} >= set(refused["tickers"])


async def test_min_spread_keeps_a_match_whose_widest_outcome_is_wide_enough(
    shapes: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    soccer = event_of(shapes, "KXEPLGAME")
    books = [tops(shapes, f"{soccer}-{code}") for code in ("ARS", "TIE", "CHE")]
    spreads = [ask - bid for bid, _, ask, _ in books]
    assert max(spreads) > min(spreads), "the seeded soccer books differ in width"
    for price, kept in ((max(spreads), True), (max(spreads) + 1, False)):
        assert await scan(shapes, json=True, min_spread=Decimal(price) / CENT) == 0
        doc = json.loads(capsys.readouterr().out)
        found = [m for m in doc["matches"] if m["event_ticker"] == soccer]
        assert bool(found) is kept
        if found:
            assert len(found[0]["outcomes"]) == 3  # the narrower outcomes come along


async def test_table_shows_each_match_as_a_block_in_local_time_and_marks_saved_matches(
    shapes: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    soccer = event_of(shapes, "KXEPLGAME")
    saved = SavedMatch("derby", f"{soccer}-ARS", f"{soccer}-CHE")
    cs2 = event_of(shapes, "KXCS2GAME")
    pair = SavedMatch("cs", f"{cs2}-VIT", f"{cs2}-FAZ")
    assert await scan(shapes, Settings(matches=(saved, pair))) == 0
    lines = capsys.readouterr().out.splitlines()
    block = [line for line in lines if f"{soccer}-" in line]
    assert [line.split(f"{soccer}-")[1][:3] for line in block] == ["ARS", "TIE", "CHE"]
    start_ms = next(m.start_ms for m in shapes.exchange.milestones.values() if soccer in m.event_tickers)
    local = datetime.fromtimestamp(start_ms // 1000, UTC).astimezone(BERLIN)
    assert block[0].startswith(f"{local:%b %d %H:%M} {local:%Z} (in ")
    assert "3-way" in block[0] and "A Arsenal" in block[0] and "T Tie" in block[1]
    books = [tops(shapes, f"{soccer}-{code}") for code in ("ARS", "TIE", "CHE")]
    assert format_cents(sum(b[0] for b in books)) in block[0].split()
    # a two-team save of a soccer event is not this three-way match; the CS2 pair is
    assert not block[0].rstrip().endswith("saved")
    cs2_first = next(line for line in lines if f"{cs2}-VIT" in line)
    assert cs2_first.rstrip().endswith("saved")
    champ = event_of(shapes, "KXLOLCHAMP")
    assert "Not supported (1; never offered as a match):" in lines
    assert any(line.startswith(f"  {champ} ") and "3 mutually exclusive outcomes" in line for line in lines)
    assert not any(f"{champ}-" in line for line in lines)  # listed with its reason, never as a match block
    assert "10 markets, 4 matches (1 2-way, 1 3-way, 2 yes/no), 1 not supported" in "\n".join(lines)


async def test_theo_asks_in_outcome_order_and_prints_every_outcomes_ceiling(
    shapes: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []
    answers = iter(["47 26 27", "55", "q"])

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    args = scan_args(shapes, mode="all", series=["KXEPLGAME", "KXNBATOTAL"], theo=True, json=True)
    status = await asyncio.to_thread(
        main, args, Settings(), read_line=read_line, tz=BERLIN, now_ms=shapes.clock.now_ms()
    )
    assert status == 0
    captured = capsys.readouterr()
    soccer, total = event_of(shapes, "KXEPLGAME"), event_of(shapes, "KXNBATOTAL")
    assert prompts[0].endswith("(A Arsenal / draw Tie / B Chelsea) theo> ")
    assert prompts[1].endswith("Over 220.5 points · Boston at New York: Total Points (YES / NO) theo> ")
    home, over = json.loads(captured.out)["theo"]
    # edge 2c on the 1c grid, fee-aware on a maker-fee series: theo - 2c, one cent lower for the fee
    assert (home["shape"], home["theo_a"], home["theo_draw"], home["theo_b"]) == (
        "three_way", "0.4700", "0.2600", "0.2700"
    )
    assert (home["ceiling_a"], home["ceiling_tie"], home["ceiling_b"]) == ("0.4400", "0.2300", "0.2400")
    assert home["run_command"] == (
        f"kmm run --tickers {soccer}-ARS,{soccer}-TIE,{soccer}-CHE --theo-a 47 --theo-b 27 --theo-tie 26"
    )
    assert (over["shape"], over["ticker_a"], over["ticker_b"]) == ("yes_no", f"{total}-220", f"{total}-220")
    assert (over["theo_a"], over["theo_b"], over["ceiling_a"], over["ceiling_b"]) == (
        "0.5500", "0.4500", "0.5200", "0.4200"
    )
    assert over["run_command"] == f"kmm run --ticker {total}-220 --theo-a 55 --theo-b 45"
    assert "B NO: theo 45c → ceiling 42c" in captured.err
