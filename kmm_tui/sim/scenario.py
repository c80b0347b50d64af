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
from kmm_tui.sim.lines import GAME, KINDS, SPREAD, TOTAL, Outcome, line_fairs, outcomes
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
EVENT_CHANGE_KINDS = ("event_metadata", "event_fees", "series_fees", "settle")
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
    unit: str = "points"  # what a total or spread counts: "points", "goals", "maps"


@dataclass(frozen=True, slots=True)
class Team:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MatchSpec:
    """One event. A game: one market per team (maybe a TIE) with fair probabilities that sum to $1.
    A total or spread (``kind``): one YES/NO market per strike (per team for spreads) whose fair
    values all follow from ``line`` (expected total, or the first team's expected margin) and
    ``scale`` (``sim.lines``); ``fair`` then holds each market's opening fair value."""

    series: str
    start_in_ms: int
    teams: tuple[Team, ...]
    fair: tuple[Price, ...]
    status: str = "active"
    pause_on_start_ms: int = 0
    makers: int = 3
    taker_per_min: int = 30
    volatility: int = 1
    kind: str = GAME
    line: Decimal = Decimal(0)
    strikes: tuple[Decimal, ...] = ()
    scale: Decimal = Decimal(1)


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
    outcomes: list[Outcome] = field(default_factory=list)  # one per ticker, same order
    centre: Decimal = Decimal(0)  # totals/spreads: the line the fair values follow now

    @property
    def kind(self) -> str:
        return self.spec.kind


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
                unit=raw.get("unit", "points"),
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
        kind = raw.get("kind", GAME)
        if kind not in KINDS:
            raise ScenarioError(f"{where}: kind must be one of {', '.join(KINDS)}")
        common = {
            "status": raw.get("status", "active"),
            "pause_on_start_ms": parse_duration_ms(raw["pause_on_start"]) if "pause_on_start" in raw else 0,
            "makers": int(raw.get("makers", 3)),
            "taker_per_min": int(raw.get("taker_per_min", 30)),
            "volatility": int(raw.get("volatility", 1)),
        }
        start_in = parse_duration_ms(_get(raw, "start_in", where, str))
        if kind == GAME:
            fair = _game_fair(raw, teams, where)
            matches.append(MatchSpec(series, start_in, teams, fair, **common))
        else:
            matches.append(_line_match(raw, series, start_in, teams, kind, where, common))
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


def _game_fair(raw: dict[str, Any], teams: tuple[Team, ...], where: str) -> tuple[Price, ...]:
    fair_raw = [str(f) for f in _get(raw, "fair", where, list)]
    try:
        fair = [parse_price(f) for f in fair_raw]
    except ValueError as exc:
        raise ScenarioError(f"{where}: fair: {exc}") from None
    if len(fair) == len(teams) - 1:
        fair.append(Price(PRICE_SCALE - sum(fair)))
    if len(fair) != len(teams) or sum(fair) != PRICE_SCALE or min(fair) <= 0:
        raise ScenarioError(f"{where}: fair values must be positive, one per outcome, summing to 1")
    return tuple(fair)


def _line_match(
    raw: dict[str, Any],
    series: str,
    start_in: int,
    teams: tuple[Team, ...],
    kind: str,
    where: str,
    common: dict[str, Any],
) -> MatchSpec:
    """A totals or spreads event: ``line``, ``strikes`` and ``scale`` (points) instead of ``fair``."""
    if len(teams) != 2:
        raise ScenarioError(f"{where}: a {kind} event is about one game of exactly two teams")
    try:
        line = Decimal(str(_get(raw, "line", where, (str, int, float))))
        scale = Decimal(str(raw.get("scale", "10")))
        strikes = tuple(Decimal(str(k)) for k in _get(raw, "strikes", where, list))
    except ArithmeticError:
        raise ScenarioError(f"{where}: line, scale and strikes must be numbers such as \"221.5\"") from None
    if not strikes or len(set(strikes)) != len(strikes) or scale <= 0:
        raise ScenarioError(f"{where}: strikes must be distinct numbers and scale positive")
    if (kind == TOTAL and min(strikes) <= 0) or (kind == SPREAD and min(strikes) < 0):
        raise ScenarioError(f"{where}: strikes must be positive (a spread's strike is a winning margin)")
    markets = outcomes(kind, [t.code for t in teams], strikes)
    fair = tuple(Price(f) for f in line_fairs(kind, markets, line, scale))
    return MatchSpec(
        series, start_in, teams, fair, kind=kind, line=line, strikes=strikes, scale=scale, **common
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
        if kind == "settle" and ("winner" in extra) == ("points" in extra):
            raise ScenarioError(f'{where}: a settle change needs winner = "TIE" (a code) or points = [2, 1]')
        out.append(ChangeSpec(parse_duration_ms(_get(raw, "at", where, str)), kind, match, team, extra))
    return tuple(sorted(out, key=lambda c: c.at_ms))


# --- building the exchange ----------------------------------------------------------------------


def event_code(start_ms: int, with_time: bool) -> str:
    """'26NOV28' (+ '1330'): the US-Eastern date (and time) of the scheduled start."""
    local = datetime.fromtimestamp(start_ms // 1000, EASTERN)
    code = f"{local.year % 100:02d}{MONTHS[local.month - 1]}{local.day:02d}"
    return code + (f"{local.hour:02d}{local.minute:02d}" if with_time else "")


def build(spec: ScenarioSpec, exchange: Exchange, now_ms: int, rng: random.Random) -> list[MatchState]:
    """Create the scenario's series, events, markets and milestones; return the matches to animate.

    A totals or spreads match of the same two teams and start as an earlier game shares the game's
    milestone (its event is one more of the milestone's related events, as on Kalshi).
    """
    series_by_ticker = {s.ticker: s for s in spec.series}
    for s in spec.series:
        exchange.add_series(
            SeriesDef(s.ticker, s.title, s.tags, s.fee_type, s.fee_multiplier, s.exchange_index)
        )
    states = []
    used: set[str] = set()
    games: dict[tuple[tuple[str, ...], int], Milestone] = {}
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
        game = f"{teams[0].name} vs. {teams[1].name}"
        local = datetime.fromtimestamp(start_ms // 1000, EASTERN)
        exclusive = match.kind == GAME
        exchange.add_event(
            EventDef(
                event_ticker,
                match.series,
                _event_title(match.kind, game, series.unit),
                f"{MONTHS[local.month - 1].title()} {local.day}",
                series.competition,
                series.exchange_index,
                mutually_exclusive=exclusive,
                collateral_return_type="MECNET" if exclusive else "",
            )
        )
        team_ids = tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in match.teams)
        markets = outcomes(match.kind, [t.code for t in match.teams], match.strikes)
        tickers = []
        for outcome in markets:
            ticker = f"{event_ticker}-{outcome.code}"
            title, sub_title, rules = _market_text(match, series, outcome, game, f"{local:%b %d, %Y}")
            ranges = GRIDS[series.grid]
            team_id = team_ids[outcome.team] if outcome.team is not None else None
            market = Market(
                ticker=ticker,
                event_ticker=event_ticker,
                market_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                title=title,
                yes_sub_title=sub_title,
                price_ranges=[dict(r) for r in ranges],
                price_level_structure=series.grid,
                grid=TickGrid.from_price_ranges(ranges),
                open_ms=now_ms - 2 * 24 * 3600 * 1000,
                close_ms=start_ms + CLOSE_PAD_MS,
                expected_expiration_ms=start_ms + RESULT_AFTER_MS,
                created_ms=now_ms - 3 * 24 * 3600 * 1000,
                exchange_index=series.exchange_index,
                custom_strike={series.strike_key: team_id} if exclusive and team_id is not None else {},
                status=match.status,
                rules_primary=rules,
                strike_type="structured" if exclusive else "greater",
                floor_strike=outcome.strike,
            )
            exchange.add_market(market)
            tickers.append(ticker)
        key = (tuple(t.code for t in teams[:2]), start_ms)
        milestone = games.get(key) if not exclusive else None
        if milestone is not None:
            milestone.event_tickers = (*milestone.event_tickers, event_ticker)
        else:
            milestone = Milestone(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                title=f"{teams[0].name} vs {teams[1].name}",
                category=series.category,
                type=series.milestone_type,
                start_ms=start_ms,
                league=series.league,
                event_tickers=(event_ticker,),
                team_ids=tuple(team_ids[i] for i, t in enumerate(match.teams) if t.code != "TIE")[:2],
                status="inprogress" if start_ms <= now_ms else "scheduled",
                last_updated_ms=now_ms,
            )
            exchange.add_milestone(milestone)
            games.setdefault(key, milestone)
        states.append(
            MatchState(
                match,
                event_ticker,
                tickers,
                list(match.fair),
                start_ms,
                milestone.id,
                started=start_ms <= now_ms,
                outcomes=markets,
                centre=match.line,
            )
        )
    return states


def _event_title(kind: str, game: str, unit: str) -> str:
    if kind == TOTAL:
        return f"{game}: Total {unit.title()}"
    if kind == SPREAD:
        return f"{game}: Spread"
    return game


def _market_text(
    match: MatchSpec, series: SeriesSpec, outcome: Outcome, game: str, day: str
) -> tuple[str, str, str]:
    """(title, yes_sub_title, rules_primary) of one market, worded as Kalshi words each shape."""
    if match.kind == TOTAL:
        sub = f"Over {outcome.strike} {series.unit} scored"
        rules = (
            f"If {game} scheduled for {day} has more than {outcome.strike} {series.unit} scored in total, "
            "then the market resolves to Yes."
        )
        return f"{game}: Total {series.unit.title()}", sub, rules
    if match.kind == SPREAD:
        assert outcome.team is not None
        team = match.teams[outcome.team].name
        sub = f"{team} wins by over {outcome.strike} {series.unit}"
        rules = (
            f"If {team} wins the {game} game scheduled for {day} by over {outcome.strike} {series.unit}, "
            "then the market resolves to Yes."
        )
        return f"{game}: Spread", sub, rules
    if outcome.team is None:
        tie = next(t.name for t in match.teams if t.code == outcome.code)
        rules = f"If {game} scheduled for {day} ends in a tie, the market resolves to Yes."
        return f"Will {game} end in a tie?", tie, rules
    team = match.teams[outcome.team].name
    rules = (
        f"If {team} wins the {game} {series.league} match scheduled for {day}, "
        "then the market resolves to Yes."
    )
    return f"Will {team} win the {game} {series.league} match?", team, rules


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
