"""examples/policy_review.ipynb runs end to end (nbclient), at a small size, so it never goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "policy_review.ipynb"


@pytest.mark.slow
def test_policy_review_notebook_runs_and_shows_a_case_file(monkeypatch) -> None:
    """Every cell runs without error; the sweep finishes all its runs; the last cell prints a case file
    of an honest creator with at least one wrong decision."""
    monkeypatch.setenv("LIVESIM_EXAMPLE_SCALE", "0.1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT}})
    client.execute()
    outputs = {i: "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in c.get("outputs", []))
               for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    sweep_cell = next(i for i, c in enumerate(nb.cells) if "execute(sweep" in c.source)
    assert outputs[sweep_cell].strip().splitlines()[-1] == "(9, 0)"  # 3 variants x 3 replications, none failed
    case = outputs[max(outputs)]
    assert case.startswith("creator ") and ": honest in " in case
    assert "[truly none]" in case and "DECISION" in case
