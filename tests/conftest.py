"""Shared fixtures: small scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def run_to_end(data: dict):
    """A LiveShopModel of the scenario dict ``data``, stepped to its last day."""
    from sim import LiveShopModel

    model = LiveShopModel(scenario=scenario_from_dict(data))
    while model.running:
        model.step()
    return model


def tiny_dict(enforced: bool = False, **world: object) -> dict:
    """A two-market world small enough for unit tests; ``world`` updates the [world] table.

    By default the platform does not enforce and creators do not adapt, so commerce mechanics
    can be tested on their own; ``enforced=True`` turns governance and adaptation on.
    """
    data: dict = {
        "name": "tiny",
        "days": 30,
        "seed": 7,
        "policy": {} if enforced else {"detection": {"enabled": False}},
        "world": {
            "n_buyers": 4_000,
            "n_creators": 150,
            "markets": [
                {"name": "aa", "buyer_share": 0.5, "creator_share": 0.5},
                {"name": "bb", "buyer_share": 0.5, "creator_share": 0.5, "price_level": 0.5},
            ],
        },
    }
    if not enforced:
        data["world"]["adaptation"] = {"enabled": False}
    data["world"].update(world)
    return data


def harsh_dict(days: int = 60) -> dict:
    """A small world under a trigger-happy platform (strict ladder, a low classifier threshold,
    reviewers who confirm 40 % of clean items): honest creators get banned, appeal and win,
    so every kind of event in a case file happens within a few seconds of simulation."""
    return {
        "name": "harsh",
        "days": days,
        "seed": 11,
        "policy_preset": "strict",
        "policy": {"detection": {"threshold": 1.5}, "review": {"specificity": 0.6, "capacity_per_day": 400}},
        "world": {
            "n_buyers": 4_000,
            "n_creators": 200,
            "markets": [
                {"name": "aa", "buyer_share": 0.5, "creator_share": 0.5},
                {"name": "bb", "buyer_share": 0.5, "creator_share": 0.5, "price_level": 0.5},
            ],
        },
    }


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The bundled baseline scenario."""
    return load_scenario(BASELINE)


@pytest.fixture
def tiny() -> Scenario:
    """A tiny two-market scenario with the default adversary mix."""
    return scenario_from_dict(tiny_dict())


SWEEP_FIXTURE = """
name = "fixture"
description = "Two variants x a 2x2 grid x 3 replications on a tiny world, for analysis tests."
replications = 3
[variants.baseline]
[variants.strict]
policy_preset = "strict"
[levers.grid]
"policy.detection.threshold" = [2.0, 3.0]
"policy.review.capacity_per_day" = [20, 200]
[scenario]
name = "tiny"
days = 20
seed = 11
[scenario.world]
n_buyers = 3000
n_creators = 120
[[scenario.timeline]]
kind = "campaign"
name = "sale"
start_day = 8
days = 3
"""


@pytest.fixture(scope="session")
def sweep_results(tmp_path_factory) -> Path:
    """A small stored sweep (30 runs: 2 variants x 4 grid points and the reference x 3; creators kept) that analysis and report tests read."""
    from sim.experiment import execute
    from sim.sweep import load_sweep

    base = tmp_path_factory.mktemp("sweep_fixture")
    path = base / "fixture.toml"
    path.write_text(SWEEP_FIXTURE)
    out = base / "results"
    execute(load_sweep(path), out, workers=2, with_creators=True)
    return out


def sweep_file(tmp_path: Path, body: str, *, days: int = 3, name: str = "t", buyers: int = 1500,
               creators: int = 60) -> Path:
    """A sweep file ``name.toml`` in ``tmp_path``: ``body`` (replications, variants, axes) over an
    inline tiny scenario of ``days`` days."""
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{body}\n[scenario]\nname = "tiny"\ndays = {days}\nseed = 7\n'
                    f"[scenario.world]\nn_buyers = {buyers}\nn_creators = {creators}\n", encoding="utf-8")
    return path


def cli_error(argv: list[str], capsys) -> str:
    """Run the CLI, require exit 2 and a single error line; return that line."""
    from sim.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("livesim: error: "), err
    assert "Traceback" not in err
    return err
