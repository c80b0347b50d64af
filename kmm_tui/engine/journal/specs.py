"""Match specs as JSON for the ``matches`` table (Decimals and Prices kept exact)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from decimal import Decimal

from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput


def spec_to_json(spec: MatchSpec) -> str:
    derived = {f.name for f in fields(spec) if not f.init}  # rebuilt from the tickers on load
    data = {k: v for k, v in asdict(spec).items() if k not in derived}
    theo = data["theo"]
    for key in ("odds_a", "odds_b", "odds_draw"):
        if theo[key] is not None:
            theo[key] = str(theo[key])
    theo["method"] = spec.theo.method.value
    theo["max_margin"] = str(spec.theo.max_margin)
    return json.dumps(data, sort_keys=True)


def spec_from_json(text: str) -> MatchSpec:
    data = json.loads(text)
    theo = data["theo"]
    odds = {
        k: (Decimal(theo[k]) if theo.get(k) is not None else None) for k in ("odds_a", "odds_b", "odds_draw")
    }
    theo_input = TheoInput(
        **odds,
        theo_a=theo.get("theo_a"),
        theo_b=theo.get("theo_b"),
        theo_tie=theo.get("theo_tie"),
        method=DevigMethod(theo.get("method", DevigMethod.MULTIPLICATIVE.value)),
        from_feed=bool(theo.get("from_feed", False)),
        margin_confirmed=bool(theo.get("margin_confirmed", False)),
        **({"max_margin": Decimal(theo["max_margin"])} if theo.get("max_margin") else {}),
    )
    known = MatchSettings.__dataclass_fields__
    settings = MatchSettings(**{k: v for k, v in data.get("settings", {}).items() if k in known})
    return MatchSpec(
        match_id=data["match_id"],
        ticker_a=data["ticker_a"],
        ticker_b=data["ticker_b"],
        theo=theo_input,
        settings=settings,
        name=data.get("name", ""),
        start_ms=data.get("start_ms"),
        ticker_tie=data.get("ticker_tie"),
    )
