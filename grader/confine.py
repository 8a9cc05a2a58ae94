"""Confinement applied inside a runner before it touches a submission.

Resource limits (address space, CPU seconds, file size, open files, processes, no core
dumps), a parent-death signal, and single-threaded numeric libraries.  Each layer is
applied where the platform supports it and skipped silently elsewhere; ``grade doctor``
reports which layers are active.
"""

from __future__ import annotations

import os
import sys
from typing import Any

DEFAULT_LIMITS: dict[str, Any] = {
    "memory_mb": 2048,     # address space
    "cpu_seconds": 300,    # CPU time of one runner process
    "file_mb": 16,         # largest file it may write
    "open_files": 256,
    "processes": 0,        # extra processes it may start (0: none; needs a non-root uid)
}

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def thread_env() -> dict[str, str]:
    """Environment that keeps numeric libraries single-threaded in a runner."""
    return {v: "1" for v in THREAD_VARS}


def confine(limits: dict[str, Any]) -> list[str]:
    """Apply what the platform supports; return the names of the layers applied."""
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    applied: list[str] = []
    for v in THREAD_VARS:
        os.environ[v] = "1"
    try:
        import resource
    except ImportError:  # Windows
        return applied

    def setlim(which: int, value: int) -> bool:
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            resource.setrlimit(which, (value, value))
            return True
        except (ValueError, OSError):
            return False

    if setlim(resource.RLIMIT_CORE, 0):
        applied.append("no-core")
    mem = int(lim["memory_mb"]) * 1024 * 1024
    if mem > 0 and sys.platform != "darwin" and setlim(resource.RLIMIT_AS, mem):
        applied.append("memory")
    if int(lim["cpu_seconds"]) > 0 and setlim(resource.RLIMIT_CPU, int(lim["cpu_seconds"])):
        applied.append("cpu")
    if setlim(resource.RLIMIT_FSIZE, int(lim["file_mb"]) * 1024 * 1024):
        applied.append("file-size")
    if setlim(resource.RLIMIT_NOFILE, int(lim["open_files"])):
        applied.append("open-files")
    if hasattr(resource, "RLIMIT_NPROC") and os.geteuid() != 0:
        if setlim(resource.RLIMIT_NPROC, _current_processes() + int(lim["processes"])):
            applied.append("processes")
    if _parent_death_signal():
        applied.append("parent-death")
    return applied


def _current_processes() -> int:
    """Processes this uid already runs (RLIMIT_NPROC counts them all)."""
    uid = os.geteuid()
    n = 0
    try:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.stat(f"/proc/{d}").st_uid == uid:
                        n += 1
                except OSError:
                    pass
    except OSError:
        return 1
    return n


def _parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except Exception:  # noqa: BLE001
        return False
