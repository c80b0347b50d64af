"""``kmm replay SESSION``: replay a recorded session under other settings and compare.

``add_arguments`` declares the flags (kmm_tui/cli.py calls it when it builds the parser; it imports
nothing heavy), ``main`` is the handler. Every flag takes a comma list, and the rows are every
combination of the values given (a sweep: ``--edge 1,2,3,4`` is one row per edge).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from kmm_tui.config import Settings, UserError

T = TypeVar("T")


def _list_of(parse: Callable[[str], T], what: str) -> Callable[[str], list[T]]:
    def parse_list(text: str) -> list[T]:
        items = [item.strip() for item in text.split(",")]
        if not items or any(not item for item in items):
            raise argparse.ArgumentTypeError(f"{what}: give one value or a comma list such as 1,2,3")
        return [parse(item) for item in items]

    return parse_list


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{what} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{what} {text!r} must be a number >= 0")
    return value


def _edge(text: str) -> int:
    from kmm_tui.domain.prices import WireFormatError, price_from_cents

    value = _decimal(text, "edge")
    try:
        price = price_from_cents(value)
    except WireFormatError as error:
        raise argparse.ArgumentTypeError(f"edge {text!r}: {error}") from None
    if price < 10:
        raise argparse.ArgumentTypeError(f"edge {text!r} must be at least 0.1 cent (one tick)")
    return price


def _count(text: str) -> int:
    from kmm_tui.domain.prices import WireFormatError, parse_count

    value = _decimal(text, "contracts")
    try:
        return parse_count(value)
    except WireFormatError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def _seconds(text: str) -> int:
    value = _decimal(text, "retest")
    milliseconds = value * 1000
    if milliseconds != milliseconds.to_integral_value():
        raise argparse.ArgumentTypeError(f"retest {text!r}: at most millisecond precision")
    return int(milliseconds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", default="latest", metavar="SESSION",
                        help="a recorded session: a path, a file name (prefix) in <state-dir>/sessions, "
                        "or 'latest' (the default)")
    parser.add_argument("--list", action="store_true", help="list the recorded sessions and stop")
    parser.add_argument("--match", metavar="M", help="only this match (id, name or ticker)")
    parser.add_argument("--edge", type=_list_of(_edge, "--edge"), metavar="CENTS[,CENTS…]",
                        help="edge below theo in cents (a comma list sweeps)")
    parser.add_argument("--contracts", type=_list_of(_count, "--contracts"), metavar="N[,N…]",
                        help="size per side in contracts")
    parser.add_argument("--inventory-max", type=_list_of(_count, "--inventory-max"), metavar="N[,N…]",
                        help="largest net exposure in contracts (0 = never add exposure)")
    parser.add_argument("--retest", type=_list_of(_seconds, "--retest"), metavar="SECONDS[,…]",
                        help="sticky-ceiling retest interval in seconds")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from kmm_tui.replay import format as fmt
    from kmm_tui.replay import report
    from kmm_tui.replay.session import load_session

    if args.list:
        files = fmt.session_files(args.state_dir)
        if not files:
            print(f"no recorded sessions in {fmt.sessions_dir(args.state_dir)}")
        for file in files:
            print(f"{file.name}  {file.stat().st_size // 1024} KiB")
        return 0
    try:
        session = load_session(fmt.resolve_session(args.state_dir, args.session))
        matches = [session.match(args.match)] if args.match else list(session.matches)
    except fmt.RecordingError as error:
        message = str(error)
        fix = "" if " — " in message else " — pick another (kmm replay --list)"
        raise UserError(f"{message}{fix}") from None
    if not matches:
        raise UserError(f"{session.path.name} holds no decisions — record a running match first")
    overrides = report.variants(
        args.edge or [None], args.contracts or [None], args.inventory_max or [None], args.retest or [None]
    )
    try:
        result = report.replay_session(session, matches, overrides, time.perf_counter_ns)
    except ValueError as error:  # settings decide() refuses (e.g. inventory below zero)
        raise UserError(f"{error} — choose other settings") from None
    if args.json:
        print(json.dumps(report.as_json(result)))
    else:
        print(report.text(result))
    return 0
