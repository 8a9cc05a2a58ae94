"""The runner: the only process that ever executes a submission's code.

It loads the submission as a module (from code objects the judge compiled, see
:mod:`grader.compiled`), calls the functions the judge names, a batch at a time, with the
arguments the judge sends, and sends back raw data only: the returned value (through
:mod:`grader.wire`), captured output, warnings and error text, each capped.  It never
sees a reference implementation or an expected value.  Callables the grader passes and
the graded functions the judge substitutes are proxies here: their results come from
the judge over the channel.  A substitute the submission's own version may stand in for
(it passed its own item) runs here instead, with each call logged for the judge to check.

Started as ``python -m grader.runner zygote FD OPTIONS``: a fork server that imports numpy
(and the assignment's other preloads) once, then forks one runner per request and hands
the judge its end of a fresh socket.
The fork server itself never runs submission code; each runner confines itself
(:func:`grader.confine.confine`: uid, rlimits, parent-death signal) before it reads any.
Where the judge started the fork server inside bubblewrap, every runner shares that
sandbox; the runner wipes the sandbox's scratch folder before it starts, so nothing one
submission leaves there reaches the next.
"""

from __future__ import annotations

import copy
import gc
import io
import linecache
import os
import signal
import socket
import stat
import sys
import time
import types
import warnings
from typing import Any

import numpy as np

from . import wire
from .channel import Channel, ChannelClosed
from .compiled import load_units
from .confine import confine, prepare, reach_by_descriptor

OUTPUT_CAP = 64 * 1024
ARG_CACHE_FROM = 4096  # packed bytes from which an argument is decoded once per runner
ARG_CACHE_BYTES = 64 * 1024 * 1024
LOG_CAP = 40_000  # wire nodes (up to 8 numbers each) of own-helper calls logged per call;
#                  past it the judge answers the rest, as substitutes
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
        self.cut_short = ""  # why the module stopped early at import (sys.exit)
        self.threads = _thread_count()
        self.finished = False  # a reply asked the judge for a fresh runner: stop after it
        self.log: list[dict[str, Any]] | None = None  # the current call's own-helper calls
        self.logged = 0  # their size, in wire nodes
        self.arguments: dict[bytes, Any] = {}  # large packed arguments, decoded
        self.cached_bytes = 0
        self.depth = 0  # own helpers running now (only the outermost is logged)

    # ------------------------------------------------------------------ the loop
    def serve(self) -> None:
        while not self.finished:
            try:
                msg = self.ch.recv()
            except ChannelClosed:
                return
            op = msg.get("op")
            if op == "load":
                self._send(self._load(msg), msg)
            elif op == "given":
                self._send(self._given(msg), msg)
            elif op == "calls":
                self._calls(msg)
            elif op == "exit":
                return
            else:
                self._send({"op": "error", "message": f"unknown op {op!r}"}, msg)

    def _send(self, reply: dict[str, Any], request: dict[str, Any]) -> None:
        """Send a reply with its request's nonce; one that cannot be encoded (too large,
        say) becomes an error."""
        if "nonce" in request:
            reply["nonce"] = request["nonce"]
        try:
            self.ch.send(reply)
        except ChannelClosed:
            raise
        except Exception as e:  # noqa: BLE001 - wire.WireError, ValueError (huge ints), ...
            self.ch.send({"op": reply.get("op", "error"), "status": "error",
                          "nonce": request.get("nonce"), "index": reply.get("index"),
                          "error": {"type": "WireError", "line": None,
                                    "message": f"the reply cannot be sent: {str(e)[:300]}"}})

    def _stray_threads(self, what: str) -> dict[str, Any] | None:
        """Threads must end with the call that started them: one left running ends the runner.

        (Where a runner cannot start threads at all, RLIMIT_NPROC stops them first.)
        """
        extra = _thread_count() - self.threads
        if extra <= 0:
            return None
        self.finished = True
        return {"type": "ThreadError", "line": None,
                "message": f"{what} left {extra} thread{'s' * (extra > 1)} running; threads "
                           "must finish before the function returns (this runner was stopped)"}

    # ------------------------------------------------------------------ load
    def _load(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Execute the submission as a module.

        A ``.py`` file runs as one unit: an exception at import fails the load, and
        ``sys.exit()`` ends it there, as when Python runs the file (what it defined so far
        is graded; a function defined after it is reported as never defined).  A
        notebook runs cell by cell (cells are marked ``# cell N`` by the reader), as
        Jupyter would: a cell that fails is reported in a note and the next cells run.
        """
        self.filename = str(msg.get("filename", "<submission>"))
        # tracebacks read the source from here, never from a file (there is none to find)
        linecache.cache[self.filename] = (len(str(msg.get("code", ""))), None,
                                          str(msg.get("code", "")).splitlines(True),
                                          self.filename)
        mod = types.ModuleType(str(msg.get("module", "submission")))
        mod.__file__ = self.filename
        code = str(msg["code"])
        per_cell = self.filename.endswith(".ipynb")
        units = load_units(msg, code, self.filename)
        out = CappedWriter()
        notes: list[str] = []
        status, error = "ok", None
        with _captured(out), warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            for label, compiled in units:
                if isinstance(compiled, dict):  # it did not compile
                    err = {"type": str(compiled.get("type")), "line": compiled.get("line"),
                           "message": str(compiled.get("message"))}
                    if per_cell:
                        notes.append(f"{label} was skipped: {err['type']}: {err['message']}")
                        continue
                    return {"op": "loaded", "status": "syntax", "error": err, "stdout": ""}
                try:
                    exec(compiled, mod.__dict__)  # noqa: S102 - this process exists to run it
                except SystemExit as e:
                    if not per_cell:
                        # as when Python runs the file: it stops there, what it defined stays
                        line = self._error(e).get("line")
                        where = f" at line {line}" if line else ""
                        self.cut_short = (f"the submission called sys.exit({repr(e.code)[:40]})"
                                          f"{where} while being imported; the code after it "
                                          "never ran")
                        notes.append(self.cut_short)
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
        stray = self._stray_threads("importing the submission")
        if stray is not None and status == "ok":
            status, error = "error", stray
        return {"op": "loaded", "status": status, "error": error, "stdout": out.text(),
                "notes": notes[:50]}

    def _given(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Re-define provided (ungraded) names from the released exercise's own source."""
        assert self.module is not None
        ns: dict[str, Any] = {"__name__": self.module.__name__}
        try:
            for _label, code in load_units(msg, str(msg["code"]), "<given>"):
                if isinstance(code, dict):
                    raise SyntaxError(str(code.get("message")))
                exec(code, ns)  # noqa: S102
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
            ch.send({"op": "callback", "name": name, "args": wire.pack_value(payload)})
            while True:
                reply = ch.recv()
                if reply.get("op") != "invoke":
                    break
                self._send(self._invoke(reply), reply)
            if reply.get("op") != "reply":
                raise GraderCallbackError("the grader sent an unexpected message")
            if reply.get("fallback") and substitute and callable(original):
                return original(*args, **kwargs)
            if "error" in reply:
                raise GraderCallbackError(str(reply["error"]))
            for g, st in zip(enc.rngs, reply.get("rng_states", [])):
                wire.set_generator_state(g, st)
            return wire.Decoder(allow_dataframe=True).decode(wire.unpack_value(reply.get("value")))

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

    def _calls(self, msg: dict[str, Any]) -> None:
        """A batch of calls, run in order; each result is sent as soon as it is ready.

        The judge sends an item's calls at once, so a call costs one message each way
        (plus its callbacks) and no wait for the judge between calls.  A call that leaves
        a thread running ends the batch (and the runner): the judge re-sends the rest to a
        fresh runner.
        """
        calls = msg.get("calls")
        if not isinstance(calls, list):
            self._send({"op": "error", "message": "calls must be a list"}, msg)
            return
        for index, call in enumerate(calls):
            reply = self._call(call if isinstance(call, dict) else {})
            reply["index"] = index
            self._send(reply, msg)
            if self.finished:
                return

    def _argument(self, data: Any, dec: wire.Decoder) -> Any:
        """One packed argument of a call.  A large one (a data set that several cases
        pass) is decoded once per runner and copied for each call, which is much cheaper
        than decoding a DataFrame again."""
        if not isinstance(data, bytes) or len(data) < ARG_CACHE_FROM or b"__callable__" in data:
            return dec.decode(wire.unpack_value(data))
        value = self.arguments.get(data)
        if value is None:
            value = wire.Decoder(allow_dataframe=True).decode(wire.unpack_value(data))
            if self.cached_bytes + len(data) > ARG_CACHE_BYTES:
                return value
            self.arguments[data] = value
            self.cached_bytes += len(data)
        return copy.deepcopy(value)

    def _own(self, name: str) -> Any:
        """The submission's own ``name``, standing in for the judge's substitute.

        Used only for functions that already passed every case of their own item: each
        call runs on fresh copies of its arguments (as a substitute's would) and goes
        into the call's log, (arguments, value, generator states after) as wire data,
        which the judge checks against the reference.  The caller gets a fresh copy of
        the value, as it would from the judge.  Calls made while one is running (a helper
        of a helper) are not logged: a substitute would not have made them.  A call
        that passes a callable goes to the judge as a substitute call does.
        """
        original = self.originals.get(name)
        if not callable(original):
            return self._proxy(name, True)
        fallback = self._proxy(name, True)

        def own(*args: Any, **kwargs: Any) -> Any:
            if self.depth or self.log is None:
                return original(*args, **kwargs)
            enc = wire.Encoder(callable_name=self._register)
            handles = len(self.handles)
            payload = enc.encode([list(args), kwargs])
            if len(self.handles) != handles or self.logged >= LOG_CAP:
                return fallback(*args, **kwargs)
            rngs: list[tuple[Any, Any]] = []
            fresh_args, fresh_kwargs = wire.fresh((list(args), kwargs), rngs)
            entry: dict[str, Any] = {"name": name, "args": wire.pack_value(payload)}
            self.log.append(entry)
            self.depth += 1
            try:
                value = original(*fresh_args, **fresh_kwargs)
            except BaseException:
                entry["raised"] = True
                raise
            finally:
                self.depth -= 1
            out = wire.Encoder()
            try:
                entry["value"] = wire.pack_value(out.encode(value))
            except Exception:  # noqa: BLE001 - not data: the judge answers instead, on a re-run
                entry["raised"] = True
                return value
            self.logged += enc.nodes + out.nodes
            entry["rng_states"] = [wire.generator_state(used) for _, used in rngs]
            for caller_rng, used in rngs:
                caller_rng.bit_generator.state = used.bit_generator.state
            return wire.fresh(value)

        own.__name__ = name
        own.__qualname__ = name
        return own

    def _call(self, msg: dict[str, Any]) -> dict[str, Any]:
        mod = self.module
        name = str(msg["func"])
        func = mod.__dict__.get(name) if mod is not None else None
        if not callable(func):
            if self.cut_short:
                return {"op": "result", "status": "error",
                        "error": {"type": "NameError", "line": None,
                                  "message": f"`{name}` is not defined: {self.cut_short}"}}
            return {"op": "result", "status": "undefined",
                    "error": {"type": "NameError", "line": None,
                              "message": f"`{name}` is not defined in the submission"}}
        dec = wire.Decoder(on_callable=lambda n: self._proxy(n, False), allow_dataframe=True)
        try:
            packed = msg.get("args", [])
            if not isinstance(packed, list):
                raise wire.WireError("malformed arguments")
            args = [self._argument(a, dec) for a in packed]
            kwargs = self._argument(msg.get("kwargs", wire.pack_value({"__dict__": []})), dec)
            if not isinstance(kwargs, dict):
                raise wire.WireError("malformed keyword arguments")
        except wire.WireError as e:
            return {"op": "result", "status": "error",
                    "error": {"type": "WireError", "line": None, "message": str(e)}}
        subs = [str(s) for s in msg.get("substitutes", [])]
        own = [str(s) for s in msg.get("own", []) if str(s) not in subs]
        saved = {s: mod.__dict__.get(s) for s in subs + own}
        for s in subs:
            mod.__dict__[s] = self._proxy(s, True)
        for s in own:
            mod.__dict__[s] = self._own(s)
        self.log, self.logged, self.depth = ([] if own else None), 0, 0
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
        if self.log is not None:
            reply["own"] = self.log
            self.log = None
        if error is not None:
            reply["error"] = error
        if status == "ok":
            try:
                reply["value"] = wire.pack_value(wire.Encoder().encode(value))
            except BaseException as e:  # noqa: BLE001 - a returned object's own code failed
                reply["status"] = "error"
                reply["error"] = {"type": "WireError", "line": None,
                                  "message": "the returned value cannot be sent: "
                                             f"{type(e).__name__}: {str(e)[:300]}"}
        stray = self._stray_threads(name)
        if stray is not None:
            reply.update(status="error", error=stray, restart=True)
            reply.pop("value", None)
        return reply

    def _error(self, e: BaseException) -> dict[str, Any]:
        """An exception as data: its type, message, and the submission's own frames (the
        last five) as a traceback.  The frames are read off the traceback directly:
        ``traceback.extract_tb`` would also work out column positions for every frame,
        the grader's included, which costs more than the call that raised."""
        mine: list[tuple[int, str]] = []
        tb = e.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == self.filename:
                mine.append((tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        line = mine[-1][0] if mine else None
        text = ""
        for lineno, name in mine[-5:]:
            text += f'  File "{self.filename}", line {lineno}, in {name}\n'
            source = linecache.getline(self.filename, lineno).strip()
            if source:
                text += f"    {source}\n"
        try:
            msg = str(e)
        except Exception:  # noqa: BLE001
            msg = "<unprintable message>"
        return {"type": type(e).__name__, "line": line, "message": msg[:1000],
                "traceback": (text + f"{type(e).__name__}: {msg}")[-TRACE_CAP:]}


class _captured:
    def __init__(self, out: CappedWriter) -> None:
        self.out = out

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


# ---------------------------------------------------------------------- processes


def _thread_count() -> int:
    """Threads of this process: the kernel's count where /proc tells, else Python's."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def _wipe(folder: str, links: dict[str, str], budget: int = 100_000) -> bool:
    """Empty the scratch folder an earlier runner left; True when it is clean.

    Everything the runner's uid owns goes; mounts (bound folders) and what is not ours
    stay; ``links`` (name -> target) are restored.  Iterative and bounded: a tree too
    deep or too big to clear leaves it unclean: the runner says so before it reads
    anything, and the judge starts a fresh fork server (a fresh sandbox) instead.
    """
    me = os.getuid() if hasattr(os, "getuid") else None
    try:
        top = os.lstat(folder).st_dev
    except OSError:
        return False
    clean = True
    pinned: set[str] = set()  # folders holding a mount: they stay, and are not dirt
    dirs: list[str] = []
    todo = [folder]
    while todo:
        d = todo.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError:
            clean = False
            continue
        for e in entries:
            budget -= 1
            if budget < 0:
                return False
            try:
                st = e.stat(follow_symlinks=False)
                if st.st_dev != top or (me is not None and st.st_uid != me):
                    p = d
                    while _within_path(p, folder) and p not in pinned:
                        pinned.add(p)
                        p = os.path.dirname(p)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(e.path, 0o700)
                    todo.append(e.path)
                    dirs.append(e.path)
                elif not (d == folder and links.get(e.name) is not None
                          and stat.S_ISLNK(st.st_mode) and os.readlink(e.path) == links[e.name]):
                    os.unlink(e.path)
            except OSError:
                clean = False
    for d in reversed(dirs):
        if d not in pinned:
            try:
                os.rmdir(d)
            except OSError:
                clean = False
    for name, target in links.items():
        dest = os.path.join(folder, name)
        if not os.path.lexists(dest):
            try:
                os.symlink(target, dest)
            except OSError:
                clean = False
    return clean


def _within_path(p: str, root: str) -> bool:
    return p == root or p.startswith(root.rstrip(os.sep) + os.sep)


def _reap(pid: int, wait: float = 0.0) -> bool:
    """Reap ``pid`` if it has ended (waiting up to ``wait`` s); True once it is gone."""
    end = time.monotonic() + wait
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.0005)


def _kill(pid: int) -> None:
    for fn in (os.killpg, os.kill):
        try:
            fn(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap(pid, 2.0)  # SIGKILL cannot be ignored; a big address space takes a moment to free


def _child(sock: socket.socket, opts: dict[str, Any], limits: dict[str, Any], wipe: bool,
           parent: int) -> None:
    """In a freshly forked child: confine, clean the scratch folder, then serve the judge."""
    try:
        os.setsid()
    except OSError:
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    workdir = opts.get("workdir")
    if workdir:
        os.chdir(workdir)
    drop = opts.get("drop")
    confine(limits, (int(drop[0]), int(drop[1])) if drop else None, parent)
    clean = True
    if workdir and wipe:
        try:
            clean = _wipe(workdir, dict(opts.get("links", {})))
        except Exception:  # noqa: BLE001 - whatever was left, this runner still serves
            clean = False
    ch = Channel(sock)
    ch.send({"op": "hello", "clean": clean})  # before any submission code: trustworthy
    Runner(ch).serve()


def zygote(fd: int, opts: dict[str, Any]) -> None:
    """Fork server: one runner per ``fork`` request, its socket handed over SCM_RIGHTS.

    ``opts``: ``preload`` (modules imported once, here), ``drop`` ([uid, gid] every runner
    switches to), ``workdir`` (the runners' scratch and working folder) and ``links``
    (name -> target symlinks kept in it, such as the course's public ``data``).  Besides
    ``fork`` it takes ``kill`` (a runner's pid: its process group is killed; the judge
    cannot do it itself when the sandbox has its own PID namespace).
    """
    drop = opts.get("drop")
    if drop:  # before any import: runners must reach every module by the same names
        reach_by_descriptor(int(drop[0]), int(drop[1]))
    for mod in opts.get("preload", []):
        try:
            __import__(mod)
        except Exception:  # noqa: BLE001, S110 - the runner reports it if it matters
            pass
    prepare()
    # What the fork server holds now is shared with every runner, copy-on-write: frozen,
    # the garbage collector never walks it (a walk writes to every object, and so copies
    # every page, in each runner).
    gc.collect()
    gc.freeze()
    control = socket.socket(fileno=fd)
    ch = Channel(control)
    me = os.getpid()
    ch.send({"op": "ready", "pid": me, "uid": os.getuid() if hasattr(os, "getuid") else None})
    children: set[int] = set()
    while True:
        try:
            msg = ch.recv()
        except (ChannelClosed, wire.WireError):
            os._exit(0)
        op = msg.get("op")
        if op == "kill":
            victim = msg.get("pid")
            if isinstance(victim, int) and victim in children:
                _kill(victim)
                children.discard(victim)
            continue
        if op != "fork":
            os._exit(0)
        children = {p for p in children if not _reap(p)}
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                parent_end.close()
                _child(child_end, opts, msg.get("limits", {}), not children, me)
            except BaseException:  # noqa: BLE001
                code = 70
            finally:
                os._exit(code)
        children.add(pid)
        child_end.close()
        socket.send_fds(control, [wire.pack({"op": "forked", "pid": pid})], [parent_end.fileno()])
        parent_end.close()


def spawned(fd: int, limits: str) -> None:
    """Without fork (Windows, or when asked): this process is itself the runner."""
    import json

    sock = socket.socket(fileno=fd)
    confine(json.loads(limits))
    try:
        Runner(Channel(sock)).serve()
    finally:
        os._exit(0)  # no atexit hooks, no lingering threads


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
        import json

        zygote(int(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
    else:
        spawned(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "{}")
