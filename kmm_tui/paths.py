"""Where kmm keeps its files: the settings file, the state directory (journal, logs) and the log file.

One module decides every location so the CLI, the TUI, the engine's journal and the tests agree.
Precedence, most specific first:

* state dir: ``--state-dir`` > ``$KMM_STATE_DIR`` > ``$XDG_STATE_HOME/kmm`` > platform default
  (``~/.local/state/kmm`` on Linux, via ``platformdirs``);
* settings file: ``--config`` > ``$KMM_CONFIG`` > ``$XDG_CONFIG_HOME/kmm/settings.toml`` > platform
  default (``~/.config/kmm/settings.toml`` on Linux).

The ``XDG_*`` variables are honoured on every platform (platformdirs only reads them on Linux), so a
test or a user can relocate everything with environment variables alone. Nothing here creates
directories except :func:`ensure_private_dir`, which callers use right before writing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "kmm"
SETTINGS_FILE_NAME = "settings.toml"
LOG_FILE_NAME = "kmm.log"
JOURNAL_FILE_NAME = "journal.sqlite3"

ENV_STATE_DIR = "KMM_STATE_DIR"
ENV_CONFIG = "KMM_CONFIG"


def _env_path(environ: Mapping[str, str], name: str) -> Path | None:
    """A non-empty path from the environment, with ``~`` expanded; None when unset or blank."""
    value = environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``<config home>/kmm``: ``$XDG_CONFIG_HOME`` when set, else the platform's user config dir."""
    env = os.environ if environ is None else environ
    xdg = _env_path(env, "XDG_CONFIG_HOME")
    if xdg is not None:
        return xdg / APP_NAME
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file used when neither ``--config`` nor ``$KMM_CONFIG`` names one."""
    return user_config_dir(environ) / SETTINGS_FILE_NAME


def settings_path(explicit: Path | str | None, environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """Which settings file to read, and whether the user named it (a named file must exist).

    Returns ``(path, named)``; ``named`` is True for ``--config`` and ``$KMM_CONFIG``.
    """
    env = os.environ if environ is None else environ
    if explicit is not None and str(explicit).strip():
        return Path(explicit).expanduser(), True
    from_env = _env_path(env, ENV_CONFIG)
    if from_env is not None:
        return from_env, True
    return default_settings_path(env), False


def state_dir(explicit: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The directory for the journal and logs (see the module docstring for the precedence)."""
    env = os.environ if environ is None else environ
    if explicit is not None and str(explicit).strip():
        return Path(explicit).expanduser()
    from_env = _env_path(env, ENV_STATE_DIR)
    if from_env is not None:
        return from_env
    xdg = _env_path(env, "XDG_STATE_HOME")
    if xdg is not None:
        return xdg / APP_NAME
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def log_dir(state: Path) -> Path:
    """Logs live in ``<state dir>/logs`` so one ``--state-dir`` moves everything together."""
    return state / "logs"


def log_file(state: Path) -> Path:
    return log_dir(state) / LOG_FILE_NAME


def journal_file(state: Path) -> Path:
    """The engine's SQLite journal inside the state dir."""
    return state / JOURNAL_FILE_NAME


PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and every missing parent readable only by the owner (0700, whatever the umask):
    the journal and logs name positions, fills and order ids.

    An existing directory keeps its mode: the user may have chosen it deliberately.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by another kmm process: theirs to set
        directory.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a directory")
    return path
