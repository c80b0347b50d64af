"""Loading: which file (``--config`` > ``$KMM_CONFIG`` > the user config dir), reading it with
``tomllib`` (``parse_float=Decimal``: floats arrive exact), then validation.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from kmm_tui.config.lineindex import LineIndex
from kmm_tui.config.schema import Settings, SettingsError
from kmm_tui.config.validation import Checker, validate
from kmm_tui.paths import settings_path

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            reason = message[: found.start()]
            raise SettingsError(
                f"{name}:{line}: TOML syntax error at column {column}: {reason}; fix that line "
                '(strings need quotes: key_id = "abc", tables look like [defaults])',
                line=line,
            ) from None
        reason = message.replace(" (at end of document)", "")
        last = max(1, len(text.splitlines()))
        raise SettingsError(
            f"{name}:{last}: TOML syntax error at the end of the file: {reason}; "
            "check for a repeated key or table, or an unclosed string or bracket",
            line=last,
        ) from None


def load_settings_text(
    text: str,
    *,
    name: str = "settings.toml",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Validate settings from TOML text.

    ``name`` prefixes error messages; a relative ``private_key_path`` is resolved against ``base_dir``.
    """
    env = os.environ if environ is None else environ
    doc = parse_toml(text, name)
    checker = Checker(name, LineIndex(text), base_dir or Path.cwd())
    return validate(checker, doc, env)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{path.name}:1: the file is not UTF-8 text; save it as UTF-8") from None
    except IsADirectoryError:
        raise SettingsError(f"{path}: is a directory; point --config at the settings.toml file") from None
    except PermissionError:
        raise SettingsError(f"{path}: permission denied; make it readable (chmod 600 {path})") from None


def load_settings(
    explicit: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load settings: ``explicit`` (``--config``), else ``$KMM_CONFIG``, else the default location.

    A missing default file gives the defaults (``Settings.source is None``); a missing named file
    raises :class:`SettingsError` telling the user how to fix it.
    """
    env = os.environ if environ is None else environ
    path, named = settings_path(explicit, env)
    if not path.exists():
        if named:
            via = "--config" if explicit is not None and str(explicit).strip() else "$KMM_CONFIG"
            raise SettingsError(
                f"{path}: settings file not found (named by {via}); check the path, or copy the example "
                "settings.toml from the kmm repository there"
            )
        return load_settings_text("", name=path.name, base_dir=path.parent, environ=env)
    text = read_text(path)
    settings = load_settings_text(text, name=path.name, base_dir=path.resolve().parent, environ=env)
    return with_source(settings, path)


def with_source(settings: Settings, path: Path) -> Settings:
    return Settings(
        settings.environment,
        settings.kalshi,
        settings.odds,
        settings.defaults,
        settings.scanner,
        settings.keys,
        settings.matches,
        path,
        settings.recording,
    )
