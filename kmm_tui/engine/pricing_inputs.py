"""Turn a match's theo input (odds or manual cents) into theo prices, with user-facing errors."""

from __future__ import annotations

from kmm_tui.domain.prices import PRICE_SCALE, Price, format_cents
from kmm_tui.domain.theo import OddsError, devig, overround, prob_to_price
from kmm_tui.engine.errors import EngineError, MarginAboveCap
from kmm_tui.engine.model import TheoInput

OutcomeTheos = tuple[Price | None, Price | None, Price | None]  # (A, B, T); T None unless three-way


def theo_prices(theo: TheoInput) -> tuple[Price | None, Price | None]:
    """Theo per team of a two-outcome match (see ``outcome_theos``)."""
    theo_a, theo_b, _ = outcome_theos(theo)
    return theo_a, theo_b


def outcome_theos(theo: TheoInput, three_way: bool = False) -> OutcomeTheos:
    """Theo per outcome in Price units, as (A, B, tie); all None for a feed-priced match until its first
    refresh, and the tie None unless ``three_way``. Raises EngineError naming the field to fix."""
    if theo.from_feed and not theo.is_manual and theo.odds_a is None:
        return None, None, None
    if theo.is_manual:
        return _manual(theo, three_way)
    if theo.odds_a is None or theo.odds_b is None or (three_way and theo.odds_draw is None):
        if three_way and theo.odds_a is not None and theo.odds_b is not None:
            raise EngineError("enter the draw's decimal odds too: a soccer match has three outcomes",
                              field="odds_draw")
        raise EngineError("enter decimal odds for every outcome, or a theo in cents", field="odds_a")
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
    theo_t = prob_to_price(probabilities[1]) if three_way else None
    return prob_to_price(probabilities[0]), prob_to_price(probabilities[-1]), theo_t


def _manual(theo: TheoInput, three_way: bool) -> OutcomeTheos:
    """Typed theos: every outcome but one may be typed, the last is implied (100c − the others); typed
    ones that add up past 100c are refused (bids on every outcome could all fill and lose)."""
    fields = [("theo_a", "A", theo.theo_a)]
    if three_way:
        fields.append(("theo_tie", "draw", theo.theo_tie))
    fields.append(("theo_b", "B", theo.theo_b))
    missing = [name for name, _, value in fields if value is None]
    if len(missing) > 1:
        raise EngineError(
            f"enter a theo for {len(fields) - 1} of the {len(fields)} outcomes (the last is implied)",
            field=missing[0],
        )
    typed = [(name, label, value) for name, label, value in fields if value is not None]
    for name, _, value in typed:
        if not 0 < value < PRICE_SCALE:
            raise EngineError(f"{name.replace('_', ' ')} must be between 0 and 100 cents", field=name)
    total = sum(value for _, _, value in typed)
    if total > PRICE_SCALE:  # bids on every outcome could all fill and lose: they cannot all be fair
        listed = " + ".join(f"{label} {format_cents(value)}" for _, label, value in typed)
        raise EngineError(
            f"theo {listed} add up to more than 100c: exactly one outcome wins, so fair values add up "
            "to 100c at most",
            field=typed[-1][0],
        )
    values = {name: value for name, _, value in typed}
    if missing:
        if total >= PRICE_SCALE:
            raise EngineError(
                f"the typed theos add up to 100c, leaving nothing for {missing[0].replace('_', ' ')}",
                field=missing[0],
            )
        values[missing[0]] = Price(PRICE_SCALE - total)
    return values["theo_a"], values["theo_b"], values.get("theo_tie")


def describe_theo(theo: TheoInput) -> str:
    """Where a match's theo comes from, for the UI and logs."""
    if theo.from_feed:
        return f"odds feed ({theo.method.value})"
    if theo.is_manual:
        return "manual theo"
    odds = "/".join(str(o) for o in (theo.odds_a, theo.odds_draw, theo.odds_b) if o is not None)
    return f"odds {odds} ({theo.method.value})"
