"""Turn a match's theo input (odds or manual cents) into theo prices, with user-facing errors."""

from __future__ import annotations

from kmm_tui.domain.prices import PRICE_SCALE, Price, format_cents
from kmm_tui.domain.theo import OddsError, devig, overround, prob_to_price
from kmm_tui.engine.errors import EngineError, MarginAboveCap
from kmm_tui.engine.model import TheoInput


def theo_prices(theo: TheoInput) -> tuple[Price | None, Price | None]:
    """Theo per team in Price units (None, None for a feed-priced match until its first refresh).
    Raises EngineError naming the field to fix."""
    if theo.from_feed and theo.theo_a is None and theo.odds_a is None:
        return None, None
    if theo.theo_a is not None:
        theo_b = theo.theo_b if theo.theo_b is not None else Price(PRICE_SCALE - theo.theo_a)
        for name, value in (("theo_a", theo.theo_a), ("theo_b", theo_b)):
            if not 0 < value < PRICE_SCALE:
                raise EngineError(f"{name.replace('_', ' ')} must be between 0 and 100 cents", field=name)
        if theo.theo_a + theo_b > PRICE_SCALE:  # both bids could fill and lose: they cannot both be fair
            raise EngineError(
                f"theo A {format_cents(theo.theo_a)} and theo B {format_cents(theo_b)} add up to more "
                "than 100c: exactly one team wins, so fair values add up to 100c at most",
                field="theo_b",
            )
        return theo.theo_a, theo_b
    if theo.odds_a is None or theo.odds_b is None:
        raise EngineError("enter decimal odds for both teams, or a theo in cents", field="odds_a")
    for name, odds in (("odds_a", theo.odds_a), ("odds_b", theo.odds_b), ("odds_draw", theo.odds_draw)):
        if odds is not None and not odds > 1:
            raise EngineError(f"{name.replace('_', ' ')} must be greater than 1.0 (got {odds})", field=name)
    outcomes = (
        [theo.odds_a, theo.odds_b] if theo.odds_draw is None else [theo.odds_a, theo.odds_draw, theo.odds_b]
    )
    margin = overround(outcomes)
    if margin > theo.max_margin and not theo.margin_confirmed:
        raise MarginAboveCap(
            f"these odds carry a {margin * 100:.1f} % bookmaker margin, above the "
            f"{theo.max_margin * 100:.0f} % cap: check them for a typo or a stale price, or confirm "
            "to use them anyway"
        )
    try:
        probabilities = devig(outcomes, theo.method)
    except OddsError as error:
        raise EngineError(str(error), field="odds_a") from None
    return prob_to_price(probabilities[0]), prob_to_price(probabilities[-1])


def describe_theo(theo: TheoInput) -> str:
    """Where a match's theo comes from, for the UI and logs."""
    if theo.from_feed:
        return f"odds feed ({theo.method.value})"
    if theo.theo_a is not None:
        return "manual theo"
    odds = "/".join(str(o) for o in (theo.odds_a, theo.odds_draw, theo.odds_b) if o is not None)
    return f"odds {odds} ({theo.method.value})"
