"""kmm_tui.scan."""
