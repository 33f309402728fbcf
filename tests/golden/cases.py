"""The golden cases, how one case's outputs are recorded, and how two records are compared.

A golden file pins everything a run returns that a refactor must not change: the summaries,
the money ledger, the campaign days, the seed, and a canonical hash of each output table.
``tests/test_golden.py`` recomputes every case and compares exactly; ``regenerate`` rewrites
the files when a change of results is intended. Both use only this module, so what is checked
and what is written can never drift apart.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

GOLDEN_DIR = Path(__file__).resolve().parent
ROOT = GOLDEN_DIR.parent.parent
SCENARIOS = ROOT / "scenarios"

# Written into every golden file: regenerate deletes only JSON files that carry it.
FORMAT = "livesim-golden/1"
TABLE_HASH = "livesim-golden-table/1"
REGENERATE = "python -m tests.golden.regenerate"

# Reduced size for the bundled scenarios: small enough that all cases run in seconds, large
# enough that every creator type, market and mechanism is present.
SMALL_WORLD = {"world.n_buyers": 6_000, "world.n_creators": 150}


@dataclass(frozen=True)
class Case:
    """One pinned run: a scenario (the tiny test world or a bundled file), overrides, replication.

    ``tiny`` is None for a bundled scenario, else whether the tiny world is enforced.
    """

    name: str
    replication: int
    scenario_file: str | None = None
    tiny: bool | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def inputs(self) -> dict[str, Any]:
        """What defines the run, recorded in the file so a changed input is told from a changed model."""
        if self.scenario_file is None:
            from tests.conftest import tiny_dict

            return {"scenario": f"tests/conftest.py tiny_dict(enforced={self.tiny})",
                    "data": tiny_dict(enforced=bool(self.tiny)), "replication": self.replication}
        return {"scenario": f"scenarios/{self.scenario_file}", "overrides": dict(self.overrides),
                "replication": self.replication}

    def scenario(self) -> Any:
        """The validated scenario, read from this tree (never from an installed copy)."""
        from sim.config import load_scenario, scenario_from_dict, with_overrides

        if self.scenario_file is None:
            from tests.conftest import tiny_dict

            return scenario_from_dict(tiny_dict(enforced=bool(self.tiny)), source="tiny")
        return with_overrides(load_scenario(SCENARIOS / self.scenario_file), self.overrides)

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.json"


def _bundled(name: str, days: int, replication: int = 0, **more: Any) -> Case:
    return Case(name=f"{name}_r{replication}", replication=replication, scenario_file=f"{name}.toml",
                overrides={**SMALL_WORLD, "days": days, **more})


# Days are cut so that every timeline event lies wholly inside the run:
#   baseline: payday sales on days 25-27 and 115-117            -> 120 days
#   ban_evasion: no timeline; 60 days see no re-entry at this size -> 120 days
#   incentive_fraud: bonus days 15-98, holdback 10 days          -> 110 days
#   market_launch: ph launch day 30, localisation ramp to day 119 -> 120 days
#   mega_sale: days 60-62                                        -> 70 days
#   moderation_shortfall: days 60-64                             -> 70 days
# and moderation_shortfall's review capacity (40 a day for 2,500 creators) is scaled with the
# world to 3 a day, so that the backlog the scenario is about still builds up.
CASES: tuple[Case, ...] = (
    Case("tiny_r0", 0, tiny=False),
    Case("tiny_r1", 1, tiny=False),
    Case("tiny_enforced_r0", 0, tiny=True),
    Case("tiny_enforced_r1", 1, tiny=True),
    _bundled("baseline", 120, 0),
    _bundled("baseline", 120, 1),
    _bundled("ban_evasion", 120),
    _bundled("incentive_fraud", 110),
    _bundled("market_launch", 120),
    _bundled("mega_sale", 70),
    _bundled("moderation_shortfall", 70, **{"policy.review.capacity_per_day": 3}),
)


# ---------------------------------------------------------------------------------------
# Canonical values
# ---------------------------------------------------------------------------------------


def plain(x: Any) -> Any:
    """A JSON-exact copy: floats stay floats (written with ``repr``, which round-trips), NaN and
    infinities become the strings ``"nan"``, ``"inf"``, ``"-inf"``; numpy scalars become Python ones."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x is None or isinstance(x, bool | int | float | str):
        return x
    raise TypeError(f"golden: cannot record a value of type {type(x).__name__}: {x!r}")


def _len_prefixed(data: bytes) -> bytes:
    return struct.pack("<q", len(data)) + data


_MISSING = struct.pack("<q", -1)


def _strings(values: Iterable[Any]) -> bytes:
    """Each value as its UTF-8 bytes, prefixed by their length (a missing value: length -1)."""
    out = []
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(_MISSING)
        elif isinstance(v, str):
            out.append(_len_prefixed(v.encode("utf-8")))
        else:
            raise TypeError(f"golden: a string column holds {type(v).__name__} {v!r}")
    return b"".join(out)


def column_payload(series: pd.Series) -> tuple[str, bytes]:
    """A column's canonical type tag and bytes, independent of pandas' and pyarrow's versions.

    Numbers and booleans: the numpy dtype name and the raw little-endian bytes of the values,
    every NaN written as the one quiet NaN (so only real changes count; -0.0 stays distinct
    from 0.0). Categoricals: ``category``, then the category names, then each value's name.
    Strings (object or pandas string dtypes alike): ``string``, then each value.
    Anything else is refused, so a new kind of column makes this definition grow on purpose.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = [str(c) for c in dtype.categories]
        values = series.astype(object).tolist()
        return "category", _len_prefixed(_strings(cats)) + _strings(values)
    if isinstance(dtype, pd.StringDtype) or dtype == object:  # noqa: E721  (numpy dtype equality, not a type check)
        return "string", _strings(series.tolist())
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        arr = series.to_numpy(copy=True)
        if dtype.kind == "f":
            arr[np.isnan(arr)] = np.nan
        return dtype.name, np.ascontiguousarray(arr.astype(dtype.newbyteorder("<"), copy=False)).tobytes()
    raise TypeError(f"golden: no canonical hash for column {series.name!r} of dtype {dtype}")


def table_record(frame: pd.DataFrame) -> dict[str, Any]:
    """Rows, column order, a short hash per column and the SHA-256 of the whole table.

    The table hash is SHA-256 over: the tag ``livesim-golden-table/1``, the row count, then for
    each column in order its name, its type tag and the SHA-256 of its payload (see
    :func:`column_payload`), each string length-prefixed. The index is not part of it (tables
    are written without one). Parquet bytes are never hashed: they depend on pyarrow's version.
    """
    h = hashlib.sha256()
    h.update(_len_prefixed(TABLE_HASH.encode()))
    h.update(struct.pack("<q", len(frame)))
    columns = {}
    for name in frame.columns:
        tag, payload = column_payload(frame[name])
        digest = hashlib.sha256(payload).digest()
        h.update(_len_prefixed(str(name).encode()) + _len_prefixed(tag.encode()) + digest)
        columns[str(name)] = f"{tag} {digest.hex()[:16]}"
    return {"rows": len(frame), "sha256": h.hexdigest(), "column_order": [str(c) for c in frame.columns],
            "columns": columns}


# ---------------------------------------------------------------------------------------
# One case's record
# ---------------------------------------------------------------------------------------


def made_with() -> dict[str, str]:
    """Python's and the key packages' versions: recorded for diagnosis, never compared."""
    from sim.provenance import package_versions

    return dict(package_versions())


def record(case: Case) -> dict[str, Any]:
    """Run ``case`` and return its golden document (the ``made_with`` block included)."""
    from sim.runner import run

    result = run(case.scenario(), case.replication)
    return {
        "format": FORMAT,
        "case": plain(case.inputs()),
        "seed_entropy": int(result.seed_entropy),
        "summary": plain(result.summary),
        "summary_by_market": plain(result.summary_by_market),
        "ledger": plain(result.ledger),
        "campaigns": plain(result.campaigns),
        "tables": {
            "daily": table_record(result.daily),
            "creators": table_record(result.creators),
            "sanctions": table_record(result.sanctions),
        },
        "made_with": made_with(),
    }


# ---------------------------------------------------------------------------------------
# The same bits on every machine
# ---------------------------------------------------------------------------------------

# numpy picks SIMD code paths by the CPU it runs on (AVX2, AVX-512, ...), and some of them
# (exp, log, sums) differ in the last bit between paths. Golden runs are therefore made in a
# child process with every optional path switched off, so every x86-64 machine with numpy's
# baseline features computes the same bits. Ordinary runs keep the fast paths.
CPU_FEATURES_VAR = "NPY_DISABLE_CPU_FEATURES"


def portable_cpu_features() -> str:
    """The value of ``NPY_DISABLE_CPU_FEATURES`` that turns off every optional code path of the
    installed numpy (its dispatch targets), leaving only its baseline."""
    from numpy._core import _multiarray_umath

    return " ".join(_multiarray_umath.__cpu_dispatch__)


def is_portable_process() -> bool:
    """Whether this process's numpy runs on its baseline code paths only."""
    return os.environ.get(CPU_FEATURES_VAR) == portable_cpu_features()


def record_portably(cases: list[Case]) -> dict[str, dict[str, Any]]:
    """The golden documents of ``cases`` as a fresh process on numpy's baseline paths makes them
    (as read back from their file text, so they compare like stored files)."""
    if is_portable_process():
        return {c.name: json.loads(dumps(record(c))) for c in cases}
    env = dict(os.environ)
    env[CPU_FEATURES_VAR] = portable_cpu_features()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-m", "tests.golden.cases", *(c.name for c in cases)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"golden runs failed in their child process:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def dumps(doc: dict[str, Any]) -> str:
    """The file text: sorted keys, one value a line, floats as ``repr`` writes them."""
    return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def load(case: Case) -> dict[str, Any] | None:
    """The stored document of ``case``, or None when its file does not exist."""
    if not case.path.exists():
        return None
    return json.loads(case.path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------

NOT_COMPARED = ("made_with",)
_ABSENT = object()


def _flatten(x: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(x, dict):
        for k, v in x.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(x, list) and any(isinstance(v, dict | list) for v in x):
        for i, v in enumerate(x):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = x


def flat(doc: dict[str, Any]) -> dict[str, Any]:
    """``{"summary.gmv": 1.0, "tables.daily.columns.gmv": "float64 ab12...", ...}`` of the compared part."""
    out: dict[str, Any] = {}
    _flatten({k: v for k, v in doc.items() if k not in NOT_COMPARED}, "", out)
    return out


def _same(a: Any, b: Any) -> bool:
    """Exactly equal: same type (1 is not 1.0) and same value; NaN, stored as "nan", equals itself."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(path, old, new)`` for every compared value that differs, in path order."""
    fo, fn = flat(old), flat(new)
    out = []
    for key in sorted(set(fo) | set(fn)):
        a, b = fo.get(key, _ABSENT), fn.get(key, _ABSENT)
        if a is _ABSENT or b is _ABSENT or not _same(a, b):
            out.append((key, a, b))
    return out


def _show(v: Any) -> str:
    if v is _ABSENT:
        return "(absent)"
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(name: str, diffs: list[tuple[str, Any, Any]], limit: int = 30,
             old_versions: dict[str, str] | None = None, new_versions: dict[str, str] | None = None) -> str:
    """A compact report: which case, how many values, each changed value old -> new."""
    sections: dict[str, int] = {}
    for key, _, _ in diffs:
        section = ".".join(key.split(".")[:2]) if key.startswith("tables.") else key.split(".")[0].split("[")[0]
        sections[section] = sections.get(section, 0) + 1
    lines = [f"golden case {name}: {len(diffs)} value(s) differ (old -> new)",
             "  where: " + ", ".join(f"{s} {n}" for s, n in sections.items())]
    for key, a, b in diffs[:limit]:
        lines.append(f"  {key}: {_show(a)} -> {_show(b)}")
    if len(diffs) > limit:
        lines.append(f"  ... and {len(diffs) - limit} more")
    if old_versions is not None and new_versions is not None and old_versions != new_versions:
        changed = ", ".join(f"{k} {old_versions.get(k)} -> {new_versions.get(k)}"
                            for k in sorted(set(old_versions) | set(new_versions))
                            if old_versions.get(k) != new_versions.get(k))
        lines.append(f"  note: the file was made with other package versions ({changed})")
    return "\n".join(lines)


RULE = (f"If this change of results is intended, regenerate with `{REGENERATE}` and say in the "
        "commit message why the results changed. A refactor must leave them bit-identical.")


if __name__ == "__main__":  # the child process of record_portably: named cases' documents as JSON
    wanted = set(sys.argv[1:])
    chosen = [c for c in CASES if c.name in wanted]
    print(json.dumps({c.name: json.loads(dumps(record(c))) for c in chosen}, allow_nan=False))
