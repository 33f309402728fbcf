"""Golden baseline: fixed small runs reproduce their pinned outputs bit for bit.

Each case (tests/golden/cases.py) is run again and compared exactly with its file in
tests/golden/: summaries, per-market summaries, ledger, campaigns, seed and the canonical
hashes of the daily, creators and sanctions tables. See tests/golden/README.md.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.golden.cases import (
    CASES,
    FORMAT,
    GOLDEN_DIR,
    REGENERATE,
    RULE,
    Case,
    describe,
    differences,
    load,
    record_portably,
    table_record,
)


@pytest.fixture(scope="module")
def portable_records() -> dict[str, dict]:
    """Every case run once, in a child process on numpy's baseline code paths."""
    return record_portably(list(CASES))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_is_bit_identical(case: Case, portable_records: dict[str, dict]) -> None:
    """Re-running a golden case gives exactly the values stored in its file (NaN equal to NaN)."""
    old = load(case)
    if old is None:
        pytest.fail(f"golden file {case.path.relative_to(GOLDEN_DIR.parent.parent)} is missing; "
                    f"create it with `{REGENERATE} {case.name}`", pytrace=False)
    new = portable_records[case.name]
    diffs = differences(old, new)
    if diffs:
        report = describe(case.name, diffs, old_versions=old.get("made_with"), new_versions=new["made_with"])
        pytest.fail(f"{report}\n{RULE}", pytrace=False)


def test_golden_folder_holds_exactly_the_cases() -> None:
    """Every golden file belongs to a defined case, so a removed case leaves no unchecked file behind."""
    stored = set()
    for path in GOLDEN_DIR.glob("*.json"):
        if json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT:
            stored.add(path.stem)
    assert stored == {c.name for c in CASES}, f"run `{REGENERATE}` to bring tests/golden/ in line with its cases"


def test_table_hash_sees_values_types_order_and_categories() -> None:
    """The table hash changes with one value's last bit, a dtype, the column order or a category list."""
    base = pd.DataFrame({
        "x": np.array([1.0, 2.0, np.nan]),
        "n": np.array([1, 2, 3], dtype=np.int32),
        "m": pd.Categorical(["a", "b", "a"], categories=["a", "b"]),
        "s": ["u", "v", "w"],
    })
    h = table_record(base)["sha256"]
    bumped = base.copy()
    bumped.loc[1, "x"] = np.nextafter(2.0, 3.0)
    retyped = base.assign(n=base["n"].astype(np.int64))
    reordered = base[["n", "x", "m", "s"]]
    recategorised = base.assign(m=pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"]))
    for other in (bumped, retyped, reordered, recategorised):
        assert table_record(other)["sha256"] != h
    # Values, not storage: another NaN payload, the index, or object vs string dtype do not count.
    other_nan = base.copy()
    other_nan["x"] = np.array([1.0, 2.0, -np.nan])
    assert table_record(other_nan.set_axis([5, 6, 7]))["sha256"] == h
    assert table_record(base.assign(s=pd.array(["u", "v", "w"], dtype="string")))["sha256"] == h


def test_comparison_is_exact_and_nan_equals_nan() -> None:
    """The comparison sees a last-bit change and an int/float swap, and NaN (stored as "nan") equals itself."""
    from tests.golden.cases import plain

    old = plain({"summary": {"gmv": 2.0, "orders": 3.0, "roi": float("nan")}, "tables": {"daily": {"rows": 5}}})
    assert differences(old, plain({"summary": {"gmv": 2.0, "orders": 3.0, "roi": float("nan")},
                                   "tables": {"daily": {"rows": 5}}})) == []
    new = plain({"summary": {"gmv": float(np.nextafter(2.0, 3.0)), "orders": 3, "roi": float("nan")},
                 "tables": {"daily": {"rows": 5}}})
    assert [key for key, _, _ in differences(old, new)] == ["summary.gmv", "summary.orders"]
    assert "summary.gmv" in describe("x", differences(old, new))
