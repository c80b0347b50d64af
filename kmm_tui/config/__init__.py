"""``settings.toml``: what the user configured, validated into frozen typed values.

A package with one job per module: :mod:`.schema` (errors, enums, the value dataclasses),
:mod:`.lineindex` (line numbers for errors), :mod:`.validation`, :mod:`.loading` and :mod:`.saving`.
``kmm_tui.config`` re-exports every public name, so ``from kmm_tui.config import Settings`` keeps
working.

Why so strict: this file decides how much real money a quote risks. A typo (``edge_cent``), a float
that rounds (``edge_cents = 1.5`` must be exactly 1.5 cents) or an out-of-range value must stop the
program with ``settings.toml:LINE: what is wrong and how to fix it`` instead of trading on a default.

* Reading uses ``tomllib`` with ``parse_float=Decimal``, so TOML floats arrive exact; a float that
  reaches this module any other way is converted with ``Decimal(str(x))``.
* Line numbers come from :class:`LineIndex`, a small scanner of the file text that maps every table
  header and key to its line (``tomllib`` does not report positions for values).
* Saving (:func:`edit_settings` and helpers) loads the *raw* document, applies one change, validates
  the result and writes it atomically, so every setting it did not touch survives. ``tomli-w`` does
  not keep comments: the previous file is kept as ``settings.toml.bak``. Key material is never
  written; the file holds only the *path* of the Kalshi private key.

Load order (:func:`load_settings`): ``--config PATH``, then ``$KMM_CONFIG``, then
``<user config dir>/kmm/settings.toml``. A missing default file means defaults; a missing file the
user named is an error. Odds API keys may come from ``KMM_ODDS_API_KEY``, ``KMM_ODDSPAPI_KEY`` and
``KMM_SPORTSGAMEODDS_KEY``, which win over the file.
"""

from __future__ import annotations

from kmm_tui.config.loading import (
    load_settings,
    load_settings_text,
)
from kmm_tui.config.saving import (
    edit_settings,
    remove_match,
    save_match,
    set_key_binding,
    set_setting,
)
from kmm_tui.config.schema import (
    DEFAULT_FIELDS,
    DEVIG_METHODS,
    ODDS_KEY_ENV_VARS,
    ODDS_REGIONS,
    Defaults,
    EnvName,
    KalshiSettings,
    OddsSettings,
    RecordingSettings,
    RiskSettings,
    SavedMatch,
    ScannerSettings,
    Settings,
    SettingsError,
    Tier,
    UserError,
)

__all__ = [
    "DEFAULT_FIELDS",
    "DEVIG_METHODS",
    "ODDS_KEY_ENV_VARS",
    "ODDS_REGIONS",
    "Defaults",
    "EnvName",
    "KalshiSettings",
    "OddsSettings",
    "RecordingSettings",
    "RiskSettings",
    "SavedMatch",
    "ScannerSettings",
    "Settings",
    "SettingsError",
    "Tier",
    "UserError",
    "edit_settings",
    "load_settings",
    "load_settings_text",
    "remove_match",
    "save_match",
    "set_key_binding",
    "set_setting",
]
