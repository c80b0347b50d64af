"""Every user action in one table: its id, default key, footer label and help text.

The footer, the help screen, the command palette and the ``[keys]`` remapping in settings.toml all
read this table, so an action can never be reachable one way and missing another. Remapping uses
Textual's binding ids (``App.set_keymap``); ``resolve_keys`` validates the user's table first so a
typo in settings.toml is a clear error at start-up, not a silently dead key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One remappable action. ``action`` is the Textual action string run on the app."""

    id: str
    key: str
    action: str
    label: str
    help: str
    footer: bool = True


ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("mode_matches", "1", "switch_mode('matches')", "Matches", "Matches: every match, live", False),
    KeyAction(
        "mode_scanner", "2", "switch_mode('scanner')", "Scanner", "Scanner: markets to pick from", False
    ),
    KeyAction("mode_fills", "3", "switch_mode('fills')", "Fills", "Fills & P&L across matches", False),
    KeyAction("mode_log", "4", "switch_mode('log')", "Log", "Log: warnings, errors, guard trips", False),
    KeyAction(
        "mode_overview",
        "5",
        "switch_mode('overview')",
        "Overview",
        "Overview: every running match's book side by side",
        False,
    ),
    KeyAction(
        "mode_replay",
        "6",
        "switch_mode('replay')",
        "Replay",
        "Replay: recorded sessions under other edges",
        False,
    ),
    KeyAction("add", "a", "add_match", "Add", "Add a match (setup form)"),
    KeyAction("edit", "e", "edit_match", "Edit", "Edit the selected match's theo and settings"),
    KeyAction("start", "s", "start_match", "Start", "Start quoting the selected match"),
    KeyAction(
        "dry_run",
        "S",
        "start_dry_run",
        "Dry run",
        "Start the selected match deciding from live books, sending no orders",
        False,
    ),
    KeyAction("stop", "x", "stop_match", "Stop", "Stop the selected match and pull its orders"),
    KeyAction("delete", "d", "delete_match", "Delete", "Delete the selected match (asks first)"),
    KeyAction("inventory", "i", "correct_inventory", "Inventory", "Correct the selected match's inventory"),
    KeyAction("kill_all", "K", "kill_all", "Kill all", "Cancel every order and stop all (asks first)"),
    KeyAction(
        "reset_limits", "R", "reset_account_limits", "Reset limits",
        "Reset the account-wide limits after a breach (then start matches again)", False,
    ),
    KeyAction("filter", "slash", "filter", "Filter", "Filter the current table"),
    KeyAction(
        "acknowledge",
        "exclamation_mark",
        "acknowledge",
        "Acknowledge",
        "Acknowledge the newest alert (halt, guard trip) in the red banner",
        False,
    ),
    KeyAction("help", "question_mark,f1", "help", "Help", "This help screen"),
    KeyAction("quit", "q", "quit_app", "Quit", "Quit (pulls every resting order first)"),
)

ACTION_IDS = frozenset(a.id for a in ACTIONS)


class KeymapError(ValueError):
    """The ``[keys]`` table in settings.toml names an unknown action or reuses a key."""


def resolve_keys(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Effective key per action id: defaults with the user's ``[keys]`` table applied and checked."""
    keys = {a.id: a.key for a in ACTIONS}
    for action_id, key in (overrides or {}).items():
        if action_id not in ACTION_IDS:
            close = difflib.get_close_matches(action_id, sorted(ACTION_IDS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise KeymapError(
                f"[keys] {action_id!r} is not an action{hint}; known actions: {', '.join(sorted(ACTION_IDS))}"
            )
        if not isinstance(key, str) or not key.strip():
            raise KeymapError(f'[keys] {action_id} must be a key name such as "a" or "ctrl+e"')
        keys[action_id] = key.strip()
    seen: dict[str, str] = {}
    for action_id, key_list in keys.items():
        for key in key_list.split(","):
            if key in seen:
                raise KeymapError(
                    f"[keys] key {key!r} is used by both {seen[key]!r} and {action_id!r}; "
                    "give one of them another key"
                )
            seen[key] = action_id
    return keys


FOOTER_FIRST = ("help", "quit")  # the footer is cut on the right at 80 columns: these must stay


def app_bindings() -> list[Binding]:
    """Default bindings with ids; the app applies the user's overrides with ``set_keymap``.

    Help and quit come first so a narrow footer never hides them.
    """
    first = [a for a in ACTIONS if a.id in FOOTER_FIRST]
    rest = [a for a in ACTIONS if a.id not in FOOTER_FIRST]
    return [Binding(a.key, a.action, a.label, show=a.footer, id=a.id) for a in (*first, *rest)]


def display_key(key: str) -> str:
    """A key as the help screen shows it ('question_mark,f1' → '? / F1')."""
    names = {
        "slash": "/",
        "question_mark": "?",
        "exclamation_mark": "!",
        "enter": "Enter",
        "escape": "Esc",
    }
    return " / ".join(
        names.get(k, k.upper() if k.startswith("f") and k[1:].isdigit() else k) for k in key.split(",")
    )
