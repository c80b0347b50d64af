"""kmm_tui.tui."""
