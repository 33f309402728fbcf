"""Run sweeps: many runs in parallel, stored so that no finished run is ever lost.

Storage under ``results/<sweep>/``:

- ``manifest.json``: the resolved configuration, its hash, package versions, and one entry per
  run (status ``done``/``failed``/``pending``, seed, duration, error). Rewritten atomically
  (write a temporary file, then rename) at most every couple of seconds and at the end, so
  thousands of runs do not rewrite it thousands of times.
- ``summary/<run_id>.parquet``, ``daily/<run_id>.parquet``, ``sanctions/<run_id>.parquet``
  (and ``creators/`` on request): one shard per finished run, each written atomically. The
  shards are the record of what is done: a run whose shards are all present is done, whatever
  the manifest last said. A sweep killed at any moment loses at most the runs in flight; a
  shard is either complete or absent.

Runs are independent functions of (scenario, replication), so results are identical whatever
the number of workers or the backend.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep import RunSpec, Sweep

__all__ = ["SHARD_KINDS", "SweepOutcome", "execute", "run_spec"]

SHARD_KINDS = ("summary", "daily", "sanctions", "creators")


@dataclass
class SweepOutcome:
    """What a sweep call did."""

    out_dir: Path
    done: int
    failed: int
    skipped: int
    seconds: float


def run_spec(spec: RunSpec, with_creators: bool = False) -> dict[str, Any]:
    """Run one sweep run; never raises: failures come back as ``status == "failed"``."""
    from sim.runner import run

    t0 = time.perf_counter()
    try:
        result = run(spec.scenario, replication=spec.replication)
    except Exception as exc:  # a failing run must not stop the sweep
        return {
            "run_id": spec.run_id,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "duration_s": time.perf_counter() - t0,
        }
    tags = _tags(spec)
    summary = pd.DataFrame(
        [{"market": "all", **result.summary}] + [{"market": m, **v} for m, v in result.summary_by_market.items()]
    )
    frames = {
        "summary": _tagged(summary, tags),
        "daily": _tagged(result.daily, tags),
        "sanctions": _tagged(result.sanctions, tags),
    }
    if with_creators:
        frames["creators"] = _tagged(result.creators, tags)
    return {
        "run_id": spec.run_id,
        "status": "done",
        "frames": frames,
        "duration_s": time.perf_counter() - t0,
        "model_seconds": result.runtime_s,
    }


def _tags(spec: RunSpec) -> dict[str, Any]:
    tags: dict[str, Any] = {
        "run_id": spec.run_id,
        "variant": spec.variant,
        "point": spec.point,
        "replication": spec.replication,
        "seed": spec.scenario.seed,
    }
    for path, value in spec.params.items():
        tags[path] = value
    return tags


def _tagged(frame: pd.DataFrame, tags: dict[str, Any]) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    head = pd.DataFrame({k: [v] * len(frame) for k, v in tags.items()})
    out = pd.concat([head, frame], axis=1)
    for col in out.columns:  # categorical columns become plain strings: shards union cleanly
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out


# ---------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("livesim", "mesa", "numpy", "pandas", "scipy", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


class Manifest:
    """The sweep's record of itself, rewritten atomically after every change."""

    SAVE_EVERY_S = 2.0

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self._saved = 0.0

    @classmethod
    def create(cls, path: Path, sweep: Sweep, specs: list[RunSpec]) -> Manifest:
        doc = {
            "name": sweep.file.name,
            "config_hash": sweep.config_hash(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": package_versions(),
            "config": sweep.config_document(),
            "runs": {
                s.run_id: {"variant": s.variant, "point": s.point, "replication": s.replication,
                           "seed": s.scenario.seed, "params": s.params, "status": "pending"}
                for s in specs
            },
        }
        m = cls(path, doc)
        m.save()
        return m

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(path, json.loads(path.read_text()))

    def save(self) -> None:
        _atomic_write_bytes(self.path, (json.dumps(self.doc, indent=1, default=str) + "\n").encode())
        self._saved = time.monotonic()

    def record(self, outcome: dict[str, Any]) -> None:
        entry = self.doc["runs"][outcome["run_id"]]
        entry["status"] = outcome["status"]
        entry["duration_s"] = round(float(outcome["duration_s"]), 3)
        entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if outcome["status"] == "failed":
            entry["error"] = outcome["error"]
            entry["traceback"] = outcome.get("traceback", "")
        else:
            entry.pop("error", None)
            entry.pop("traceback", None)
        if time.monotonic() - self._saved >= self.SAVE_EVERY_S:
            self.save()


def _shards_complete(out_dir: Path, run_id: str, with_creators: bool) -> bool:
    kinds = SHARD_KINDS if with_creators else SHARD_KINDS[:3]
    return all((out_dir / k / f"{run_id}.parquet").is_file() for k in kinds)


# ---------------------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------------------

ProgressFn = Callable[[int, int, int, int, float], None]


def execute(
    sweep: Sweep,
    out_dir: Path,
    *,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    with_creators: bool = False,
    progress: ProgressFn | None = None,
) -> SweepOutcome:
    """Run every run of ``sweep`` not yet done, writing shards and the manifest as they finish."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    specs = sweep.runs()
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists() and not (resume or overwrite):
        raise FileExistsError(f"{out_dir} already holds a sweep: use --resume to finish it or --overwrite to start over")
    if overwrite and out_dir.exists():
        _clear_sweep_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in SHARD_KINDS:
        (out_dir / kind).mkdir(exist_ok=True)
    for stale in out_dir.glob("*/.*.tmp"):  # half-written shards of a killed sweep
        stale.unlink(missing_ok=True)

    if resume and manifest_path.exists():
        manifest = Manifest.load(manifest_path)
        if manifest.doc.get("config_hash") != sweep.config_hash():
            raise ValueError(
                f"{manifest_path}: the sweep file changed since these results were made "
                f"(config hash {manifest.doc.get('config_hash')} vs {sweep.config_hash()}); "
                "use --overwrite to start over or a new --out folder"
            )
    else:
        manifest = Manifest.create(manifest_path, sweep, specs)

    # The shards are the record of what is done (the manifest may lag by a moment).
    todo = []
    for s in specs:
        entry = manifest.doc["runs"][s.run_id]
        if _shards_complete(out_dir, s.run_id, with_creators):
            if entry["status"] != "done":
                entry["status"] = "done"
                entry.pop("error", None)
        else:
            if entry["status"] == "done":
                entry["status"] = "pending"  # a shard went missing: run it again
            todo.append(s)
    manifest.save()
    skipped = len(specs) - len(todo)
    done = failed = 0

    def finish(outcome: dict[str, Any]) -> None:
        nonlocal done, failed
        if outcome["status"] == "done":
            for kind, frame in outcome["frames"].items():
                _atomic_parquet(frame, out_dir / kind / f"{outcome['run_id']}.parquet")
            done += 1
        else:
            failed += 1
        manifest.record(outcome)
        if progress is not None:
            progress(done + skipped, failed, len(specs), len(todo) - done - failed, time.perf_counter() - t0)

    if progress is not None:
        progress(skipped, 0, len(specs), len(todo), 0.0)
    try:
        if backend == "dask":
            _run_dask(todo, workers, scheduler, with_creators, finish)
        elif workers <= 1:
            for spec in todo:
                finish(run_spec(spec, with_creators))
        else:
            _run_pool(todo, workers, with_creators, finish)
    finally:
        manifest.save()
    return SweepOutcome(out_dir, done, failed, skipped, time.perf_counter() - t0)


def _clear_sweep_folder(out_dir: Path) -> None:
    """Delete an earlier sweep's files, and nothing else; refuse a folder that is not a sweep's."""
    import shutil

    if not (out_dir / "manifest.json").is_file():
        if any(out_dir.iterdir()):
            raise FileExistsError(f"{out_dir} is not empty and holds no sweep: refusing to delete it; "
                                  "choose another --out")
        return
    for kind in SHARD_KINDS:
        shutil.rmtree(out_dir / kind, ignore_errors=True)
    for p in [out_dir / "manifest.json", *out_dir.glob("report*.html"), *out_dir.glob("report*.png"),
              *out_dir.glob("report*.md")]:
        p.unlink(missing_ok=True)


def _die_with_parent() -> None:
    """Pool worker initializer: exit when the sweep process goes away (even by SIGKILL)."""
    import threading

    parent = os.getppid()
    try:  # Linux: the kernel signals us when the parent dies
        import ctypes
        import signal as _signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, _signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True).start()


def _run_pool(todo: Iterable[RunSpec], workers: int, with_creators: bool, finish: Callable) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")  # no inherited state: the same in every OS
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent) as pool:
        futures = {pool.submit(run_spec, spec, with_creators): spec for spec in todo}
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker process itself died
                outcome = {"run_id": spec.run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "duration_s": 0.0}
            finish(outcome)


def _run_dask(todo: list[RunSpec], workers: int, scheduler: str | None, with_creators: bool,
              finish: Callable) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError("the dask backend needs dask.distributed: pip install 'livesim[cluster]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(run_spec, spec, with_creators, pure=False, key=f"livesim-{spec.run_id}"): spec
                   for spec in todo}
        for fut in as_completed(list(futures)):
            spec = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:
                outcome = {"run_id": spec.run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "duration_s": 0.0}
            finish(outcome)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def default_workers() -> int:
    """The number of cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: livesim sweep SWEEP.toml")
