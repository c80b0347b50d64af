"""kmm_tui.engine."""
