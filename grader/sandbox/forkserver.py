"""The fork server: ``python -m grader.runner fork-server``, started once (inside
bubblewrap where it works), forks one runner per :class:`Session`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from grader.protocol import frames as wire  # framing only: no numpy, so the server starts first
from grader.protocol.channel import Channel, ChannelClosed, ChannelTimeout
from grader.sandbox.confine import limits_with_defaults
from grader.sandbox.plan import (
    OUTPUT_CAP_KIB,
    START_TIMEOUT,
    Isolation,
    Plan,
    SandboxError,
    _describe_limits,
    is_root,
    make_plan,
)
from grader.sandbox.session import Session

# ----------------------------------------------------------------------------- fork server


class ForkServer:
    """Starts the fork server at once (so it warms up while the judge loads) and forks runners.

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
        self._shared: dict[bytes, None] = {}  # public arguments every runner starts with
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
        argv = plan.argv + ["-m", "grader.runner", "fork-server", str(theirs.fileno()),
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
        self._send_shared(list(self._shared))  # a fresh fork server has none yet
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

    def share(self, values: list[bytes]) -> None:
        """Have the fork server decode these packed arguments once, for every runner it
        forks from now on (public cases' data sets only: what a runner may see anyway;
        see :func:`grader.runner.calls.share`).  Kept, and shared again after a restart."""
        if not self.use_fork:
            return
        with self._lock:
            new = [v for v in values if v not in self._shared and len(v) < wire.MAX_FRAME // 2]
            self._shared.update(dict.fromkeys(new))
            if self._ready and new:
                self._send_shared(new)

    def _send_shared(self, values: list[bytes]) -> None:
        batch: list[bytes] = []
        size = 0
        for v in values:
            if batch and size + len(v) > wire.MAX_FRAME // 2:
                self._post_shared(batch)
                batch, size = [], 0
            batch.append(v)
            size += len(v)
        if batch:
            self._post_shared(batch)

    def _post_shared(self, batch: list[bytes]) -> None:
        try:
            self._ch.send({"op": "share", "values": batch})
        except (ChannelClosed, wire.WireError):
            pass  # the next fork finds the server gone and starts it again

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

    def open(self, cpu: int | None = None) -> Session:
        """A fresh runner (on core ``cpu``, where given: see :mod:`grader.sandbox.affinity`)."""
        if not self.use_fork:
            return self._spawn()
        with self._lock:
            try:
                session = self._fork(cpu)
                if session.alive:
                    return session
            except (ChannelClosed, OSError, wire.WireError):
                # the fork server went away (a runner of the same uid may kill it where
                # there is no uid switch): start a fresh one, once
                pass
            # or the runner found its scratch folder too littered to clear: the same
            self._restart()
            try:
                session = self._fork(cpu)
            except (ChannelClosed, OSError, wire.WireError) as e:
                raise SandboxError(f"the fork server failed: {e}") from None
            if not session.alive:
                raise SandboxError("a fresh fork server's runner found its scratch folder "
                                   "unclean")
            return session

    def _fork(self, cpu: int | None = None) -> Session:
        self._wait_ready()
        self._ch.send({"op": "fork", "limits": self._fork_limits(), "cpu": cpu})
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
