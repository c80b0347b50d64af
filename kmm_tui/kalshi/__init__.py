"""kmm_tui.kalshi."""
