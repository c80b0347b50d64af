"""kmm_tui.sim: an embedded Kalshi-compatible exchange (REST + WebSocket) for tests and the demo.

Public surface::

    async with SimServer(scenario=None, agents=False, time_scale=1.0) as sim:
        sim.base_url, sim.ws_url, sim.admin_url, sim.demo_account, sim.exchange
        sim.create_account(balance_cents=1_000_000) -> SimAccount
        sim.faults.http_errors(5, status=503); sim.faults.skip_seq(); sim.faults.advance(60)
        sim.place_competitor_order(ticker, "bid", price, count) -> order id
        sim.fidelity.read_lag_ms = 300   # or SimServer(fidelity=Fidelity.adversarial())

``Fidelity`` holds the switches that make the exchange as unkind as Kalshi (docs/simulator.md).

The package never imports ``kmm_tui.kalshi``: it is an independent implementation of the protocol.
"""

from kmm_tui.sim.auth import SimAccount
from kmm_tui.sim.clock import SimClock
from kmm_tui.sim.errors import SimError
from kmm_tui.sim.exchange import AmendRequest, Exchange, OrderRequest, OrderResult
from kmm_tui.sim.faults import Faults
from kmm_tui.sim.fidelity import Fidelity
from kmm_tui.sim.scenario import ScenarioError, generate_large, load_scenario, scenario_names
from kmm_tui.sim.server import SimServer, run_sim

__all__ = [
    "AmendRequest",
    "Exchange",
    "Faults",
    "Fidelity",
    "OrderRequest",
    "OrderResult",
    "ScenarioError",
    "SimAccount",
    "SimClock",
    "SimError",
    "SimServer",
    "generate_large",
    "load_scenario",
    "run_sim",
    "scenario_names",
]
