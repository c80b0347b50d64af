"""The control API for every shape, in front of a real engine trading against the simulator: a soccer
event added with ticker_tie and three odds (views carry the draw's theo, market, quote and P&L), one
YES/NO market added with "ticker" and one theo (the NO side implied), and 422s naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kmm_tui.control_api.errors import ApiError
from kmm_tui.control_api.requests import parse_theo
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.model import Shape
from tests.control_api.conftest import ApiRig, api_rig
from tests.engine.test_shapes import SHAPES, add_total, soccer


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    async with api_rig(SHAPES, tmp_path) as rig:
        yield rig


async def test_a_soccer_event_is_added_with_its_draw_and_shown_per_outcome(rig: ApiRig) -> None:
    home, tie, away = soccer(rig.t)
    body = {"ticker_a": home, "ticker_tie": tie, "ticker_b": away, "odds_a": "2.1", "odds_draw": "3.4",
            "odds_b": "3.6", "contracts": 5, "inventory_max": 10}
    response = await rig.http.post("/api/matches", json=body)
    assert response.status_code == 201, response.text
    match = response.json()["match"]
    assert response.json()["id"] == f"{home}+{tie}+{away}"
    assert match["shape"] == "three_way" and match["ticker_tie"] == tie
    assert match["theo"]["input"]["odds_draw"] == "3.4"
    theos = [match["theo"][k] for k in ("a", "t", "b")]
    assert all(theo is not None for theo in theos)
    assert match["markets"]["t"]["ticker"] == tie
    assert set(match["inventory"]["pnl_if"]) == {"a", "t", "b"}
    assert match["inventory"]["long_t"] == "0"
    settings_url = f"/api/matches/{match['id']}/settings"
    response = await rig.http.post(settings_url, json={"theo_a": 60, "theo_tie": 45})
    assert response.status_code == 422
    assert response.json()["field"] == "theo_tie" and "leaves nothing for away" in response.json()["reason"]
    response = await rig.http.post(settings_url, json={"theo_a": 45, "theo_tie": 29})
    assert response.status_code == 200, response.text
    assert response.json()["match"]["theo"]["input"]["theo_b"] == "26"  # away implied


async def test_one_yes_no_market_is_added_with_ticker_and_one_theo(rig: ApiRig) -> None:
    total = add_total(rig.t)
    response = await rig.http.post("/api/matches", json={"ticker": total, "theo_a": 52})
    assert response.status_code == 201, response.text
    match = response.json()["match"]
    assert response.json()["id"] == total
    assert match["shape"] == "yes_no" and match["ticker_a"] == match["ticker_b"] == total
    assert match["theo"]["input"]["theo_b"] == "48"
    assert "t" not in match["markets"] and set(match["inventory"]["pnl_if"]) == {"a", "b"}


TEAMS = {"ticker_a": "KX-A", "ticker_b": "KX-B"}


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"ticker": "KX-A", "ticker_a": "KX-A", "theo_a": 50}, "ticker_a", "not both"),
        ({"ticker_a": "KX-A", "ticker_b": "KX-A", "theo_a": 50}, "ticker_b", 'send "ticker" alone'),
        ({**TEAMS, "ticker_tie": "KX-A", "theo_a": 50}, "ticker_tie", "own market"),
        ({**TEAMS, "ticker_tie": "KX-T", "odds_a": 2, "odds_b": 3}, "odds_draw", "needs odds_draw"),
        ({**TEAMS, "theo_a": 50, "theo_tie": 20}, "theo_tie", "only a three-way"),
    ],
)
async def test_bad_shapes_are_422_with_the_field(rig: ApiRig, body: dict, field: str, fragment: str) -> None:
    response = await rig.http.post("/api/matches", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and fragment in response.json()["reason"]


def test_parse_theo_implies_the_missing_outcome_for_every_shape() -> None:
    three = parse_theo({"theo_tie": 29, "theo_b": 26}, None, DevigMethod.MULTIPLICATIVE, Shape.THREE_WAY)
    assert three is not None and (three.theo_a, three.theo_tie, three.theo_b) == (4500, 2900, 2600)
    with pytest.raises(ApiError) as error:
        parse_theo({"theo_a": 45}, None, DevigMethod.MULTIPLICATIVE, Shape.THREE_WAY)
    assert error.value.field == "theo_tie"
