"""Which provider sport/league key serves which Kalshi series, and how its names are compared.

One table so every source, the matcher and `kmm odds coverage` agree on what "NBA" means. Series
tickers are matched whole (``KXDOTA2GAME``), never by prefix: ``KXDOTA2`` also names map markets.
Provider keys marked unverified in odds-api.md are looked up at runtime where the API allows
(OddsPapi ``/markets``, The Odds API ``/sports`` for per-tournament tennis keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NameStyle(StrEnum):
    """How participant names are normalised and compared."""

    TEAM = "team"  # clubs, franchises, schools, esports organisations
    PERSON = "person"  # tennis / table tennis players: surname + first initial


@dataclass(frozen=True, slots=True)
class SportSpec:
    """One Kalshi match-winner series and its counterpart keys at each odds provider.

    ``theoddsapi_keys`` are exact sport keys; ``theoddsapi_prefix`` (tennis) selects the active
    per-tournament keys from ``/v4/sports``. ``alias_sections`` name the ``aliases.toml`` tables
    consulted, most specific first. ``three_way`` marks soccer (home / draw / away).
    """

    series: str
    title: str
    style: NameStyle
    three_way: bool
    alias_sections: tuple[str, ...]
    theoddsapi_keys: tuple[str, ...] = ()
    theoddsapi_prefix: str | None = None
    oddspapi_sport_id: int | None = None
    sgo_league: str | None = None


_T, _P = NameStyle.TEAM, NameStyle.PERSON

SPORTS: dict[str, SportSpec] = {
    spec.series: spec
    for spec in (
        SportSpec("KXNBAGAME", "NBA", _T, False, ("nba",), ("basketball_nba",), None, 11, "NBA"),
        SportSpec("KXNHLGAME", "NHL", _T, False, ("nhl",), ("icehockey_nhl",), None, 15, "NHL"),
        SportSpec(
            "KXNCAAMBGAME", "NCAA men's basketball", _T, False, ("ncaab",), ("basketball_ncaab",), None, 11,
            "NCAAB",
        ),
        SportSpec("KXEPLGAME", "EPL", _T, True, ("epl", "soccer"), ("soccer_epl",), None, 10),
        SportSpec(
            "KXLALIGAGAME", "La Liga", _T, True, ("laliga", "soccer"), ("soccer_spain_la_liga",), None, 10
        ),
        SportSpec(
            "KXUCLGAME", "Champions League", _T, True, ("soccer",), ("soccer_uefa_champs_league",), None, 10
        ),
        SportSpec("KXSERIEAGAME", "Serie A", _T, True, ("soccer",), ("soccer_italy_serie_a",), None, 10),
        SportSpec(
            "KXBUNDESLIGAGAME", "Bundesliga", _T, True, ("soccer",), ("soccer_germany_bundesliga",), None, 10
        ),
        SportSpec("KXLIGUE1GAME", "Ligue 1", _T, True, ("soccer",), ("soccer_france_ligue_one",), None, 10),
        SportSpec("KXATPMATCH", "ATP", _P, False, ("tennis",), (), "tennis_atp_", 12),
        SportSpec("KXWTAMATCH", "WTA", _P, False, ("tennis",), (), "tennis_wta_", 12),
        SportSpec("KXATPCHALLENGERMATCH", "ATP Challenger", _P, False, ("tennis",), (), None, 12),
        SportSpec("KXTTELITEGAME", "Table tennis", _P, False, ("tabletennis",), (), None, 25),
        SportSpec("KXCS2GAME", "CS2", _T, False, ("cs2", "esports"), (), None, 17),
        SportSpec("KXDOTA2GAME", "Dota 2", _T, False, ("dota2", "esports"), (), None, 16),
        SportSpec("KXLOLGAME", "League of Legends", _T, False, ("lol", "esports"), (), None, 18),
        SportSpec("KXVALORANTGAME", "Valorant", _T, False, ("valorant", "esports"), (), None, 61),
        SportSpec("KXCODGAME", "Call of Duty", _T, False, ("cod", "esports"), (), None, 56),
    )
}


class LineKind(StrEnum):
    """The sportsbook market a single Kalshi YES/NO market corresponds to (``odds/lines.py``)."""

    TOTAL = "total"  # YES = the total is over the strike (The Odds API ``totals``)
    SPREAD = "spread"  # YES = the named team wins by more than the strike (``spreads``, point −strike)


# Kalshi's totals/spreads series -> the match-winner series of the same games, and the kind of line.
LINE_SERIES: dict[str, tuple[str, LineKind]] = {
    "KXNBATOTAL": ("KXNBAGAME", LineKind.TOTAL),
    "KXNBASPREAD": ("KXNBAGAME", LineKind.SPREAD),
    "KXNHLTOTAL": ("KXNHLGAME", LineKind.TOTAL),
    "KXNHLSPREAD": ("KXNHLGAME", LineKind.SPREAD),
    "KXNCAAMBTOTAL": ("KXNCAAMBGAME", LineKind.TOTAL),
    "KXNCAAMBSPREAD": ("KXNCAAMBGAME", LineKind.SPREAD),
    "KXEPLTOTAL": ("KXEPLGAME", LineKind.TOTAL),
    "KXUCLTOTAL": ("KXUCLGAME", LineKind.TOTAL),
    "KXLALIGATOTAL": ("KXLALIGAGAME", LineKind.TOTAL),
}


def line_kind_of(series: str) -> LineKind | None:
    """``KXNBATOTAL`` → TOTAL, ``KXNBASPREAD`` → SPREAD, a match-winner series → None."""
    found = LINE_SERIES.get(series.upper())
    return found[1] if found else None


class UnknownSeriesError(KeyError):
    """A Kalshi series with no entry in :data:`SPORTS`."""

    def __str__(self) -> str:
        return (
            f"Kalshi series {self.args[0]!r} has no odds mapping; use manual theo for it or add the "
            "series to kmm_tui/odds/sports.py"
        )


def sport_for_series(series: str) -> SportSpec:
    """Look a series up by its whole ticker (``KXNBAGAME``), case-insensitively; a totals/spreads
    series (``KXNBATOTAL``) is the sport of its games."""
    game = LINE_SERIES.get(series.upper(), (series.upper(), None))[0]
    try:
        return SPORTS[game]
    except KeyError:
        raise UnknownSeriesError(series) from None


def series_of_event(event_ticker: str) -> str:
    """``KXNBAGAME-26NOV28BOSNYK`` -> ``KXNBAGAME``."""
    return event_ticker.split("-", 1)[0].upper()
