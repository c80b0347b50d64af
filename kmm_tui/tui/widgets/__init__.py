"""Widgets of the kmm app: synced tables, order-book ladders, the status bar."""
