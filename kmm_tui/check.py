"""``kmm check``: prove the settings, the key and the connection work, or say in one line why not.

It signs with the key (when there is one), asks the exchange for its status and the account balance,
and prints what it found — as aligned lines, or as one JSON object with ``--json``. Every failure is a
:class:`~kmm_tui.config.UserError` naming the fix, so the CLI turns it into one line and status 2.

The key file is loaded *before* its permissions are judged: a path that is no key file at all (a
directory) gets that one explanation, not first a ``chmod`` hint for something that is not a key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from kmm_tui.config import EnvName, Settings, UserError
from kmm_tui.domain.prices import format_money, format_usd
from kmm_tui.environments import Environment
from kmm_tui.kalshi.auth import Signer, key_file_permission_warning, load_private_key
from kmm_tui.kalshi.errors import AuthError, KalshiError, Unavailable
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.sim import SimServer

EXIT_OK = 0


class Report:
    """What ``check`` found, printed as it goes (text) or at the end as one JSON object."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.fields: dict[str, str] = {}
        self.warnings: list[str] = []

    def line(self, key: str, label: str, value: str) -> None:
        self.fields[key] = value
        if not self.as_json:
            print(f"{label:<12} {value}", file=self.out, flush=True)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        print(f"kmm check: warning: {text}", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.as_json:
            json.dump({**self.fields, "warnings": self.warnings}, self.out, indent=2)
            self.out.write("\n")


def explain(exc: KalshiError, rest_url: str, key_id: str | None, env_name: str) -> str:
    """One line a trader can act on, for a failure of the exchange-status or balance call."""
    reason = " ".join(part for part in (str(exc.status or ""), exc.code, exc.details) if part)
    if isinstance(exc, AuthError):
        if "NOT_FOUND" in (exc.details, exc.code):
            return (
                f"the exchange does not know key id {key_id} ({reason}) — demo and prod keys are separate: "
                f"use a key created for the {env_name} environment"
            )
        if "INCORRECT_API_KEY_SIGNATURE" in (exc.details, exc.code):
            return (
                f"the key file does not match key id {key_id} ({reason}) — use the private key downloaded "
                "with this key id"
            )
        if "timestamp" in exc.code or "timestamp" in exc.details.lower():
            return f"the exchange rejected the request time ({reason}) — sync this computer's clock (NTP)"
        return f"the exchange refused the key ({reason}: {exc.message}) — check key_id and the key file"
    if isinstance(exc, Unavailable):
        return (
            f"cannot reach {rest_url}: {exc.message or exc.code or 'no answer'} — check the network, "
            "the URL, or that the simulator runs"
        )
    return f"{rest_url} answered with an error: {exc.message or exc.code} — see the log for the details"


def load_signer(key_id: str, key_path: Path, report: Report, *, warn_permissions: bool) -> Signer:
    """The signer for ``key_id``; the key must load before its file mode is worth a warning."""
    try:
        key = load_private_key(key_path)
    except KalshiError as exc:
        raise UserError(exc.user_message) from None
    if warn_permissions:
        warning = key_file_permission_warning(key_path)
        if warning:
            report.warn(warning)
    return Signer(key_id, key)


async def check_exchange(
    rest_url: str, signer: Signer | None, key_text: str, env_name: str, report: Report
) -> int:
    """Exchange status, then the balance when there is a key; UserError on failure."""
    report.line("key", "key", key_text)
    async with KalshiRest(base_url=rest_url, signer=signer) as client:
        try:
            status = await client.exchange_status()
            exchange = "active" if status.exchange_active else "INACTIVE"
            trading = "active" if status.trading_active else "PAUSED"
            report.line("exchange", "exchange", f"{exchange}, trading {trading}")
            if signer is not None:
                balance = await client.get_balance()
                if report.as_json:
                    report.line("balance_dollars", "balance", format_money(balance.available))
                else:
                    report.line("balance", "balance", f"{format_usd(balance.available)} available")
        except KalshiError as exc:
            raise UserError(explain(exc, rest_url, signer.key_id if signer else None, env_name)) from None
    report.line("result", "result", "ok")
    report.finish()
    return EXIT_OK


async def check_embedded_sim(work_dir: Path, report: Report) -> int:
    """Start a throwaway simulator, then check it with its demo account's key written to a file."""
    async with SimServer(agents=False, state_dir=work_dir) as sim:
        account = sim.demo_account
        report.line("simulator", "simulator", f"started at {sim.base_url}")
        if account.key_path is None:
            raise RuntimeError("the embedded simulator wrote no key file for its demo account")
        signer = load_signer(account.key_id, account.key_path, report, warn_permissions=True)
        key_text = f"{account.key_id} ({account.key_path}, {signer.algorithm})"
        return await check_exchange(sim.base_url, signer, key_text, EnvName.SIM.value, report)


def run_check(args: argparse.Namespace, environment: Environment, settings: Settings, out: TextIO) -> int:
    report = Report(out, as_json=bool(getattr(args, "json", False)))
    report.line("settings", "settings", str(settings.source or "built-in defaults (no settings file)"))
    live = " (LIVE: real money)" if environment.is_live else ""
    report.line("environment", "environment", environment.name.value + live)
    key_id, key_file = args.key_id, args.key_file
    if environment.name is EnvName.SIM:
        if environment.rest_url is None:
            if key_id is not None or key_file is not None:
                raise UserError("--key-id and --key-file are for a running simulator — add --sim-url")
            report.line("note", "note", "no --sim-url: checking an embedded simulator started just for this")
            with tempfile.TemporaryDirectory(prefix="kmm-check-") as tmp:
                return asyncio.run(check_embedded_sim(Path(tmp), report))
        if (key_id is None) != (key_file is None):
            raise UserError("--key-id and --key-file go together — give both (`kmm sim` prints them)")
        report.line("url", "url", environment.rest_url)
        signer = None
        key_text = "none (the account check is skipped; pass --key-id and --key-file)"
        if key_id is not None and key_file is not None:
            signer = load_signer(key_id, key_file, report, warn_permissions=True)
            key_text = f"{key_id} ({key_file}, {signer.algorithm})"
        return asyncio.run(check_exchange(environment.rest_url, signer, key_text, "sim", report))
    if key_id is not None or key_file is not None:
        raise UserError(
            f"--key-id/--key-file are for the simulator — {environment.name} uses [kalshi] in settings"
        )
    if environment.rest_url is None or environment.key_id is None or environment.key_path is None:
        raise UserError(f"{environment.name} has no key — set [kalshi] key_id and private_key_path")
    report.line("url", "url", environment.rest_url)
    # resolve_environment already loaded the key and the CLI printed its permission warning
    signer = load_signer(environment.key_id, environment.key_path, report, warn_permissions=False)
    key_text = f"{environment.key_id} ({environment.key_path}, {signer.algorithm})"
    return asyncio.run(
        check_exchange(environment.rest_url, signer, key_text, environment.name.value, report)
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point for ``kmm check`` (dispatched from kmm_tui.cli)."""
    return run_check(args, args.environment, settings, sys.stdout)


__all__ = ["explain", "main", "run_check"]
