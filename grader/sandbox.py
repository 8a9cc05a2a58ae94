"""Judge-side management of runner processes: a fork server and the sessions it forks.

The judge never imports student code.  It starts ``python -m grader.runner zygote``,
which imports numpy once; each :class:`Session` is a forked runner reached over its
own socket, so a crash or a kill leaves no half-written message behind for the next.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import wire
from .channel import Channel, ChannelClosed, ChannelTimeout
from .confine import thread_env

START_TIMEOUT = 30.0


class SandboxError(Exception):
    """The runner machinery itself failed (not the submission)."""


def _runner_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")}
    env.update(thread_env())
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    # the runner must import this very package, wherever it is installed from
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent)]
        + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


class Session:
    """One runner process serving one submission."""

    def __init__(self, channel: Channel, pid: int, proc: subprocess.Popen[bytes] | None = None):
        self.channel = channel
        self.pid = pid
        self.proc = proc
        self.alive = True

    def send(self, message: dict[str, Any]) -> None:
        self.channel.send(message)

    def recv(self, deadline: float | None) -> dict[str, Any]:
        return self.channel.recv(deadline)

    def kill(self) -> None:
        """End the runner and everything it started, at once."""
        if not self.alive:
            return
        self.alive = False
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


class ForkServer:
    """Starts the zygote at once (so it warms up while the judge loads) and forks runners."""

    def __init__(self, preload: tuple[str, ...] = (), limits: dict[str, Any] | None = None,
                 cwd: Path | None = None) -> None:
        self.limits = limits or {}
        self.preload = list(preload)
        self.cwd = cwd
        self._ready = False
        self.use_fork = hasattr(os, "fork") and hasattr(socket, "send_fds")
        self.proc: subprocess.Popen[bytes] | None = None
        if self.use_fork:
            self._control, theirs = socket.socketpair()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader.runner", "zygote", str(theirs.fileno()),
                 *self.preload],
                pass_fds=[theirs.fileno()], env=_runner_env(), cwd=self.cwd,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            theirs.close()
            self._ch = Channel(self._control)

    def _wait_ready(self) -> None:
        if self._ready:
            return
        try:
            msg = self._ch.recv(time.monotonic() + START_TIMEOUT)
        except (ChannelClosed, ChannelTimeout, wire.WireError) as e:
            raise SandboxError(f"the runner could not start ({type(e).__name__}); "
                               "check that numpy imports in this Python") from None
        if msg.get("op") != "ready":
            raise SandboxError("the runner sent an unexpected greeting")
        self._ready = True

    def open(self) -> Session:
        if not self.use_fork:
            return self._spawn()
        self._wait_ready()
        try:
            self._ch.send({"op": "fork", "limits": self.limits})
            data, fds = self._recv_with_fd()
        except (ChannelClosed, OSError) as e:
            raise SandboxError(f"the fork server failed: {e}") from None
        msg = wire.parse(data[4:])
        sock = socket.socket(fileno=fds[0])
        return Session(Channel(sock), int(msg["pid"]))

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
        mine, theirs = socket.socketpair()
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader.runner", "spawn", str(theirs.fileno()),
             json.dumps(self.limits)],
            pass_fds=[theirs.fileno()], env=_runner_env(), cwd=self.cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        theirs.close()
        return Session(Channel(mine), proc.pid, proc)

    def close(self) -> None:
        if self.use_fork:
            self._ch.close()
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
