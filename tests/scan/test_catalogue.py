"""The sports catalogue: the shipped series list, selection rules and file validation."""

from __future__ import annotations

import pytest

from kmm_tui.scan.catalogue import Catalogue, CatalogueError, SeriesKind, expand_prefixes

REQUIRED = {
    "KXVALORANTGAME": "valorant",
    "KXCS2GAME": "cs2",
    "KXLOLGAME": "lol",
    "KXDOTA2GAME": "dota2",
    "KXCODGAME": "cod",
    "KXR6GAME": "r6",
    "KXOWGAME": "overwatch",
    "KXNBAGAME": "nba",
    "KXNBASPREAD": "nba",
    "KXNBATOTAL": "nba",
    "KXNHLGAME": "nhl",
    "KXNHLTOTAL": "nhl",
    "KXNHLSPREAD": "nhl",
    "KXNCAAMBGAME": "ncaamb",
    "KXNCAAMBTOTAL": "ncaamb",
    "KXATPMATCH": "atp",
    "KXWTAMATCH": "wta",
    "KXTTELITEGAME": "tabletennis",
    "KXEPLTOTAL": "epl",
    "KXUCLTOTAL": "ucl",
    "KXLALIGATOTAL": "laliga",
    "KXEPLGAME": "epl",
    "KXUCLGAME": "ucl",
    "KXLALIGAGAME": "laliga",
}
OLD = {
    "KXLOLMATCH": SeriesKind.LEGACY,
    "KXLOLCHAMP": SeriesKind.TOURNAMENT,
    "KXDOTA2": SeriesKind.LEGACY,
    "KXCOD": SeriesKind.LEGACY,
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.packaged()


def test_packaged_catalogue_lists_every_series_with_its_sport(catalogue: Catalogue) -> None:
    by_ticker = {e.ticker: e for e in catalogue.entries}
    for ticker, sport in REQUIRED.items():
        assert by_ticker[ticker].sport == sport, ticker
        assert by_ticker[ticker].default and not by_ticker[ticker].prefix
    for ticker, kind in OLD.items():
        assert by_ticker[ticker].kind is kind and not by_ticker[ticker].default, ticker
    assert {t for t, e in by_ticker.items() if e.three_way} == {"KXEPLGAME", "KXUCLGAME", "KXLALIGAGAME"}
    defaults = {e.ticker for e in catalogue.selection()}
    assert defaults == set(REQUIRED)


def test_lookup_is_by_whole_ticker_and_prefix_entries_label_map_series(catalogue: Catalogue) -> None:
    assert catalogue.sport_of("kxnbagame") == ("nba", "NBA")
    assert catalogue.sport_of("KXNBAGAMEX") == ("other", "KXNBAGAMEX")  # exact entries are not prefixes
    assert catalogue.sport_of("KXDOTA2MAP") == ("dota2", "Dota 2")  # KXDOTA2 is a prefix entry
    assert catalogue.entry_for("KXDOTA2GAME").ticker == "KXDOTA2GAME"  # an exact entry wins


def test_selection_precedence_series_then_settings_then_defaults(catalogue: Catalogue) -> None:
    configured = ("KXNHLGAME", "KXFOOGAME")
    chosen = catalogue.selection(configured)
    assert [e.ticker for e in chosen] == ["KXNHLGAME", "KXFOOGAME"]
    assert chosen[1].sport == "other"
    assert [e.ticker for e in catalogue.selection(configured, series=["kxatpmatch"])] == ["KXATPMATCH"]
    nba = catalogue.selection(sports=["NBA"])
    assert [e.ticker for e in nba] == ["KXNBAGAME", "KXNBASPREAD", "KXNBATOTAL"]
    assert [e.ticker for e in catalogue.selection(configured, sports=["other"])] == ["KXFOOGAME"]
    assert catalogue.selection(sports=["Champions League"])[0].ticker == "KXUCLGAME"


def test_unknown_sport_names_the_known_ones(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="unknown sport 'curling' — use one of: valorant, cs2"):
        catalogue.selection(sports=["curling"])


def test_prefix_entries_expand_against_the_exchange_series(catalogue: Catalogue) -> None:
    chosen = catalogue.selection(series=["KXDOTA2", "KXNBAGAME"])
    expanded = expand_prefixes(chosen, ["KXDOTA2GAME", "KXDOTA2MAP", "KXNBAGAME", "KXCS2GAME"])
    assert [(e.ticker, e.sport, e.prefix) for e in expanded] == [
        ("KXDOTA2GAME", "dota2", False),
        ("KXDOTA2MAP", "dota2", False),
        ("KXNBAGAME", "nba", False),
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x = 1", "needs at least one [[series]]"),
        ('[[series]]\nticker = "nba"\nsport = "nba"\nlabel = "NBA"', "upper-case"),
        ('[[series]]\nticker = "KXA"\nsport = ""\nlabel = "A"', "sport must be"),
        (
            '[[series]]\nticker = "KXA"\nsport = "a"\nlabel = "A"\nkind = "props"',
            "kind 'props' is not one of",
        ),
        ('[[series]]\nticker = "KXA"\nsport = "a"\nlabel = "A"\nmatch = "glob"', "match must be"),
        ('[[series]]\nticker = "KXA"\nsport = "a"\nlabel = "A"\ncolour = "red"', "unknown keys colour"),
        (
            '[[series]]\nticker = "KXA"\nsport = "a"\nlabel = "A"\n[[series]]\nticker = "KXA"\nsport = "a"\n'
            'label = "A"',
            "listed twice",
        ),
        ("[[series", "not valid TOML"),
    ],
)
def test_bad_catalogue_files_say_what_to_fix(text: str, fragment: str) -> None:
    with pytest.raises(CatalogueError, match=None) as info:
        Catalogue.from_toml_text(text, "custom.toml")
    assert fragment in str(info.value) and "custom.toml" in str(info.value)
