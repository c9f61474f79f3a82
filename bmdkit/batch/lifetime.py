"""Tie a helper process's life to its parent's (Linux ``PR_SET_PDEATHSIG``).

A batch's pool workers and their fork server would otherwise outlive a batch
killed with SIGKILL (an OOM killer, a closed terminal, a scheduler): the
workers keep each other's pipes open and wait for work forever. Elsewhere
than on Linux this does nothing.
"""

from __future__ import annotations

import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent exits."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() == 1:  # the parent died before the request: go now
        os._exit(1)


def in_fork_server() -> bool:
    """True in a :mod:`multiprocessing.forkserver` server process (Linux)."""
    try:
        with open("/proc/self/cmdline", "rb") as fh:
            return b"multiprocessing.forkserver" in fh.read()
    except OSError:
        return False
