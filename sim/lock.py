"""One livesim process at a time per results folder.

Two sweeps writing into one folder would overwrite each other's manifest and lose runs, so a
sweep (and ``livesim compare``) holds an exclusive lock on ``RESULTS/.livesim.lock`` from
before it clears or creates anything until it exits. The lock is an ``fcntl.flock`` on that
file: the kernel releases it whenever the process ends, even by SIGKILL, so a stale lock
never blocks a later sweep. The holder's pid is written into the file only once the lock is
held, and a contender reads it without truncating, so the error can name the holder.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from sim.errors import ScenarioError

__all__ = ["LOCK_NAME", "FolderLock"]

LOCK_NAME = ".livesim.lock"


class FolderLock:
    """An exclusive, non-blocking lock on a results folder (the folder must exist)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None
        self._fallback = None  # filelock, where fcntl does not exist

    def acquire(self) -> FolderLock:
        """Take the lock, or raise ScenarioError naming the folder and the process holding it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self._acquire_filelock()
        # No O_TRUNC: the holder's pid stays. O_NOFOLLOW and the regular-file check: a lock path
        # that is a link or a folder is not livesim's, and writing through it could change a
        # user's file.
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise ScenarioError(str(self.path), None, None,
                                f"cannot use it as the sweep's lock file ({exc.strerror}): it must be a plain "
                                "file livesim made; move it away or choose another --out") from None
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ScenarioError(str(self.path), None, None, "is not a plain file, so it cannot be the sweep's lock "
                                "file; move it away or choose another --out")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise self._busy(holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def _acquire_filelock(self) -> FolderLock:  # pragma: no cover - not POSIX
        import filelock

        lock = filelock.FileLock(str(self.path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise self._busy(None) from None
        self._fallback = lock
        return self

    def _busy(self, holder: int | None) -> ScenarioError:
        who = f"process {holder}" if holder else "another process"
        return ScenarioError(str(self.folder), None, None,
                             f"in use by another livesim sweep ({who} holds {LOCK_NAME}); "
                             "wait for it to finish or choose another --out")

    def release(self) -> None:
        """Give the lock up (exiting the process does the same)."""
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._fallback is not None:  # pragma: no cover - not POSIX
            self._fallback.release()
            self._fallback = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
