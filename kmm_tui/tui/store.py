"""Saved matches ↔ engine specs, and persisting the user's matches to settings.toml.

settings.toml is the source of truth for what the user configured: a match added or edited in the
form is written back with ``config.save_match`` (only the settings that differ from ``[defaults]``
are stored as overrides), and deleting a match removes it with ``config.remove_match``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from kmm_tui.config import DEFAULT_FIELDS, Defaults, SavedMatch, SettingsError, remove_match, save_match
from kmm_tui.domain.prices import CENT, COUNT_SCALE
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.outcome_input import match_id_for


def match_settings(defaults: Defaults) -> MatchSettings:
    """``[defaults]`` (user units) → the engine's per-match settings (domain units)."""
    return MatchSettings(
        edge=defaults.edge,
        contracts=defaults.contracts_count,
        inventory_max=defaults.inventory_max_count,
        start_margin_ms=defaults.start_margin_ms,
        retest_interval_ms=defaults.retest_interval_ms,
        backoff_ticks=defaults.backoff_ticks,
        fee_aware=defaults.fee_aware,
        post_only=defaults.post_only,
    )


def user_defaults(settings: MatchSettings) -> Defaults:
    """The engine's settings back in the units settings.toml uses (exact Decimals)."""
    return Defaults(
        edge_cents=Decimal(settings.edge) / CENT,
        contracts=Decimal(settings.contracts) / COUNT_SCALE,
        inventory_max=Decimal(settings.inventory_max) / COUNT_SCALE,
        start_margin_minutes=Decimal(settings.start_margin_ms) / 60_000,
        retest_interval_s=Decimal(settings.retest_interval_ms) / 1000,
        backoff_ticks=settings.backoff_ticks,
        fee_aware=settings.fee_aware,
        post_only=settings.post_only,
    )


def saved_to_spec(saved: SavedMatch) -> MatchSpec:
    if saved.theo_a is not None or saved.theo_b is not None or saved.theo_tie is not None:
        theo = TheoInput(
            theo_a=saved.theo_a, theo_b=saved.theo_b, theo_tie=saved.theo_tie, from_feed=saved.feed
        )
    elif saved.odds_a is None and saved.feed:
        theo = TheoInput(from_feed=True)
    else:
        theo = TheoInput(odds_a=saved.odds_a, odds_b=saved.odds_b, odds_draw=saved.odds_draw)
    if saved.devig is not None:
        theo = replace(theo, method=saved.devig)
    return MatchSpec(
        match_id_for(saved.ticker_a, saved.ticker_b, saved.ticker_tie),
        saved.ticker_a.upper(),
        saved.ticker_b.upper(),
        theo,
        match_settings(saved.settings),
        name=saved.name,
        ticker_tie=saved.ticker_tie.upper() if saved.ticker_tie else None,
    )


def spec_to_saved(spec: MatchSpec, defaults: Defaults) -> SavedMatch:
    effective = user_defaults(spec.settings)
    overridden = frozenset(f for f in DEFAULT_FIELDS if getattr(effective, f) != getattr(defaults, f))
    theo = spec.theo
    return SavedMatch(
        name=spec.name or spec.match_id,
        ticker_a=spec.ticker_a,
        ticker_b=spec.ticker_b,
        odds_a=None if theo.is_manual else theo.odds_a,
        odds_b=None if theo.is_manual else theo.odds_b,
        odds_draw=None if theo.is_manual else theo.odds_draw,
        theo_a=theo.theo_a,
        theo_b=theo.theo_b,
        devig=None if theo.is_manual else theo.method,
        settings=effective,
        overridden=overridden,
        feed=theo.from_feed,
        ticker_tie=spec.ticker_tie,
        theo_tie=theo.theo_tie,
    )


@dataclass(frozen=True, slots=True)
class SettingsStore:
    """Writes matches into one settings.toml (created on first save if it does not exist)."""

    path: Path
    defaults: Defaults

    def save(self, spec: MatchSpec) -> None:
        save_match(self.path, spec_to_saved(spec, self.defaults))

    def remove(self, spec: MatchSpec) -> None:
        try:
            remove_match(self.path, spec.name or spec.match_id)
        except SettingsError as error:
            if "no saved match" not in str(error):
                raise  # a broken settings.toml must be reported, not ignored
            # never saved (or removed by hand meanwhile): nothing to do
