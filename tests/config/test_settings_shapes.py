"""``[[matches]]`` of every shape: ``ticker = "X"`` for one YES/NO market, ``ticker_tie`` with
``odds_draw``/``theo_tie`` for a soccer event; errors name the file, the line and the fix; an old
two-team file loads and saves unchanged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.config import SavedMatch, SettingsError, load_settings, load_settings_text, save_match
from kmm_tui.domain.inventory import Side
from kmm_tui.engine.model import Shape
from kmm_tui.tui.store import saved_to_spec, spec_to_saved

OLD_TWO_TEAM = """\
environment = "sim"

[defaults]
edge_cents = 2
contracts = 10

[[matches]]
name = "Vitality vs FaZe"
ticker_a = "KXCS2GAME-26NOV281330VITFAZ-VIT"
ticker_b = "KXCS2GAME-26NOV281330VITFAZ-FAZ"
odds_a = "1.62"
odds_b = "2.42"
edge_cents = 1.5

[[matches]]
name = "T1 vs GEN"
ticker_a = "KXLOLGAME-26NOV281400T1GEN-T1"
ticker_b = "KXLOLGAME-26NOV281400T1GEN-GEN"
theo_a = 60
theo_b = 40
"""

SHAPES = """\
[[matches]]
name = "Arsenal v Chelsea"
ticker_a = "KXEPLGAME-26NOV28ARSCHE-ARS"
ticker_tie = "KXEPLGAME-26NOV28ARSCHE-TIE"
ticker_b = "KXEPLGAME-26NOV28ARSCHE-CHE"
odds_a = "2.1"
odds_draw = "3.4"
odds_b = "3.6"

[[matches]]
name = "Lakers total 220.5"
ticker = "KXNBATOTAL-26NOV28LALBOS-220"
theo_a = 52
"""


def test_an_old_two_team_file_loads_and_saves_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OLD_TWO_TEAM)
    settings = load_settings(path, environ={})
    for saved in settings.matches:
        assert saved.ticker_tie is None and saved.theo_tie is None
        spec = saved_to_spec(saved)
        assert spec.shape is Shape.TEAMS and spec.match_id == f"{saved.ticker_a}+{saved.ticker_b}"
        assert _markets_and_theo(spec_to_saved(spec, settings.defaults)) == _markets_and_theo(saved)
        save_match(path, saved, environ={})
    assert load_settings(path, environ={}).matches == settings.matches
    saved_text = path.read_text()
    assert "ticker =" not in saved_text and "ticker_tie" not in saved_text and "theo_tie" not in saved_text
    assert 'ticker_a = "KXCS2GAME-26NOV281330VITFAZ-VIT"' in saved_text


def test_three_way_and_single_market_load_and_round_trip_through_a_save(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(SHAPES)
    settings = load_settings(path, environ={})
    soccer, total = settings.matches
    assert soccer.ticker_tie == "KXEPLGAME-26NOV28ARSCHE-TIE" and soccer.odds_draw == Decimal("3.4")
    assert total.ticker_a == total.ticker_b == "KXNBATOTAL-26NOV28LALBOS-220"
    assert (total.theo_a, total.theo_b) == (5200, 4800)  # NO implied
    spec = saved_to_spec(soccer)
    assert spec.shape is Shape.THREE_WAY and spec.ticker(Side.T) == soccer.ticker_tie
    assert saved_to_spec(total).shape is Shape.YES_NO
    for saved in settings.matches:
        again = spec_to_saved(saved_to_spec(saved), settings.defaults)
        assert _markets_and_theo(again) == _markets_and_theo(saved)
        save_match(path, again, environ={})
    text = path.read_text()
    assert 'ticker = "KXNBATOTAL-26NOV28LALBOS-220"' in text and 'ticker_a = "KXNBATOTAL' not in text
    reloaded = load_settings(path, environ={}).matches
    assert [_markets_and_theo(m) for m in reloaded] == [_markets_and_theo(m) for m in settings.matches]


def _markets_and_theo(saved: SavedMatch) -> tuple[object, ...]:
    return (
        saved.name, saved.ticker_a, saved.ticker_tie, saved.ticker_b,
        saved.odds_a, saved.odds_draw, saved.odds_b, saved.theo_a, saved.theo_tie, saved.theo_b,
    )


def test_a_three_way_theo_may_leave_one_out() -> None:
    text = SHAPES.replace('odds_a = "2.1"\nodds_draw = "3.4"\nodds_b = "3.6"', "theo_a = 45\ntheo_b = 26")
    soccer = load_settings_text(text, environ={}).matches[0]
    assert (soccer.theo_a, soccer.theo_tie, soccer.theo_b) == (4500, 2900, 2600)


@pytest.mark.parametrize(
    ("table", "fragments"),
    [
        (
            'ticker = "KX-A"\nticker_a = "KX-A"\ntheo_a = 50',
            ["settings.toml:4:", "sets both ticker (one YES/NO market) and ticker_a"],
        ),
        ('ticker_a = "KX-A"\nticker_b = "KX-A"\ntheo_a = 50\ntheo_b = 50', ['write ticker = "KX-A" alone']),
        (
            'ticker_a = "KX-A"\nticker_tie = "KX-T"\nticker_b = "KX-B"\nodds_a = "2.1"\nodds_b = "3.6"',
            ["needs odds_a, odds_draw and odds_b", 'add odds_draw = "1.85"'],
        ),
        (
            'ticker_a = "KX-A"\nticker_tie = "KX-T"\nticker_b = "KX-B"\ntheo_a = 60\ntheo_tie = 45',
            ["settings.toml:7:", "theo_tie", "leaves nothing for away"],
        ),
        ('ticker = "KX-A"\ntheo_a = 50\ntheo_tie = 20', ["settings.toml:5:", "add ticker_tie (the TIE"]),
        ('ticker_a = "KX-A"\nticker_tie = "KX-A"\nticker_b = "KX-B"\ntheo_a = 50', ["draw's own market"]),
        ('ticker_b = "KX-B"\ntheo_a = 50', ['has no ticker_a', 'ticker = "..." for one YES/NO market']),
    ],
)
def test_bad_shapes_are_refused_with_file_line_and_fix(table: str, fragments: list[str]) -> None:
    text = f'[[matches]]\nname = "m"\n{table}\n'
    with pytest.raises(SettingsError) as caught:
        load_settings_text(text, environ={})
    message = str(caught.value)
    assert message.startswith("settings.toml"), message
    for fragment in fragments:
        assert fragment in message, message
