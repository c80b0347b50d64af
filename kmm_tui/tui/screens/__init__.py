"""Screens of the kmm app: the five modes, the live match view and the modal forms."""
