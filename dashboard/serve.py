"""Start the dashboard's server: ``livesim dashboard [SCENARIO | RESULTS] [--port P] [--host H]``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.errors import ScenarioError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "check_source", "command", "serve"]

DEFAULT_HOST = "127.0.0.1"  # this machine only, unless --host says otherwise
DEFAULT_PORT = 8765


def check_source(source: str) -> str:
    """The source as the app will open it: a results folder's absolute path, or a scenario that loads
    (ScenarioError otherwise, before any server starts)."""
    from livesim_dashboard.app import _results_folder, _scenario_of

    p = Path(source)
    if p.is_dir() and _results_folder(source) is None:
        raise ScenarioError(source, None, None, "is a folder but neither a run folder (summary.json) nor a sweep "
                            "results folder (manifest.json)")
    resolved = str(p.resolve()) if p.exists() else source
    _scenario_of(resolved)  # a scenario that does not load is refused here, in one line
    return resolved


def command(host: str, port: int) -> list[str]:
    """The server's command line (Solara in production mode, no browser opened)."""
    return [sys.executable, "-m", "solara", "run", "livesim_dashboard.app", "--host", host, "--port", str(port),
            "--no-open", "--production", "--no-check-version", "--log-level", "warning"]


def serve(source: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Run the dashboard server until interrupted; returns its exit status."""
    from livesim_dashboard.app import SOURCE_ENV

    # No telemetry, no version check: the dashboard talks to nobody but its browser.
    env = {**os.environ, SOURCE_ENV: check_source(source), "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    print(f"livesim dashboard: http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(command(host, port), env=env)
    except KeyboardInterrupt:
        return 0
