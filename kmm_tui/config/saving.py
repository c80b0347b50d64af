"""Saving: load the *raw* document, apply one change, validate the result and write it atomically
(0600, in an owner-only directory), so every setting not touched survives. ``tomli-w`` keeps no
comments: the previous file is kept as ``settings.toml.bak``. Key material is never written.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import tomli_w

from kmm_tui.config.loading import load_settings_text, parse_toml, read_text, with_source
from kmm_tui.config.schema import PEM_MARK, SavedMatch, Settings, SettingsError, toml_number
from kmm_tui.paths import ensure_private_dir


def _contains_key_material(value: object, loc: str = "") -> str | None:
    """The location of a PEM-looking string in a raw document, if any."""
    if isinstance(value, str):
        return loc or "a value" if (PEM_MARK in value or "PRIVATE KEY" in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _contains_key_material(item, f"{loc}.{key}" if loc else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _contains_key_material(item, f"{loc}[{i}]")
            if found:
                return found
    return None


def _write_atomic(path: Path, text: str) -> None:
    """Write via a 0600 temp file in the same directory and rename: a crash never leaves half a file."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def edit_settings(
    path: Path,
    edit: Callable[[dict[str, Any]], None],
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Apply ``edit`` to the raw document in ``path`` and save it; return the validated new settings.

    Everything ``edit`` does not change is preserved (values, order, tables); comments are not
    (``tomli-w`` cannot write them), so the previous file is copied to ``<name>.bak`` first. The new
    document is validated before anything is written, and one containing key material is refused.
    A missing file is treated as empty (the first save creates it, with its parent directory).
    """
    env = os.environ if environ is None else environ
    original = read_text(path) if path.exists() else ""
    doc = parse_toml(original, path.name)
    updated = copy.deepcopy(doc)
    edit(updated)
    leaked = _contains_key_material(updated)
    if leaked:
        raise SettingsError(
            f"{path.name}: refusing to save: {leaked} looks like private key material; settings.toml "
            "holds only the key file's path (private_key_path)"
        )
    text = tomli_w.dumps(updated)
    base_dir = path.resolve().parent if path.parent.exists() else path.parent
    settings = load_settings_text(text, name=path.name, base_dir=base_dir, environ=env)
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        shutil.copyfile(path, backup)
        os.chmod(backup, 0o600)
    _write_atomic(path, text)
    return with_source(settings, path)


def _to_toml_value(value: object) -> object:
    if isinstance(value, float):
        return toml_number(Decimal(str(value)))
    if isinstance(value, Decimal):
        return toml_number(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def set_setting(
    path: Path, dotted_key: str, value: object, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Set one value, e.g. ``set_setting(p, "defaults.edge_cents", Decimal("1.5"))``; None deletes it."""
    parts = dotted_key.split(".")
    if not all(parts):
        raise ValueError(f"bad settings key {dotted_key!r}")

    def edit(doc: dict[str, Any]) -> None:
        table = doc
        for part in parts[:-1]:
            nxt = table.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SettingsError(f"{path.name}: {part} is not a table; cannot set {dotted_key}")
            table = nxt
        if value is None:
            table.pop(parts[-1], None)
        else:
            table[parts[-1]] = _to_toml_value(value)

    return edit_settings(path, edit, environ=environ)


def _is_named(table: object, name: str) -> bool:
    return isinstance(table, dict) and str(table.get("name", "")).casefold() == name.casefold()


def save_match(path: Path, match: SavedMatch, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Add ``match`` to ``[[matches]]``, replacing a saved match of the same name (case-insensitive)."""

    def edit(doc: dict[str, Any]) -> None:
        matches = doc.setdefault("matches", [])
        table = match.to_toml()
        for i, existing in enumerate(matches):
            if _is_named(existing, match.name):
                matches[i] = table
                return
        matches.append(table)

    return edit_settings(path, edit, environ=environ)


def remove_match(path: Path, name: str, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Delete the saved match called ``name``; a name that is not saved is a :class:`SettingsError`."""

    def edit(doc: dict[str, Any]) -> None:
        matches = doc.get("matches", [])
        kept = [m for m in matches if not _is_named(m, name)]
        if len(kept) == len(matches):
            raise SettingsError(f'{path.name}: no saved match is named "{name}"')
        if kept:
            doc["matches"] = kept
        else:
            doc.pop("matches", None)

    return edit_settings(path, edit, environ=environ)


def set_key_binding(
    path: Path, action: str, key: str, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Bind ``action`` to ``key`` in ``[keys]`` (validation refuses a key already bound elsewhere)."""

    def edit(doc: dict[str, Any]) -> None:
        keys = doc.setdefault("keys", {})
        if not isinstance(keys, dict):
            raise SettingsError(f'{path.name}: keys is not a table; write [keys] with {action} = "{key}"')
        keys[action] = key

    return edit_settings(path, edit, environ=environ)
