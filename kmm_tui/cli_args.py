"""Argument types of the ``kmm`` command line: each turns one flag's text into an exact value or
raises ``argparse.ArgumentTypeError`` with the reason, which the parser reports as one line.

Prices stay the exact ``Decimal`` cents the user typed (checked to be on the 0.01c grid): handlers
convert once with ``price_from_cents``.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from kmm_tui.config import UserError
from kmm_tui.domain.prices import WireFormatError, parse_count, price_from_cents
from kmm_tui.environments import sim_urls


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
    """Edge in cents, one tick (0.1) to 50 (``2`` or ``1.5``): a zero edge loses after fees."""
    value = _cents(text, "edge")
    if not Decimal("0.1") <= value <= 50:
        raise argparse.ArgumentTypeError(
            f"edge {text!r} must be in cents, 0.1 to 50 (e.g. 1.5): a zero edge completes pairs that lose "
            "after fees"
        )
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


def report_seconds(text: str) -> int:
    """Seconds between ``kmm run``'s position lines: a whole number, 0 (off) to one day."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--report-every {text!r} is not whole seconds") from None
    if not 0 <= seconds <= 86_400:
        raise argparse.ArgumentTypeError(f"--report-every {seconds} must be 0 (off) to 86400 seconds")
    return seconds


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


