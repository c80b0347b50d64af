"""``kmm``: the command line. Parses flags, loads settings, resolves the environment, then dispatches.

Why one front door: every command gets the same settings loading, the same environment gates
(``prod`` needs keys, ``--live`` and typing LIVE) and the same error discipline — a user error is one
line on stderr and exit status 2, an unexpected exception is logged in full to the log file and
summarised in one line (status 1), and nothing is ever logged to the terminal.

Subcommand handlers live with their layers and are imported lazily from :data:`HANDLERS`, so
``kmm --help`` stays fast and a build without some layer still runs the others. A handler is
``handler(args: argparse.Namespace, settings: Settings) -> int``; ``args.environment`` holds the
resolved :class:`~kmm_tui.environments.Environment` (None for ``sim`` and ``journal``), and
``args.log_path`` the log file. Handlers may raise :class:`~kmm_tui.config.UserError`.
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
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kmm_tui import __version__
from kmm_tui.config import EnvName, Settings, UserError, load_settings
from kmm_tui.domain.prices import WireFormatError, format_usd, parse_count, price_from_cents
from kmm_tui.environments import Environment, confirm_live, resolve_environment, sim_urls
from kmm_tui.logsetup import redact, register_secret, setup_logging
from kmm_tui.paths import settings_path, state_dir

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE

TUI_HANDLER = "kmm_tui.tui.app:main"
HANDLERS: dict[str, str] = {
    "run": "kmm_tui.headless:main",
    "scan": "kmm_tui.scan.cli:main",
    "odds": "kmm_tui.odds.cli:main",
    "sim": "kmm_tui.sim.cli:main",
    "serve": "kmm_tui.tui.serve:main",
    "journal": "kmm_tui.journal_cli:main",
}
# Commands that can place orders: on prod they need --live and the typed confirmation.
TRADING_COMMANDS = frozenset({"tui", "run", "serve"})
# Commands that use an account (key required on demo/prod).
ACCOUNT_COMMANDS = TRADING_COMMANDS | {"check"}
# Commands that read public market data only: the environment picks the host, no key needed.
PUBLIC_COMMANDS = frozenset({"scan", "odds"})

Handler = Callable[[argparse.Namespace, Settings], Any]


# --- argument types ------------------------------------------------------------------------------


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{what} {text!r} is not a finite number")
    return value


def decimal_odds(text: str) -> Decimal:
    """Decimal odds above 1 (``1.85``); American odds are not accepted (convert them first)."""
    value = _decimal(text, "odds")
    if value <= 1 or value > 1000:
        raise argparse.ArgumentTypeError(f"odds {text!r} must be decimal odds above 1, e.g. 1.85")
    return value


def _cents(text: str, what: str) -> Decimal:
    """Cents as the exact Decimal the user typed, checked to be a legal price distance (0.01c steps)."""
    value = _decimal(text, what)
    try:
        price_from_cents(value)
    except WireFormatError as exc:
        raise argparse.ArgumentTypeError(f"{what} {text!r}: {exc}") from None
    return value


def theo_cents(text: str) -> Decimal:
    """A fair value in cents strictly between 0 and 100 (``55`` or ``55.5``)."""
    value = _cents(text, "theo")
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"theo {text!r} must be in cents, between 0 and 100 (e.g. 55.5)")
    return value


def edge_cents(text: str) -> Decimal:
    """Edge in cents, 0..50 (``2`` or ``1.5``)."""
    value = _cents(text, "edge")
    if not 0 <= value <= 50:
        raise argparse.ArgumentTypeError(f"edge {text!r} must be in cents, 0 to 50 (e.g. 1.5)")
    return value


def spread_cents(text: str) -> Decimal:
    """A spread threshold in cents, 0..100."""
    return _cents(text, "spread")


def contract_count(text: str) -> Decimal:
    """A positive number of contracts (``10``, ``2.5``; hundredths allowed), as typed."""
    value = _decimal(text, "contracts")
    try:
        count = parse_count(value)
    except WireFormatError as exc:
        raise argparse.ArgumentTypeError(f"contracts {text!r}: {exc}") from None
    if count <= 0:
        raise argparse.ArgumentTypeError(f"contracts {text!r} must be more than 0")
    if value > 1_000_000:
        raise argparse.ArgumentTypeError(f"contracts {text!r} is more than 1,000,000")
    return value


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {text!r} is not a whole number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0..65535")
    return port


def positive_scale(text: str) -> float:
    """Simulator clock speed; a float is fine here (it is a rate, never money or a price)."""
    value = _decimal(text, "time scale")
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"time scale {text!r} must be above 0 and at most 1000")
    return float(value)


def within_hours(text: str) -> int:
    """Hours (exact decimal, > 0) -> milliseconds."""
    hours = _decimal(text, "hours")
    if hours <= 0:
        raise argparse.ArgumentTypeError(f"--within must be more than 0 hours (got {text})")
    return int(hours * 3_600_000)


def market_ticker(text: str) -> str:
    ticker = text.strip().upper()
    if not ticker or not all(ch.isalnum() or ch in "._-" for ch in ticker):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Kalshi ticker like KXNBAGAME-26NOV28BOSNYK-BOS")
    return ticker


def sim_url(text: str) -> str:
    try:
        sim_urls(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


# --- parser --------------------------------------------------------------------------------------

COMMAND_SUMMARIES: dict[str, str] = {
    "run": "quote one match headless (no TUI) with odds or manual theo",
    "scan": "list sports markets worth quoting (spreads, volume, start times)",
    "odds": "odds-source tools: `kmm odds coverage` shows which series your odds keys cover",
    "sim": "run the Kalshi-compatible simulator on 127.0.0.1",
    "serve": "serve the terminal app in a web browser",
    "check": "verify settings, key and connection: exchange status and balance",
    "journal": "show or export the trading journal (orders, fills, decisions)",
}


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global flags; sub-parsers repeat them (with SUPPRESS) so they also work after the command."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    target: argparse.ArgumentParser | argparse._ArgumentGroup = parser
    if suppress:
        target = parser.add_argument_group("global options (also accepted before the command)")
    target.add_argument(
        "--config", metavar="PATH", default=default(None),
        help="settings file (default: $KMM_CONFIG, then ~/.config/kmm/settings.toml)",
    )
    target.add_argument(
        "--env", choices=[e.value for e in EnvName], default=default(None),
        help="exchange: sim (embedded simulator, default), demo, prod (real money)",
    )
    target.add_argument(
        "--live", action="store_true", default=default(False),
        help="required with --env prod; you will also be asked to type LIVE",
    )
    target.add_argument(
        "--state-dir", metavar="DIR", default=default(None),
        help="journal and logs directory (default: $KMM_STATE_DIR, then ~/.local/state/kmm)",
    )
    target.add_argument(
        "--adopt-orders", action="store_true", default=default(False),
        help="on start, keep our resting orders of matches that were quoting and resume them "
        "(default: cancel every order of ours first)",
    )
    target.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default=default("info"),
        help="log file verbosity (logs never go to the terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full ``kmm`` parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="kmm",
        description="kmm: keyboard-driven market making on Kalshi sports binary markets. "
        "With no COMMAND, opens the terminal app.",
        epilog="Run `kmm COMMAND --help` for a command's options. Settings: docs/configuration.md.",
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"kmm {__version__}")
    app = parser.add_argument_group("the app (no COMMAND)")
    app.add_argument("--sim-url", type=sim_url, help="use a running `kmm sim` (http://127.0.0.1:PORT)")
    app.add_argument("--demo", action="store_true",
                     help="embedded simulator only: add and start a few matches so quoting begins at once")
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def add(name: str) -> argparse.ArgumentParser:
        summary = COMMAND_SUMMARIES[name]
        return commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                                   parents=[common])

    run = add("run")
    run.add_argument("--ticker-a", type=market_ticker, required=True, metavar="TICKER",
                     help="market of team A (YES = A wins)")
    run.add_argument("--ticker-b", type=market_ticker, required=True, metavar="TICKER",
                     help="market of team B (YES = B wins)")
    run.add_argument("--odds-a", type=decimal_odds, metavar="ODDS", help="decimal odds of team A (e.g. 1.85)")
    run.add_argument("--odds-b", type=decimal_odds, metavar="ODDS", help="decimal odds of team B")
    run.add_argument("--theo-a", type=theo_cents, metavar="CENTS",
                     help="manual fair value of team A in cents (e.g. 55.5)")
    run.add_argument("--theo-b", type=theo_cents, metavar="CENTS",
                     help="manual fair value of team B in cents")
    run.add_argument("--contracts", type=contract_count, metavar="N",
                     help="size per quote (default: [defaults] contracts)")
    run.add_argument("--edge", type=edge_cents, metavar="CENTS",
                     help="cents below theo to bid (default: [defaults] edge_cents)")
    run.add_argument("--inventory-max", type=contract_count, metavar="N",
                     help="max contracts held per side (default: [defaults] inventory_max)")
    run.add_argument("--dry-run", action="store_true", help="decide quotes from live books but send nothing")
    run.add_argument("--sim-url", type=sim_url, help="use a running simulator (http://127.0.0.1:PORT)")
    run.add_argument("--api", type=port_number, metavar="PORT", help="serve a local control API on this port")

    scan = add("scan")
    scan.add_argument("--mode", choices=["game-day", "all"], default="game-day",
                      help="game-day: events starting soon (default); all: every open market")
    scan.add_argument("--min-spread", type=spread_cents, metavar="N",
                      help="only markets with a spread of at least N cents")
    scan.add_argument("--sport", action="append", metavar="NAME",
                      help="limit to a sport (repeatable), e.g. nba")
    scan.add_argument("--series", action="append", type=market_ticker, metavar="TICKER",
                      help="limit to a series (repeatable), e.g. KXNBAGAME")
    scan.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    scan.add_argument("--within", type=within_hours, metavar="HOURS", dest="within_ms",
                      help="only matches starting within this many hours (e.g. 6 or 1.5)")
    scan.add_argument("--theo", action="store_true",
                      help="ask for theo or odds per listed match and show the bid ceilings")

    odds = add("odds")
    odds_commands = odds.add_subparsers(dest="odds_command", metavar="SUBCOMMAND", title="subcommands")
    odds_commands.required = True
    coverage = odds_commands.add_parser(
        "coverage", help="which Kalshi series your odds sources cover", parents=[common],
        description="Which Kalshi series your configured odds sources cover.",
    )
    coverage.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    sim = add("sim")
    sim.add_argument("--port", type=port_number, default=8765,
                     help="port on 127.0.0.1 (default 8765, 0 = any free port)")
    sim.add_argument("--scenario", metavar="NAME|PATH", help="built-in scenario name or a scenario file")
    sim.add_argument("--seed", type=int, default=0, help="random seed for scripted traders (default 0)")
    sim.add_argument("--time-scale", type=positive_scale, default=1.0,
                     help="simulated seconds per real second (default 1)")

    serve = add("serve")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")

    check = add("check")
    check.add_argument("--sim-url", type=sim_url,
                       help="check a running simulator instead of starting one (sim environment)")
    check.add_argument("--key-id", help="with --sim-url: the simulator's demo key id (`kmm sim` prints it)")
    check.add_argument("--key-file", type=Path, metavar="PATH",
                       help="with --sim-url: the simulator's demo key file")

    journal = add("journal")
    journal.add_argument("--match", metavar="NAME", help="only this match (name or id)")
    journal.add_argument("--csv", metavar="PATH", type=Path, help="write fills to a CSV file")
    return parser


def _validate_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-option rules argparse cannot express; ``parser.error`` exits with status 2."""
    if args.command == "run":
        odds = (args.odds_a, args.odds_b)
        theo = (args.theo_a, args.theo_b)
        has_odds = any(v is not None for v in odds)
        has_theo = any(v is not None for v in theo)
        if has_odds and has_theo:
            parser.error("run: give either --odds-a/--odds-b or --theo-a/--theo-b, not both")
        if not has_odds and not has_theo:
            parser.error("run: give the fair value: --odds-a and --odds-b, or --theo-a and --theo-b (cents)")
        if has_odds and None in odds:
            parser.error("run: --odds-a and --odds-b go together")
        if has_theo and None in theo:
            parser.error("run: --theo-a and --theo-b go together")
        if has_theo and args.theo_a + args.theo_b > 100:
            parser.error("run: --theo-a + --theo-b must not exceed 100 cents")
        if args.ticker_a == args.ticker_b:
            parser.error("run: --ticker-a and --ticker-b must be different markets")
        if (
            args.contracts is not None
            and args.inventory_max is not None
            and args.inventory_max < args.contracts
        ):
            parser.error("run: --inventory-max must be at least --contracts")
    if getattr(args, "sim_url", None) and args.env not in (None, EnvName.SIM.value):
        parser.error(f"--sim-url only applies to --env sim (got --env {args.env})")
    elsewhere = args.env not in (None, EnvName.SIM.value) or getattr(args, "sim_url", None)
    if getattr(args, "demo", False) and elsewhere:
        parser.error("--demo runs on the embedded simulator only (no --env demo/prod, no --sim-url)")


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
        return resolve_environment(settings, args.env, live=args.live, sim_url=getattr(args, "sim_url", None))
    if command in PUBLIC_COMMANDS:
        return resolve_environment(settings, args.env, live=args.live, require_keys=False)
    return None


def _stderr(message: str) -> None:
    print(f"kmm: {message}", file=sys.stderr, flush=True)


def _dispatch(args: argparse.Namespace, settings: Settings, read_line: Callable[[str], str]) -> int:
    """Resolve the environment, find the handler, pass the live gate, run. Order matters: nobody is
    asked to type LIVE for a command this build cannot run or an environment that is misconfigured."""
    environment = _resolve(args, settings)
    args.environment = environment
    handler: Handler | None = None
    if args.command != "check":
        target = TUI_HANDLER if args.command == "tui" else HANDLERS[args.command]
        handler = load_handler("the terminal app" if args.command == "tui" else args.command, target)
    if environment is not None:
        for warning in environment.warnings:
            _stderr(f"warning: {warning}")
        log.info("environment %s (rest %s)", environment.name, environment.rest_url or "embedded simulator")
        if environment.is_live and args.command in TRADING_COMMANDS:
            if not confirm_live(read_line):
                _stderr("not confirmed (you must type LIVE); nothing was sent")
                return EXIT_USER_ERROR
            log.warning("live trading confirmed by the user for `%s`", args.command)
    if args.command == "serve" and args.host not in ("127.0.0.1", "localhost", "::1"):
        _stderr(f"warning: serving on {args.host}: anyone who can reach it can trade on your account")
    if handler is None:
        assert environment is not None
        return run_check(args, environment, settings)
    if args.command in PUBLIC_COMMANDS and environment is not None and environment.rest_url is None:
        return _with_embedded_sim(handler, args, settings, environment)
    return _run_handler(handler, args, settings)


def _with_embedded_sim(handler: Handler, args: argparse.Namespace, settings: Settings,
                       environment: Environment) -> int:
    """Public-data commands in ``sim`` without --sim-url read from a simulator started just for them."""
    from kmm_tui.embedded_sim import simulator_thread

    with contextlib.ExitStack() as stack:
        try:
            rest_url, ws_url = stack.enter_context(simulator_thread())
        except OSError as error:
            _stderr(f"{args.command}: {error}; free a local port or use --env demo")
            return EXIT_USER_ERROR
        args.environment = dataclasses.replace(environment, rest_url=rest_url, ws_url=ws_url)
        return _run_handler(handler, args, settings)


# --- kmm check -----------------------------------------------------------------------------------


def _client_modules() -> tuple[Any, Any, Any]:
    """The Kalshi client (auth, rest, errors), or CommandUnavailable when this build lacks it."""
    modules = []
    for name in ("kmm_tui.kalshi.auth", "kmm_tui.kalshi.rest", "kmm_tui.kalshi.errors"):
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise CommandUnavailable(
                    f"`check` is not available in this build ({name} is missing)"
                ) from None
            raise
    return modules[0], modules[1], modules[2]


def _line(label: str, value: str) -> None:
    print(f"{label:<12} {value}", flush=True)


def _explain(exc: Exception, errors: Any, rest_url: str, key_id: str | None, env_name: str) -> str:
    """One line a trader can act on, for a failure of the exchange-status or balance call."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", "") or ""
    details = getattr(exc, "details", "") or ""
    told = getattr(exc, "user_message", None) or str(exc)
    if isinstance(exc, errors.AuthError):
        reason = " ".join(part for part in (str(status or ""), code, details) if part)
        if "NOT_FOUND" in (details, code):
            return (
                f"the exchange does not know key id {key_id} ({reason}); demo and prod keys are separate: "
                f"check that this key belongs to the {env_name} environment"
            )
        if "INCORRECT_API_KEY_SIGNATURE" in (details, code):
            return (
                f"the key file does not match key id {key_id} ({reason}); use the private key downloaded "
                "with this key id"
            )
        if "timestamp" in code or "timestamp" in details.lower():
            return f"the exchange rejected the request time ({reason}); sync this computer's clock (NTP)"
        return f"the exchange refused the key ({reason}): {told}"
    if isinstance(exc, errors.Unavailable):
        what = getattr(exc, "message", "") or told
        return f"cannot reach {rest_url}: {what}; check the network, the URL, or that the simulator runs"
    return f"{rest_url} answered with an error: {told}"


async def _check_exchange(
    rest_url: str, key_id: str | None, key_path: Path | None, env_name: str, *, warn_permissions: bool
) -> int:
    """Sign with the key (if any), then ask for exchange status and balance; UserError on failure."""
    auth, rest, errors = _client_modules()
    signer = None
    if key_id is not None and key_path is not None:
        warning = auth.key_file_permission_warning(key_path) if warn_permissions else None
        if warning:
            _stderr(f"warning: {warning}")
        try:
            key = auth.load_private_key(key_path)
        except errors.KalshiError as exc:
            raise UserError(getattr(exc, "user_message", None) or str(exc)) from None
        signer = auth.Signer(key_id, key)
        _line("key", f"{key_id} ({key_path}, {signer.algorithm})")
    else:
        _line("key", "none (the account check is skipped; pass --key-id and --key-file)")
    async with rest.KalshiRest(base_url=rest_url, signer=signer) as client:
        try:
            status = await client.exchange_status()
            exchange = "active" if status.exchange_active else "INACTIVE"
            trading = "active" if status.trading_active else "PAUSED"
            _line("exchange", f"{exchange}, trading {trading}")
            if signer is not None:
                balance = await client.get_balance()
                _line("balance", f"{format_usd(balance.available)} available")
        except errors.KalshiError as exc:
            raise UserError(_explain(exc, errors, rest_url, key_id, env_name)) from None
    _line("result", "ok")
    return EXIT_OK


async def _check_embedded_sim(work_dir: Path) -> int:
    """Start a throwaway simulator, then check it with its demo account's key written to a file."""
    try:
        from kmm_tui.sim.server import SimServer
    except ModuleNotFoundError as exc:
        if exc.name in ("kmm_tui.sim", "kmm_tui.sim.server"):
            raise CommandUnavailable("`check` in sim needs the simulator, which this build lacks") from None
        raise
    async with SimServer(agents=False, state_dir=work_dir) as sim:
        account = sim.demo_account
        _line("simulator", f"started at {sim.base_url}")
        if account.key_path is None:
            raise RuntimeError("the embedded simulator wrote no key file for its demo account")
        return await _check_exchange(
            sim.base_url, account.key_id, account.key_path, EnvName.SIM.value, warn_permissions=True
        )


def run_check(args: argparse.Namespace, environment: Environment, settings: Settings) -> int:
    """``kmm check``: prove the settings, the key and the connection work, or say why not."""
    _line("settings", str(settings.source or "built-in defaults (no settings file)"))
    _line("environment", environment.name.value + (" (LIVE: real money)" if environment.is_live else ""))
    if environment.name is EnvName.SIM:
        if environment.rest_url is None:
            if args.key_id is not None or args.key_file is not None:
                raise UserError("check: --key-id and --key-file need --sim-url (the simulator they are for)")
            _line("note", "no --sim-url given: checking against an embedded simulator started just for this")
            with tempfile.TemporaryDirectory(prefix="kmm-check-") as tmp:
                return asyncio.run(_check_embedded_sim(Path(tmp)))
        if (args.key_id is None) != (args.key_file is None):
            raise UserError("check: --key-id and --key-file go together (both are printed by `kmm sim`)")
        _line("url", environment.rest_url)
        return asyncio.run(
            _check_exchange(environment.rest_url, args.key_id, args.key_file, "sim", warn_permissions=True)
        )
    if args.key_id is not None or args.key_file is not None:
        raise UserError(f"check: --key-id/--key-file are for the simulator; {environment.name} uses [kalshi]")
    assert environment.rest_url is not None
    _line("url", environment.rest_url)
    env = environment
    # resolve_environment already loaded the key and printed its permission warning
    return asyncio.run(
        _check_exchange(env.rest_url or "", env.key_id, env.key_path, env.name.value, warn_permissions=False)
    )


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so interpreter shutdown does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None, *, read_line: Callable[[str], str] = input) -> int:
    """Entry point of the ``kmm`` console script; returns the exit status (never raises for user errors)."""
    try:
        status = _main(argv, read_line)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _stderr("interrupted")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None, read_line: Callable[[str], str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    try:
        _validate_args(parser, args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    args.command = args.command or "tui"

    state = state_dir(args.state_dir)
    try:
        args.log_path = setup_logging(state, getattr(logging, args.log_level.upper()))
    except OSError as exc:
        _stderr(
            f"error: cannot write logs under {state} ({exc.strerror or exc}); "
            "choose another --state-dir or set KMM_STATE_DIR"
        )
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
        _stderr(f"error: {exc}")
        return EXIT_USER_ERROR
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.exception("unexpected error in `kmm %s`", args.command)
        summary = redact(f"{type(exc).__name__}: {exc}").splitlines()[0] if str(exc) else type(exc).__name__
        _stderr(f"unexpected error ({summary}); details in {args.log_path}")
        return EXIT_FAILURE
