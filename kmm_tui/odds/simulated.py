"""The simulator's fake odds source, read with the real The Odds API client.

``kmm sim`` (and the embedded simulator) serve a small odds feed under ``/odds-sim`` in The Odds API's
wire format, priced from the simulator's own fair values (``kmm_tui/sim/odds_source.py``): ``h2h`` for
a game (with a ``Draw`` from a soccer event's TIE market) and each totals/spreads event's main line,
so every match shape can be priced from the feed (docs/shapes.md, "Odds for every shape"). In the
``sim`` environment kmm adds this source on its own, so odds coverage and feed-priced matches work
without any key. It is named ``simulated`` everywhere (source, bookmaker) so it can never be taken for
a real bookmaker's price.
"""

from __future__ import annotations

import httpx

from kmm_tui.odds.matching import Matcher
from kmm_tui.odds.theoddsapi import TheOddsApi, TheOddsApiSettings

NAME = "simulated"
PATH = "/odds-sim"
NOTE = "the simulator's fake odds (simulated prices, not a real bookmaker)"


def simulated_host(rest_url: str) -> str:
    """The fake source's host from the simulator's REST URL (``http://127.0.0.1:PORT/trade-api/v2``)."""
    origin = rest_url.rstrip("/").removesuffix("/trade-api/v2")
    return origin + PATH


class SimulatedOdds(TheOddsApi):
    """The Odds API client pointed at the simulator: no key, no credits, labelled ``simulated``."""

    name = NAME

    def __init__(
        self, rest_url: str, matcher: Matcher, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        settings = TheOddsApiSettings(
            api_key=NAME, host=simulated_host(rest_url), regions=("sim",), min_remaining=0,
            odds_ttl_ms=5_000, events_ttl_ms=30_000,
        )
        super().__init__(settings, matcher, transport=transport)


__all__ = ["NAME", "NOTE", "SimulatedOdds", "simulated_host"]
