"""kmm_tui.domain."""
