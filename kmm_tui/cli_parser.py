"""The ``kmm`` parser: every command's flags, the global options every command accepts alike, the
cross-flag rules, and one-line flag errors (:class:`FlagError`, never argparse's usage dump).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import NoReturn, TypeVar

from kmm_tui import __version__
from kmm_tui.cli_args import (
    contract_count,
    decimal_odds,
    edge_cents,
    market_ticker,
    port_number,
    positive_scale,
    report_seconds,
    sim_url,
    spread_cents,
    theo_cents,
    within_hours,
)
from kmm_tui.config import EnvName, UserError
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import CENT, price_from_cents
from kmm_tui.engine.model import Shape
from kmm_tui.outcome_input import TheoSumError, complete_theos, outcomes_of, shape_of, split_list

T = TypeVar("T")


class FlagError(UserError):
    """A flag argparse cannot accept; ``command`` is the (sub)command whose flags were wrong."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(message)
        self.command = command


class KmmArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one :class:`FlagError` line instead of printing the
    usage block and exiting: the usage is for ``--help``, the mistake gets one line with its fix."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("kmm").strip()
        raise FlagError(command, message)

COMMAND_SUMMARIES: dict[str, str] = {
    "run": "quote one match headless (no TUI) with odds or manual theo",
    "scan": "list sports markets worth quoting (spreads, volume, start times)",
    "odds": "odds-source tools: `kmm odds coverage` shows which series your odds keys cover",
    "sim": "run the Kalshi-compatible simulator on 127.0.0.1",
    "serve": "serve the terminal app in a web browser",
    "check": "verify settings, key and connection: exchange status and balance",
    "journal": "show or export the trading journal (orders, fills, decisions)",
    "replay": "replay a recorded session with other settings (edge, size, limit, retest) and compare",
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
    target.add_argument(
        "--sim-url", type=sim_url, metavar="URL", default=default(None),
        help="use a running `kmm sim` (http://127.0.0.1:PORT); it must answer, there is no fallback",
    )
    target.add_argument(
        "--json", action="store_true", default=default(False),
        help="machine-readable output on stdout (scan, odds, check, journal, run)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full ``kmm`` parser (exposed for tests and docs)."""
    parser = KmmArgumentParser(
        prog="kmm",
        description="kmm: keyboard-driven market making on Kalshi sports binary markets. "
        "With no COMMAND, opens the terminal app.",
        epilog="Run `kmm COMMAND --help` for a command's options. Settings: docs/configuration.md.",
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"kmm {__version__}")
    app = parser.add_argument_group("the app (no COMMAND)")
    app.add_argument("--demo", action="store_true",
                     help="embedded simulator only: add and start a few matches so quoting begins at once")
    common = KmmArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def add(name: str) -> argparse.ArgumentParser:
        summary = COMMAND_SUMMARIES[name]
        return commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                                   parents=[common])

    run = add("run")
    run.add_argument("--ticker-a", type=market_ticker, metavar="TICKER",
                     help="market of team A (YES = A wins); with --ticker-b")
    run.add_argument("--ticker-b", type=market_ticker, metavar="TICKER",
                     help="market of team B (YES = B wins)")
    run.add_argument("--tickers", metavar="HOME,TIE,AWAY",
                     help="a soccer event's three markets: home, draw (TIE), away (or two team markets A,B)")
    run.add_argument("--ticker", type=market_ticker, metavar="TICKER",
                     help="one market traded on both sides: YES (over / covers) and NO (under / not)")
    run.add_argument("--odds", metavar="ODDS,ODDS[,ODDS]",
                     help="decimal odds per outcome in the tickers' order: A,B; home,draw,away; YES,NO")
    run.add_argument("--theo", metavar="CENTS,CENTS[,CENTS]",
                     help="fair value in cents per outcome in the same order; one may be left empty "
                          "(implied: 100 minus the others), e.g. 45,,26")
    run.add_argument("--odds-a", type=decimal_odds, metavar="ODDS", help="decimal odds of team A (e.g. 1.85)")
    run.add_argument("--odds-b", type=decimal_odds, metavar="ODDS", help="decimal odds of team B")
    run.add_argument("--theo-a", type=theo_cents, metavar="CENTS",
                     help="manual fair value of team A in cents (e.g. 55.5)")
    run.add_argument("--theo-b", type=theo_cents, metavar="CENTS",
                     help="manual fair value of team B in cents")
    run.add_argument("--odds-draw", type=decimal_odds, metavar="ODDS",
                     help="decimal odds of the draw (with --tickers HOME,TIE,AWAY and --odds-a/--odds-b)")
    run.add_argument("--theo-tie", type=theo_cents, metavar="CENTS",
                     help="manual fair value of the draw in cents (with --tickers HOME,TIE,AWAY)")
    run.add_argument("--odds-feed", action="store_true",
                     help="theo from the odds feed: your odds sources (in sim: the simulated one)")
    run.add_argument("--contracts", type=contract_count, metavar="N",
                     help="size per quote (default: [defaults] contracts)")
    run.add_argument("--edge", type=edge_cents, metavar="CENTS",
                     help="cents below theo to bid (default: [defaults] edge_cents)")
    run.add_argument("--inventory-max", type=contract_count, metavar="N",
                     help="limit on net exposure (contracts long A minus long B, either way) "
                          "(default: [defaults] inventory_max)")
    run.add_argument("--dry-run", action="store_true", help="decide quotes from live books but send nothing")
    run.add_argument("--accept-margin", action="store_true",
                     help="use --odds-a/--odds-b even when their bookmaker margin is above the 15%% cap")
    run.add_argument("--api", type=port_number, metavar="PORT", help="serve a local control API on this port")
    run.add_argument("--report-every", type=report_seconds, default=30, metavar="SECONDS",
                     help="print a position and P&L line this often (default 30; 0 = never)")

    scan = add("scan")
    scan.add_argument("--mode", choices=["game-day", "all"], default="game-day",
                      help="game-day: events starting soon (default); all: every open market")
    scan.add_argument("--min-spread", type=spread_cents, metavar="N",
                      help="only matches whose widest outcome's spread is at least N cents")
    scan.add_argument("--sport", action="append", metavar="NAME",
                      help="limit to a sport (repeatable), e.g. nba")
    scan.add_argument("--series", action="append", type=market_ticker, metavar="TICKER",
                      help="limit to a series (repeatable), e.g. KXNBAGAME")
    scan.add_argument("--within", type=within_hours, metavar="HOURS", dest="within_ms",
                      help="only matches starting within this many hours (e.g. 6 or 1.5)")
    scan.add_argument("--theo", action="store_true",
                      help="ask for theo or odds per listed match and show the bid ceilings")

    odds = add("odds")
    odds_commands = odds.add_subparsers(dest="odds_command", metavar="SUBCOMMAND", title="subcommands")
    odds_commands.required = True
    odds_commands.add_parser(
        "coverage", help="which Kalshi series your odds sources cover", parents=[common],
        description="Which Kalshi series your configured odds sources cover.",
    )

    sim = add("sim")
    sim.add_argument("--port", type=port_number, default=8765,
                     help="port on 127.0.0.1 (default 8765, 0 = any free port)")
    sim.add_argument("--scenario", metavar="NAME|PATH", help="built-in scenario name or a scenario file")
    sim.add_argument("--seed", type=int, default=0, help="random seed for scripted traders (default 0)")
    sim.add_argument("--replay", metavar="SESSION",
                     help="play a recorded session back as the market (path, name prefix or 'latest')")
    sim.add_argument("--time-scale", type=positive_scale, default=1.0,
                     help="simulated seconds per real second (default 1)")

    serve = add("serve")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    serve.add_argument("--demo", action="store_true",
                       help="the shared simulator starts a few matches quoting in every browser session")

    check = add("check")
    check.add_argument("--key-id", help="with --sim-url: the simulator's demo key id (`kmm sim` prints it)")
    check.add_argument("--key-file", type=Path, metavar="PATH",
                       help="with --sim-url: the simulator's demo key file")

    journal = add("journal")
    journal.add_argument("--match", metavar="NAME", help="only this match (name or id)")
    journal.add_argument("--csv", metavar="PATH", type=Path, help="write fills to a CSV file")
    journal.add_argument("--markouts", action="store_true",
                         help="markouts and closing line value per match and series (with --csv: per fill)")

    from kmm_tui.replay.cli import add_arguments as replay_arguments  # light: flags only

    replay_arguments(add("replay"))
    return parser


# Commands with a --json output; the others refuse the flag rather than ignore it.
JSON_COMMANDS = frozenset({"scan", "odds", "check", "journal", "run", "replay"})
# Commands that never use a simulator URL (`kmm sim` is the simulator).
NO_SIM_URL_COMMANDS = frozenset({"sim"})


def validate_args(args: argparse.Namespace) -> None:
    """Cross-option rules argparse cannot express; raises :class:`FlagError` with the fix."""
    command = args.command or "tui"
    label = command_label(args)

    def fail(message: str) -> NoReturn:
        raise FlagError(label, message)

    if command == "run":
        run_outcomes(args, fail)
        if (
            args.contracts is not None
            and args.inventory_max is not None
            and args.inventory_max < args.contracts
        ):
            fail("--inventory-max is below --contracts — raise --inventory-max or lower --contracts")
    if args.json and command not in JSON_COMMANDS:
        fail(f"--json has no machine-readable output here — use it with {', '.join(sorted(JSON_COMMANDS))}")
    if args.sim_url and command in NO_SIM_URL_COMMANDS:
        fail("--sim-url names a running simulator — `kmm sim` is the simulator: choose --port instead")
    if args.sim_url and args.env not in (None, EnvName.SIM.value):
        fail(f"--sim-url only applies to the sim environment (got --env {args.env}) — drop one of them")
    elsewhere = args.env not in (None, EnvName.SIM.value) or args.sim_url
    if getattr(args, "demo", False) and elsewhere:
        fail("--demo runs on the embedded simulator only — drop --env demo/prod and --sim-url")


def run_outcomes(args: argparse.Namespace, fail: Callable[[str], NoReturn]) -> None:
    """``kmm run``'s markets and fair values, whichever flags gave them, onto one set of attributes:
    ``ticker_a``/``ticker_b``/``ticker_tie``, ``odds_a``/``odds_draw``/``odds_b`` and
    ``theo_a``/``theo_tie``/``theo_b`` (exact Decimals; a left-out theo filled in)."""
    named = [flag for flag, value in (
        ("--ticker-a/--ticker-b", args.ticker_a or args.ticker_b), ("--tickers", args.tickers),
        ("--ticker", args.ticker),
    ) if value]
    if len(named) > 1:
        fail(f"{named[0]} and {named[1]} both name the markets — give only one of them")
    if not named:
        fail("no market given — add --ticker-a and --ticker-b (two team markets), --tickers HOME,TIE,AWAY "
             "(a soccer event) or --ticker T (one market's YES and NO)")
    args.ticker_tie = None
    if args.ticker:
        args.ticker_a = args.ticker_b = args.ticker
    elif args.tickers:
        texts = _parts(args.tickers, "--tickers", (2, 3), fail)
        parts = [_flag_value(market_ticker, part, "--tickers", fail) for part in texts]
        if len(set(parts)) != len(parts):
            fail(f"--tickers names one market twice ({args.tickers}) — give each outcome's own market")
        args.ticker_a, args.ticker_b = parts[0], parts[-1]
        args.ticker_tie = parts[1] if len(parts) == 3 else None
    elif args.ticker_a is None or args.ticker_b is None:
        fail("only one team's market given — --ticker-a and --ticker-b go together")
    elif args.ticker_a == args.ticker_b:
        fail("--ticker-a and --ticker-b are the same market — give two team markets of one event, or "
             "--ticker T to trade one market's YES and NO")
    shape = shape_of(args.ticker_a, args.ticker_b, args.ticker_tie)
    count = 3 if shape is Shape.THREE_WAY else 2
    split_odds = (args.odds_a, args.odds_b, args.odds_draw, args.theo_a, args.theo_b, args.theo_tie)
    if (args.odds is not None or args.theo is not None) and any(v is not None for v in split_odds):
        fail("--odds/--theo and --odds-a/--theo-a style flags both given — use one style")
    if shape is not Shape.THREE_WAY and (args.odds_draw is not None or args.theo_tie is not None):
        fail("--odds-draw/--theo-tie are the draw's — name the soccer event's markets with --tickers "
             "HOME,TIE,AWAY")
    if args.odds is not None:
        texts = _parts(args.odds, "--odds", (count,), fail)
        odds = [_flag_value(decimal_odds, part, "--odds", fail) for part in texts]
        args.odds_a, args.odds_b = odds[0], odds[-1]
        args.odds_draw = odds[1] if count == 3 else None
    if args.theo is not None:
        _theo_list(args, shape, count, fail)
    has_odds = any(v is not None for v in (args.odds_a, args.odds_b, args.odds_draw))
    has_theo = any(v is not None for v in (args.theo_a, args.theo_b, args.theo_tie))
    if sum((has_odds, has_theo, args.odds_feed)) > 1:
        fail("more than one fair value given — use one of --odds, --theo, --odds-feed")
    if not (has_odds or has_theo or args.odds_feed):
        fail("no fair value given — add --odds (decimal odds per outcome), --theo (cents per outcome) "
             "or --odds-feed")
    if has_odds and None in (args.odds_a, args.odds_b, *((args.odds_draw,) if count == 3 else ())):
        together = "--odds-a, --odds-draw and --odds-b" if count == 3 else "--odds-a and --odds-b"
        fail(f"odds missing for an outcome — {together} go together")
    if has_theo and args.theo is None and shape is not Shape.TEAMS:
        typed = {Side.A: args.theo_a, Side.B: args.theo_b, Side.T: args.theo_tie}
        typed = {side: typed[side] for side in outcomes_of(shape)}
        _complete_theos(args, shape, typed, "--theo-a/--theo-b", fail)
        return
    if has_theo and None in (args.theo_a, args.theo_b):
        fail("only one team's theo given — --theo-a and --theo-b go together")
    if has_theo and args.theo is None and args.theo_a + args.theo_b > 100:  # --theo: checked above
        fail("--theo-a + --theo-b is more than 100 cents — lower one of them")


def _theo_list(args: argparse.Namespace, shape: Shape, count: int, fail: Callable[[str], NoReturn]) -> None:
    """``--theo 45,,26``: cents per outcome, one left out (100 minus the others); for two outcomes a
    single value is the first's."""
    parts = _parts(args.theo, "--theo", (1, count) if count == 2 else (count,), fail, allow_empty=True)
    parts += [""] * (count - len(parts))
    cents = [_flag_value(theo_cents, part, "--theo", fail) if part else None for part in parts]
    typed = dict(zip(outcomes_of(shape), cents, strict=True))
    _complete_theos(args, shape, typed, f"--theo {args.theo}", fail)


def _complete_theos(
    args: argparse.Namespace,
    shape: Shape,
    cents: dict[Side, Decimal | None],
    flag: str,
    fail: Callable[[str], NoReturn],
) -> None:
    """Every outcome's theo onto ``args``, the one left out implied (100 minus the others)."""
    typed = {side: None if c is None else price_from_cents(c) for side, c in cents.items()}
    try:
        theos = complete_theos(shape, typed)
    except TheoSumError as error:
        fail(f"{flag}: {error} — type all outcomes but one and leave that one out, or lower them")
    args.theo_a, args.theo_b = (Decimal(theos[side]) / CENT for side in (Side.A, Side.B))
    args.theo_tie = Decimal(theos[Side.T]) / CENT if Side.T in theos else None


def _parts(
    text: str,
    flag: str,
    counts: tuple[int, ...],
    fail: Callable[[str], NoReturn],
    *,
    allow_empty: bool = False,
) -> list[str]:
    try:
        return split_list(text, flag, counts, allow_empty=allow_empty)
    except ValueError as error:
        fail(f"{error} — give one value per outcome: A,B; home,draw,away; or YES,NO")


def _flag_value(parse: Callable[[str], T], text: str, flag: str, fail: Callable[[str], NoReturn]) -> T:
    try:
        return parse(text)
    except argparse.ArgumentTypeError as error:
        fail(f"{flag}: {error} — fix that value")


def command_label(args: argparse.Namespace) -> str:
    """The name a message is prefixed with: ``run``, ``odds coverage``; empty for the app."""
    command = getattr(args, "command", None)
    if command in (None, "tui"):
        return ""
    sub = getattr(args, "odds_command", None) if command == "odds" else None
    return f"{command} {sub}" if sub else str(command)


def label_from_argv(argv: Sequence[str]) -> str:
    """Best guess of the command in a command line argparse refused (for the message prefix)."""
    words = [word for word in argv if not word.startswith("-")]
    for index, word in enumerate(words):
        if word in COMMAND_SUMMARIES:
            if word == "odds" and index + 1 < len(words) and words[index + 1] == "coverage":
                return "odds coverage"
            return word
    return ""


