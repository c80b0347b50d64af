"""``kmm sim --replay SESSION``: the simulator plays a recorded session back as its market.

The session file is kmm's recording (format version 1, docs/replay.md). The simulator may import only
``domain/`` (tests/test_layering.py), so this is a second, small reader of that format: it takes what a
market needs — each match's tickers, names, grid, fees, theo and start (records ``M``, ``S``, ``G``,
``T``, ``O``), the books without our bids (``B``) and our fills (``F``) — and ignores the rest. A test
checks it against the recorder's output.

Playback: one simulated event per recorded match (the recorded series and team codes, today's date,
the same time to the start), no scripted traders. A competitor ("replay-book") rests exactly the
recorded levels, replaced as the recording changes them, at the recorded pace (``--time-scale`` speeds
it up); each recorded fill of ours becomes a taker ("replay-taker") selling the same size at that price
(immediate-or-cancel), so an app quoting here meets the takers that met the recorded session.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kmm_tui.domain.prices import PRICE_SCALE, Count, Price, PriceBand, TickGrid, format_cents, format_price
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.scenario import GRIDS, ScenarioError
from kmm_tui.sim.server import SimServer

FORMAT, VERSION = "kmm-session", 1
DEFAULT_START_IN_MS = 3 * 3600 * 1000


@dataclass(slots=True)
class PlayedMatch:
    match_id: str
    name: str
    tickers: tuple[str, str]
    grid: str = "linear_cent"
    fee_type: str = "quadratic"
    fee_multiplier: str = "1"
    theo: tuple[int | None, int | None] = (None, None)
    start_ms: int | None = None  # the scheduled start as recorded (Unix ms)


@dataclass(slots=True)
class Recording:
    """What the market needs from a session: matches, and ``(t_ms, match, kind, data)`` in time order."""

    path: Path
    start_ms: int = 0
    matches: list[PlayedMatch] = field(default_factory=list)
    timeline: list[tuple[int, int, str, list[Any]]] = field(default_factory=list)


def resolve(state_dir: Path | None, name: str) -> Path:
    """A path, or a file name (prefix) / ``latest`` in ``<state dir>/sessions``."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    folder = (state_dir or Path(".")) / "sessions"
    files = sorted(folder.glob("*.kmmrec")) if folder.is_dir() else []
    found = files[-1:] if name == "latest" else [f for f in files if f.name.startswith(name)]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise ScenarioError(
            f"{what} recorded session matches {name!r} in {folder} — give a path or a longer name"
        )
    return found[0]


def _grid_name(bands: list[list[int]]) -> str:
    recorded = TickGrid(tuple(PriceBand(Price(s), Price(e), Price(p)) for s, e, p in bands))
    for name, ranges in GRIDS.items():
        if TickGrid.from_price_ranges(ranges) == recorded:
            return name
    return "linear_cent"


def read_recording(path: Path) -> Recording:
    """Read a session; a damaged or foreign file raises ScenarioError with one clear line."""
    recording = Recording(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            header = json.loads(next(file, "null"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ScenarioError(f"{path} is not a kmm session recording")
            if header.get("version") != VERSION:
                version = header.get("version")
                raise ScenarioError(f"{path} is format version {version}; this kmm plays version {VERSION}")
            recording.start_ms = int(header["start_ms"])
            for line in file:
                _take(recording, json.loads(line))
    except FileNotFoundError:
        raise ScenarioError(f"{path} does not exist") from None
    except EOFError:
        raise ScenarioError(f"{path} is truncated: copy it again from the state directory") from None
    except (OSError, zlib.error, UnicodeDecodeError, ValueError, TypeError, IndexError) as error:
        raise ScenarioError(f"{path} is corrupted or not a recording ({error})") from None
    if not recording.matches:
        raise ScenarioError(f"{path} holds no match: record a running match first")
    recording.timeline.sort(key=lambda item: item[0])
    return recording


def _take(recording: Recording, record: list[Any]) -> None:
    kind, t = record[0], record[1]
    if kind in ("C", "E"):
        return
    index = record[2]
    if kind == "M":
        recording.matches.append(PlayedMatch(record[3], record[4], (record[5], record[6])))
        return
    match = recording.matches[index]
    if kind == "S":
        match.fee_type, match.fee_multiplier = record[3]["fee_type"], record[3]["fee_multiplier"]
    elif kind == "G" and record[3] == 0:
        match.grid = _grid_name(record[4])
    elif kind == "T" and match.theo == (None, None):
        match.theo = (record[3], record[4])
    elif kind == "O" and record[5] is not None and match.start_ms is None:
        match.start_ms = record[5]
    elif kind in ("B", "F"):
        recording.timeline.append((t, index, kind, record[3:]))


def scenario_toml(recording: Recording) -> str:
    """A scenario file for the recorded matches (series and team codes from the tickers; the start as
    far from the playback's beginning as it was from the recording's)."""
    series: dict[str, tuple[PlayedMatch, bool]] = {}
    matches = []
    for match in recording.matches:
        event, code_a = match.tickers[0].rsplit("-", 1)
        code_b = match.tickers[1].rsplit("-", 1)[1]
        prefix, code = event.split("-", 1)
        series.setdefault(prefix, (match, code[7:11].isdigit()))  # 26DEC061655…: the start's HHMM
        names = match.name.split(" vs ") if " vs " in match.name else [code_a, code_b]
        theo_a = match.theo[0] if match.theo[0] is not None else PRICE_SCALE // 2
        start_in_ms = DEFAULT_START_IN_MS if match.start_ms is None else match.start_ms - recording.start_ms
        start_in = f"-{-start_in_ms // 60_000 or 1}m" if start_in_ms < 0 else f"{start_in_ms // 60_000 or 1}m"
        matches.append(
            "[[match]]\n"
            f'series = "{prefix}"\n'
            f'start_in = "{start_in}"\n'
            f'teams = [{{ code = "{code_a}", name = {json.dumps(names[0])} }}, '
            f'{{ code = "{code_b}", name = {json.dumps(names[1])} }}]\n'
            f'fair = ["{format_price(Price(theo_a))}"]\n'
            "makers = 0\ntaker_per_min = 0\n"
        )
    tables = [f'[scenario]\nname = "replay"\ndescription = "recorded session {recording.path.name}"\n']
    for prefix, (match, with_time) in series.items():
        tables.append(
            "[[series]]\n"
            f'ticker = "{prefix}"\ntitle = "{prefix} (recorded)"\ntags = ["Replay"]\n'
            f'fee_type = "{match.fee_type}"\nfee_multiplier = "{match.fee_multiplier}"\n'
            f'grid = "{match.grid}"\ntime_in_ticker = {"true" if with_time else "false"}\n'
        )
    return "\n".join(tables + matches)


class Player:
    """Rests the recorded levels and sends the recorded takers, at the recorded pace."""

    def __init__(self, sim: SimServer, recording: Recording) -> None:
        self._sim = sim
        self._tickers = [m.tickers for m in sim.matches]
        self._recording = recording
        self._resting: dict[tuple[str, str, int], str] = {}  # (ticker, side, price) -> order id
        self.applied = 0

    def apply(self, index: int, kind: str, data: list[Any]) -> None:
        ticker = self._tickers[index][data[0]]
        if kind == "B":
            for side, levels in (("bid", data[1]), ("ask", data[2])):
                for price, size in levels:
                    self._level(ticker, side, price, size)
        else:  # F: a taker sells our recorded fill's size at its price; what does not trade is pulled
            with contextlib.suppress(SimError):
                order_id = self._sim.place_competitor_order(
                    ticker, "ask", Price(data[1]), Count(data[2]), name="replay-taker"
                )
                self._sim.cancel_competitor_order(order_id, name="replay-taker")
        self.applied += 1

    def _level(self, ticker: str, side: str, price: int, size: int) -> None:
        key = (ticker, side, price)
        old = self._resting.pop(key, None)
        if old is not None:
            with contextlib.suppress(SimError):
                self._sim.cancel_competitor_order(old, name="replay-book")
        if size > 0:
            with contextlib.suppress(SimError):
                self._resting[key] = self._sim.place_competitor_order(
                    ticker, side, Price(price), Count(size), name="replay-book"
                )

    async def run(self, time_scale: float = 1.0) -> None:  # float-ok: a pace, not money
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = self._recording.timeline[0][0] if self._recording.timeline else 0
        for t, index, kind, data in self._recording.timeline:
            delay = started + (t - first) / 1000 / time_scale - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.apply(index, kind, data)


def describe(recording: Recording) -> list[str]:
    lines = []
    for match in recording.matches:
        a, b = match.theo
        theo = f"theo {format_cents(a)}/{format_cents(b)}" if a is not None and b is not None else "no theo"
        lines.append(f"  {match.name or match.match_id}: recorded {theo}")
    return lines


def run_playback(path: Path, *, port: int, time_scale: float, state_dir: Path | None) -> None:
    """Serve the simulator on the recorded session's books until Ctrl-C (``kmm sim --replay``)."""
    recording = read_recording(path)
    with tempfile.TemporaryDirectory(prefix="kmm-replay-sim-") as tmp:
        scenario = Path(tmp) / "replay.toml"
        scenario.write_text(scenario_toml(recording))

        async def main() -> None:
            async with SimServer(scenario, port=port, time_scale=time_scale, agents=False,
                                 state_dir=state_dir) as sim:
                player = Player(sim, recording)
                account = sim.demo_account
                changes = len(recording.timeline)
                print(f"kmm simulator: replaying {path.name} ({changes} book changes and fills)")
                print("\n".join(describe(recording)))
                print(f"REST      {sim.base_url}")
                print(f"WebSocket {sim.ws_url}")
                print(f"Demo key id   {account.key_id}")
                if account.key_path is not None:
                    print(f"Demo key file {account.key_path}")
                print("Ctrl-C to stop.", flush=True)
                await player.run(time_scale)
                print("playback finished: the books stay as recorded last", flush=True)
                await asyncio.Event().wait()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
