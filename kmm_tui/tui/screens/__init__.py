"""Screens of the kmm app: the four modes, the live match view and the modal forms."""
