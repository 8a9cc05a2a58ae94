"""Confinement applied inside a freshly forked runner, before it touches a submission.

In this order: drop to the unprivileged uid (when the fork server runs as root), resource
limits (address space, CPU seconds, file size, open files, no new processes or threads,
no core dumps), then a parent-death signal (a uid change clears it, so it comes last).
Numeric libraries are kept single-threaded.  Each step is applied where the platform
supports it and skipped elsewhere; the names of the steps applied are returned so that
``grade doctor`` can say which are active.  Everything here is a handful of system
calls: it runs once per submission.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from typing import Any

try:  # imported here, in the fork server: a runner that dropped its uid may not reach it
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

DEFAULT_LIMITS: dict[str, Any] = {
    "memory_mb": 2048,     # address space (numpy alone needs about 128 MB)
    "cpu_seconds": 300,    # CPU time of one runner process
    "file_mb": 16,         # largest file it may write
    "open_files": 256,
    "processes": 0,        # extra processes or threads it may start (0: none)
    "stack_mb": 8,         # C stack (the usual default): runaway C recursion crashes early
}

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")

# Variables that choose numeric kernels (not threads): the judge's values are the runner's,
# so both compute the same bits (OpenBLAS picks its kernel by CPU unless told; a judge
# told and a runner not would disagree in the last bits, and every own-helper call of a
# correct submission would fail its exact check and run again)
KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "GOTOBLAS_CORETYPE",
               "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "MKL_DEBUG_CPU_TYPE",
               "BLIS_ARCH_TYPE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES")

_LIBC: Any = None


def thread_env() -> dict[str, str]:
    """Environment that keeps numeric libraries single-threaded in a runner."""
    return {v: "1" for v in THREAD_VARS}


def kernel_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The judge's kernel-selection variables (:data:`KERNEL_VARS`), for the runner's
    otherwise cleared environment: judge and runner then use the same BLAS kernels."""
    env = dict(os.environ) if env is None else env
    return {v: env[v] for v in KERNEL_VARS if v in env}


def limits_with_defaults(limits: dict[str, Any] | None) -> dict[str, Any]:
    return {**DEFAULT_LIMITS, **(limits or {})}


def prepare() -> None:
    """Load what :func:`confine` needs once, in the fork server, so each fork stays cheap."""
    global _LIBC
    if sys.platform.startswith("linux") and _LIBC is None:
        try:
            import ctypes

            _LIBC = ctypes.CDLL(None, use_errno=True)
        except Exception:  # noqa: BLE001 - no prctl: no parent-death signal
            _LIBC = False


def unreachable(path: str, uid: int, gid: int) -> str | None:
    """The first folder on ``path`` that ``uid`` may not enter (or the path, if it may not
    read it), judged from permission bits; None when it can read it."""
    p = os.path.abspath(path)
    parts = p.split(os.sep)
    chain = [os.sep + os.sep.join(parts[1:i]) for i in range(1, len(parts))] + [p]
    for i, d in enumerate(chain):
        try:
            st = os.stat(d)
        except OSError:
            return d
        if st.st_uid == uid:
            bits = (st.st_mode >> 6) & 7
        elif st.st_gid == gid:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        need = 1
        if i == len(chain) - 1:
            need = 5 if stat.S_ISDIR(st.st_mode) else 4
        if bits & need != need:
            return d
    return None


def reach_by_descriptor(uid: int, gid: int) -> list[str]:
    """Let ``uid`` import from Python folders it may not reach by path (an interpreter
    under /root, say), without opening anything else to it.

    Called in the fork server before it imports anything but the interpreter's start-up
    modules: each such folder on ``sys.path`` is opened once (O_PATH) and named by its
    descriptor, ``/proc/self/fd/N``, which a process may always follow; modules loaded
    so far are renamed the same way.  A runner inherits the descriptors; from them it
    reaches the folder and what lies below, and nothing above that its uid may not
    enter.  Returns the folders so opened.
    """
    roots = [p for p in dict.fromkeys(os.path.abspath(x) for x in sys.path if x)
             if os.path.isdir(p) and unreachable(p, uid, gid)]
    if not roots or not os.path.isdir("/proc/self/fd") or not hasattr(os, "O_PATH"):
        return []
    roots.sort(key=len, reverse=True)
    fds = {r: os.open(r, os.O_PATH | os.O_DIRECTORY) for r in roots}

    def remap(p: str) -> str:
        for r in roots:
            if p == r or p.startswith(r + os.sep):
                return f"/proc/self/fd/{fds[r]}{p[len(r):]}"
        return p

    sys.path[:] = [remap(os.path.abspath(p)) if p else p for p in sys.path]
    for mod in list(sys.modules.values()):
        path = getattr(mod, "__path__", None)
        if isinstance(path, list):
            path[:] = [remap(p) for p in path]
        f = getattr(mod, "__file__", None)
        if isinstance(f, str):
            try:
                mod.__file__ = remap(f)
            except (AttributeError, TypeError):
                pass
    sys.path_importer_cache.clear()
    return roots


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good: no supplementary groups, no way back."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid:
        raise OSError("the uid switch did not take")


def confine(limits: dict[str, Any] | None, drop: tuple[int, int] | None = None,
            parent: int | None = None) -> list[str]:
    """Apply what the platform supports; return the names of the steps applied.

    ``drop`` is the (uid, gid) to switch to first; it raises if the switch fails, as a
    runner must never go on with the privileges it was forked with.  ``parent`` is the
    fork server's pid: if it is already gone, the runner exits at once.
    """
    lim = limits_with_defaults(limits)
    applied: list[str] = []
    for v in THREAD_VARS:
        os.environ[v] = "1"
    if drop is not None:
        drop_privileges(*drop)
        applied.append("uid")
    if resource is None:
        return applied
    applied += _set_rlimits(lim)
    if _no_new_privileges():
        applied.append("no-new-privileges")
    if _parent_death_signal(parent):
        applied.append("parent-death")
    return applied


def _setlim(which: int, value: int) -> bool:
    """Set a resource limit, soft and hard, capped at the hard limit; False if refused."""
    try:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        resource.setrlimit(which, (value, value))
        return True
    except (ValueError, OSError):
        return False


def _set_rlimits(lim: dict[str, Any]) -> list[str]:
    """The resource limits of ``lim`` that took, by name."""
    applied = []
    if _setlim(resource.RLIMIT_CORE, 0):
        applied.append("no-core")
    mem = int(lim["memory_mb"]) * 1024 * 1024
    if mem > 0 and sys.platform != "darwin" and _setlim(resource.RLIMIT_AS, mem):
        applied.append("memory")
    if int(lim["cpu_seconds"]) > 0 and _setlim(resource.RLIMIT_CPU, int(lim["cpu_seconds"])):
        applied.append("cpu")
    if int(lim["file_mb"]) > 0 and _setlim(resource.RLIMIT_FSIZE,
                                           int(lim["file_mb"]) * 1024 * 1024):
        applied.append("file-size")
    if int(lim["open_files"]) > 0 and _setlim(resource.RLIMIT_NOFILE, int(lim["open_files"])):
        applied.append("open-files")
    stack = int(lim.get("stack_mb", 0)) * 1024 * 1024
    current = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if (stack > 0 and (current == resource.RLIM_INFINITY or current > stack)
            and _setlim(resource.RLIMIT_STACK, stack)):
        applied.append("stack")
    if _limit_processes(_setlim, int(lim["processes"])):
        applied.append("processes")
    return applied


def _limit_processes(setlim: Any, extra: int) -> bool:
    """RLIMIT_NPROC: it counts every process (and on Linux every thread) of the uid.

    It binds nobody running as root, so it only counts once the uid is dropped.  With
    ``extra == 0`` the limit is 0: no fork and no thread can ever start, whatever else
    that uid runs.
    """
    if not hasattr(resource, "RLIMIT_NPROC") or os.geteuid() == 0 or extra < 0:
        return False
    if extra == 0 and setlim(resource.RLIMIT_NPROC, 0):
        return True
    return bool(setlim(resource.RLIMIT_NPROC, _current_processes() + extra))


def _current_processes() -> int:
    """Processes this uid already runs (where /proc tells; else a conservative 1)."""
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


def _no_new_privileges() -> bool:
    """No exec'd program gains privileges (setuid binaries stay unprivileged; Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    if _LIBC is None:
        prepare()
    PR_SET_NO_NEW_PRIVS = 38
    return bool(_LIBC) and _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def _parent_death_signal(parent: int | None) -> bool:
    """SIGKILL this runner when the fork server dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    if _LIBC is None:
        prepare()
    if not _LIBC:
        return False

    PR_SET_PDEATHSIG = 1
    ok = _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    if ok and parent is not None and os.getppid() != parent:
        os._exit(0)  # the fork server died before the prctl: nobody is waiting for us
    return bool(ok)


def within(p: str, root: str) -> bool:
    """``p`` is ``root`` or lies below it (paths as strings, no file system access)."""
    return p == root or p.startswith(root.rstrip(os.sep) + os.sep)
