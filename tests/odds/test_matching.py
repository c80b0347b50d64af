"""Sportsbook ↔ Kalshi matching: the shared fixture cases plus real-world name variants."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kmm_tui.odds.matching import (
    DEFAULT_THRESHOLD,
    AliasFileError,
    AliasTable,
    BookEvent,
    KalshiEvent,
    KalshiOutcome,
    Matcher,
    MatchStatus,
    eastern_date,
    kalshi_event_from_markets,
    name_score,
    normalize_name,
    parse_ticker_schedule,
)
from kmm_tui.odds.sports import NameStyle, series_of_event, sport_for_series
from tests.odds.fakes import iso_ms
from tests.support import load_fixture

CASES = load_fixture("odds/matching_cases.json")["cases"]
ALIASES = AliasTable.packaged()


def _run(case: dict[str, Any], matcher: Matcher) -> Any:
    k, b = case["kalshi"], case["book"]
    kalshi = kalshi_event_from_markets(k["event_ticker"], k["event_title"], k["markets"])
    book = BookEvent(b["source"], b["id"], b["side1"], b["side2"], iso_ms(b["start_utc"]))
    return matcher.decide(kalshi, [book], sport_for_series(series_of_event(k["event_ticker"])))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_fixture_cases(case: dict[str, Any]) -> None:
    decision = _run(case, Matcher.load())
    assert decision.matched is case["expected"]["match"], decision.reason
    if decision.matched:
        assert {t: s.value for t, s in decision.pairs().items()} == case["expected"]["pairs"]
    else:
        assert decision.pairs() == {}
        assert decision.reason


def test_normalisation() -> None:
    assert normalize_name("Montréal Canadiens") == "montreal canadiens"
    assert normalize_name("Brighton & Hove Albion") == "brighton and hove albion"
    assert normalize_name("Northwestern St.") == "northwestern state"
    assert normalize_name("St. John's") == "saint johns"
    assert normalize_name("St Louis Blues") == "saint louis blues"
    assert normalize_name("Ninjas-in-Pyjamas") == "ninjas in pyjamas"
    assert normalize_name("Sinner, Jannik", NameStyle.PERSON) == "jannik sinner"
    assert normalize_name("Auger-Aliassime F.", NameStyle.PERSON) == "f auger aliassime"


TEAM_VARIANTS = [
    # (kalshi label, book name, alias sections, same team?)
    ("Vitality", "Team Vitality", ("cs2", "esports"), True),
    ("Tundra", "Tundra Esports", ("dota2", "esports"), True),
    ("Falcons", "Team Falcons", ("cs2", "esports"), True),
    ("NAVI", "Natus Vincere", ("cs2", "esports"), True),
    ("Ninjas in Pyjamas", "NIP", ("cs2", "esports"), True),
    ("Gen.G", "Gen.G Esports", ("lol", "esports"), True),
    ("Heroic", "HEROIC Gaming", ("cs2", "esports"), True),
    ("FaZe", "FaZe Clan", ("cs2", "esports"), True),
    ("Team Spirit", "Team Spirit Academy", ("cs2", "esports"), False),
    ("Spirit", "Spirit Academy", ("cs2", "esports"), False),
    ("G2", "G2 Esports", ("cs2", "esports"), True),
    ("FaZe Clan", "Natus Vincere", ("cs2", "esports"), False),
    ("Montreal", "Montréal Canadiens", ("nhl",), True),
    ("St. Louis", "St Louis Blues", ("nhl",), True),
    ("New York", "New York Knicks", ("nba",), True),
    ("New York", "Brooklyn Nets", ("nba",), False),
    ("Los Angeles L", "Los Angeles Lakers", ("nba",), True),
    ("Los Angeles L", "Los Angeles Clippers", ("nba",), False),
    ("Wolves", "Wolverhampton Wanderers", ("epl", "soccer"), True),
    ("Man Utd", "Manchester United", ("epl", "soccer"), True),
    ("Manchester City", "Manchester United", ("epl", "soccer"), False),
    ("PSG", "Paris Saint-Germain", ("soccer",), True),
    ("Atlético Madrid", "Atletico Madrid", ("laliga", "soccer"), True),
    ("Real Madrid", "Real Madrid Castilla B", ("laliga", "soccer"), False),
    ("Northwestern St.", "Northwestern State Demons", ("ncaab",), True),
    ("Northwestern St.", "Northwestern Wildcats", ("ncaab",), False),
    ("Northwestern", "Northwestern St Demons", ("ncaab",), False),
    ("St. John's", "St. John's Red Storm", ("ncaab",), True),
    ("Michigan St.", "Michigan State Spartans", ("ncaab",), True),
    ("Michigan", "Michigan State Spartans", ("ncaab",), False),
    ("Gonzaga", "Gonzaga Bulldogs", ("ncaab",), True),
    ("Texas", "Texas A&M Aggies", ("ncaab",), False),
    ("Miami (OH)", "Miami (OH) RedHawks", ("ncaab",), True),
    ("Miami", "Miami (OH) RedHawks", ("ncaab",), False),
    ("Arsenal", "Arsenal Women", ("epl", "soccer"), False),
    ("England U21", "England", ("soccer",), False),
]


@pytest.mark.parametrize(("kalshi", "book", "sections", "same"), TEAM_VARIANTS)
def test_team_name_variants(kalshi: str, book: str, sections: tuple[str, ...], same: bool) -> None:
    score = name_score(kalshi, book, NameStyle.TEAM, ALIASES, sections)
    assert (score >= DEFAULT_THRESHOLD) is same, score


PLAYER_VARIANTS = [
    ("Jannik Sinner", "J. Sinner", True),
    ("Jannik Sinner", "Sinner, Jannik", True),
    ("Jannik Sinner", "Sinner J.", True),
    ("Jannik Sinner", "M. Sinner", False),
    ("Alexander Zverev", "Mischa Zverev", False),
    ("Alex de Minaur", "De Minaur, Alex", True),
    ("Alex de Minaur", "A. De Minaur", True),
    ("Felix Auger-Aliassime", "F. Auger Aliassime", True),
    ("Felix Auger-Aliassime", "Auger-Aliassime, Félix", True),
    ("Iga Świątek", "Swiatek, Iga", True),
    ("Carlos Alcaraz", "Jannik Sinner", False),
]


@pytest.mark.parametrize(("kalshi", "book", "same"), PLAYER_VARIANTS)
def test_player_name_variants(kalshi: str, book: str, same: bool) -> None:
    score = name_score(kalshi, book, NameStyle.PERSON, ALIASES, ("tennis",))
    assert (score >= DEFAULT_THRESHOLD) is same, score


CS2_EVENT = KalshiEvent(
    "KXCS2GAME-26NOV281330VITFAZ",
    "Vitality vs. FaZe Clan",
    (
        KalshiOutcome("KXCS2GAME-26NOV281330VITFAZ-VIT", "Vitality"),
        KalshiOutcome("KXCS2GAME-26NOV281330VITFAZ-FAZ", "FaZe Clan"),
    ),
)
CS2 = sport_for_series("KXCS2GAME")


def test_start_time_more_than_two_hours_from_hhmm_is_rejected() -> None:
    matcher = Matcher.load()
    ok = BookEvent("x", "1", "Team Vitality", "FaZe Clan", iso_ms("2026-11-28T20:30:00Z"))  # +2 h
    late = BookEvent("x", "2", "Team Vitality", "FaZe Clan", iso_ms("2026-11-28T20:31:00Z"))
    assert matcher.decide(CS2_EVENT, [ok], CS2).matched
    decision = matcher.decide(CS2_EVENT, [late], CS2)
    assert decision.status is MatchStatus.NO_CANDIDATE
    assert "differ by 121 min" in decision.reason


def test_milestone_start_overrides_ticker_time() -> None:
    event = KalshiEvent(
        CS2_EVENT.event_ticker, CS2_EVENT.title, CS2_EVENT.outcomes, start_ms=iso_ms("2026-11-28T21:00:00Z")
    )
    book = BookEvent("x", "1", "Team Vitality", "FaZe Clan", iso_ms("2026-11-28T21:30:00Z"))
    assert Matcher.load().decide(event, [book], CS2).matched


def test_two_fitting_events_need_confirmation() -> None:
    a = BookEvent("x", "1", "Team Vitality", "FaZe Clan", iso_ms("2026-11-28T18:30:00Z"))
    b = BookEvent("x", "2", "Vitality", "FaZe", iso_ms("2026-11-28T19:00:00Z"))
    decision = Matcher.load().decide(CS2_EVENT, [a, b], CS2)
    assert decision.status is MatchStatus.NEEDS_CONFIRMATION
    assert len(decision.candidates) == 2


def test_clear_winner_beats_weaker_same_day_candidate() -> None:
    right = BookEvent("x", "1", "Team Vitality", "FaZe Clan", iso_ms("2026-11-28T18:30:00Z"))
    other = BookEvent("x", "2", "Team Vitality", "Natus Vincere", iso_ms("2026-11-28T15:30:00Z"))
    decision = Matcher.load().decide(CS2_EVENT, [other, right], CS2)
    assert decision.matched and decision.chosen is not None and decision.chosen.book.id == "1"


def test_confirm_persists_event_and_names(tmp_path: Path) -> None:
    path = tmp_path / "state" / "confirmed_matches.json"
    event = KalshiEvent(
        "KXCS2GAME-26NOV281600MNGHRN",
        "Mongolz vs Heroic",
        (
            KalshiOutcome("KXCS2GAME-26NOV281600MNGHRN-MNG", "The MongolZ"),
            KalshiOutcome("KXCS2GAME-26NOV281600MNGHRN-HRN", "HEROIC"),
        ),
    )
    book = BookEvent("oddspapi", "id17-1", "Heroic", "TheMongolz", iso_ms("2026-11-28T21:00:00Z"))
    matcher = Matcher.load(path)
    first = matcher.decide(event, [book], CS2)
    assert first.status is MatchStatus.NEEDS_CONFIRMATION
    matcher.confirm(event, book, swapped=True, spec=CS2)
    saved = json.loads(path.read_text())
    assert saved["events"]["oddspapi|KXCS2GAME-26NOV281600MNGHRN"] == {"book_id": "id17-1", "swapped": True}
    reloaded = Matcher.load(path)
    again = reloaded.decide(event, [book], CS2)
    assert again.matched and again.confirmed_by_user
    assert again.pairs()["KXCS2GAME-26NOV281600MNGHRN-MNG"].value == "side2"
    # the name pair is remembered for the next event with those teams
    later = BookEvent("oddspapi", "id17-9", "TheMongolz", "Heroic", iso_ms("2026-12-02T21:00:00Z"))
    next_event = KalshiEvent("KXCS2GAME-26DEC021600MNGHRN", "x", event.outcomes)
    assert reloaded.decide(next_event, [later], CS2).matched


def test_broken_confirmed_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "confirmed.json"
    path.write_text("{not json")
    with pytest.raises(AliasFileError, match="fix or delete"):
        Matcher.load(path)


def test_bad_alias_toml_is_reported() -> None:
    with pytest.raises(AliasFileError, match="list of strings"):
        AliasTable.from_toml_text('[nba]\n"Boston Celtics" = "Boston"\n', "test.toml")


def test_ticker_schedule_and_eastern_date() -> None:
    schedule = parse_ticker_schedule("KXCS2GAME-26NOV281330VITFAZ")
    assert schedule is not None and schedule.eastern_minutes == 13 * 60 + 30
    assert schedule.start_ms() == iso_ms("2026-11-28T18:30:00Z")  # EST = UTC-5
    summer = parse_ticker_schedule("KXCS2GAME-26OCT011215ABCDEF")
    assert summer is not None and summer.start_ms() == iso_ms("2026-10-01T16:15:00Z")  # EDT = UTC-4
    nba = parse_ticker_schedule("KXNBAGAME-26NOV28BOSNYK")
    assert nba is not None and nba.eastern_minutes is None and str(nba.eastern_date) == "2026-11-28"
    assert str(eastern_date(iso_ms("2026-11-29T00:30:00Z"))) == "2026-11-28"
    assert parse_ticker_schedule("GARBAGE") is None


def test_scores_are_exact_decimals() -> None:
    score = name_score("FaZe Clan", "Natus Vincere", NameStyle.TEAM, ALIASES, ("cs2",))
    assert isinstance(score, Decimal) and score == score.quantize(Decimal("0.0001"))
