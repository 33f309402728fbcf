"""livesim: an agent-based simulator of live-shopping marketplaces for policy designers.

    from sim import load_scenario, run, LiveShopModel
    result = run(load_scenario("scenarios/baseline.toml"), replication=0)
    result.summary["prevalence"]

The model and runner (which import Mesa and pandas) load on first use, so validating a
scenario stays quick.
"""

import sys
from typing import TYPE_CHECKING, Any

if sys.version_info < (3, 12):  # noqa: UP036  # pragma: no cover - depends on the interpreter
    raise ImportError(
        f"livesim needs Python 3.12 or newer; this is Python {sys.version.split()[0]} ({sys.executable})"
    )

from sim.config import Scenario, load_scenario, with_overrides
from sim.errors import ScenarioError
from sim.metrics import METRICS

if TYPE_CHECKING:
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

_LAZY = {"LiveShopModel": "sim.model", "RunResult": "sim.runner", "run": "sim.runner", "write_outputs": "sim.runner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
