"""``SimServer``: the whole simulated exchange on 127.0.0.1, as an async context manager.

It builds the exchange from a scenario, opens a demo account, starts uvicorn (REST + WebSocket +
admin) on the current event loop, and runs a background task that moves the market clock forward:
order expiries, scheduled starts and the scripted agents. Tests get the exchange object itself for
assertions, plus ``faults`` one-liners; ``run_sim`` serves it from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from pathlib import Path
from types import TracebackType

import uvicorn

from kmm_tui.domain.prices import MONEY_SCALE, Count, Money, Price
from kmm_tui.sim.admin import AdminApi
from kmm_tui.sim.agents import Simulation
from kmm_tui.sim.app import build_app
from kmm_tui.sim.auth import SimAccount
from kmm_tui.sim.changes import ScheduledChanges
from kmm_tui.sim.clock import SimClock
from kmm_tui.sim.context import SimContext
from kmm_tui.sim.exchange import IOC, Exchange, OrderRequest
from kmm_tui.sim.faults import Faults
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.odds_source import SimOddsSource
from kmm_tui.sim.ratelimit import tier_limits
from kmm_tui.sim.scenario import build, load_scenario

log = logging.getLogger(__name__)
TICK_SECONDS = 0.05  # real-time cadence of the clock driver
WS_PING_SECONDS = 10.0
CENT_MONEY = MONEY_SCALE // 100


class SimServer:
    """A running simulator. ``async with SimServer(agents=False) as sim: ...``

    ``fidelity`` sets how adversarial the exchange is; without it the scenario's ``[fidelity]`` table
    applies (seeded with ``seed``). Either way ``sim.fidelity`` can be changed while it runs.
    """

    def __init__(
        self,
        scenario: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        time_scale: float = 1.0,
        agents: bool = True,
        tier: str = "basic",
        state_dir: Path | None = None,
        quiet: bool = False,
        fidelity: Fidelity | None = None,
    ) -> None:
        tier_limits(tier)
        # Embedded in the full-screen app, uvicorn must not print to the terminal (it would tear the
        # screen); its records then reach the host's own (file) logging instead.
        self.quiet = quiet
        self.host = host
        self.port = port
        self.clock = SimClock(time_scale)
        spec = load_scenario(scenario)
        self.scenario = spec
        if fidelity is None:
            fidelity = Fidelity()
            fidelity.rng.seed(seed)
            fidelity.update(spec.fidelity)
        self.fidelity = fidelity
        self.exchange = Exchange(self.clock, fidelity=fidelity)
        self.ctx = SimContext(self.exchange, self.clock, default_tier=tier, state_dir=state_dir)
        self.faults = Faults(self.ctx)
        self.rng = random.Random(seed)
        self.matches = build(spec, self.exchange, self.clock.now_ms(), self.rng)
        self.simulation = Simulation(self.exchange, self.matches, self.rng, spec.step_ms)
        self.simulation.enabled = agents
        self.changes = ScheduledChanges(self.exchange, spec.changes, self.matches, self.clock.now_ms())
        self.ctx.on_time = self._on_time
        self.ctx.set_fair = self.simulation.set_fair
        self.ctx.matches = self.matches
        self.app, self.hub = build_app(self.ctx, self.faults)
        self.app = SimOddsSource(self.app, self.matches, self.clock.now_ms)  # fake odds: /odds-sim/v4
        self._admin = AdminApi(self.ctx, self.faults)
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self.demo_account: SimAccount
        self.base_url = self.ws_url = self.admin_url = ""

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self.simulation.enabled:
            self.simulation.seed_books()
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            log_config=None if self.quiet else uvicorn.config.LOGGING_CONFIG,
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            ws_ping_interval=WS_PING_SECONDS,
            ws_ping_timeout=WS_PING_SECONDS * 2,
        )
        server = uvicorn.Server(config)
        # The host process owns its signals (the engine must pull orders before anything stops):
        # uvicorn >= 0.29 takes SIGINT/SIGTERM inside serve() unless capture_signals is neutralised.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
        # Bind here so a busy port is a plain OSError (uvicorn would call sys.exit inside its task).
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Inherited by accepted connections: without it Nagle + delayed ACK add ~40 ms per reply.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        self._server = server
        self._serve_task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._serve_task.done():
                with contextlib.suppress(SystemExit):
                    self._serve_task.result()
                raise OSError(f"the simulator could not start on {self.host}:{self.port}")
            await asyncio.sleep(0.01)
        port = sock.getsockname()[1]
        self.port = port
        self.base_url = f"http://{self.host}:{port}/trade-api/v2"
        self.ws_url = f"ws://{self.host}:{port}/trade-api/ws/v2"
        self.admin_url = f"http://{self.host}:{port}/admin"
        self.demo_account = self.ctx.demo_account(Money(1_000_000 * CENT_MONEY))
        self._tick_task = asyncio.create_task(self._ticker())

    async def stop(self) -> None:
        self.ctx.stopping.set()
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        if self._server is not None and self._serve_task is not None:
            self.hub.drop_all()
            self._server.should_exit = True
            await self._serve_task
            self._server = None
            self._serve_task = None

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self._on_time()
            except Exception:  # a bug in an agent must not stop the clock
                log.exception("simulator clock step failed")

    def _on_time(self) -> None:
        self.exchange.sweep()
        self.changes.run_until(self.clock.now_ms())
        self.simulation.run_until(self.clock.now_ms())

    # --- accounts and competitors --------------------------------------------------------------

    def create_account(
        self, balance_cents: int = 1_000_000, tier: str | None = None, key_type: str = "rsa"
    ) -> SimAccount:
        """A funded account with a fresh key, RSA or ``ed25519`` (PEM also written to ``state_dir``)."""
        return self.ctx.create_account(Money(balance_cents * CENT_MONEY), tier, key_type=key_type)

    def place_competitor_order(
        self, ticker: str, side: str, price: Price, count: Count, *, name: str = "default"
    ) -> str:
        """Rest a GTC order for a named competitor (not the demo account); returns the order id."""
        account_id = self._admin.competitor_account(name)
        result = self.exchange.create_order(account_id, OrderRequest(ticker, side, price, count, stp="maker"))
        return result.order.order_id

    def take(self, ticker: str, side: str, price: Price, count: Count, *, name: str = "taker") -> Count:
        """A named competitor trades at once (IOC) against the book; returns the contracts filled.
        ``side="ask"`` sells YES down to ``price`` (hits bids), ``"bid"`` buys up to it."""
        account_id = self._admin.competitor_account(name)
        result = self.exchange.create_order(account_id, OrderRequest(ticker, side, price, count, IOC))
        return result.filled_now

    def cancel_competitor_order(self, order_id: str, *, name: str = "default") -> None:
        self.exchange.cancel_order(self._admin.competitor_account(name), order_id)


def run_sim(
    scenario: str | Path | None = None,
    port: int = 8765,
    seed: int = 0,
    time_scale: float = 1.0,
    state_dir: Path | None = None,
) -> None:
    """Serve the simulator until Ctrl-C, printing the URLs and the demo key (for ``kmm sim``)."""

    async def main() -> None:
        async with SimServer(
            scenario, port=port, seed=seed, time_scale=time_scale, state_dir=state_dir
        ) as sim:
            account = sim.demo_account
            print(f"kmm simulator: scenario {sim.scenario.name!r}, {len(sim.exchange.markets)} markets")
            print(f"REST      {sim.base_url}")
            print(f"WebSocket {sim.ws_url}")
            print(f"Admin     {sim.admin_url}")
            print(f"Demo key id   {account.key_id}")
            if account.key_path is not None:
                print(f"Demo key file {account.key_path}")
            else:
                print("Demo key file: none (pass a state directory to write it)")
            print("Ctrl-C to stop.", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
