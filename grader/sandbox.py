"""Judge-side management of runner processes: a fork server and the sessions it forks.

The judge never imports student code.  It starts ``python -m grader.runner zygote``, the
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
  opened (:func:`grader.confine.reach_by_descriptor`).
- per runner (:mod:`grader.confine`): resource limits and a parent-death signal; and
  here, a wall-clock kill of its whole process group and capped messages, each reply
  checked against a random nonce of its request.

Where a layer is missing (macOS, Windows, a container without namespaces) the others
still apply; :attr:`ForkServer.layers` and :attr:`ForkServer.inactive` say which are
active and why not, and ``grade doctor`` prints them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import frames as wire  # framing only: no numpy, so the server starts first
from .channel import Channel, ChannelClosed, ChannelTimeout
from .confine import limits_with_defaults, thread_env, unreachable

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


def _within(p: str, root: str) -> bool:
    return p == root or p.startswith(root.rstrip(os.sep) + os.sep)


def python_paths(course: Path | None) -> tuple[list[str], list[str]]:
    """What the runner's Python needs: (folders to expose, folders for its PYTHONPATH).

    The interpreter's prefixes, package folders (site-packages) outside them and what the
    caller put on PYTHONPATH; never the course, the judge's working folder, a source
    checkout of the grader, nor any folder holding one of them.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
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
        if (os.path.isdir(p) and not any(_within(p, q) for q in prefixes)
                and not any(_within(q, p) for q in holders)):
            prefixes = [q for q in prefixes if not _within(q, p)] + [p]
    from_env = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                if p]
    site_dirs = [os.path.abspath(p) for p in sys.path
                 if p and os.path.basename(p) in ("site-packages", "dist-packages")]
    binds = list(prefixes)
    path: list[str] = []
    for p in from_env + site_dirs:
        if not os.path.exists(p) or p in path:
            continue
        if any(_within(p, q) for q in private) or any(_within(q, p) for q in holders):
            continue
        under_prefix = any(_within(p, q) for q in prefixes)
        if p in from_env or not under_prefix:
            path.append(p)
        if not any(_within(p, q) for q in binds):
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
    linux = sys.platform.startswith("linux")

    # --- the uid
    drop: tuple[int, int] | None = None
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

    # --- bubblewrap
    bwrap = bwrap_path()
    if use_bwrap is None:
        use_bwrap = iso.bwrap and bwrap is not None
    if not linux:
        inactive.append(("bubblewrap", f"Linux only (this is {sys.platform})"))
    elif not iso.bwrap:
        inactive.append(("bubblewrap", "turned off (GRADER_BWRAP=0)"))
    elif bwrap is None:
        inactive.append(("bubblewrap", ("not installed (Debian/Ubuntu: apt-get install "
                                       "bubblewrap)")))
    use_bwrap = bool(use_bwrap and bwrap)

    env: dict[str, str] = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                           "MPLBACKEND": "Agg"}
    for k in ("SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR"):  # Windows needs these
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(thread_env())
    package = str(Path(__file__).resolve().parent)
    binds, extra = python_paths(course)
    data = _course_data(course)
    opts: dict[str, Any] = {"preload": list(preload)}
    py = [sys.executable]
    if sys.version_info >= (3, 11):
        py.append("-P")  # the working folder (writable by submissions) is not on sys.path

    if use_bwrap:
        assert bwrap is not None
        work = SANDBOX_WORK
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
        argv += ["--size", str(iso.tmp_mb * 1024 * 1024), "--perms", "1777",
                 "--tmpfs", work]
        for p in binds:
            argv += _dirs_for(p, made) + ["--ro-bind", p, p]
        argv += _dirs_for(SANDBOX_PACKAGE + "/grader", made)
        argv += ["--ro-bind", package, SANDBOX_PACKAGE + "/grader"]
        if data:
            argv += ["--ro-bind", data, f"{work}/data"]
        argv += ["--dev", "/dev", "--proc", "/proc", "--remount-ro", "/", "--chdir", work]
        opts["workdir"] = work
        layers.append(("bubblewrap", ("no network; sees only a read-only Python, its "
                                     "libraries, the grader package and the course's public "
                                     f"data/; a private {iso.tmp_mb} MB working folder "
                                     "(TMPDIR), wiped between submissions; own PID "
                                     "namespace, new session, no capabilities, cleared "
                                     "environment; dies with the judge")))
        plan = Plan(argv + py, env, "/", opts, bwrap=True, drop=drop, pidns=True)
    else:
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
            blocked = next((u for u in (unreachable(p, *drop) for p in [package] + binds)
                            if u), None)
            if blocked:
                layers.append(("interpreter by descriptor", (f"uid {drop[0]} may not enter "
                               f"{blocked}: the fork server opens Python's folders for its "
                               "runners, which see nothing else there")))
        env.update(HOME=work, TMPDIR=work, MPLCONFIGDIR=os.path.join(work, ".matplotlib"),
                   PYTHONPATH=os.pathsep.join([pkg] + extra))
        opts.update(workdir=work, links=links)
        plan = Plan(py, env, work, opts, drop=drop, scratch=scratch)
    if drop is not None:
        opts["drop"] = list(drop)
    plan.layers, plan.inactive = layers, inactive
    return plan


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


# ----------------------------------------------------------------------------- sessions


class Session:
    """One runner process serving one submission."""

    def __init__(self, channel: Channel, pid: int, proc: subprocess.Popen[bytes] | None = None,
                 killer: Callable[[int], None] | None = None, memory_limit: int = 0,
                 pidns: bool = False) -> None:
        self.channel = channel
        self.pid = pid
        self.proc = proc
        self.alive = True
        self.killer = killer          # the fork server: it kills and reaps its runner
        self.pidns = pidns            # pid is in the sandbox's namespace: only killer may use it
        self.memory_limit = memory_limit  # bytes; > 0: watch the runner's memory from here
        self.death = ""               # why the judge killed it, when it did
        self.pending: dict[str, list[int]] = {}  # reply op -> [nonce of the request it
        #                                              answers, replies still to come]


    def send(self, message: dict[str, Any]) -> None:
        """Send a request, marked with a fresh random nonce the runner echoes in its reply.

        The runner learns a nonce only with its request, so a frame written ahead (by a
        thread, or by code that writes to the socket itself) cannot pass for the reply
        to a later request.  A runner reads whenever it waits for the judge; a send that
        blocks for long means one that stopped reading: that is a timeout.
        """
        reply = _REPLY_TO.get(str(message.get("op")))
        if reply is not None:
            nonce = secrets.randbits(52)
            calls = message.get("calls")
            self.pending[reply] = [nonce, len(calls) if isinstance(calls, list) else 1]
            message = {**message, "nonce": nonce}
        sock = self.channel.sock
        try:
            sock.settimeout(SEND_TIMEOUT)
            self.channel.send(message)
        except TimeoutError:
            raise ChannelTimeout() from None
        finally:
            try:
                sock.settimeout(None)
            except OSError:
                pass

    def recv(self, deadline: float | None) -> dict[str, Any]:
        """The runner's next message, as untrusted data: a malformed one is a WireError.

        A reply without the nonce of the request it answers (a stale or forged frame,
        say from a thread the submission left running) is dropped.  A ``result`` asking for a fresh
        runner (the call left a thread running) ends this one.
        """
        while True:
            try:
                msg = self._recv(deadline)
            except (ChannelClosed, ChannelTimeout, wire.WireError):
                raise
            except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as e:
                raise wire.WireError("unreadable message from the runner "
                                     f"({type(e).__name__})") from None
            op = msg.get("op")
            if op in _REPLIES:
                pending = self.pending.get(op)
                if pending is None or msg.get("nonce") != pending[0]:
                    continue  # unasked for, or not for this request
                pending[1] -= 1
                if pending[1] <= 0:
                    del self.pending[op]
            msg = _sanitize(msg)
            if msg.get("restart"):
                self.kill()
            return msg

    def _recv(self, deadline: float | None) -> dict[str, Any]:
        if self.memory_limit <= 0:
            return self.channel.recv(deadline)
        while True:
            step = time.monotonic() + MEMORY_POLL
            try:
                return self.channel.recv(step if deadline is None else min(step, deadline))
            except ChannelTimeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
            if resident_bytes(self.pid) > self.memory_limit:
                self.death = "memory limit"
                self.kill()
                raise ChannelClosed("the runner went over the memory limit and was killed")

    def kill(self) -> None:
        """End the runner and everything it started, at once."""
        if not self.alive:
            return
        self.alive = False
        if self.killer is not None:  # the fork server kills and reaps it
            self.killer(self.pid)
        if not self.pidns:
            for fn in (getattr(os, "killpg", None), os.kill):
                if fn is None:
                    continue
                try:
                    fn(self.pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
                except (ProcessLookupError, PermissionError, OSError):
                    pass
        self.channel.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        if not self.alive:
            return
        try:
            self.channel.send({"op": "exit"})
        except ChannelClosed:
            pass
        self.kill()


_REPLY_TO = {"load": "loaded", "given": "given", "calls": "result", "invoke": "invoked"}
_REPLIES = frozenset(_REPLY_TO.values())
_STATUSES = {"loaded": ("ok", "syntax", "error"), "given": ("ok", "error"),
             "result": ("ok", "missing", "undefined", "error")}
_TEXT_FIELDS = ("op", "status", "stdout", "name", "handle", "message")
_LIST_FIELDS = ("warnings", "notes", "rng_states")


def _sanitize(msg: dict[str, Any]) -> dict[str, Any]:
    """Give the fields the judge reads the types it expects (the runner is untrusted)."""
    known = _STATUSES.get(str(msg.get("op")))
    if known is not None and msg.get("status") not in known:
        msg["status"] = "error"
        msg["error"] = {"type": "ProtocolError", "line": None,
                        "message": "the runner answered with a status the grader does not "
                                   "know (was the grader's own code in the runner patched?)"}
        msg.pop("value", None)
    for k in _TEXT_FIELDS:
        if k in msg and not isinstance(msg[k], str):
            msg[k] = str(msg[k])[:1000]
    for k in _LIST_FIELDS:
        if k in msg and not isinstance(msg[k], list):
            msg[k] = []
    if msg.get("error") is not None and not isinstance(msg["error"], dict):
        msg["error"] = {"type": "Error", "message": str(msg["error"])[:1000]}
    if isinstance(msg.get("error"), dict):
        e = msg["error"]
        if e.get("line") is not None and not isinstance(e.get("line"), int):
            e["line"] = None
    return msg


def resident_bytes(pid: int) -> int:
    """A process's resident memory (0 when it cannot be told)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    if sys.platform == "win32":
        return 0
    try:
        out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True,
                             text=True, timeout=2, check=False).stdout.strip()
        return int(out) * 1024 if out.isdigit() else 0
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0


# ----------------------------------------------------------------------------- fork server


class ForkServer:
    """Starts the zygote at once (so it warms up while the judge loads) and forks runners.

    ``course`` (``cwd`` is its older name) is the course folder: it is never the runners'
    working folder and never visible to them; only its public ``data/`` is, read-only.
    ``isolation`` chooses layers (default: all that work here, see
    :meth:`Isolation.from_env`).  With ``verbose`` (default: ``GRADER_VERBOSE`` set) the
    active layers are printed to stderr once the fork server is up.
    """

    def __init__(self, preload: tuple[str, ...] = (), limits: dict[str, Any] | None = None,
                 cwd: Path | None = None, *, course: Path | None = None,
                 isolation: Isolation | None = None, verbose: bool | None = None) -> None:
        self.limits = dict(limits or {})
        self.preload = list(preload)
        where = course if course is not None else cwd
        self.course = Path(where).resolve() if where is not None else None
        self.isolation = isolation or Isolation.from_env()
        self.verbose = bool(os.environ.get("GRADER_VERBOSE")) if verbose is None else verbose
        self.use_fork = hasattr(os, "fork") and hasattr(socket, "send_fds")
        watch = self.isolation.memory_watch
        self.memory_watch = (sys.platform == "darwin") if watch is None else bool(watch)
        self.fallback: str = ""  # why bubblewrap was given up, if it was
        self._lock = threading.RLock()
        self._ready = False
        self.proc: subprocess.Popen[bytes] | None = None
        self.plan: Plan | None = None
        self._stderr: Any = None
        if self.use_fork:
            self._start(None)

    # ------------------------------------------------------------------ starting
    def _start(self, use_bwrap: bool | None) -> None:
        self.plan = plan = make_plan(self.isolation, self.course, self.preload, use_bwrap)
        self._control, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _stop
        argv = plan.argv + ["-m", "grader.runner", "zygote", str(theirs.fileno()),
                            _json(plan.opts)]
        try:
            self.proc = subprocess.Popen(
                argv, pass_fds=[theirs.fileno()], env=plan.env, cwd=plan.cwd,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                start_new_session=True)
        except OSError as e:
            theirs.close()
            self._control.close()
            raise SandboxError(f"the runner could not start: {e}") from None
        theirs.close()
        self._ch = Channel(self._control)
        self._ready = False

    def ready(self) -> None:
        """Wait until the fork server is up (it starts in the background)."""
        if self.use_fork:
            with self._lock:
                self._wait_ready()

    def _wait_ready(self) -> None:
        if self._ready:
            return
        try:
            msg = self._ch.recv(time.monotonic() + START_TIMEOUT)
            if msg.get("op") != "ready":
                raise wire.WireError("unexpected greeting")
        except (ChannelClosed, ChannelTimeout, wire.WireError) as e:
            plan = self.plan
            why = self._startup_error() or type(e).__name__
            self._stop()
            if plan is not None and plan.bwrap:
                # bubblewrap is installed but cannot sandbox here (no user namespaces, a
                # container without the needed privileges): go on with the other layers
                self.fallback = f"installed but it failed to start here: {why}"
                self._start(False)
                self._wait_ready()
                return
            raise SandboxError(f"the runner could not start ({why}); check that numpy "
                               "imports in this Python") from None
        self._ready = True
        if self.verbose:
            off = "; ".join(f"{n} ({why})" for n, why in self.inactive)
            print("grader: isolation: " + "; ".join(n for n, _ in self.layers)
                  + (f" | not active: {off}" if off else "") + " (see `grade doctor`)",
                  file=sys.stderr)

    def _startup_error(self) -> str:
        if self._stderr is None:
            return ""
        try:
            if self.proc is not None:
                self.proc.wait(timeout=2)
            self._stderr.seek(0)
            text = self._stderr.read(4000).decode("utf-8", "replace").strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return text.splitlines()[-1][:300] if text else ""

    # ------------------------------------------------------------------ layers
    @property
    def layers(self) -> list[tuple[str, str]]:
        """(layer, what it does) for each layer active in this fork server's runners."""
        plan = self.plan
        out = list(plan.layers) if plan is not None else [
            ("separate process", "the judge never imports or runs submission code")]
        nproc = (sys.platform != "win32" and (not is_root() or
                                              (plan is not None and plan.drop is not None)))
        out += _describe_limits(self.limits, self.memory_watch, nproc)
        if nproc and int(limits_with_defaults(self.limits)["processes"]) == 0:
            out.append(("no new processes", ("fork, subprocess and threads are refused "
                                            "(RLIMIT_NPROC = 0)")))
        if sys.platform.startswith("linux"):
            out.append(("parent-death signal", "a runner is killed when its fork server dies"))
        out.append(("wall clock", ("every call has a time limit; a late runner's whole "
                                  "process group is killed (SIGKILL, which cannot be ignored)")))
        out.append(("output cap", (f"{OUTPUT_CAP_KIB} KiB of printed output kept per call; "
                                  f"messages up to {wire.MAX_FRAME // 2**20} MB; output "
                                  "written straight to the terminal goes to /dev/null")))
        return out

    @property
    def inactive(self) -> list[tuple[str, str]]:
        """(layer, why not) for each layer this machine or these settings leave out."""
        plan = self.plan
        out = list(plan.inactive) if plan is not None else [
            ("fork server", "this platform cannot fork: each submission starts a Python")]
        if self.fallback:
            out.insert(0, ("bubblewrap", self.fallback))
        if sys.platform != "win32" and is_root() and (plan is None or plan.drop is None):
            out.append(("no new processes", ("runners run as root, which RLIMIT_NPROC does not "
                                            "bind")))
        if sys.platform == "darwin" and not self.memory_watch:
            out.append(("memory limit", "RLIMIT_AS is not enforced on macOS"))
        return out

    # ------------------------------------------------------------------ runners
    def _fork_limits(self) -> dict[str, Any]:
        if self.memory_watch:  # the judge watches instead of the (unenforced) rlimit
            return {**self.limits, "memory_mb": 0}
        return self.limits

    def _memory_limit(self) -> int:
        if not self.memory_watch:
            return 0
        return int(limits_with_defaults(self.limits)["memory_mb"]) * 1024 * 1024

    def open(self) -> Session:
        if not self.use_fork:
            return self._spawn()
        with self._lock:
            try:
                session = self._fork()
                if session.alive:
                    return session
            except (ChannelClosed, OSError, wire.WireError):
                # the fork server went away (a runner of the same uid may kill it where
                # there is no uid switch): start a fresh one, once
                pass
            # or the runner found its scratch folder too littered to clear: the same
            self._restart()
            try:
                session = self._fork()
            except (ChannelClosed, OSError, wire.WireError) as e:
                raise SandboxError(f"the fork server failed: {e}") from None
            if not session.alive:
                raise SandboxError("a fresh fork server's runner found its scratch folder "
                                   "unclean")
            return session

    def _fork(self) -> Session:
        self._wait_ready()
        self._ch.send({"op": "fork", "limits": self._fork_limits()})
        data, fds = self._recv_with_fd()
        msg = wire.parse(data[4:])
        sock = socket.socket(fileno=fds[0])
        for extra in fds[1:]:
            os.close(extra)
        pidns = self.plan is not None and self.plan.pidns
        session = Session(Channel(sock), int(msg["pid"]), killer=self._kill_runner,
                          pidns=pidns, memory_limit=0 if pidns else self._memory_limit())
        try:
            hello = session.channel.recv(time.monotonic() + START_TIMEOUT)
        except (ChannelClosed, ChannelTimeout, wire.WireError) as e:
            session.kill()
            raise OSError(f"a runner did not start ({type(e).__name__})") from None
        if hello.get("op") != "hello" or hello.get("clean") is not True:
            # the scratch folder shared with earlier runners could not be cleared
            session.kill()
        return session

    def _restart(self) -> None:
        use = self.plan.bwrap if self.plan is not None else None
        self._stop()
        self._start(use)

    def _kill_runner(self, pid: int) -> None:
        """The fork server kills the runner's process group and reaps it (inside a PID
        namespace only the fork server knows the runner by that pid)."""
        with self._lock:
            try:
                self._ch.send({"op": "kill", "pid": pid})
            except ChannelClosed:
                pass  # the fork server is gone, and with it its whole namespace

    def _recv_with_fd(self) -> tuple[bytes, list[int]]:
        data = b""
        fds: list[int] = []
        deadline = time.monotonic() + START_TIMEOUT
        while len(data) < 4 or len(data) < 4 + wire.unpack_header(data[:4]):
            if time.monotonic() > deadline:
                raise OSError("no answer from the fork server")
            chunk, got, _flags, _addr = socket.recv_fds(self._control, 4096, 4)
            if not chunk:
                raise OSError("the fork server went away")
            data += chunk
            fds += got
        if not fds:
            raise OSError("the fork server sent no socket")
        return data, fds

    def _spawn(self) -> Session:
        """Without fork (Windows): one Python per submission, with what confinement it has."""
        import json

        if self.plan is None:
            self.plan = make_plan(Isolation(bwrap=False, uid=None), self.course,
                                  self.preload, False)
        mine, theirs = socket.socketpair()
        plan = self.plan
        proc = subprocess.Popen(
            plan.argv + ["-m", "grader.runner", "spawn", str(theirs.fileno()),
                         json.dumps(self._fork_limits())],
            pass_fds=[theirs.fileno()], env=plan.env, cwd=plan.cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        theirs.close()
        return Session(Channel(mine), proc.pid, proc, memory_limit=self._memory_limit())

    # ------------------------------------------------------------------ stopping
    def _stop(self) -> None:
        if self.use_fork and getattr(self, "_ch", None) is not None:
            self._ch.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self.plan is not None and self.plan.scratch:
            _remove_tree(self.plan.scratch)
            self.plan.scratch = None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> ForkServer:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, separators=(",", ":"))


def _remove_tree(path: str) -> None:
    """Remove a scratch folder, however deep (``rm -rf`` does not recurse on the stack)."""
    if os.name == "posix" and shutil.which("rm"):
        subprocess.run(["rm", "-rf", "--", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return

    def fix(fn: Any, p: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            fn(p)
        except OSError:
            pass

    try:
        shutil.rmtree(path, onerror=fix)
    except RecursionError:
        pass
