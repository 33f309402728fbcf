"""Start-up of the worker processes a sweep starts itself: they never outlive the sweep, and exit quickly.

Kept free of heavy imports (no pandas, no model) so it runs as early as possible in a new
worker: a sweep killed during the second or two a spawned worker spends importing must still
take that worker with it.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
import time

__all__ = ["die_with_parent", "exit_without_collecting", "start_pool_worker"]

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: exit when the sweep process ``parent_pid`` is gone, even by SIGKILL.

    The parent's pid comes from the parent itself: read here with ``os.getppid()`` it would be
    1 (or a subreaper) when the parent died before this ran, and the worker would then wait
    forever on a queue nobody feeds. On Linux the kernel signals us when the parent dies; the
    check right after arming that signal covers a parent that died before it was armed; a
    watcher thread covers systems without it.
    """
    import signal

    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="livesim-die-with-parent").start()


def exit_without_collecting() -> None:
    """Let this process skip the garbage collection Python runs over every live object at exit.

    A worker that has imported numpy, pandas, numba and Mesa and run models spent 1-2 s in
    that collection (measured on 2 cores), and the sweep waits for its workers to exit, so the
    last run's result reached the user that much later. Only for workers a sweep started
    itself: they write no files (the sweep process writes every shard) and have sent every
    result before they are told to stop, so nothing is left for a finaliser to do.
    """
    atexit.register(gc.freeze)


def start_pool_worker(parent_pid: int) -> None:
    """Initializer of the local pool's workers: die with the sweep process, exit without collecting."""
    die_with_parent(parent_pid)
    exit_without_collecting()
