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


# Every creator a ban evader (for the door's tests: bans, then re-entries through KYC).
EVADERS_ONLY = {"honest": 0.0, "opportunist": 0.0, "counterfeit": 0.0, "misleading_claims": 0.0, "fake_engagement": 0.0,
                "offplatform_diversion": 0.0, "incentive_fraud": 0.0, "ban_evader": 1.0}


def ban_everyone(model) -> int:
    """Ban every creator of ``model`` today (each evader plans its re-entry); returns how many."""
    from sim.labels import CreatorState

    n = model.creators.n
    for cr in range(n):
        model.creators.col("state")[cr] = CreatorState.banned
        model.governance.onboarding.banned(cr, model.day)
    return n


def escalated_by_day(actions, categories: list[str], marker: str, days: int) -> dict[int, set[str]]:
    """The categories an escalation holds changed on each day, read from its logged actions: an action
    names a category with ``'<category>': <marker>`` and applies from the next day; a ``revert`` clears them."""
    expected: dict[int, set[str]] = {}
    held: set[str] = set()
    for _, a in actions.iterrows():
        if a["change"].startswith("revert"):
            held = set()
        else:
            held |= {c for c in categories if f"'{c}': {marker}" in a["change"]}
        for d in range(int(a["day"]) + 1, days + 1):
            expected[d] = set(held)
    return expected
