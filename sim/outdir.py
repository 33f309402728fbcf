"""A run's output folder: which folders livesim may write into, and replacing its own files only.

``livesim run --out DIR`` must never lose a user's file. DIR may be new, empty, or an earlier
livesim run folder (recognised by the format tag in its ``summary.json``, or by the keys an
untagged summary.json of an older livesim has). Anything else is refused before the run starts,
as are the working directory and the folders above it, the home directory and the filesystem
root, a path that is (or lies under) a file, and a place livesim cannot write.

Files are first written to a temporary folder beside DIR (named
``.DIR.livesim-tmp-PID-XXXX``) so a failed run leaves no half-written output. A new DIR is
then made by one rename. An existing DIR is kept and only livesim's files are moved into it:
first summary.json is replaced by a stub that says the folder is incomplete (so it stays
recognisable as livesim's if the process is killed now), then the data files are moved in,
livesim's stale files the new run did not write are removed, and the real summary.json comes
last. (When DIR is on another filesystem than its parent, e.g. a mount point, each file is
copied beside its final name and then renamed, so no file is ever half there.) A temporary
folder left behind by a killed process is removed by the next run into the
same parent once that process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.provenance import RUN_FORMAT

__all__ = [
    "MARKER",
    "RUN_FILES",
    "Replacement",
    "check_out_dir",
    "install",
    "is_run_folder",
    "make_staging",
    "owned_files",
    "remove_stale_staging",
    "run_files",
]

MARKER = "summary.json"
# Every file a run may write; summary.json (the marker) is always written, and moved in last.
RUN_FILES = ("daily.parquet", "creators.parquet", "sanctions.parquet", "trends.parquet", "alerts.parquet",
             "events.parquet",
             "scenario.toml", "daily.png",
             MARKER)
# What an untagged summary.json of an older livesim run folder owned.
LEGACY_FILES = ("daily.parquet", "creators.parquet", "sanctions.parquet", "daily.png", MARKER)
LEGACY_KEYS = ("scenario", "livesim_version", "metrics")

_TMP_RE = re.compile(r"^\.(?P<name>.+)\.livesim-tmp-(?P<pid>\d+)-[A-Za-z0-9_]+$")
_STUB = ".stub.json"  # the incomplete-folder summary, staged before it is moved in
_PART = ".livesim-part-"
_PART_RE = re.compile(r"^\.(?P<name>.+)\.livesim-part-(?P<pid>\d+)$")
FIELD = "--out"


@dataclass
class Replacement:
    """What writing into a folder did: the folder, whether it held an earlier run, what was kept."""

    path: Path
    replaced: bool = False
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def describe(self) -> str | None:
        """One line for the user when an earlier run was replaced, else None."""
        if not self.replaced:
            return None
        n = len(self.kept)
        kept = f" (kept {n} file{'s' if n != 1 else ''} not written by livesim)" if n else ""
        return f"replaced the earlier run in {self.path}{kept}"


def run_files(plot: bool = True, trends: bool = False, events: bool = True, alerts: bool = False) -> list[str]:
    """The files one run writes into its folder (summary.json, the marker, last); trends.parquet
    only for a scenario with abuse trends, alerts.parquet only for one with monitoring signals,
    events.parquet only when the run keeps its event log."""
    return [n for n in RUN_FILES if (plot or n != "daily.png") and (trends or n != "trends.parquet")
            and (events or n != "events.parquet") and (alerts or n != "alerts.parquet")]


def _summary(folder: Path) -> dict[str, Any] | None:
    path = folder / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def is_run_folder(folder: Path) -> bool:
    """True if ``folder`` holds a livesim run: a summary.json with the run format tag (or an older one's keys)."""
    doc = _summary(folder)
    if doc is None:
        return False
    if "format" in doc:
        return doc["format"] == RUN_FORMAT
    return all(k in doc for k in LEGACY_KEYS)


def owned_files(folder: Path) -> set[str]:
    """The names in ``folder`` that livesim wrote (empty if it is not a run folder).

    A tagged summary.json lists its files; an older one owned the fixed legacy set. Only names
    livesim can write ever count, whatever a (possibly edited) summary.json says.
    """
    if not is_run_folder(folder):
        return set()
    doc = _summary(folder) or {}
    listed = doc.get("files") if "format" in doc else None
    names = set(listed) & set(RUN_FILES) if isinstance(listed, list) else set(LEGACY_FILES)
    names.add(MARKER)
    return {n for n in names if (folder / n).is_file() or (folder / n).is_symlink()}


def _refuse(out: Path, why: str) -> ScenarioError:
    return ScenarioError(FIELD, None, str(out), why)


def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p):
        p = p.parent
    return p


def _can_make_folder(place: Path) -> bool:
    """Whether a folder can really be made in ``place`` (permission bits do not tell for root,
    read-only mounts or pseudo-filesystems): make an empty one and remove it again."""
    try:
        probe = tempfile.mkdtemp(prefix=f".livesim-probe-{os.getpid()}-", dir=place)
    except OSError:
        return False
    os.rmdir(probe)
    return True


def _folder_place(out: Path, given: str, what: str) -> Path:
    """The checks every output folder passes (its name, where it is, what is there now); returns
    the nearest folder that exists on the way to it, where writing starts."""
    check_path_text(out, given)
    _refuse_cwd_home_root(out, what)
    if out.is_symlink() and not out.exists():
        raise _refuse(out, "it is a symbolic link to nothing; name a folder")
    if out.exists() and not out.is_dir():
        raise _refuse(out, f"{given} is a file, not a folder; name a folder for {what}")
    base = _nearest_existing(out)
    if not base.is_dir():
        raise _refuse(out, f"{base} is a file, so no folder can be made under it; name a folder")
    return base


def check_out_dir(out: str | Path, files: tuple[str, ...] | list[str] = RUN_FILES) -> Path:
    """Raise ScenarioError unless a run writing ``files`` may write into ``out``; cheap, so call it before the run.

    Allowed: a new folder (under a writable folder), an empty folder, or an earlier livesim run
    folder whose non-livesim files do not collide with ``files``.
    """
    given = str(out)
    out = Path(out)
    base = _folder_place(out, given, "the run's files")
    # The temporary folder is made beside ``out``; files are then moved into ``out`` itself.
    places = [out.parent, out] if out.exists() else [base]
    for place in places:
        if not os.access(place, os.W_OK | os.X_OK) or not _can_make_folder(place):
            raise _refuse(out, f"cannot write in {place} (permission denied or read-only); "
                               "choose a folder you can write to")
    if out.exists():
        try:
            entries = {p.name for p in out.iterdir()}
        except OSError as exc:
            raise _refuse(out, f"cannot list {given} ({exc.strerror}); choose a folder you can read and "
                               "write") from None
        if entries and not is_run_folder(out):
            raise _refuse(out, f"{given} holds files and is not an earlier livesim run (it has no livesim "
                               "summary.json); livesim replaces only its own run folders: choose a new or "
                               "empty folder, or move those files away")
        others = entries - owned_files(out)
        clash = sorted(n for n in others if n in files)
        if clash:
            raise _refuse(out, f"{given} holds {', '.join(clash)} that livesim did not write and would overwrite; "
                               "move it away or choose another folder")
        not_files = sorted(n for n in files if n in entries and (out / n).is_dir() and not (out / n).is_symlink())
        if not_files:
            raise _refuse(out, f"{given}/{not_files[0]} is a folder where livesim writes a file; "
                               "move it away or choose another folder")
    return out


def check_path_text(out: Path, given: str) -> None:
    """Refuse a path no file system or Parquet writer here can take: empty, not UTF-8, a name
    too long for the temporary names livesim makes beside it, or a symbolic-link loop."""
    if not given.strip():
        raise ScenarioError(FIELD, None, given, "is empty; name a folder, e.g. results/NAME")
    try:
        given.encode("utf-8")
    except UnicodeEncodeError:
        raise ScenarioError(FIELD, None, given, "is not valid UTF-8; use a name of ordinary characters") from None
    for part in out.parts:  # livesim adds up to ~40 characters for its temporary names
        if len(os.fsencode(part)) > 200:
            raise ScenarioError(FIELD, None, given[:60] + "...", "has a name longer than 200 bytes; use a shorter "
                                "one")
    try:
        out.resolve(strict=False)
    except (RuntimeError, OSError) as exc:
        raise ScenarioError(FIELD, None, given, f"cannot be followed ({exc}); name another folder") from None


def _refuse_cwd_home_root(out: Path, what: str) -> None:
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise _refuse(out, f"that is the working directory or a folder above it, which livesim will not write "
                           f"{what} into; name a folder, e.g. results/NAME")
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home directory known
        home = None
    if resolved == home or resolved == Path(resolved.anchor):
        raise _refuse(out, "that is the home directory or the filesystem root; name a folder, e.g. results/NAME")


def check_results_dir(out: str | Path) -> Path:
    """Raise ScenarioError unless a sweep may keep its results folder at ``out``: an existing
    folder, or one that can be made under a folder livesim can write in. Cheap: call it first.

    (What the folder may already hold is the sweep's own check: --resume, --overwrite.)"""
    given = str(out)
    out = Path(out)
    base = _folder_place(out, given, "a sweep's results")
    if not os.access(base, os.W_OK | os.X_OK) or not _can_make_folder(base):
        raise _refuse(out, f"cannot write in {base} (permission denied or read-only); "
                           "choose a folder you can write to")
    return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: someone else's live process
        return True
    return True


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove temporary folders in ``parent`` left by livesim processes that are gone.

    Only folders named like livesim's (``.NAME.livesim-tmp-PID-XXXX``) whose PID is not running
    are touched, and in them only the files a run writes; a folder holding anything else stays.
    """
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or entry.is_symlink() or not entry.is_dir() or _alive(int(m["pid"])):
            continue
        try:
            for name in (*RUN_FILES, _STUB):
                f = entry / name
                if f.is_file() and not f.is_symlink():
                    f.unlink()
            entry.rmdir()  # fails, and keeps the folder, if anything else is in it
        except OSError:
            continue
        removed.append(entry)
    return removed


def make_staging(out: Path) -> Path:
    """A new temporary folder beside ``out`` (its parents created), with ordinary permissions."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.livesim-tmp-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
    return tmp


def _stub(files: set[str]) -> str:
    doc = {
        "format": RUN_FORMAT,
        "status": "incomplete",
        "note": "livesim was interrupted while writing this folder; run it again",
        "files": sorted(files),
    }
    return json.dumps(doc, indent=2) + "\n"


def _move_in(src: Path, out: Path, name: str) -> None:
    """Put ``src`` at ``out/name`` in one step (a rename; across filesystems, a copy beside it, then a rename)."""
    try:
        os.replace(src, out / name)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # ``out`` is a mount point or a link to another filesystem
            raise
        part = out / f".{name}{_PART}{os.getpid()}"
        shutil.copyfile(src, part)
        os.replace(part, out / name)
        src.unlink()


def _remove_stale_parts(out: Path) -> None:
    """Remove half-copied run files (``.NAME.livesim-part-PID``) of livesim processes that are gone."""
    for entry in out.iterdir():
        m = _PART_RE.match(entry.name)
        if m and m["name"] in RUN_FILES and entry.is_file() and not entry.is_symlink() and not _alive(int(m["pid"])):
            with contextlib.suppress(OSError):
                entry.unlink()


def install(staging: Path, out: Path) -> Replacement:
    """Move the run files in ``staging`` into ``out``; replace only livesim's own files there.

    ``staging`` must hold summary.json. Checks ``out`` again first (raising ScenarioError), as
    it may have changed while the run was simulated.
    """
    written = sorted(p.name for p in staging.iterdir())
    assert MARKER in written and set(written) <= set(RUN_FILES), written
    check_out_dir(out, written)
    if not out.exists():
        staging.rename(out)
        return Replacement(out)
    _remove_stale_parts(out)
    entries = {p.name for p in out.iterdir()}
    old = owned_files(out)
    replaced = MARKER in old
    # 1. Keep the folder recognisable, and say it is incomplete, until the real summary lands.
    stub = staging / _STUB
    stub.write_text(_stub(old | set(written)), encoding="utf-8")
    _move_in(stub, out, MARKER)
    # 2. The data files, then the stale files of the earlier run, then the marker.
    for name in written:
        if name != MARKER:
            _move_in(staging / name, out, name)
    stale = sorted(old - set(written))
    for name in stale:
        (out / name).unlink(missing_ok=True)
    _move_in(staging / MARKER, out, MARKER)
    with contextlib.suppress(OSError):
        staging.rmdir()
    kept = sorted(entries - old - set(written))
    return Replacement(out, replaced=replaced, kept=kept, removed=stale)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it (``.NAME.PID.tmp``), synced, then renamed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_parquet(frame: Any, path: Path) -> None:
    """Write a DataFrame to the Parquet file ``path`` whole or not at all (as :func:`atomic_write_bytes`)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
