"""Run sweeps: many runs in parallel, stored so that no finished run is ever lost.

Storage under ``results/<sweep>/``:

- ``manifest.json``: tagged ``"format": sim.provenance.SWEEP_FORMAT``; the resolved
  configuration and its hash, the provenance of the code that created it (version, commit,
  dirty flag, package versions), each variant's scenario hash, a ``resumes`` list (code that
  was forced to add runs), and one entry per run (status ``done``/``failed``/``pending``,
  seed, duration, error, and the ``code`` of the process that ran it). Rewritten atomically
  (write a temporary file, then rename) at most every couple of seconds and at the end, so
  thousands of runs do not rewrite it thousands of times.
- ``summary/<run_id>.parquet``, ``daily/<run_id>.parquet``, ``sanctions/<run_id>.parquet``
  (and ``creators/``, ``events/`` on request): one shard per finished run, each written atomically. The
  shards are the record of what is done: a run whose shards are all present is done, whatever
  the manifest last said. A sweep killed at any moment loses at most the runs in flight; a
  shard is either complete or absent.
- ``scenarios/_base.toml`` and ``scenarios/<variant>.toml``: each resolved scenario, loadable
  on its own (``livesim run scenarios/strict.toml`` reproduces that variant).
- ``.livesim.lock``: held while a sweep runs, so two sweeps never write one folder.

``--overwrite`` deletes exactly these files (and their folders once empty), only when the
manifest is one livesim wrote; anything else in the folder is kept.

Runs are independent functions of (scenario, replication), so results are identical whatever
the number of workers or the backend.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import provenance as prov
from sim.errors import ScenarioError
from sim.lock import LOCK_NAME, FolderLock
from sim.outdir import atomic_parquet, atomic_write_bytes
from sim.sweep import RunSpec, Sweep
from sim.workerinit import exit_without_collecting, start_pool_worker

__all__ = ["MANIFEST", "SCHEDULER_TIMEOUT_S", "SHARD_KINDS", "SweepOutcome", "execute", "read_manifest",
           "run_spec"]

SHARD_KINDS = ("summary", "daily", "sanctions", "creators", "events")
MANIFEST = "manifest.json"
SCENARIO_DIR = "scenarios"  # the resolved base scenario and each variant's, as TOML
SCHEDULER_TIMEOUT_S = 10.0  # how long --scheduler may take to answer (stated in --help)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # variant names (sim.schema.Name)


@dataclass
class SweepOutcome:
    """What a sweep call did."""

    out_dir: Path
    done: int
    failed: int
    skipped: int
    seconds: float


def run_spec(spec: RunSpec, with_creators: bool = False, with_events: bool = False) -> dict[str, Any]:
    """Run one sweep run; never raises: failures come back as ``status == "failed"``.

    ``with_creators`` and ``with_events`` add the run's creators table and event log to its shards."""
    from sim.runner import run

    t0 = time.perf_counter()
    code = prov.code_identity()  # of this process, which may not be the sweep's (resume, a cluster)
    try:
        result = run(spec.scenario, replication=spec.replication, events=with_events)
    except Exception as exc:  # a failing run must not stop the sweep
        return {
            "run_id": spec.run_id,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "duration_s": time.perf_counter() - t0,
            "code": code,
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
    if with_events and result.events is not None:
        frames["events"] = _tagged(result.events, tags)
    return {
        "run_id": spec.run_id,
        "status": "done",
        "frames": frames,
        "duration_s": time.perf_counter() - t0,
        "model_seconds": result.runtime_s,
        "code": code,
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


def package_versions() -> dict[str, str]:
    """Python's and the key packages' versions, plus livesim's (the manifest's ``versions``)."""
    return {**prov.package_versions(), "livesim": prov.livesim_version()}


def _scenario_file(variant: str | None) -> str:
    """Where a resolved scenario goes, relative to the results folder (``None``: the base).

    The base gets a name no variant can have (variant names start with a letter).
    """
    return f"{SCENARIO_DIR}/{'_base' if variant is None else variant}.toml"


class Manifest:
    """The sweep's record of itself, rewritten atomically after every change."""

    SAVE_EVERY_S = 2.0

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self._saved = 0.0

    @classmethod
    def create(cls, path: Path, sweep: Sweep, specs: list[RunSpec]) -> Manifest:
        """A new manifest (every run pending), saved, with the resolved scenarios written beside it."""
        doc = {
            "format": prov.SWEEP_FORMAT,
            "name": sweep.file.name,
            "config_hash": sweep.config_hash(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "provenance": prov.provenance(),
            "versions": package_versions(),
            "resumes": [],
            "scenarios": {
                "base": {"scenario_hash": prov.scenario_hash(sweep.base), "toml": _scenario_file(None)},
                "variants": {v: {"scenario_hash": prov.scenario_hash(s), "toml": _scenario_file(v)}
                             for v, s in sweep.variants.items()},
            },
            "config": sweep.config_document(),
            "runs": {
                s.run_id: {"variant": s.variant, "point": s.point, "replication": s.replication,
                           "seed": s.scenario.seed, "params": s.params, "status": "pending"}
                for s in specs
            },
        }
        m = cls(path, doc)
        m.save()  # first: a manifest lists every file the sweep writes, so --overwrite can find them
        folder = path.parent
        (folder / SCENARIO_DIR).mkdir(exist_ok=True)
        atomic_write_bytes(folder / _scenario_file(None), prov.scenario_toml(sweep.base).encode())
        for v, s in sweep.variants.items():
            atomic_write_bytes(folder / _scenario_file(v), prov.scenario_toml(s).encode())
        return m

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """A livesim manifest, or ScenarioError naming the file."""
        return cls(path, read_manifest(path, "cannot resume from it"))

    def save(self) -> None:
        atomic_write_bytes(self.path, (json.dumps(self.doc, indent=1, default=str) + "\n").encode())
        self._saved = time.monotonic()

    def record(self, outcome: dict[str, Any]) -> None:
        entry = self.doc["runs"][outcome["run_id"]]
        entry["status"] = outcome["status"]
        entry["duration_s"] = round(float(outcome["duration_s"]), 3)
        entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if outcome.get("code") is not None:  # the code of the process that ran it: mixed versions show
            entry["code"] = outcome["code"]
        if outcome["status"] == "failed":
            entry["error"] = outcome["error"]
            entry["traceback"] = outcome.get("traceback", "")
        else:
            entry.pop("error", None)
            entry.pop("traceback", None)
        if time.monotonic() - self._saved >= self.SAVE_EVERY_S:
            self.save()


def _is_livesim_manifest(doc: Any) -> bool:
    """Written by livesim: tagged with the sweep format, or a legacy (untagged) livesim manifest."""
    if not isinstance(doc, dict):
        return False
    if "format" in doc:
        return doc["format"] == prov.SWEEP_FORMAT and _runs_ok(doc)
    return (isinstance(doc.get("name"), str) and "config_hash" in doc and isinstance(doc.get("versions"), dict)
            and _runs_ok(doc))


def _runs_ok(doc: dict[str, Any]) -> bool:
    runs = doc.get("runs")
    return isinstance(runs, dict) and all(isinstance(e, dict) and "status" in e for e in runs.values())


def read_manifest(path: Path, consequence: str) -> dict[str, Any]:
    """The manifest at ``path`` if livesim wrote it; otherwise ScenarioError naming the file.

    ``consequence`` says what livesim will not do because of it (e.g. "refusing to delete
    anything"), so the one-line error tells the user where they stand.
    """
    src = str(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ScenarioError(src, None, None, f"cannot be read ({reason}); {consequence}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(src, None, None, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                             f"{exc.msg}); it may be truncated; {consequence}") from None
    if not _is_livesim_manifest(doc):
        what = "a JSON " + {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
            type(doc), "value") if not isinstance(doc, dict) else "not a livesim sweep manifest"
        if isinstance(doc, dict) and "format" in doc and doc["format"] != prov.SWEEP_FORMAT:
            what = f"format {doc['format']!r}, not {prov.SWEEP_FORMAT!r}"
        raise ScenarioError(src, None, None, f"is {what}, not a manifest livesim wrote; {consequence}")
    return doc


def _shards_complete(out_dir: Path, run_id: str, with_creators: bool, with_events: bool = False) -> bool:
    kinds = (*SHARD_KINDS[:3], *(["creators"] if with_creators else []), *(["events"] if with_events else []))
    return all((out_dir / k / f"{run_id}.parquet").is_file() for k in kinds)


def _is_tmp_leftover(name: str, of: str = ".parquet") -> bool:
    """A half-written file of livesim's atomic writes: ``.<name><of>.<pid>.tmp``."""
    return name.startswith(".") and name.endswith(".tmp") and f"{of}." in name


def _identity(code: Any) -> dict[str, Any] | None:
    """The part of a code identity that must match for runs to be comparable."""
    if not isinstance(code, dict):
        return None
    return {k: code.get(k) for k in ("livesim", "commit", "dirty", "diff")}


def _describe(code: dict[str, Any] | None) -> str:
    if code is None:
        return "no recorded code (an older livesim)"
    out = f"livesim {code.get('livesim')}"
    if code.get("commit"):
        out += f" commit {str(code['commit'])[:10]}"
        if code.get("dirty"):
            out += f" with uncommitted changes {code.get('diff')}"
    return out


# ---------------------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------------------

ProgressFn = Callable[[int, int, int, int, float], None]


def _check_folder(sweep: Sweep, specs: list[RunSpec], out_dir: Path, *, resume: bool, overwrite: bool,
                  force: bool, can_resume: bool) -> dict[str, Any] | None:
    """Refuse, before anything is written, what the folder does not allow; return an earlier
    sweep's manifest when it will be resumed or overwritten."""
    manifest_path = out_dir / MANIFEST
    for name in (*SHARD_KINDS, SCENARIO_DIR):  # the layout's folders: a file or link there is not ours
        place = out_dir / name
        if place.is_symlink() or (place.exists() and not place.is_dir()):
            raise ScenarioError(str(place), None, None, "is where the sweep keeps a folder of its own, but it is "
                                "a file or a link livesim did not make; move it away or choose another --out")
    if not (manifest_path.exists() or manifest_path.is_symlink()):
        if overwrite and out_dir.is_dir() and any(p.name != LOCK_NAME for p in out_dir.iterdir()):
            raise ScenarioError(str(out_dir), None, None, "is not empty and holds no sweep (no manifest.json): "
                                "refusing to delete anything; choose another --out")
        _check_scenario_files(out_dir, sweep)
        return None
    if not (resume or overwrite):
        how = "use --resume to finish it or --overwrite to start over" if can_resume else \
            "use --overwrite to replace it or choose another --out"
        raise ScenarioError(str(out_dir), None, None, f"already holds a sweep ({MANIFEST}); {how}")
    if overwrite:
        return read_manifest(manifest_path, "refusing to delete anything in this folder; choose another --out")
    doc = read_manifest(manifest_path, "cannot resume from it; use --overwrite only if livesim wrote this "
                                       "folder, or choose another --out")
    if doc.get("config_hash") != sweep.config_hash():
        raise ScenarioError(str(manifest_path), "config_hash", doc.get("config_hash"),
                            f"the sweep file changed since these results were made (now {sweep.config_hash()}); "
                            "use --overwrite to start over or a new --out folder")
    missing = [s.run_id for s in specs if s.run_id not in doc["runs"]]
    if missing:
        raise ScenarioError(str(manifest_path), f"runs.{missing[0]}", None,
                            f"missing ({len(missing)} runs of this sweep are not listed); the manifest is damaged: "
                            "use --overwrite to start over or a new --out folder")
    current = prov.code_identity()
    known = [_identity(doc.get("provenance"))] + [_identity(r.get("code")) for r in doc.get("resumes") or []
                                                  if isinstance(r, dict)]
    if _identity(current) not in known and not force:
        made = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else None
        raise ScenarioError(str(manifest_path), "provenance", None,
                            f"these results were made by {_describe(made)}, this is {_describe(current)}; "
                            "adding runs would mix results of different code: use --force to resume anyway, "
                            "or --overwrite / a new --out to start over")
    return doc


def _check_scenario_files(out_dir: Path, sweep: Sweep) -> None:
    """A new sweep writes its resolved scenarios: never over a file livesim did not write."""
    for name in [_scenario_file(None), *(_scenario_file(v) for v in sweep.variants)]:
        path = out_dir / name
        if path.exists():
            try:
                ours = path.read_text(errors="replace").startswith("# resolved scenario")
            except OSError:
                ours = False
            if not ours:
                raise ScenarioError(str(path), None, None, "exists and is not a resolved scenario livesim wrote; "
                                    "refusing to replace it; choose another --out")


def _make_folder(out_dir: Path) -> list[Path]:
    """Create ``out_dir`` (and parents); return the folders this created, deepest first."""
    created = []
    p = out_dir
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    return created


def _remove_created(created: list[Path], out_dir: Path) -> None:
    """Undo :func:`_make_folder` for a command that failed before writing results (lock held)."""
    if not created:
        return
    for kind in (*SHARD_KINDS, SCENARIO_DIR):
        with contextlib.suppress(OSError):
            (out_dir / kind).rmdir()
    if [p.name for p in out_dir.iterdir()] == [LOCK_NAME]:
        (out_dir / LOCK_NAME).unlink(missing_ok=True)
    for p in created:
        with contextlib.suppress(OSError):
            p.rmdir()  # only when empty


def execute(
    sweep: Sweep,
    out_dir: Path,
    *,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    force: bool = False,
    with_creators: bool = False,
    with_events: bool = False,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
    can_resume: bool = True,
) -> SweepOutcome:
    """Run every run of ``sweep`` not yet done, writing shards and the manifest as they finish.

    Everything the folder or the scheduler can refuse is checked before any file is written;
    the folder is locked (one sweep at a time) before anything in it is cleared or created.
    ``notify`` receives one-line notes for the user (what --overwrite removed and kept).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    specs = sweep.runs()
    _check_folder(sweep, specs, out_dir, resume=resume, overwrite=overwrite, force=force, can_resume=can_resume)
    client = cluster = None
    if backend == "dask":  # connect before creating anything: an unreachable scheduler leaves no trace
        client, cluster = _dask_client(workers, scheduler)
    lock: FolderLock | None = None
    try:
        created = _make_folder(out_dir)
        lock = FolderLock(out_dir).acquire()
        try:  # checked again under the lock: the folder may have changed since
            previous = _check_folder(sweep, specs, out_dir, resume=resume, overwrite=overwrite, force=force,
                                     can_resume=can_resume)
            if overwrite and previous is not None:
                _clear_sweep_folder(out_dir, previous, notify)
            for kind in SHARD_KINDS:
                (out_dir / kind).mkdir(exist_ok=True)
            for kind in SHARD_KINDS:  # half-written shards of a killed sweep (the lock says it is dead)
                for stale in (out_dir / kind).glob(".*.tmp"):
                    if _is_tmp_leftover(stale.name):
                        stale.unlink(missing_ok=True)
            if resume and previous is not None:
                manifest = Manifest(out_dir / MANIFEST, previous)
                if _identity(prov.code_identity()) not in [_identity(previous.get("provenance"))] + [
                        _identity(r.get("code")) for r in previous.get("resumes") or [] if isinstance(r, dict)]:
                    # --force: say which code added runs (each run also records its own)
                    previous.setdefault("resumes", []).append(
                        {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "code": prov.code_identity(),
                         "forced": True})
            else:
                manifest = Manifest.create(out_dir / MANIFEST, sweep, specs)
        except BaseException:
            _remove_created(created, out_dir)
            raise
        return _execute_runs(specs, out_dir, manifest, workers=workers, backend=backend, client=client,
                             with_creators=with_creators, with_events=with_events, progress=progress, t0=t0)
    finally:
        if lock is not None:
            lock.release()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _execute_runs(specs: list[RunSpec], out_dir: Path, manifest: Manifest, *, workers: int, backend: str,
                  client: Any, with_creators: bool, progress: ProgressFn | None, t0: float,
                  with_events: bool = False) -> SweepOutcome:
    # The shards are the record of what is done (the manifest may lag by a moment).
    todo = []
    for s in specs:
        entry = manifest.doc["runs"][s.run_id]
        if _shards_complete(out_dir, s.run_id, with_creators, with_events):
            if entry["status"] != "done":
                entry["status"] = "done"
                entry.pop("error", None)
        else:
            if entry["status"] == "done":
                entry["status"] = "pending"  # a shard went missing: run it again
                entry.pop("code", None)
            todo.append(s)
    manifest.save()
    skipped = len(specs) - len(todo)
    done = failed = 0

    def finish(outcome: dict[str, Any]) -> None:
        nonlocal done, failed
        if outcome["status"] == "done":
            for kind, frame in outcome["frames"].items():
                atomic_parquet(frame, out_dir / kind / f"{outcome['run_id']}.parquet")
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
            _run_dask(todo, client, with_creators, finish, with_events)
        elif workers <= 1:
            for spec in todo:
                finish(run_spec(spec, with_creators, with_events))
        else:
            _run_pool(todo, workers, with_creators, finish, with_events)
    finally:
        manifest.save()
    return SweepOutcome(out_dir, done, failed, skipped, time.perf_counter() - t0)


def _clear_sweep_folder(out_dir: Path, doc: dict[str, Any], notify: Callable[[str], None] | None) -> None:
    """Delete what an earlier sweep wrote (its manifest, shards, resolved scenarios, and their folders
    once empty), nothing else; say what was removed and which other files were kept."""
    run_ids = set(doc["runs"])
    shards = files = folders = 0
    for kind in SHARD_KINDS:
        folder = out_dir / kind
        if not folder.is_dir() or folder.is_symlink():
            continue
        for p in folder.iterdir():
            ours = (p.name.endswith(".parquet") and p.name[: -len(".parquet")] in run_ids) or _is_tmp_leftover(p.name)
            if ours and p.is_file() and not p.is_symlink():
                p.unlink()
                shards += 1
    scen = doc.get("scenarios") if isinstance(doc.get("scenarios"), dict) else {}
    names = [None] + [v for v in (scen.get("variants") or {}) if isinstance(v, str) and _NAME.fullmatch(v)]
    for v in names:
        p = out_dir / _scenario_file(v)
        if p.is_file() and not p.is_symlink():
            p.unlink()
            files += 1
    if (out_dir / SCENARIO_DIR).is_dir():
        for p in (out_dir / SCENARIO_DIR).glob(".*.tmp"):
            if _is_tmp_leftover(p.name, ".toml"):
                p.unlink()
                files += 1
    for p in out_dir.glob(".*.tmp"):
        if _is_tmp_leftover(p.name, MANIFEST):
            p.unlink()
    (out_dir / MANIFEST).unlink()
    for sub in (*SHARD_KINDS, SCENARIO_DIR):
        try:
            (out_dir / sub).rmdir()
            folders += 1
        except OSError:  # absent, or holds files that are not the sweep's
            pass
    kept = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*")
                  if p.name != LOCK_NAME and (p.is_file() or p.is_symlink()))
    if notify is not None:
        note = (f"--overwrite: removed the earlier sweep in {out_dir}: {MANIFEST}, {shards} shards, "
                f"{files} scenario files, {folders} folders")
        if kept:
            shown = ", ".join(kept[:8]) + (f", ... ({len(kept) - 8} more)" if len(kept) > 8 else "")
            note += f"; kept {len(kept)} files that are not the sweep's: {shown}"
        notify(note)


def _run_pool(todo: Iterable[RunSpec], workers: int, with_creators: bool, finish: Callable,
              with_events: bool = False) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")  # no inherited state: the same in every OS
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=start_pool_worker,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_spec, spec, with_creators, with_events): spec for spec in todo}
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker process itself died
                outcome = {"run_id": spec.run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "duration_s": 0.0}
            finish(outcome)


def _dask_client(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A dask client (and its LocalCluster unless ``scheduler``), or ScenarioError in one line."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - depends on the environment
        raise ScenarioError("--backend", None, "dask",
                            "needs dask.distributed: pip install 'livesim[cluster]'") from None
    if not scheduler:
        return _local_cluster(workers)
    import logging

    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.CRITICAL)  # its retry messages would bury the one line that matters
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
    except Exception as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ScenarioError("--scheduler", None, scheduler,
                            f"no dask scheduler answered within {SCHEDULER_TIMEOUT_S:g} s ({detail}); "
                            "check the address, or start one with `dask scheduler`") from None
    finally:
        log.setLevel(level)


def _local_cluster(workers: int) -> tuple[Any, Any]:
    """A LocalCluster of ``workers`` single-threaded worker processes, started for one sweep.

    Its workers keep glibc's own memory allocator settings: dask's nanny otherwise sets
    ``MALLOC_TRIM_THRESHOLD_`` in each worker's environment, which also turns off glibc's
    adaptive mmap threshold, so every large numpy array is mapped afresh and zero-filled and
    a baseline run used about 18 % more CPU time, mostly system time (measured). Nothing
    shares a run's thread in a worker more than it must: no statistical profiler sampling
    the run's stack every 10 ms (it feeds only the dashboard) and the event-loop health
    tick once a second rather than every 20 ms. They exit without a final collection (see
    ``sim.workerinit``). No dashboard, and the scheduler's
    own HTTP endpoints on a free port of 127.0.0.1 rather than on port 8787 of every
    interface (taken there by any other cluster, with a warning); only errors are logged.
    """
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                          "distributed.worker.profile.enabled": False,
                          "distributed.admin.tick.interval": "1s"}):
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR)
    try:
        client = Client(cluster)
        client.run(exit_without_collecting)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _run_dask(todo: list[RunSpec], client: Any, with_creators: bool, finish: Callable,
              with_events: bool = False) -> None:
    from dask.distributed import as_completed

    futures = {client.submit(run_spec, spec, with_creators, with_events, pure=False, key=f"livesim-{spec.run_id}"): spec
               for spec in todo}
    for fut in as_completed(list(futures)):
        spec = futures[fut]
        try:
            outcome = fut.result()
        except Exception as exc:
            outcome = {"run_id": spec.run_id, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                       "duration_s": 0.0}
        finish(outcome)


def default_workers() -> int:
    """The number of cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: livesim sweep SWEEP.toml")
