"""kmm: a keyboard-driven terminal for market making on Kalshi sports binary markets."""

__version__ = "0.1.0"
