"""kmm_tui.odds."""
