"""``[risk]``: account-wide limits in exact dollars and markout horizons, and what the engine gets."""

import pytest

from kmm_tui.bootstrap import account_limits
from kmm_tui.config import RiskSettings, SettingsError, load_settings_text
from kmm_tui.domain.prices import Money
from kmm_tui.engine.model import AccountLimits


def test_no_risk_table_means_no_limits_and_the_default_horizons() -> None:
    risk = load_settings_text("", environ={}).risk
    assert risk == RiskSettings()
    assert account_limits(risk) == AccountLimits()
    assert risk.markout_horizons_ms == (5_000, 60_000, 300_000)


def test_limits_are_exact_money_and_horizons_sorted() -> None:
    text = """
[risk]
max_session_loss_usd = 50
max_exposure_usd = "120.25"
max_resting_notional_usd = 30.5
markout_horizons_s = [60, 2]
"""
    risk = load_settings_text(text, environ={}).risk
    assert account_limits(risk) == AccountLimits(
        max_session_loss=Money(50_000_000),
        max_exposure=Money(120_250_000),
        max_resting_notional=Money(30_500_000),
    )
    assert risk.markout_horizons_ms == (2_000, 60_000)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("max_session_loss_usd = 0", "out of range"),
        ("max_exposure_usd = 1.005", "too precise"),
        ("markout_horizons_s = []", "list of seconds"),
        ("markout_horizons_s = [5, 5]", "twice"),
        ("max_loss = 5", "max_loss"),
    ],
)
def test_bad_risk_settings_say_what_to_fix(body: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says) as error:
        load_settings_text(f"[risk]\n{body}\n", environ={})
    assert str(error.value).startswith("settings.toml:2:")
