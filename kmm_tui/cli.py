"""``kmm``: the command line. Parses flags, loads settings, resolves the environment, then dispatches.

Why one front door: every command gets the same settings loading, the same environment gates
(``prod`` needs keys, ``--live`` and typing LIVE) and the same error discipline — a user error is one
line on stderr and exit status 2, an unexpected exception is logged in full to the log file and
summarised in one line (status 1), and nothing is ever logged to the terminal.

The parser is :mod:`kmm_tui.cli_parser` (flag types in :mod:`kmm_tui.cli_args`); this module owns
dispatch and the failure contract (docs/cli.md). Subcommand handlers live with their layers and are
imported lazily from :data:`HANDLERS`, so ``kmm --help`` stays fast and a build without some layer
still runs the others. A handler is ``handler(args: argparse.Namespace, settings: Settings) -> int``;
``args.environment`` holds the resolved :class:`~kmm_tui.environments.Environment` (None for
``sim`` and ``journal``), and ``args.log_path`` the log file. Handlers may raise
:class:`~kmm_tui.config.UserError`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from kmm_tui import __version__
from kmm_tui.cli_parser import (
    COMMAND_SUMMARIES,
    FlagError,
    build_parser,
    command_label,
    label_from_argv,
    validate_args,
)
from kmm_tui.config import Settings, UserError, load_settings
from kmm_tui.environments import Environment, confirm_live, resolve_environment, sim_urls
from kmm_tui.kalshi.errors import KeyFileError
from kmm_tui.logsetup import redact, register_secret, setup_logging
from kmm_tui.paths import settings_path, state_dir

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE

PRIVATE_UMASK = 0o077
SIM_PROBE_TIMEOUT_S = 3.0

TUI_HANDLER = "kmm_tui.tui.app:main"
HANDLERS: dict[str, str] = {
    "run": "kmm_tui.headless:main",
    "scan": "kmm_tui.scan.cli:main",
    "odds": "kmm_tui.odds.cli:main",
    "sim": "kmm_tui.sim.cli:main",
    "serve": "kmm_tui.serve:main",
    "check": "kmm_tui.check:main",
    "journal": "kmm_tui.journal_cli:main",
    "replay": "kmm_tui.replay.cli:main",
}
# Commands that can place orders: on prod they need --live and the typed confirmation.
TRADING_COMMANDS = frozenset({"tui", "run", "serve"})
# Commands that use an account (key required on demo/prod).
ACCOUNT_COMMANDS = TRADING_COMMANDS | {"check"}
# Commands that read public market data only: the environment picks the host, no key needed.
PUBLIC_COMMANDS = frozenset({"scan", "odds"})
# `kmm sim` serves until Ctrl-C and returns normally when stopped: that is an interruption (130).
SERVES_UNTIL_INTERRUPTED = frozenset({"sim"})

Handler = Callable[[argparse.Namespace, Settings], Any]


# --- dispatch ------------------------------------------------------------------------------------


class CommandUnavailable(UserError):
    """The handler module of a command is not part of this build."""


def load_handler(command: str, target: str) -> Handler:
    """Import ``module:function`` lazily; a missing module means the command is not in this build."""
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandUnavailable(
                f"`{command}` is not available in this build ({module_name} is missing)"
            ) from None
        raise
    handler = getattr(module, function, None)
    if not callable(handler):
        raise CommandUnavailable(f"`{command}` is not available in this build ({target} is missing)")
    return handler


def _run_handler(handler: Handler, args: argparse.Namespace, settings: Settings) -> int:
    result = handler(args, settings)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if result is None:
        return EXIT_OK
    if isinstance(result, bool) or not isinstance(result, int):
        raise TypeError(f"handler for {args.command} returned {result!r}, not an exit status")
    return result


def _resolve(args: argparse.Namespace, settings: Settings) -> Environment | None:
    command = args.command
    if command in ACCOUNT_COMMANDS:
        return resolve_environment(settings, args.env, live=args.live, sim_url=args.sim_url)
    if command in PUBLIC_COMMANDS:
        return resolve_environment(
            settings, args.env, live=args.live, sim_url=args.sim_url, require_keys=False
        )
    return None


def say(label: str, message: str) -> None:
    """One line on stderr, prefixed ``kmm <command>:`` (``kmm:`` for the app)."""
    prefix = f"kmm {label}:" if label else "kmm:"
    print(f"{prefix} {message}", file=sys.stderr, flush=True)


def require_answering_sim(sim_url_text: str, timeout_s: float = SIM_PROBE_TIMEOUT_S) -> None:
    """A ``--sim-url`` must answer now: a typo or a stopped ``kmm sim`` is an error, never a quiet
    switch to another simulator (the user would trade or scan somewhere they did not choose)."""
    rest_url, _ = sim_urls(sim_url_text)
    try:
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            response = client.get(f"{rest_url}/exchange/status")
    except httpx.HTTPError as exc:
        reason = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0]
        raise UserError(
            f"nothing answers at --sim-url {sim_url_text} ({reason}) — start `kmm sim` there first "
            "(it prints its URL), or drop --sim-url to use a built-in simulator"
        ) from None
    if response.status_code != 200:
        raise UserError(
            f"--sim-url {sim_url_text} answered HTTP {response.status_code} to /exchange/status, so it is "
            "not a kmm simulator — give the URL `kmm sim` printed"
        )


def _dispatch(args: argparse.Namespace, settings: Settings, read_line: Callable[[str], str]) -> int:
    """Resolve the environment, find the handler, pass the live gate, run. Order matters: nobody is
    asked to type LIVE for a command this build cannot run or an environment that is misconfigured."""
    label = command_label(args)
    environment = _resolve(args, settings)
    args.environment = environment
    args.read_line = read_line  # handlers that ask questions (scan --theo) read through the same hook
    target = TUI_HANDLER if args.command == "tui" else HANDLERS[args.command]
    handler = load_handler("the terminal app" if args.command == "tui" else args.command, target)
    if args.sim_url:
        require_answering_sim(args.sim_url)
    if environment is not None:
        for warning in environment.warnings:
            say(label, f"warning: {warning}")
        log.info("environment %s (rest %s)", environment.name, environment.rest_url or "embedded simulator")
        if environment.is_live and args.command in TRADING_COMMANDS:
            if not confirm_live(read_line):
                raise UserError("live trading not confirmed; nothing was sent — type LIVE exactly to go on")
            log.warning("live trading confirmed by the user for `%s`", args.command)
    if args.command == "serve" and args.host not in ("127.0.0.1", "localhost", "::1"):
        say(label, f"warning: serving on {args.host}: anyone who can reach it can trade on your account")
    if args.command in PUBLIC_COMMANDS and environment is not None and environment.rest_url is None:
        return _with_embedded_sim(handler, args, settings, environment)
    status = _run_handler(handler, args, settings)
    if args.command in SERVES_UNTIL_INTERRUPTED and status == EXIT_OK:
        return EXIT_INTERRUPTED  # its only normal end is Ctrl-C, which its own loop swallows
    return status


def _with_embedded_sim(handler: Handler, args: argparse.Namespace, settings: Settings,
                       environment: Environment) -> int:
    """Public-data commands in ``sim`` without --sim-url read from a simulator started just for them."""
    from kmm_tui.embedded_sim import simulator_thread

    with contextlib.ExitStack() as stack:
        try:
            rest_url, ws_url = stack.enter_context(simulator_thread())
        except OSError as error:
            raise UserError(f"{error} — free a local port, or use --sim-url or --env demo") from None
        args.environment = dataclasses.replace(environment, rest_url=rest_url, ws_url=ws_url)
        return _run_handler(handler, args, settings)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so interpreter shutdown does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None, *, read_line: Callable[[str], str] = input) -> int:
    """Entry point of the ``kmm`` console script; returns the exit status (never raises for user errors).

    Every file and directory kmm creates is the owner's only (umask 077): the journal, logs, simulator
    keys and the API token name positions, fills and credentials.
    """
    os.umask(PRIVATE_UMASK)
    words = list(sys.argv[1:] if argv is None else argv)
    label = label_from_argv(words)
    try:
        status = _main(words, read_line)
        sys.stdout.flush()
        return status
    except FlagError as exc:
        command = exc.command or label
        fix = "" if " — " in str(exc) else f" — see `kmm {command + ' ' if command else ''}--help`"
        say(command, f"{exc}{fix}")  # argparse's own messages get the --help pointer as their fix
        return EXIT_USER_ERROR
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        say(label, "interrupted")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str], read_line: Callable[[str], str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or --version: argparse printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    validate_args(args)
    args.command = args.command or "tui"
    label = command_label(args)

    state = state_dir(args.state_dir)
    try:
        args.log_path = setup_logging(state, getattr(logging, args.log_level.upper()))
    except OSError as exc:
        say(label, f"cannot write logs under {state} ({exc.strerror or exc}) — choose another --state-dir "
            "or set KMM_STATE_DIR")
        return EXIT_USER_ERROR
    args.state_dir = state
    log.info("kmm %s: command %s", __version__, args.command)
    try:
        settings = load_settings(args.config)
        odds = settings.odds
        for secret in (odds.the_odds_api_key, odds.oddspapi_key, odds.sportsgameodds_key):
            register_secret(secret)
        path, _ = settings_path(args.config)
        log.info("settings: %s", settings.source or f"defaults ({path} does not exist)")
        return _dispatch(args, settings, read_line)
    except UserError as exc:
        log.info("user error: %s", exc)
        say(label, str(exc))
        return EXIT_USER_ERROR
    except KeyFileError as exc:
        log.info("key file error: %s", exc)
        say(label, exc.user_message)
        return EXIT_USER_ERROR
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.exception("unexpected error in `kmm %s`", args.command)
        summary = redact(f"{type(exc).__name__}: {exc}").splitlines()[0] if str(exc) else type(exc).__name__
        say(label, f"unexpected error ({summary}) — details in {args.log_path}")
        return EXIT_FAILURE


__all__ = [
    "COMMAND_SUMMARIES",
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USER_ERROR",
    "HANDLERS",
    "TUI_HANDLER",
    "build_parser",
    "load_handler",
    "main",
    "require_answering_sim",
    "say",
]
