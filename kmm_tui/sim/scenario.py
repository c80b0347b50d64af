"""Scenarios: which series, events, markets and milestones the simulator starts with.

A scenario is a TOML file under ``kmm_tui/sim/scenarios/`` (or any path). Start times are relative
to load time (``start_in = "45m"``), so the demo is always current, and event tickers carry the
US-Eastern date (and ``HHMM`` for series that use it) of the scheduled start, like Kalshi's. The
large scanner scenario is generated in code (``generate_large``) rather than written out.
"""

from __future__ import annotations

import random
import re
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kmm_tui.domain.prices import PRICE_SCALE, Price, TickGrid, parse_price
from kmm_tui.sim.exchange import Exchange
from kmm_tui.sim.fees import FEE_TYPES
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.model import EventDef, Market, Milestone, SeriesDef

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
EASTERN = ZoneInfo("America/New_York")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
CLOSE_PAD_MS = 14 * 24 * 3600 * 1000  # close_time is padded ≈ 2 weeks past the start
RESULT_AFTER_MS = 3 * 3600 * 1000

GRIDS: dict[str, list[dict[str, str]]] = {
    "linear_cent": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
    "deci_cent": [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}],
    "center_whole_edge_half_cent": [
        {"start": "0.0000", "end": "0.1000", "step": "0.0050"},
        {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
        {"start": "0.9000", "end": "1.0000", "step": "0.0050"},
    ],
    "tapered_deci_cent": [
        {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
        {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
        {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
    ],
}

# What a [[change]] can do: market-level kinds act on one team's market (or all), event-level on the event.
MARKET_CHANGE_KINDS = ("price_levels", "metadata", "close_time", "pause", "resume", "close")
EVENT_CHANGE_KINDS = ("event_metadata", "event_fees", "series_fees")
CHANGE_KINDS = MARKET_CHANGE_KINDS + EVENT_CHANGE_KINDS

_DURATION = re.compile(r"^(-)?((?:\d+[hms])+)$")


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the field to fix."""


def parse_duration_ms(text: str) -> int:
    """'45m' / '1h30m' / '-10m' / '20s' → milliseconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ScenarioError(f"duration {text!r} must look like 45m, 1h30m, 20s or -10m")
    total = 0
    for amount, unit in re.findall(r"(\d+)([hms])", match.group(2)):
        total += int(amount) * {"h": 3_600_000, "m": 60_000, "s": 1_000}[unit]
    return -total if match.group(1) else total


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    ticker: str
    title: str
    tags: tuple[str, ...]
    fee_type: str
    fee_multiplier: Decimal
    exchange_index: int
    league: str
    category: str
    milestone_type: str
    time_in_ticker: bool
    competition: str
    grid: str
    strike_key: str


@dataclass(frozen=True, slots=True)
class Team:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MatchSpec:
    """One event: outcomes (teams, maybe TIE) with fair probabilities that sum to $1."""

    series: str
    start_in_ms: int
    teams: tuple[Team, ...]
    fair: tuple[Price, ...]
    status: str = "active"
    pause_on_start_ms: int = 0
    makers: int = 3
    taker_per_min: int = 30
    volatility: int = 1


@dataclass(frozen=True, slots=True)
class ChangeSpec:
    """A scheduled live change (``[[change]]``): at ``at_ms`` after load, do ``kind`` to one match.

    ``match`` is the 1-based index of a ``[[match]]``; ``team`` picks one of its markets (absent = all
    of them, or the event for event-level kinds). ``fields`` are the kind's parameters, as the admin
    API takes them (``sim.changes.KINDS`` lists them).
    """

    at_ms: int
    kind: str
    match: int
    team: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    name: str
    series: tuple[SeriesSpec, ...]
    matches: tuple[MatchSpec, ...]
    step_ms: int = 1000
    description: str = ""
    fidelity: dict[str, Any] = field(default_factory=dict)
    changes: tuple[ChangeSpec, ...] = ()


@dataclass(slots=True)
class MatchState:
    """A loaded match as the agents drive it (fair values move; the start may pause the markets)."""

    spec: MatchSpec
    event_ticker: str
    tickers: list[str]
    fair: list[int]
    start_ms: int
    milestone_id: str
    started: bool = False
    resume_at_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- loading ------------------------------------------------------------------------------------


def scenario_names() -> list[str]:
    return [*sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")), "large"]


def load_scenario(scenario: str | Path | None) -> ScenarioSpec:
    """A shipped name ("default", "large"), or a path to a TOML file."""
    if scenario is None:
        scenario = "default"
    if isinstance(scenario, str) and scenario == "large":
        return generate_large()
    path = Path(scenario)
    if isinstance(scenario, str) and not path.suffix:
        path = SCENARIO_DIR / f"{scenario}.toml"
        if not path.exists():
            raise ScenarioError(
                f"no scenario named {scenario!r}; choose one of {', '.join(scenario_names())}"
            )
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    base = data.get("scenario", {}).get("base")
    if base is not None:
        if not isinstance(base, str) or base == path.stem:
            raise ScenarioError(f"{path}: [scenario] base must name another scenario")
        base_path = SCENARIO_DIR / f"{base}.toml"
        if not base_path.exists():
            raise ScenarioError(f"{path}: base scenario {base!r} does not exist")
        inherited = tomllib.loads(base_path.read_text())
        for key in ("series", "match"):
            data.setdefault(key, inherited.get(key, []))
        if "step" in inherited.get("scenario", {}):
            data["scenario"].setdefault("step", inherited["scenario"]["step"])
    return parse_scenario(data, str(path))


def _get(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: missing {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise ScenarioError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> ScenarioSpec:
    meta = data.get("scenario", {})
    series_specs = []
    for i, raw in enumerate(data.get("series", [])):
        where = f"{source} [[series]] #{i + 1}"
        fee_type = _get(raw, "fee_type", where, str)
        if fee_type not in FEE_TYPES:
            raise ScenarioError(f"{where}: fee_type must be one of {', '.join(FEE_TYPES)}")
        grid = raw.get("grid", "linear_cent")
        if grid not in GRIDS:
            raise ScenarioError(f"{where}: grid must be one of {', '.join(GRIDS)}")
        series_specs.append(
            SeriesSpec(
                ticker=_get(raw, "ticker", where, str),
                title=_get(raw, "title", where, str),
                tags=tuple(raw.get("tags", [])),
                fee_type=fee_type,
                fee_multiplier=Decimal(str(raw.get("fee_multiplier", "1"))),
                exchange_index=int(raw.get("exchange_index", 0)),
                league=raw.get("league", ""),
                category=raw.get("category", "Sports"),
                milestone_type=raw.get("milestone_type", "sports_game"),
                time_in_ticker=bool(raw.get("time_in_ticker", False)),
                competition=raw.get("competition", raw.get("title", "")),
                grid=grid,
                strike_key=raw.get("strike_key", "team"),
            )
        )
    known = {s.ticker for s in series_specs}
    matches = []
    for i, raw in enumerate(data.get("match", [])):
        where = f"{source} [[match]] #{i + 1}"
        series = _get(raw, "series", where, str)
        if series not in known:
            raise ScenarioError(f"{where}: series {series!r} is not defined in [[series]]")
        teams = tuple(Team(t["code"], t["name"]) for t in _get(raw, "teams", where, list))
        if len(teams) < 2:
            raise ScenarioError(f"{where}: a match needs at least two outcomes")
        fair_raw = [str(f) for f in _get(raw, "fair", where, list)]
        try:
            fair = [parse_price(f) for f in fair_raw]
        except ValueError as exc:
            raise ScenarioError(f"{where}: fair: {exc}") from None
        if len(fair) == len(teams) - 1:
            fair.append(Price(PRICE_SCALE - sum(fair)))
        if len(fair) != len(teams) or sum(fair) != PRICE_SCALE or min(fair) <= 0:
            raise ScenarioError(f"{where}: fair values must be positive, one per outcome, summing to 1")
        matches.append(
            MatchSpec(
                series=series,
                start_in_ms=parse_duration_ms(_get(raw, "start_in", where, str)),
                teams=teams,
                fair=tuple(fair),
                status=raw.get("status", "active"),
                pause_on_start_ms=parse_duration_ms(raw["pause_on_start"]) if "pause_on_start" in raw else 0,
                makers=int(raw.get("makers", 3)),
                taker_per_min=int(raw.get("taker_per_min", 30)),
                volatility=int(raw.get("volatility", 1)),
            )
        )
    step = parse_duration_ms(meta.get("step", "1s"))
    if step <= 0:
        raise ScenarioError(f"{source}: [scenario] step must be positive")
    fidelity = data.get("fidelity", {})
    if not isinstance(fidelity, dict):
        raise ScenarioError(f"{source}: [fidelity] must be a table of switches")
    try:
        Fidelity().update(fidelity, f"{source} [fidelity]")
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    return ScenarioSpec(
        meta.get("name", Path(source).stem),
        tuple(series_specs),
        tuple(matches),
        step,
        meta.get("description", ""),
        dict(fidelity),
        _parse_changes(data.get("change", []), len(matches), source),
    )


def _parse_changes(raw_changes: Any, n_matches: int, source: str) -> tuple[ChangeSpec, ...]:
    if not isinstance(raw_changes, list):
        raise ScenarioError(f"{source}: [[change]] must be an array of tables")
    out = []
    for i, raw in enumerate(raw_changes):
        where = f"{source} [[change]] #{i + 1}"
        kind = _get(raw, "kind", where, str)
        if kind not in CHANGE_KINDS:
            raise ScenarioError(f"{where}: kind must be one of {', '.join(CHANGE_KINDS)}")
        match = _get(raw, "match", where, int)
        if not 1 <= match <= n_matches:
            raise ScenarioError(f"{where}: match must be 1..{n_matches} (the [[match]] it changes)")
        team = raw.get("team")
        if team is not None and not isinstance(team, str):
            raise ScenarioError(f"{where}: team must be a team code string")
        extra = {k: v for k, v in raw.items() if k not in ("at", "kind", "match", "team")}
        out.append(ChangeSpec(parse_duration_ms(_get(raw, "at", where, str)), kind, match, team, extra))
    return tuple(sorted(out, key=lambda c: c.at_ms))


# --- building the exchange ----------------------------------------------------------------------


def event_code(start_ms: int, with_time: bool) -> str:
    """'26NOV28' (+ '1330'): the US-Eastern date (and time) of the scheduled start."""
    local = datetime.fromtimestamp(start_ms // 1000, EASTERN)
    code = f"{local.year % 100:02d}{MONTHS[local.month - 1]}{local.day:02d}"
    return code + (f"{local.hour:02d}{local.minute:02d}" if with_time else "")


def build(spec: ScenarioSpec, exchange: Exchange, now_ms: int, rng: random.Random) -> list[MatchState]:
    """Create the scenario's series, events, markets and milestones; return the matches to animate."""
    series_by_ticker = {s.ticker: s for s in spec.series}
    for s in spec.series:
        exchange.add_series(
            SeriesDef(s.ticker, s.title, s.tags, s.fee_type, s.fee_multiplier, s.exchange_index)
        )
    states = []
    used: set[str] = set()
    for match in spec.matches:
        series = series_by_ticker[match.series]
        start_ms = now_ms + match.start_in_ms
        start_ms -= start_ms % 60_000  # schedules are on whole minutes
        teams = [t for t in match.teams if t.code != "TIE"]
        codes = "".join(t.code for t in teams[:2])
        base = f"{match.series}-{event_code(start_ms, series.time_in_ticker)}{codes}"
        event_ticker, n = base, 2
        while event_ticker in used:
            event_ticker, n = f"{base}{n}", n + 1
        used.add(event_ticker)
        title = f"{teams[0].name} vs. {teams[1].name}"
        local = datetime.fromtimestamp(start_ms // 1000, EASTERN)
        exchange.add_event(
            EventDef(
                event_ticker,
                match.series,
                title,
                f"{MONTHS[local.month - 1].title()} {local.day}",
                series.competition,
                series.exchange_index,
            )
        )
        team_ids = tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in match.teams)
        tickers = []
        for team, team_id in zip(match.teams, team_ids, strict=True):
            ticker = f"{event_ticker}-{team.code}"
            if team.code == "TIE":
                market_title = f"Will {title} end in a tie?"
                rules = (
                    f"If {title} scheduled for {local:%b %d, %Y} ends in a tie, the market resolves to Yes."
                )
            else:
                market_title = f"Will {team.name} win the {title} {series.league} match?"
                rules = (
                    f"If {team.name} wins the {title} {series.league} match scheduled for "
                    f"{local:%b %d, %Y}, then the market resolves to Yes."
                )
            ranges = GRIDS[series.grid]
            market = Market(
                ticker=ticker,
                event_ticker=event_ticker,
                market_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                title=market_title,
                yes_sub_title=team.name,
                price_ranges=[dict(r) for r in ranges],
                price_level_structure=series.grid,
                grid=TickGrid.from_price_ranges(ranges),
                open_ms=now_ms - 2 * 24 * 3600 * 1000,
                close_ms=start_ms + CLOSE_PAD_MS,
                expected_expiration_ms=start_ms + RESULT_AFTER_MS,
                created_ms=now_ms - 3 * 24 * 3600 * 1000,
                exchange_index=series.exchange_index,
                custom_strike={series.strike_key: team_id} if team.code != "TIE" else {},
                status=match.status,
                rules_primary=rules,
            )
            exchange.add_market(market)
            tickers.append(ticker)
        milestone = Milestone(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            title=f"{teams[0].name} vs {teams[1].name}",
            category=series.category,
            type=series.milestone_type,
            start_ms=start_ms,
            league=series.league,
            event_tickers=(event_ticker,),
            team_ids=team_ids[:2],
            status="inprogress" if start_ms <= now_ms else "scheduled",
            last_updated_ms=now_ms,
        )
        exchange.add_milestone(milestone)
        states.append(
            MatchState(
                match,
                event_ticker,
                tickers,
                list(match.fair),
                start_ms,
                milestone.id,
                started=start_ms <= now_ms,
            )
        )
    return states


# --- the generated large scenario ---------------------------------------------------------------

_LARGE_SERIES = (
    ("KXCS2GAME", "Counter-Strike 2 Game", "Esports", "quadratic", 0, "CS2", True, "linear_cent"),
    ("KXVALORANTGAME", "Valorant Game", "Esports", "quadratic", 0, "Valorant", True, "linear_cent"),
    ("KXLOLGAME", "League of Legends Game", "Esports", "quadratic", 0, "LoL", True, "linear_cent"),
    ("KXDOTA2GAME", "Dota 2 Game", "Esports", "quadratic", 0, "Dota 2", True, "linear_cent"),
    (
        "KXNBAGAME",
        "Pro Basketball Game",
        "Basketball",
        "quadratic_with_maker_fees",
        0,
        "NBA",
        False,
        "linear_cent",
    ),
    ("KXNHLGAME", "Pro Hockey Game", "Hockey", "quadratic_with_maker_fees", 0, "NHL", False, "linear_cent"),
    (
        "KXNCAAMBGAME",
        "College Basketball Game",
        "Basketball",
        "quadratic_with_maker_fees",
        0,
        "NCAAM",
        False,
        "linear_cent",
    ),
    (
        "KXATPMATCH",
        "ATP Tennis Match",
        "Tennis",
        "quadratic_with_maker_fees",
        3,
        "ATP",
        False,
        "center_whole_edge_half_cent",
    ),
    (
        "KXWTAMATCH",
        "WTA Tennis Match",
        "Tennis",
        "quadratic_with_maker_fees",
        3,
        "WTA",
        False,
        "center_whole_edge_half_cent",
    ),
    (
        "KXTTELITEGAME",
        "Table Tennis Elite Game",
        "Table Tennis",
        "quadratic",
        0,
        "TT Elite",
        True,
        "linear_cent",
    ),
)


def generate_large(n_markets: int = 600, seed: int = 0) -> ScenarioSpec:
    """A quiet but wide scenario (≥ ``n_markets`` markets across series) for scanner tests."""
    rng = random.Random(seed)
    series = tuple(
        SeriesSpec(
            t,
            title,
            (tag,),
            fee,
            Decimal(1),
            shard,
            league,
            "Sports",
            "sports_game",
            hhmm,
            f"Example {league} League",
            grid,
            "team",
        )
        for t, title, tag, fee, shard, league, hhmm, grid in _LARGE_SERIES
    )
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    matches = []
    count = 0
    i = 0
    while count < n_markets:
        s = series[i % len(series)]
        a = "".join(rng.choice(letters) for _ in range(3))
        b = "".join(rng.choice(letters) for _ in range(3))
        while b == a:
            b = "".join(rng.choice(letters) for _ in range(3))
        fair_a = rng.randint(15, 85) * 100
        matches.append(
            MatchSpec(
                series=s.ticker,
                start_in_ms=rng.randint(-60, 48 * 60) * 60_000,
                teams=(Team(a, f"Team {a}"), Team(b, f"Team {b}")),
                fair=(Price(fair_a), Price(PRICE_SCALE - fair_a)),
                makers=1,
                taker_per_min=0,
            )
        )
        count += 2
        i += 1
    return ScenarioSpec("large", series, tuple(matches), 5000, "generated: many quiet markets")
