"""One forked runner, reached over its own socket: requests out, capped and
nonce-checked replies back, a wall-clock kill of its process group.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from grader.protocol import frames as wire  # framing only: no numpy, so the server starts first
from grader.protocol.channel import Channel, ChannelClosed, ChannelTimeout
from grader.sandbox.plan import MEMORY_POLL, SEND_TIMEOUT

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
        #                          answers, replies still to come, replies it asks for]
        self.bounded = _bound_sends(channel.sock)  # the kernel ends a send that blocks
        self.queued: list[dict[str, Any]] = []  # results of a results frame still to give
        self.whole: bytes | None = None  # the body of a results frame that held a whole batch


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
            n = len(calls) if isinstance(calls, list) else 1
            self.pending[reply] = [nonce, n, n]  # and the replies to come, of how many
            self.whole = None
            message = {**message, "nonce": nonce}
        if self.bounded:
            self.channel.send(message)  # ChannelTimeout past SEND_TIMEOUT
            return
        sock = self.channel.sock
        try:
            sock.settimeout(SEND_TIMEOUT)
            self.channel.send(message)
        finally:
            try:
                sock.settimeout(None)
            except OSError:
                pass

    def recv(self, deadline: float | None) -> dict[str, Any]:
        """The runner's next message, as untrusted data: a malformed one is a WireError.

        A reply without the nonce of the request it answers (a stale or forged frame,
        say from a thread the submission left running) is dropped.  A ``result`` asking for a fresh
        runner (the call left a thread running) ends this one.  A ``results`` frame (a
        batch's results held back, :mod:`grader.runner.holding`) gives its results one by
        one; where it holds the whole batch, its body as it came is kept (``whole``).
        """
        while True:
            if self.queued:
                return self._result(self.queued.pop(0))
            try:
                msg = self._recv(deadline)
            except (ChannelClosed, ChannelTimeout, wire.WireError):
                raise
            except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as e:
                raise wire.WireError("unreadable message from the runner "
                                     f"({type(e).__name__})") from None
            op = msg.get("op")
            if op == "running":  # a batch's results held back came early (runner/holding.py)
                pending = self.pending.get("result")
                if pending is None or msg.get("nonce") != pending[0]:
                    continue
            elif op == "results":
                self._unpack_results(msg)
                continue
            elif op in _REPLIES:
                pending = self.pending.get(op)
                if pending is None or msg.get("nonce") != pending[0]:
                    continue  # unasked for, or not for this request
                pending[1] -= 1
                if pending[1] <= 0:
                    del self.pending[op]
            return self._result(msg)

    def _unpack_results(self, msg: dict[str, Any]) -> None:
        """Queue a ``results`` frame's results (as many as are still to come)."""
        pending = self.pending.get("result")
        body = msg.get("body")
        if pending is None or msg.get("nonce") != pending[0] or not isinstance(body, bytes):
            return
        results = wire.unpackb(body)
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise wire.WireError("malformed results")
        results = results[:pending[1]]
        whole = pending[1] == pending[2] == len(results)
        pending[1] -= len(results)
        if pending[1] <= 0:
            del self.pending["result"]
        for r in results:
            r["op"] = "result"
        self.whole = body if whole else None
        self.queued = results

    def skip_results(self) -> None:
        """Drop the results of a whole batch not yet given (the judge knows them)."""
        self.queued = []

    def _result(self, msg: dict[str, Any]) -> dict[str, Any]:
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


def _bound_sends(sock: socket.socket) -> bool:
    """Give ``sock`` a kernel send timeout of :data:`SEND_TIMEOUT` (``SO_SNDTIMEO``), so a
    send needs no switch to a timed socket and back (two system calls each way); False
    where that cannot be (then :meth:`Session.send` switches)."""
    if sys.platform == "win32" or not hasattr(socket, "SO_SNDTIMEO"):
        return False
    whole = int(SEND_TIMEOUT)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                        struct.pack("ll", whole, int((SEND_TIMEOUT - whole) * 1e6)))
    except (OSError, struct.error):
        return False
    return True


_REPLY_TO = {"load": "loaded", "given": "given", "calls": "result", "invoke": "invoked"}
_REPLIES = frozenset(_REPLY_TO.values())
_STATUSES = {"loaded": ("ok", "syntax", "error", "timeout"), "given": ("ok", "error"),
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
    if msg.get("error") is not None:
        msg["error"] = clean_error(msg["error"] if isinstance(msg["error"], dict)
                                   else {"type": "Error", "message": msg["error"]})
    return msg


def clean_error(e: Any) -> dict[str, Any]:
    """An error report from the runner, typed and capped: type, line, message, traceback."""
    if not isinstance(e, dict):
        return {}
    line, column = e.get("line"), e.get("column")
    return {"type": str(e.get("type", ""))[:100],
            "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
            "column": column if isinstance(column, int) and not isinstance(column, bool)
            else None,
            "message": str(e.get("message", ""))[:1000],
            "traceback": str(e.get("traceback", ""))[:4096]}


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
