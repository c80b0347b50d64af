"""`kmm sim --replay`: the simulator's own reader of the recording, and the market it plays back."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Price, contracts
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.replay.session import load_session
from kmm_tui.sim import SimServer
from kmm_tui.sim.playback import Player, read_recording, scenario_toml
from kmm_tui.sim.scenario import ScenarioError
from tests.engine.conftest import connect, eventually


def final_books(path: Path) -> list[list[dict[str, dict[int, int]]]]:
    """Per match and side, the last recorded book without our bids ({"bid"/"ask": {price: size}})."""
    books: list[list[dict[str, dict[int, int]]]] = []
    for match in load_session(path).matches:
        sides: list[dict[str, dict[int, int]]] = [{"bid": {}, "ask": {}}, {"bid": {}, "ask": {}}]
        for record in match.records:
            if record[0] == "B":
                for name, changes in (("bid", record[4]), ("ask", record[5])):
                    for price, size in changes:
                        if size:
                            sides[record[3]][name][price] = size
                        else:
                            sides[record[3]][name].pop(price, None)
        books.append(sides)
    return books


def test_the_simulator_reads_what_the_recorder_wrote(recorded: Path) -> None:
    session, played = load_session(recorded), read_recording(recorded)
    expected = [(m.match_id, m.tickers) for m in session.matches]
    assert [(m.match_id, m.tickers) for m in played.matches] == expected
    recorded_changes = [r for m in session.matches for r in m.records if r[0] in ("B", "F")]
    assert len(played.timeline) == len(recorded_changes)
    assert played.matches[0].theo == (6000, 4000)


async def test_playing_the_session_rebuilds_the_recorded_books(recorded: Path, tmp_path: Path) -> None:
    played = read_recording(recorded)
    scenario = tmp_path / "replay.toml"
    scenario.write_text(scenario_toml(played))
    async with SimServer(scenario, agents=False) as sim:
        player = Player(sim, played)
        await player.run(time_scale=1e6)
        assert player.applied == len(played.timeline)
        for sim_match, sides in zip(sim.matches, final_books(recorded), strict=True):
            for ticker, side in zip(sim_match.tickers, sides, strict=True):
                book = sim.exchange.books[ticker]
                shown = Book.from_legs(book.yes_levels(), book.no_levels())
                assert dict(shown.bids) == side["bid"] and dict(shown.asks) == side["ask"]


def test_a_damaged_recording_is_refused_by_the_simulator(recorded: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.kmmrec"
    cut.write_bytes(recorded.read_bytes()[:-9])
    with pytest.raises(ScenarioError, match="truncated"):
        read_recording(cut)
    other = tmp_path / "other.kmmrec"
    other.write_bytes(gzip.compress(b'{"format":"something-else"}\n'))
    with pytest.raises(ScenarioError, match="not a kmm session recording"):
        read_recording(other)


async def test_an_engine_is_filled_on_the_played_back_market(recorded: Path, tmp_path: Path) -> None:
    """The recorded takers come back: an engine quoting like the recorded one gets filled again."""
    played = read_recording(recorded)
    scenario = tmp_path / "replay.toml"
    scenario.write_text(scenario_toml(played))
    async with SimServer(scenario, agents=False) as sim:
        engine, _ = await connect(sim)
        try:
            (a, b) = sim.matches[0].tickers
            theo = TheoInput(theo_a=Price(6000), theo_b=Price(4000))
            settings = MatchSettings(edge=Price(200), contracts=contracts(5), inventory_max=contracts(50))
            await engine.execute(cmd.AddMatch(MatchSpec("m1", a, b, theo, settings), start=True))
            await Player(sim, played).run(time_scale=1.0)
            await eventually(lambda: engine.snapshot().matches[0].inventory.count_long_a > 0, what="a fill")
            assert engine.snapshot().matches[0].status.value == "quoting"
        finally:
            await engine.close()
