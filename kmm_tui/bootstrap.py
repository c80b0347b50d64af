"""Composition root: build the engine for the chosen environment, and tear everything down after.

The only module that knows how the parts fit together: environment -> key -> REST client + WebSocket
feed -> exchange port -> engine, plus the embedded simulator when the environment is ``sim`` and no
running simulator was named. Front-ends (``kmm run``, the TUI, tests) use :func:`open_engine`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from kmm_tui.config import EnvName, RiskSettings, Settings, UserError
from kmm_tui.domain.markouts import DEFAULT_HORIZONS_MS
from kmm_tui.domain.prices import CENT, PRICE_SCALE, Price, contracts
from kmm_tui.engine.commands import AddMatch
from kmm_tui.engine.engine import Engine, wall_clock_ms
from kmm_tui.engine.errors import EngineError
from kmm_tui.engine.exchange import ExchangePort
from kmm_tui.engine.journal import Journal
from kmm_tui.engine.model import AccountLimits, MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine.theo_feed import FeedSettings, TheoFeed
from kmm_tui.environments import Environment
from kmm_tui.kalshi.auth import Signer, load_private_key
from kmm_tui.kalshi.errors import KalshiError, RateLimited, Unavailable
from kmm_tui.kalshi.ratelimit import RateLimiter
from kmm_tui.kalshi.rest import KalshiRest
from kmm_tui.kalshi.ws import KalshiFeed
from kmm_tui.odds.cli import CONFIRMED_FILE
from kmm_tui.odds.consensus import DEFAULT_WEIGHTS
from kmm_tui.odds.matching import Matcher
from kmm_tui.odds.models import OddsSource
from kmm_tui.odds.oddspapi import OddsPapi, OddsPapiSettings
from kmm_tui.odds.simulated import SimulatedOdds
from kmm_tui.odds.sportsgameodds import SportsGameOdds, SportsGameOddsSettings
from kmm_tui.odds.theoddsapi import TheOddsApi, TheOddsApiSettings
from kmm_tui.paths import journal_file
from kmm_tui.replay.recorder import MB, SessionRecorder
from kmm_tui.sim import SimServer

log = logging.getLogger(__name__)

SIM_KEY_MARKER = "demo_key_id"


class BootstrapError(UserError):
    """The engine cannot be started as configured; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and as whom the engine trades."""

    environment: str
    rest_url: str
    ws_url: str
    signer: Signer
    tier: str = "basic"


def sim_key_from_state(state_dir: Path) -> Signer:
    """The demo key a running ``kmm sim`` wrote under ``<state dir>/sim``."""
    key_dir = state_dir / "sim"
    marker = key_dir / SIM_KEY_MARKER
    if not marker.is_file():
        raise BootstrapError(
            f"no simulator key in {key_dir} — start `kmm sim` with the same --state-dir, or omit --sim-url "
            "to use an embedded simulator"
        )
    key_id = marker.read_text().strip()
    try:
        return Signer(key_id, load_private_key(key_dir / f"{key_id}.pem"))
    except KalshiError as error:
        raise BootstrapError(
            f"the simulator key in {key_dir} is unusable: {error.user_message} — restart `kmm sim` with "
            "this --state-dir (it writes a fresh key), or omit --sim-url"
        ) from None


def connection_for(environment: Environment, settings: Settings, state_dir: Path) -> Connection:
    """Resolve URLs and signer for demo/prod or a running simulator (not the embedded one)."""
    if environment.rest_url is None or environment.ws_url is None:
        raise BootstrapError(f"environment {environment.name} has no exchange URL")
    if environment.name is EnvName.SIM:
        signer = sim_key_from_state(state_dir)
    else:
        if environment.key_id is None or environment.key_path is None:
            raise BootstrapError(
                f"{environment.name} needs [kalshi] key_id and private_key_path in settings.toml"
            )
        try:
            signer = Signer(environment.key_id, load_private_key(environment.key_path))
        except KalshiError as error:
            raise BootstrapError(error.user_message) from None
    return Connection(
        environment.name.value, environment.rest_url, environment.ws_url, signer, settings.kalshi.tier.value
    )


def odds_sources(settings: Settings, state_dir: Path, sim_rest_url: str | None = None) -> list[OddsSource]:
    """Every odds source with a key in settings (or the environment), sharing one team matcher; on a
    simulator (``sim_rest_url``) also its fake ``simulated`` source, which needs no key."""
    odds = settings.odds
    matcher = Matcher.load(state_dir / CONFIRMED_FILE)
    sources: list[OddsSource] = []
    if sim_rest_url is not None:
        sources.append(SimulatedOdds(sim_rest_url, matcher))
    if odds.the_odds_api_key:
        sources.append(
            TheOddsApi(
                TheOddsApiSettings(odds.the_odds_api_key, regions=odds.regions, bookmakers=odds.bookmakers),
                matcher,
            )
        )
    if odds.oddspapi_key:
        sources.append(OddsPapi(OddsPapiSettings(odds.oddspapi_key, bookmakers=odds.bookmakers), matcher))
    if odds.sportsgameodds_key:
        sources.append(SportsGameOdds(SportsGameOddsSettings(odds.sportsgameodds_key), matcher))
    return sources


def theo_feed(settings: Settings, sources: list[OddsSource]) -> TheoFeed | None:
    if not sources:
        return None
    weights = {**DEFAULT_WEIGHTS, **settings.odds.book_weights}
    return TheoFeed(
        sources, FeedSettings(max_age_ms=settings.odds.max_age_s * 1000, weights=weights), clock=wall_clock_ms
    )


DEMO_MATCHES = 3


async def add_demo_matches(engine: Engine, sim: SimServer, count: int = DEMO_MATCHES) -> None:
    """``make demo``: quote a few upcoming two-team matches at once, theo at the simulator's fair value.

    Only ever on the embedded simulator (the CLI refuses --demo anywhere else).
    """
    now = engine.now_ms()
    upcoming = sorted(
        (m for m in sim.matches if len(m.tickers) == 2 and m.start_ms - now > 20 * 60_000),
        key=lambda m: m.start_ms,
    )
    for match in upcoming[:count]:
        theo_a = Price(max(CENT, min(PRICE_SCALE - CENT, match.fair[0] // CENT * CENT)))
        spec = MatchSpec(
            f"{match.tickers[0]}+{match.tickers[1]}",
            match.tickers[0],
            match.tickers[1],
            TheoInput(theo_a=theo_a, theo_b=Price(PRICE_SCALE - theo_a)),
            MatchSettings(edge=Price(2 * CENT), contracts=contracts(5), inventory_max=contracts(25)),
        )
        try:
            await engine.execute(AddMatch(spec, start=True))
        except EngineError as error:
            log.warning("demo match %s not added: %s", spec.match_id, error.user_message)


def account_limits(risk: RiskSettings) -> AccountLimits:
    """``[risk]`` of settings.toml as the engine's account-wide limits."""
    return AccountLimits(
        risk.max_session_loss, risk.max_session_loss_worst_case, risk.max_exposure, risk.max_resting_notional
    )


def build_engine(
    connection: Connection,
    *,
    dry_run: bool = False,
    journal: Journal | None = None,
    odds_feed: TheoFeed | None = None,
    adopt_orders: bool = False,
    account_limits: AccountLimits | None = None,
    markout_horizons_ms: tuple[int, ...] = DEFAULT_HORIZONS_MS,
    recorder: SessionRecorder | None = None,
) -> Engine:
    signer = connection.signer
    limiter = RateLimiter.for_tier(connection.tier)
    rest = KalshiRest(connection.rest_url, signer=signer, limiter=limiter)
    port = ExchangePort(rest, KalshiFeed(connection.ws_url, signer), clock=wall_clock_ms)
    return Engine(
        port,
        environment=connection.environment,
        clock=wall_clock_ms,
        dry_run=dry_run,
        journal=journal,
        theo_feed=odds_feed,
        adopt_on_restart=adopt_orders,
        account_limits=account_limits,
        markout_horizons_ms=markout_horizons_ms,
        session_recorder=recorder,
    )


def session_recorder(settings: Settings, state_dir: Path, environment: str) -> SessionRecorder | None:
    """The session recording for ``kmm replay`` ([recording] in settings; None when off or unwritable)."""
    rec = settings.recording
    if not rec.enabled:
        return None
    try:
        recorder = SessionRecorder(
            state_dir,
            environment,
            start_ms=wall_clock_ms(),
            max_session_bytes=rec.max_session_mb * MB,
            max_total_bytes=rec.max_total_mb * MB,
            clock=wall_clock_ms,
        )
        log.info("recording this session to %s (kmm replay reads it)", recorder.path)
        return recorder
    except OSError as error:
        log.warning("session recording is off: %s", error)
        return None


def open_journal(path: Path) -> Journal:
    """The journal, or one clear line saying why it cannot be used (never a traceback)."""
    try:
        return Journal(path)
    except (sqlite3.Error, OSError, RuntimeError) as error:
        raise BootstrapError(
            f"the journal {path} cannot be opened ({error}); if it is damaged, move it aside "
            "(kmm starts a new one and still cancels any resting orders of ours at start-up)"
        ) from None


def journal_path(state_dir: Path, environment: str) -> Path:
    """One journal per environment: sim, demo and prod histories never mix."""
    base = journal_file(state_dir)
    return base if environment == "prod" else base.with_name(f"{base.stem}-{environment}{base.suffix}")


def start_failure(error: KalshiError, rest_url: str) -> str:
    """Why the engine could not start, and what to do. The client's own advice says "kmm retries",
    which is true while trading but not here: start-up gives up and the command exits."""
    if isinstance(error, Unavailable | RateLimited):
        what = error.message or error.code or type(error).__name__
        return (
            f"could not start on {rest_url}: {what} — check the network and the exchange status, "
            "then run the command again"
        )
    return f"could not start on {rest_url}: {error.user_message}"


@contextlib.asynccontextmanager
async def open_engine(
    settings: Settings,
    args: argparse.Namespace,
    *,
    dry_run: bool = False,
    scenario: str | None = None,
) -> AsyncIterator[Engine]:
    """Start the engine for ``args.environment`` (resolved by the CLI); always closes it, verified.

    For ``sim`` without ``--sim-url`` an embedded simulator runs in this process with a lively scenario.
    """
    environment: Environment = args.environment
    state_dir: Path = args.state_dir
    sim: SimServer | None = None
    async with contextlib.AsyncExitStack() as stack:
        if environment.name is EnvName.SIM and environment.rest_url is None:
            sim = await stack.enter_async_context(
                SimServer(
                    scenario, agents=True, state_dir=state_dir / "sim-embedded", tier="basic", quiet=True
                )
            )
            account = sim.demo_account
            signer = Signer.from_pem(account.key_id, account.private_key_pem)
            connection = Connection("sim", sim.base_url, sim.ws_url, signer, "basic")
        else:
            connection = connection_for(environment, settings, state_dir)
        journal = None
        if not (environment.name is EnvName.SIM and environment.rest_url is None):
            journal = open_journal(journal_path(state_dir, connection.environment))
            stack.callback(journal.close)
        recorder = session_recorder(settings, state_dir, connection.environment)
        if recorder is not None:  # closed after the engine (exit callbacks run last-in first-out)
            stack.callback(lambda: recorder.close(wall_clock_ms()))
        on_sim = connection.environment == EnvName.SIM.value
        sources = odds_sources(settings, state_dir, connection.rest_url if on_sim else None)
        for source in sources:
            stack.push_async_callback(source.aclose)  # type: ignore[attr-defined]
        engine = build_engine(
            connection,
            dry_run=dry_run,
            journal=journal,
            odds_feed=theo_feed(settings, sources),
            adopt_orders=bool(getattr(args, "adopt_orders", False)),
            account_limits=account_limits(settings.risk),
            markout_horizons_ms=settings.risk.markout_horizons_ms,
            recorder=recorder,
        )
        try:
            await engine.start()
        except KalshiError as error:
            await engine.close("start-up failed")
            raise BootstrapError(start_failure(error, connection.rest_url)) from None
        except asyncio.CancelledError:  # given up during start-up (a signal): close what is open
            await engine.close("start-up abandoned")
            raise
        try:
            if getattr(args, "demo", False) and sim is not None:
                await add_demo_matches(engine, sim)
            yield engine
        finally:
            left = await engine.close("shutdown")
            if left:
                log.error("%d order(s) may still rest on the exchange after shutdown", left)
