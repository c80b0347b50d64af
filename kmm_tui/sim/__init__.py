"""kmm_tui.sim."""
