"""The runner: the only process that ever executes a submission's code.

It loads the submission as a module, calls the functions the judge names with the
arguments the judge sends, and sends back raw data only: the returned value (through
:mod:`grader.wire`), captured output, warnings and error text, each capped.  It never
sees a reference implementation or an expected value.  Callables the grader passes and
the graded functions the judge substitutes are proxies here: their results come from
the judge over the channel.

Started as ``python -m grader.runner zygote FD``: a fork server that imports numpy once,
then forks one runner per request and hands the judge its end of a fresh socket.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import traceback
import types
import warnings
from typing import Any

import numpy as np

from . import wire
from .channel import Channel, ChannelClosed

OUTPUT_CAP = 64 * 1024
TRACE_CAP = 4 * 1024


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def write(self, s: Any) -> int:
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output dropped]"
        return out


class GraderCallbackError(RuntimeError):
    """Raised inside student code when a grader-provided callable cannot answer."""


class Runner:
    """Serves one submission over one channel until told to exit or the channel closes."""

    def __init__(self, channel: Channel) -> None:
        self.ch = channel
        self.module: types.ModuleType | None = None
        self.filename = "<submission>"
        self.originals: dict[str, Any] = {}
        self.handles: dict[str, Any] = {}

    # ------------------------------------------------------------------ the loop
    def serve(self) -> None:
        while True:
            try:
                msg = self.ch.recv()
            except ChannelClosed:
                return
            op = msg.get("op")
            if op == "load":
                self.ch.send(self._load(msg))
            elif op == "given":
                self.ch.send(self._given(msg))
            elif op == "call":
                self.ch.send(self._call(msg))
            elif op == "exit":
                return
            else:
                self.ch.send({"op": "error", "message": f"unknown op {op!r}"})

    # ------------------------------------------------------------------ load
    def _load(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Execute the submission as a module.

        A ``.py`` file runs as one unit: an exception at import fails the load.  A
        notebook runs cell by cell (cells are marked ``# cell N`` by the reader), as
        Jupyter would: a cell that fails is reported in a note and the next cells run.
        """
        self.filename = str(msg.get("filename", "<submission>"))
        mod = types.ModuleType(str(msg.get("module", "submission")))
        mod.__file__ = self.filename
        code = str(msg["code"])
        per_cell = self.filename.endswith(".ipynb")
        chunks = _cells(code) if per_cell else [(0, "", code)]
        out = CappedWriter()
        notes: list[str] = []
        status, error = "ok", None
        with _captured(out), warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            for offset, label, chunk in chunks:
                try:
                    compiled = compile("\n" * offset + chunk, self.filename, "exec",
                                       dont_inherit=True)
                except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
                    line = getattr(e, "lineno", None)
                    err = {"type": type(e).__name__, "line": line,
                           "message": f"{getattr(e, 'msg', e)} (line {line})"}
                    if per_cell:
                        notes.append(f"{label} was skipped: {err['type']}: {err['message']}")
                        continue
                    return {"op": "loaded", "status": "syntax", "error": err, "stdout": ""}
                try:
                    exec(compiled, mod.__dict__)  # noqa: S102 - this process exists to run it
                except SystemExit as e:
                    err = {"type": "SystemExit", "line": None,
                           "message": f"the submission called sys.exit({e.code!r}) "
                                      "while being imported"}
                    if not per_cell:
                        status, error = "error", err
                        break
                    notes.append(f"{label} called sys.exit(); later cells still ran")
                except BaseException as e:  # noqa: BLE001 - any failure at import is reported
                    err = self._error(e)
                    if not per_cell:
                        status, error = "error", err
                        break
                    notes.append(f"{label} raised {err['type']}: {err['message'][:200]} "
                                 "(later cells still ran)")
        self.module = mod
        self.originals = dict(mod.__dict__)
        return {"op": "loaded", "status": status, "error": error, "stdout": out.text(),
                "notes": notes[:50]}

    def _given(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Re-define provided (ungraded) names from the released exercise's own source."""
        assert self.module is not None
        ns: dict[str, Any] = {"__name__": self.module.__name__}
        try:
            exec(compile(str(msg["code"]), "<given>", "exec"), ns)  # noqa: S102
            for name in msg.get("names", []):
                self.module.__dict__[name] = ns[name]
        except BaseException as e:  # noqa: BLE001
            return {"op": "given", "status": "error", "error": self._error(e)}
        return {"op": "given", "status": "ok"}

    # ------------------------------------------------------------------ calls
    def _proxy(self, name: str, substitute: bool) -> Any:
        ch = self.ch
        original = self.originals.get(name)

        def proxy(*args: Any, **kwargs: Any) -> Any:
            enc = wire.Encoder(callable_name=self._register)
            payload = enc.encode([list(args), kwargs])
            ch.send({"op": "callback", "name": name, "args": payload})
            while True:
                reply = ch.recv()
                if reply.get("op") != "invoke":
                    break
                ch.send(self._invoke(reply))
            if reply.get("op") != "reply":
                raise GraderCallbackError("the grader sent an unexpected message")
            if reply.get("fallback") and substitute and callable(original):
                return original(*args, **kwargs)
            if "error" in reply:
                raise GraderCallbackError(str(reply["error"]))
            for g, st in zip(enc.rngs, reply.get("rng_states", [])):
                wire.set_generator_state(g, st)
            return wire.Decoder(allow_dataframe=True).decode(reply.get("value"))

        proxy.__name__ = name
        proxy.__qualname__ = name
        return proxy

    def _register(self, fn: Any) -> str | None:
        """A student callable handed to a substitute: the judge may invoke it by handle."""
        if not callable(fn) or isinstance(fn, type):
            return None
        handle = f"h{len(self.handles)}"
        self.handles[handle] = fn
        return handle

    def _invoke(self, msg: dict[str, Any]) -> dict[str, Any]:
        fn = self.handles.get(str(msg.get("handle")))
        if fn is None:
            return {"op": "invoked", "error": "unknown handle"}
        try:
            args, kwargs = wire.Decoder(on_callable=lambda n: self._proxy(n, False),
                                        allow_dataframe=True).decode(msg.get("args"))
            value = fn(*args, **dict(kwargs))
            return {"op": "invoked", "value": wire.Encoder().encode(value)}
        except GraderCallbackError as e:
            return {"op": "invoked", "error": str(e)}
        except BaseException as e:  # noqa: BLE001 - reported to the judge as data
            err = self._error(e)
            return {"op": "invoked", "error": f"your function passed to the grader raised "
                                              f"{err['type']}: {err['message'][:300]}"}

    def _call(self, msg: dict[str, Any]) -> dict[str, Any]:
        mod = self.module
        name = str(msg["func"])
        func = mod.__dict__.get(name) if mod is not None else None
        if not callable(func):
            return {"op": "result", "status": "undefined",
                    "error": {"type": "NameError", "line": None,
                              "message": f"`{name}` is not defined in the submission"}}
        dec = wire.Decoder(on_callable=lambda n: self._proxy(n, False), allow_dataframe=True)
        try:
            args = dec.decode(msg.get("args", []))
            kwargs = dec.decode(msg.get("kwargs", {"__dict__": []}))
        except wire.WireError as e:
            return {"op": "result", "status": "error",
                    "error": {"type": "WireError", "line": None, "message": str(e)}}
        subs = [str(s) for s in msg.get("substitutes", [])]
        saved = {s: mod.__dict__.get(s) for s in subs}
        for s in subs:
            mod.__dict__[s] = self._proxy(s, True)
        out = CappedWriter()
        caught: list[str] = []
        status, error, value = "ok", None, None
        try:
            with _captured(out), warnings.catch_warnings(record=True) as w, \
                    np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"):
                warnings.simplefilter("always")
                try:
                    value = func(*args, **kwargs)
                except NotImplementedError as e:
                    status, error = "missing", self._error(e)
                except SystemExit as e:
                    status, error = "error", {"type": "SystemExit", "line": None,
                                              "message": f"called sys.exit({e.code!r})"}
                except GraderCallbackError as e:
                    status, error = "error", {"type": "GraderCallbackError", "line": None,
                                              "message": str(e)}
                except BaseException as e:  # noqa: BLE001
                    status, error = "error", self._error(e)
                caught = [f"{x.category.__name__}: {x.message}" for x in w[:20]]
        finally:
            for s, f in saved.items():
                if f is None:
                    mod.__dict__.pop(s, None)
                else:
                    mod.__dict__[s] = f
        reply: dict[str, Any] = {"op": "result", "status": status, "stdout": out.text(),
                                 "warnings": caught}
        if error is not None:
            reply["error"] = error
        if status == "ok":
            try:
                reply["value"] = wire.Encoder().encode(value)
            except (wire.WireError, RecursionError, MemoryError) as e:
                reply["status"] = "error"
                reply["error"] = {"type": "WireError", "line": None,
                                  "message": f"the returned value cannot be sent: {e}"}
        return reply

    def _error(self, e: BaseException) -> dict[str, Any]:
        tb = traceback.extract_tb(e.__traceback__)
        mine = [f for f in tb if f.filename == self.filename]
        line = mine[-1].lineno if mine else None
        text = "".join(traceback.format_list(mine[-5:])) if mine else ""
        try:
            msg = str(e)
        except Exception:  # noqa: BLE001
            msg = "<unprintable message>"
        return {"type": type(e).__name__, "line": line, "message": msg[:1000],
                "traceback": (text + f"{type(e).__name__}: {msg}")[-TRACE_CAP:]}


def _cells(code: str) -> list[tuple[int, str, str]]:
    """Split a notebook's joined code at its ``# cell N`` lines: (line offset, label, code)."""
    out: list[tuple[int, str, str]] = []
    lines = code.split("\n")
    start, label = 0, "the notebook"
    for i, line in enumerate(lines):
        if line.startswith("# cell ") and line[7:].strip().isdigit():
            if i > start:
                out.append((start, label, "\n".join(lines[start:i])))
            start, label = i, f"cell {line[7:].strip()}"
    out.append((start, label, "\n".join(lines[start:])))
    return out


class _captured:
    def __init__(self, out: CappedWriter) -> None:
        self.out = out

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out  # type: ignore[assignment]

    def __exit__(self, *exc: Any) -> None:
        sys.stdout, sys.stderr = self.saved


# ---------------------------------------------------------------------- processes


def _child(sock: socket.socket, limits: dict[str, Any]) -> None:
    """In a freshly forked child: confine, then serve the judge until done."""
    try:
        os.setsid()
    except OSError:
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from .confine import confine

    confine(limits)
    Runner(Channel(sock)).serve()


def zygote(fd: int, preload: list[str]) -> None:
    """Fork server: one runner per ``fork`` request, its socket handed over SCM_RIGHTS."""
    for mod in preload:
        try:
            __import__(mod)
        except Exception:  # noqa: BLE001 - the runner reports it if it matters
            pass
    control = socket.socket(fileno=fd)
    ch = Channel(control)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    ch.send({"op": "ready", "pid": os.getpid()})
    while True:
        try:
            msg = ch.recv()
        except ChannelClosed:
            os._exit(0)
        if msg.get("op") != "fork":
            os._exit(0)
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                parent_end.close()
                _child(child_end, msg.get("limits", {}))
            except BaseException:  # noqa: BLE001
                code = 70
            finally:
                os._exit(code)
        child_end.close()
        socket.send_fds(control, [wire.pack({"op": "forked", "pid": pid})], [parent_end.fileno()])
        parent_end.close()


def spawned(fd: int, limits: str) -> None:
    """Without fork (Windows, or when asked): this process is itself the runner."""
    import json

    sock = socket.socket(fileno=fd)
    from .confine import confine

    confine(json.loads(limits))
    Runner(Channel(sock)).serve()


def _quiet_std_fds() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)


if __name__ == "__main__":
    _quiet_std_fds()
    if sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]), sys.argv[3:])
    else:
        spawned(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "{}")
