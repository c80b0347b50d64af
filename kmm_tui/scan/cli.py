"""``kmm scan``: list the sports markets worth quoting, as a table, as JSON, or with ceilings (``--theo``).

Flags are parsed by ``kmm_tui.cli`` (``--mode``, ``--min-spread``, ``--sport``, ``--series``, ``--json``,
``--theo``); ``args.environment`` is the resolved environment. Market data is public, so no key is
used: demo and prod are read at the environment's REST URL, and so is ``sim`` (a running simulator's,
or the one the CLI starts for the duration of the scan).

Every failure the user can act on (network, 429, 5xx, unknown sport) is one
line on stderr and exit status 2; never a traceback.

In ``sim`` without ``--sim-url`` the top-level CLI starts a simulator (``kmm_tui.embedded_sim``) and
passes its URL in ``args.environment``; the scanner itself never depends on the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any, TextIO

from kmm_tui.domain.prices import Price, price_from_cents
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.kalshi.errors import KalshiError, NotFoundError
from kmm_tui.kalshi.ratelimit import RateLimiter
from kmm_tui.kalshi.rest import KalshiRest, RetryPolicy
from kmm_tui.scan.catalogue import Catalogue, CatalogueError
from kmm_tui.scan.model import Mode, ScanFilter, ScanResult
from kmm_tui.scan.output import format_table, result_json, saved_marks
from kmm_tui.scan.scanner import Scanner
from kmm_tui.scan.theo_prompt import FeeSchedule, TheoAnswer, answer_json, prompt_theo

EXIT_OK = 0
EXIT_USER_ERROR = 2
# A scan is interactive: a few quick retries, then tell the user rather than hang.
SCAN_RETRY = RetryPolicy(attempts=3, base_s=0.1, cap_s=1.0)
SCAN_TIMEOUT_S = 10.0


class ScanError(Exception):
    """A problem the user can fix or retry; the message is the one line they see."""


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What to scan, from the flags and settings."""

    mode: Mode
    min_spread: Price | None
    sports: tuple[str, ...]
    series: tuple[str, ...]
    configured: tuple[str, ...]
    within_ms: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, settings: Any) -> ScanRequest:
        configured = tuple(getattr(getattr(settings, "scanner", None), "series", ()) or ())
        return cls(
            mode=Mode(getattr(args, "mode", None) or Mode.GAME_DAY.value),
            min_spread=_spread_price(getattr(args, "min_spread", None)),
            sports=tuple(getattr(args, "sport", None) or ()),
            series=tuple(getattr(args, "series", None) or ()),
            configured=configured,
            within_ms=getattr(args, "within_ms", None),
        )

    @property
    def filters(self) -> ScanFilter:
        return ScanFilter(self.mode, self.min_spread, self.within_ms)


def _spread_price(cents: Decimal | None) -> Price | None:
    """``--min-spread`` arrives as the exact cents the user typed; the filter compares Prices."""
    return None if cents is None else price_from_cents(cents)


def _env_name(args: argparse.Namespace) -> str:
    environment = getattr(args, "environment", None)
    name = getattr(environment, "name", None)
    return str(getattr(name, "value", name) or "sim")


def _limiter(settings: Any) -> RateLimiter:
    tier = getattr(getattr(settings, "kalshi", None), "tier", None)
    try:
        return RateLimiter.for_tier(str(getattr(tier, "value", tier) or "basic"))
    except ValueError:
        return RateLimiter()


@asynccontextmanager
async def _exchange_url(args: argparse.Namespace) -> AsyncIterator[str]:
    """The REST URL to scan: the environment's, or an embedded simulator's while the scan runs."""
    environment = getattr(args, "environment", None)
    url = getattr(environment, "rest_url", None)
    if url:
        yield url
        return
    raise ScanError(
        f"no REST URL for the {_env_name(args)} environment — check [kalshi] rest_url, or give --sim-url"
    )


async def _fee_schedules(rest: KalshiRest, result: ScanResult) -> dict[str, FeeSchedule]:
    """Series fee schedules for fee-aware ceilings (series the exchange does not know are skipped)."""
    wanted = sorted({m.series for m in result.matches})

    async def one(ticker: str) -> tuple[str, FeeSchedule | None]:
        try:
            series = await rest.get_series(ticker)
        except NotFoundError:
            return ticker, None
        return ticker, FeeSchedule(series.fee_type, series.fee_multiplier)

    pairs = await asyncio.gather(*(one(t) for t in wanted))
    return {ticker: fees for ticker, fees in pairs if fees is not None}


async def run_scan(
    args: argparse.Namespace,
    settings: Any,
    request: ScanRequest,
    now_ms: int | None = None,
    *,
    with_fees: bool = False,
    catalogue: Catalogue | None = None,
) -> tuple[ScanResult, dict[str, FeeSchedule]]:
    """Scan the environment's exchange; fee schedules of the listed matches' series when asked."""
    catalogue = catalogue or Catalogue.packaged()
    try:
        selection = catalogue.selection(request.configured, series=request.series, sports=request.sports)
    except CatalogueError as exc:
        raise ScanError(str(exc)) from None
    if not selection:
        raise ScanError("no series selected — check --sport/--series and [scanner] series in settings")
    async with _exchange_url(args) as url:
        try:
            async with KalshiRest(
                url, limiter=_limiter(settings), retry=SCAN_RETRY, timeout_s=SCAN_TIMEOUT_S
            ) as rest:
                scanner = Scanner(rest, catalogue)
                clock = now_ms if now_ms is not None else time.time_ns() // 1_000_000
                result = await scanner.scan(selection, request.filters, clock)
                fees = await _fee_schedules(rest, result) if with_fees else {}
        except KalshiError as exc:
            status = f"HTTP {exc.status}" if exc.status else ""
            what = " ".join(part for part in (status, exc.message or exc.code) if part)
            raise ScanError(
                f"scan of {url} failed ({what}) — try again; if it persists check the network or the exchange"
            ) from None
    return result, fees


def _devig_method(settings: Any) -> DevigMethod:
    method = getattr(getattr(settings, "odds", None), "devig", None)
    try:
        return DevigMethod(method) if method is not None else DevigMethod.MULTIPLICATIVE
    except ValueError:
        return DevigMethod.MULTIPLICATIVE


def run_flags(args: argparse.Namespace) -> tuple[str, ...]:
    """The options a pasted ``kmm run`` line needs to reach the exchange this scan read."""
    flags: list[str] = []
    env = _env_name(args)
    if env != "sim":
        flags += ["--env", env]
    sim_url = getattr(args, "sim_url", None)
    if sim_url:
        flags += ["--sim-url", str(sim_url)]
    config = getattr(args, "config", None)
    if config:
        flags += ["--config", str(config)]
    return tuple(flags)


def _ask_on_stderr(prompt: str) -> str:
    """With --json, stdout carries only the document: the questions go to stderr."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def main(
    args: argparse.Namespace,
    settings: Any,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    read_line: Callable[[str], str] | None = None,
    now_ms: int | None = None,
    tz: tzinfo | None = None,
) -> int:
    """``kmm scan``; returns the exit status (2 = something the user must fix or retry). Start times
    are shown in ``tz`` (None: the machine's local zone); matches saved in settings.toml are marked.

    A Ctrl-C at the ``--theo`` prompt prints the ceilings typed so far, then raises KeyboardInterrupt
    so the CLI exits 130 like every interrupted command.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    as_json = bool(getattr(args, "json", False))
    with_theo = bool(getattr(args, "theo", False))
    request = ScanRequest.from_args(args, settings)
    defaults = getattr(settings, "defaults", None)
    if with_theo and defaults is None:
        err.write("kmm scan: --theo needs the [defaults] settings — set edge_cents and contracts\n")
        return EXIT_USER_ERROR
    fee_aware = bool(getattr(defaults, "fee_aware", False))
    try:
        result, fees = asyncio.run(
            run_scan(args, settings, request, now_ms, with_fees=with_theo and fee_aware)
        )
    except ScanError as exc:
        err.write(f"kmm scan: {exc}\n")
        return EXIT_USER_ERROR
    flags = run_flags(args)
    marks = saved_marks(getattr(settings, "matches", ()))
    ask = read_line or getattr(args, "read_line", None)
    answers: list[TheoAnswer] = []
    if as_json:
        if with_theo:
            err.write(format_table(result, tz, marks) + "\n")
            answers = prompt_theo(
                result.matches, defaults, _devig_method(settings), fees, ask or _ask_on_stderr, err, flags
            )
        document = result_json(result, _env_name(args), flags, marks)
        document["filters"]["sports"] = list(request.sports)
        document["filters"]["series"] = list(request.series)
        if with_theo:
            document["theo"] = [answer_json(answer, flags) for answer in answers]
        json.dump(document, out, indent=2)
        out.write("\n")
        return EXIT_OK
    out.write(format_table(result, tz, marks) + "\n")
    if with_theo:
        prompt_theo(result.matches, defaults, _devig_method(settings), fees, ask or input, out, flags)
    out.flush()
    return EXIT_OK


__all__ = ["ScanError", "ScanRequest", "main", "run_flags", "run_scan"]
