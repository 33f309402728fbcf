"""livesim: an agent-based simulator of live-shopping marketplaces for policy designers.

    from sim import load_scenario, run, LiveShopModel
    result = run(load_scenario("scenarios/baseline.toml"), replication=0)
    result.summary["prevalence"]
"""

from sim.config import Scenario, load_scenario, with_overrides
from sim.errors import ScenarioError
from sim.metrics import METRICS
from sim.model import LiveShopModel
from sim.runner import RunResult, run, write_outputs

__all__ = [
    "METRICS",
    "LiveShopModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run",
    "with_overrides",
    "write_outputs",
]
