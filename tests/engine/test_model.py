"""A match spec's facts derived from its tickers (shape, outcomes, markets, labels) are computed once at
construction (the decision path reads them on every pass): they must follow every way a spec is made —
built, replaced with other tickers, read back from the journal's JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Price
from kmm_tui.engine.journal import spec_from_json, spec_to_json
from kmm_tui.engine.model import MatchSpec, Shape, TheoInput

THEO = TheoInput(theo_a=Price(5000), theo_b=Price(5000))

SHAPES = [
    (("EV-A", "EV-B", None), Shape.TEAMS, (Side.A, Side.B), ("EV-A", "EV-B"), ("A", "B")),
    (("EV-H", "EV-W", "EV-TIE"), Shape.THREE_WAY, (Side.A, Side.T, Side.B), ("EV-H", "EV-TIE", "EV-W"),
     ("A", "tie", "B")),
    (("EV-O", "EV-O", None), Shape.YES_NO, (Side.A, Side.B), ("EV-O",), ("YES/NO",)),
]


def facts(spec: MatchSpec) -> tuple[object, ...]:
    return spec.shape, spec.outcomes, spec.tickers, spec.market_labels


@pytest.mark.parametrize(("tickers", "shape", "outcomes", "markets", "labels"), SHAPES)
def test_each_shape_derives_its_outcomes_markets_and_labels(
    tickers: tuple[str, str, str | None],
    shape: Shape,
    outcomes: tuple[Side, ...],
    markets: tuple[str, ...],
    labels: tuple[str, ...],
) -> None:
    a, b, tie = tickers
    spec = MatchSpec("m", a, b, THEO, ticker_tie=tie)
    assert facts(spec) == (shape, outcomes, markets, labels)


@pytest.mark.parametrize("source", [s[0] for s in SHAPES])
@pytest.mark.parametrize("target", [s[0] for s in SHAPES])
def test_replacing_the_tickers_derives_the_facts_again(
    source: tuple[str, str, str | None], target: tuple[str, str, str | None]
) -> None:
    spec = MatchSpec("m", source[0], source[1], THEO, ticker_tie=source[2])
    moved = replace(spec, ticker_a=target[0], ticker_b=target[1], ticker_tie=target[2])
    assert facts(moved) == facts(MatchSpec("m", target[0], target[1], THEO, ticker_tie=target[2]))


@pytest.mark.parametrize("tickers", [s[0] for s in SHAPES])
def test_the_journal_stores_what_was_given_and_derives_the_rest_on_load(
    tickers: tuple[str, str, str | None],
) -> None:
    spec = MatchSpec("m", tickers[0], tickers[1], THEO, name="Home v Away", ticker_tie=tickers[2])
    text = spec_to_json(spec)
    for derived in ("shape", "outcomes", "tickers", "market_labels"):
        assert f'"{derived}"' not in text
    loaded = spec_from_json(text)
    assert loaded == spec
    assert facts(loaded) == facts(spec)
