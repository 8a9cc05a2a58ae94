"""The isolation plan: which layers confine the runners here, and how the fork server is started.

The judge never imports student code.  It starts ``python -m grader.runner fork-server``, the
fork server, which imports numpy once; each :class:`Session` is a forked runner reached
over its own socket, so a crash or a kill leaves no half-written message behind for the
next.

The expensive isolation layers are paid once per fork server, not per submission:

- **bubblewrap** (Linux, when installed and working): the fork server runs in a sandbox
  with no network, a read-only view of only the interpreter, its libraries, the grader
  package and the course's public ``data/``, a private size-capped ``/tmp`` as its
  working folder, its own PID namespace, a new session, no capabilities and a cleared
  environment.  The course (``solutions/``, gradebooks, results) and the judge's files
  are not in it at all.
- **an unprivileged uid** (when the grader runs as root): every runner switches to it
  (65534, ``nobody``, unless ``GRADER_UID`` says otherwise) right after the fork, before
  it reads the submission; so it cannot read or write the judge's files, signal the
  fork server, and RLIMIT_NPROC stops its forks and threads.
  As root, bubblewrap itself is started as root (an unprivileged bubblewrap cannot bind
  an interpreter kept where only root may enter, such as ``/root/.pyenv``, and its user
  namespace would map the sandbox to root, which RLIMIT_NPROC does not bind); inside it
  the fork server keeps only the capabilities to change uid and to kill its runners,
  and never runs submission code.  Without bubblewrap, a runner that may not enter the
  interpreter's folders still imports from them through descriptors the fork server
  opened (:func:`grader.sandbox.confine.reach_by_descriptor`).
- per runner (:mod:`grader.sandbox.confine`): resource limits and a parent-death signal; and
  here, a wall-clock kill of its whole process group and capped messages, each reply
  checked against a random nonce of its request.

Where a layer is missing (macOS, Windows, a container without namespaces) the others
still apply; :attr:`ForkServer.layers` and :attr:`ForkServer.inactive` say which are
active and why not, and ``grade doctor`` prints them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.confine import (
    kernel_env,
    limits_with_defaults,
    thread_env,
    unreachable,
    within,
)

START_TIMEOUT = 30.0
SEND_TIMEOUT = 10.0               # a runner that stops reading for this long is hung
NOBODY = 65534
SANDBOX_PACKAGE = "/opt/grader"   # the grader package's parent, inside bubblewrap
SANDBOX_WORK = "/sandbox"         # the runners' private working and scratch folder (a path
                                  # no interpreter or library is bound under, unlike /tmp)
MEMORY_POLL = 0.1                 # seconds between two looks at a watched runner's memory
OUTPUT_CAP_KIB = 64               # what grader.runner keeps of printed output per call


class SandboxError(Exception):
    """The runner machinery itself failed (not the submission)."""


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Isolation:
    """Which layers to use where the machine supports them (all, by default).

    ``uid``/``gid``: who runners become when the grader runs as root (None: stay root).
    ``memory_watch``: the judge polls a runner's memory and kills it over the limit
    (None: only where RLIMIT_AS is not enforced, i.e. macOS).  ``tmp_mb``: size of the
    sandbox's private working folder (/sandbox, also its TMPDIR).
    """

    bwrap: bool = True
    uid: int | None = NOBODY
    gid: int | None = None
    memory_watch: bool | None = None
    tmp_mb: int = 64

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> Isolation:
        """``GRADER_BWRAP=0`` turns bubblewrap off; ``GRADER_UID``/``GRADER_GID`` pick the
        unprivileged uid (``GRADER_UID=none``: runners stay root, not recommended)."""
        env = os.environ if env is None else env
        off = ("0", "no", "off", "false", "none")
        uid: int | None = NOBODY
        gid: int | None = None
        raw = env.get("GRADER_UID", "").strip().lower()
        if raw in off:
            uid = None
        elif raw.isdigit():
            uid = int(raw)
        if env.get("GRADER_GID", "").strip().isdigit():
            gid = int(env["GRADER_GID"].strip())
        return cls(bwrap=env.get("GRADER_BWRAP", "1").strip().lower() not in off,
                   uid=uid, gid=gid)


@dataclass
class Plan:
    """How to start one fork server, and which layers that gives."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    opts: dict[str, Any]
    bwrap: bool = False
    drop: tuple[int, int] | None = None
    pidns: bool = False
    scratch: str | None = None            # a host folder to delete at close
    layers: list[tuple[str, str]] = field(default_factory=list)
    inactive: list[tuple[str, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- probing


def bwrap_path() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0



def python_paths(course: Path | None) -> tuple[list[str], list[str]]:
    """What the runner's Python needs: (folders to expose, folders for its PYTHONPATH).

    The interpreter's prefixes, package folders (site-packages) outside them and what the
    caller put on PYTHONPATH; never the course, the judge's working folder, a source
    checkout of the grader, nor any folder holding one of them.
    """
    package_parent = str(Path(__file__).resolve().parents[2])  # grader/sandbox/plan.py
    # folders whose content is private (nothing in them is exposed) ...
    private = [str(course.resolve())] if course is not None else []
    private = [p for p in private if p != os.sep]
    if os.path.basename(package_parent) not in ("site-packages", "dist-packages"):
        private.append(package_parent)  # a source checkout: it may hold solutions/
    # ... and folders that may hold private files (no folder holding them is exposed)
    holders = private + ([os.getcwd()] if os.getcwd() != os.sep else [])
    prefixes: list[str] = []
    exe_home = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    for p in (sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix, exe_home):
        p = os.path.abspath(p)
        if (os.path.isdir(p) and not any(within(p, q) for q in prefixes)
                and not any(within(q, p) for q in holders)):
            prefixes = [q for q in prefixes if not within(q, p)] + [p]
    from_env = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                if p]
    site_dirs = [os.path.abspath(p) for p in sys.path
                 if p and os.path.basename(p) in ("site-packages", "dist-packages")]
    binds = list(prefixes)
    path: list[str] = []
    for p in from_env + site_dirs:
        if not os.path.exists(p) or p in path:
            continue
        if any(within(p, q) for q in private) or any(within(q, p) for q in holders):
            continue
        under_prefix = any(within(p, q) for q in prefixes)
        if p in from_env or not under_prefix:
            path.append(p)
        if not any(within(p, q) for q in binds):
            binds.append(p)
    return binds, path


def _system_binds() -> list[str]:
    """/usr and the usual top-level links into it (merged /usr) or folders (older systems)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    return args


def _dirs_for(dest: str, made: set[str]) -> list[str]:
    """bwrap --dir for each missing parent of ``dest``, world-enterable (bwrap's own are 0700
    when it runs as root, which would shut the unprivileged uid out)."""
    args: list[str] = []
    for parent in reversed(Path(dest).parents):
        d = str(parent)
        if d in ("/", "/usr", SANDBOX_WORK) or d in made or d.startswith("/usr/"):
            continue
        made.add(d)
        args += ["--perms", "0755", "--dir", d]
    return args


def _course_data(course: Path | None) -> str | None:
    if course is None:
        return None
    d = course / "data"
    return str(d.resolve()) if d.is_dir() else None


def make_plan(iso: Isolation, course: Path | None, preload: list[str],
              use_bwrap: bool | None = None) -> Plan:
    """The fork server's command line and environment for the layers this machine has."""
    layers: list[tuple[str, str]] = [
        ("separate process", ("the judge never imports or runs submission code; only plain "
                             "data comes back (MessagePack and numeric arrays, never pickle)"))]
    inactive: list[tuple[str, str]] = []
    drop = _uid_layer(iso, layers, inactive)
    bwrap = bwrap_path()
    if use_bwrap is None:
        use_bwrap = iso.bwrap and bwrap is not None
    if not sys.platform.startswith("linux"):
        inactive.append(("bubblewrap", f"Linux only (this is {sys.platform})"))
    elif not iso.bwrap:
        inactive.append(("bubblewrap", "turned off (GRADER_BWRAP=0)"))
    elif bwrap is None:
        inactive.append(("bubblewrap", ("not installed (Debian/Ubuntu: apt-get install "
                                       "bubblewrap)")))
    opts: dict[str, Any] = {"preload": list(preload)}
    py = [sys.executable]
    if sys.version_info >= (3, 11):
        py.append("-P")  # the working folder (writable by submissions) is not on sys.path
    if use_bwrap and bwrap:
        plan = _bwrap_plan(bwrap, iso, course, drop, opts, py)
        layers.append(("bubblewrap", ("no network; sees only a read-only Python, its "
                                     "libraries, the grader package and the course's public "
                                     f"data/; a private {iso.tmp_mb} MB working folder "
                                     "(TMPDIR), wiped between submissions; own PID "
                                     "namespace, new session, no capabilities, cleared "
                                     "environment; dies with the judge")))
    else:
        plan = _local_plan(course, drop, opts, py, layers)
    if drop is not None:
        opts["drop"] = list(drop)
    plan.layers, plan.inactive = layers, inactive
    return plan


def _uid_layer(iso: Isolation, layers: list[tuple[str, str]],
               inactive: list[tuple[str, str]]) -> tuple[int, int] | None:
    """The (uid, gid) runners switch to, or None, with the layer's line either way."""
    if not hasattr(os, "geteuid"):
        inactive.append(("unprivileged user", "not available on this platform"))
    elif not is_root():
        inactive.append(("unprivileged user", (f"not needed: the grader runs as uid "
                                              f"{os.geteuid()}, not root, and so do runners")))
    elif iso.uid in (None, 0):
        inactive.append(("unprivileged user", ("turned off (GRADER_UID=none): runners run "
                                              "as root")))
    else:
        gid = iso.gid if iso.gid is not None else (NOBODY if iso.uid == NOBODY else iso.uid)
        drop = (int(iso.uid), int(gid))
        layers.append(("unprivileged user", (f"each runner switches to uid {drop[0]} "
                                            f"(gid {drop[1]}) before it reads the submission")))
        return drop
    return None


# glibc's allocator in the fork server and its runners: large blocks from the heap, not
# fresh mappings, and the heap never handed back mid-run, so a runner that frees and
# allocates again reuses pages it already has instead of faulting in new ones (each
# fault costs microseconds on a virtual machine)
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
              "MALLOC_TOP_PAD_": str(8 << 20)}


def _base_env() -> dict[str, str]:
    """The runners' whole environment, before their folders: nothing of the judge's but
    what Windows needs, the thread caps, the BLAS kernel choice and the allocator's
    settings (:data:`MALLOC_ENV`)."""
    env: dict[str, str] = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                           "MPLBACKEND": "Agg"}
    for k in ("SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR"):  # Windows needs these
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(thread_env())
    env.update(kernel_env())
    env.update(MALLOC_ENV)
    return env


def _package() -> str:
    return str(Path(__file__).resolve().parents[1])  # the grader package


def _bwrap_plan(bwrap: str, iso: Isolation, course: Path | None,
                drop: tuple[int, int] | None, opts: dict[str, Any], py: list[str]) -> Plan:
    """The fork server inside bubblewrap: only Python, the grader and the public data."""
    work = SANDBOX_WORK
    binds, extra = python_paths(course)
    data = _course_data(course)
    env = _base_env()
    env.update(HOME=work, TMPDIR=work, MPLCONFIGDIR=f"{work}/.matplotlib",
               PYTHONPATH=os.pathsep.join([SANDBOX_PACKAGE] + extra))
    made: set[str] = set()
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL"]
    if drop is not None:
        # bwrap runs as root so that it can bind an interpreter kept where only root
        # may enter (/root/.pyenv).  The fork server keeps only the rights to change
        # uid and to kill (its own runners: it sees nothing outside the sandbox's PID
        # namespace); each runner switches to the unprivileged uid for good.
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_KILL"]
    elif not is_root():
        argv += ["--unshare-user"]
    argv += ["--clearenv"]
    for k, v in env.items():
        argv += ["--setenv", k, v]
    argv += _system_binds()
    argv += ["--size", str(iso.tmp_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", work]
    for p in binds:
        argv += _dirs_for(p, made) + ["--ro-bind", p, p]
    argv += _dirs_for(SANDBOX_PACKAGE + "/grader", made)
    argv += ["--ro-bind", _package(), SANDBOX_PACKAGE + "/grader"]
    if data:
        argv += ["--ro-bind", data, f"{work}/data"]
    argv += ["--dev", "/dev", "--proc", "/proc", "--remount-ro", "/", "--chdir", work]
    opts["workdir"] = work
    return Plan(argv + py, env, "/", opts, bwrap=True, drop=drop, pidns=True)


def _local_plan(course: Path | None, drop: tuple[int, int] | None, opts: dict[str, Any],
                py: list[str], layers: list[tuple[str, str]]) -> Plan:
    """The fork server without bubblewrap: a private scratch folder, the package alone
    on the path, and the interpreter reached by descriptor where the uid may not enter."""
    package = _package()
    binds, extra = python_paths(course)
    data = _course_data(course)
    scratch = tempfile.mkdtemp(prefix="grader-run-")
    work = os.path.join(scratch, "work")
    os.mkdir(work, 0o700)
    links: dict[str, str] = {}
    pkg = os.path.join(scratch, "pkg")
    os.mkdir(pkg, 0o755)
    try:  # the grader package alone on the path, not the folder holding it
        os.symlink(package, os.path.join(pkg, "grader"))
        if data:
            os.symlink(data, os.path.join(work, "data"))
            links["data"] = data
    except OSError:  # no symlinks (Windows without developer mode)
        pkg = str(Path(package).parent)
    if drop is not None:
        os.chmod(scratch, 0o711)
        os.chown(work, drop[0], drop[1])
        if links:
            os.lchown(os.path.join(work, "data"), drop[0], drop[1])
        blocked = next((u for u in (unreachable(p, *drop) for p in [package] + binds) if u),
                       None)
        if blocked:
            layers.append(("interpreter by descriptor", (f"uid {drop[0]} may not enter "
                           f"{blocked}: the fork server opens Python's folders for its "
                           "runners, which see nothing else there")))
    env = _base_env()
    env.update(HOME=work, TMPDIR=work, MPLCONFIGDIR=os.path.join(work, ".matplotlib"),
               PYTHONPATH=os.pathsep.join([pkg] + extra))
    opts.update(workdir=work, links=links)
    return Plan(py, env, work, opts, drop=drop, scratch=scratch)


def _describe_limits(limits: dict[str, Any], watch: bool, nproc: bool) -> list[tuple[str, str]]:
    lim = limits_with_defaults(limits)
    out: list[tuple[str, str]] = []
    if sys.platform == "win32":
        return out
    parts = []
    if int(lim["memory_mb"]) > 0:
        parts.append(f"memory {lim['memory_mb']} MB" + (" (watched: RLIMIT_AS is not "
                                                         "enforced here)" if watch else ""))
    if int(lim["cpu_seconds"]) > 0:
        parts.append(f"CPU {lim['cpu_seconds']} s")
    if int(lim["file_mb"]) > 0:
        parts.append(f"files up to {lim['file_mb']} MB")
    if int(lim["open_files"]) > 0:
        parts.append(f"{lim['open_files']} open files")
    parts.append("no core dumps")
    out.append(("resource limits", ", ".join(parts)))
    return out
