"""The runner: the only process that ever executes a submission's code.

It loads the submission as a module (from code objects the judge compiled, see
:mod:`grader.protocol.compiled`), calls the functions the judge names, a batch at a time, with the
arguments the judge sends, and sends back raw data only: the returned value (through
:mod:`grader.protocol.wire`), captured output, warnings and error text, each capped.  It never
sees a reference implementation or an expected value.  Callables the grader passes and
the graded functions the judge substitutes are proxies here: their results come from
the judge over the channel.  A graded function the judge does not name as a substitute
for a call (the submission's own version passed its item) is the submission's own there.
"""

from __future__ import annotations

import copy
import types
from typing import Any

from grader.protocol import wire
from grader.protocol.channel import Channel, ChannelClosed
from grader.runner.capture import CallScope, thread_count, threads_possible
from grader.runner.holding import Holding
from grader.runner.module import ModuleHost

ARG_CACHE_BYTES = 64 * 1024 * 1024
SHARED: dict[bytes, Any] = {}  # public arguments the fork server decoded: every runner's
SHARED_BYTES = 64 * 1024 * 1024


def share(values: Any) -> None:
    """Keep large packed arguments decoded (the fork server's ``share``: public cases' data
    sets), for every runner forked from now on.  What cannot be decoded is left out: a
    runner decodes it as it comes."""
    if not isinstance(values, list):
        return
    size = sum(len(k) for k in SHARED)
    for data in values:
        if (not isinstance(data, bytes) or data in SHARED or len(data) < wire.LARGE
                or size + len(data) > SHARED_BYTES):
            continue
        try:
            SHARED[data] = wire.Decoder(allow_dataframe=True).decode(wire.unpack_value(data))
        except Exception:  # noqa: BLE001, S112 - data the judge sent, but data all the same
            continue
        size += len(data)



class GraderCallbackError(RuntimeError):
    """Raised inside student code when a grader-provided callable cannot answer."""


class Runner(ModuleHost):
    """Serves one submission over one channel until told to exit or the channel closes."""

    def __init__(self, channel: Channel) -> None:
        self.ch = channel
        self.module: types.ModuleType | None = None
        self.filename = "<submission>"
        self.originals: dict[str, Any] = {}
        self.handles: dict[str, Any] = {}
        self.cut_short = ""  # why the module stopped early at import (sys.exit)
        self.threads = thread_count()
        self.can_thread = threads_possible()  # else no call can leave a thread running
        self.scope = CallScope()  # what the calls of the batch at hand run under
        self.finished = False  # a reply asked the judge for a fresh runner: stop after it
        self.arguments: dict[bytes, Any] = dict(SHARED)  # large packed arguments, decoded
        self.cached_bytes = 0
        self.request: dict[str, Any] = {}  # the batch of calls at hand
        self.holding = Holding(channel, lambda reply: self._send(reply, self.request))

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

    # ------------------------------------------------------------------ calls
    def _proxy(self, name: str, substitute: bool) -> Any:
        ch = self.ch
        original = self.originals.get(name)

        def proxy(*args: Any, **kwargs: Any) -> Any:
            enc = wire.Encoder(callable_name=self._register)
            payload = enc.encode([list(args), kwargs])
            self.holding.told()  # the judge now knows which call runs (holding.py)
            ch.send({"op": "callback", "name": name, "args": wire.pack_value(payload)})
            while True:
                reply = ch.recv()
                if reply.get("op") != "invoke":
                    break
                self._send(self._invoke(reply), reply)
            if reply.get("op") != "reply":
                raise GraderCallbackError("the grader sent an unexpected message")
            if reply.get("fallback") and substitute:
                if callable(original):
                    return original(*args, **kwargs)
                raise NameError(f"name {name!r} is not defined")  # as without the grader
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
        """A batch of calls, run in order.

        The judge sends an item's calls at once, so a call costs no wait for the judge
        between calls.  Asked to (``hold``), the runner sends the results together at the
        end, or as they come from :data:`~grader.runner.holding.FLUSH_AFTER` on
        (:mod:`grader.runner.holding`); else each as soon as it is ready.  A call that
        leaves a thread running ends the batch (and the runner): the judge re-sends the
        rest to a fresh runner.
        """
        calls = msg.get("calls")
        if not isinstance(calls, list):
            self._send({"op": "error", "message": "calls must be a list"}, msg)
            return
        self.request = msg
        if msg.get("hold") is True and len(calls) > 1 and Holding.possible():
            self.holding.start(msg.get("nonce"))
        try:
            with CallScope() as self.scope:
                for index, call in enumerate(calls):
                    self.holding.next_call(index)
                    reply = self._call(call if isinstance(call, dict) else {})
                    reply["index"] = index
                    self.holding.result(reply)
                    if self.finished:
                        return
        finally:
            self.holding.stop()

    def _argument(self, data: Any, dec: wire.Decoder) -> Any:
        """One packed argument of a call.  A large one (a data set that several cases
        pass) is decoded once per runner, or once for all in the fork server where a
        public case passes it (:func:`share`), and copied for each call, which is much
        cheaper than decoding a DataFrame again."""
        if not isinstance(data, bytes) or len(data) < wire.LARGE or b"__callable__" in data:
            return dec.decode(wire.unpack_value(data))
        value = self.arguments.get(data)
        if value is None:
            value = wire.Decoder(allow_dataframe=True).decode(wire.unpack_value(data))
            if self.cached_bytes + len(data) > ARG_CACHE_BYTES:
                return value
            self.arguments[data] = value
            self.cached_bytes += len(data)
        return copy.deepcopy(value)

    def _call(self, msg: dict[str, Any]) -> dict[str, Any]:
        """One call of a graded function: its result, output and warnings, as data."""
        mod = self.module
        name = str(msg["func"])
        func = mod.__dict__.get(name) if mod is not None else None
        if mod is None or not callable(func):
            return self._undefined(name)
        try:
            args, kwargs = self._arguments(msg)
        except wire.WireError as e:
            return {"op": "result", "status": "error",
                    "error": {"type": "WireError", "line": None, "message": str(e)}}
        subs = [str(s) for s in msg.get("substitutes", [])]
        saved = {s: mod.__dict__.get(s) for s in subs}
        for s in subs:
            mod.__dict__[s] = self._proxy(s, True)
        try:
            reply = self._execute(func, args, kwargs, self.scope)
        finally:
            for s, f in saved.items():
                if f is None:
                    mod.__dict__.pop(s, None)
                else:
                    mod.__dict__[s] = f
        stray = self._stray_threads(name) if self.can_thread else None
        if stray is not None:
            reply.update(status="error", error=stray, restart=True)
            reply.pop("value", None)
        return reply

    def _undefined(self, name: str) -> dict[str, Any]:
        if self.cut_short:
            return {"op": "result", "status": "error",
                    "error": {"type": "NameError", "line": None,
                              "message": f"`{name}` is not defined: {self.cut_short}"}}
        return {"op": "result", "status": "undefined",
                "error": {"type": "NameError", "line": None,
                          "message": f"`{name}` is not defined in the submission"}}

    def _arguments(self, msg: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """A call's arguments, decoded; callables of the judge's become proxies."""
        dec = wire.Decoder(on_callable=lambda n: self._proxy(n, False), allow_dataframe=True)
        packed = msg.get("args", [])
        if not isinstance(packed, list):
            raise wire.WireError("malformed arguments")
        args = [self._argument(a, dec) for a in packed]
        kwargs = self._argument(msg.get("kwargs", wire.pack_value({"__dict__": []})), dec)
        if not isinstance(kwargs, dict):
            raise wire.WireError("malformed keyword arguments")
        return args, kwargs

    def _execute(self, func: Any, args: list[Any], kwargs: dict[str, Any],
                 scope: CallScope) -> dict[str, Any]:
        """Run ``func`` with its output captured and warnings recorded; the reply."""
        status, error, value = "ok", None, None
        scope.begin()
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
        stdout, caught = scope.end()
        reply: dict[str, Any] = {"op": "result", "status": status, "stdout": stdout,
                                 "warnings": caught}
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
        return reply
