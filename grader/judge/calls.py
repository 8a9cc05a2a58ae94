"""One call of a student function as the judge sees it: the request, the callbacks it
makes while it runs (answered by the reference, the grader's callables or a tape), and
the :class:`Outcome` that comes back."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from grader.course.spec import Item, PreparedCase
from grader.protocol import wire
from grader.protocol.channel import ChannelClosed, ChannelTimeout
from grader.result import CaseResult
from grader.sandbox.session import Session

if TYPE_CHECKING:
    from grader.course.spec import Assignment
    from grader.judge.memory import Memory
    from grader.judge.tape import Answers, Recorded


class Replier(Protocol):
    """What a call needs of its judge: the case's arguments as sent, the answers to
    callbacks (the reference's, the grader's callables', a tape's) and its verdict cache.
    (The judge implements it; naming the protocol keeps this module below the judge.)"""

    assignment: Assignment
    answers: Answers
    tape: Recorded
    memory: Memory

    def sendable(self, pc: PreparedCase) -> tuple[list[bytes], bytes]: ...

    def reply(self, fn: Callable[..., Any], name: str, payload: bytes, label: str,
              invoker: Callable[[str], Callable[..., Any]] | None = None,
              case: str | None = None) -> dict[str, Any]: ...


@dataclass
class Batch:
    """How a batch of calls comes back (:mod:`grader.runner.holding`): ``held``, its
    results together at its end, but for a call the judge was told runs (it called
    back: ``told``), whose result comes at once; from the call a ``running`` frame names
    on (``free_from``), one by one."""

    size: int = 1
    held: bool = False
    told: int | None = None
    free_from: int | None = None

    def sure(self, index: int) -> bool:
        """Whether a runner lost while the judge waits for call ``index`` was lost in
        that very call (and not in a later one, with this one's result held back)."""
        return (not self.held or index == self.size - 1 or self.told == index
                or (self.free_from is not None and index >= self.free_from))


class StudentCallableError(Exception):
    """A student callable that the judge invoked (through a substitute) failed."""


@dataclass
class Outcome:
    status: str                       # ok | missing | undefined | error | timeout | died
    value: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    key: tuple[Any, ...] | None = None      # (case, packed returned value, recorded calls)
    cached: CaseResult | None = None        # the verdict on this very value, seen before
    sure: bool = True                       # a timeout or death is this call's (see Batch)


class Call:
    """One call of a student function, with the callbacks it makes.

    Calls go to the runner in batches (:meth:`request` gives this one's entry); the
    judge then collects their results in order (:meth:`collect`), answering callbacks
    meanwhile.
    ``own`` names graded functions whose substitutes are left out, because the
    submission's own versions already passed their items: the call runs them as they
    are (the judge runs it again with every substitute unless it passes).
    """

    def __init__(self, judge: Replier, session: Session, item: Item, pc: PreparedCase,
                 index: int, time_scale: float = 1.0, own: tuple[str, ...] = (), *,
                 limit: float | None = None) -> None:
        self.judge = judge
        self.session = session
        self.item = item
        self.pc = pc
        self.index = index
        self.timeout = pc.case.timeout * time_scale
        self.deadline = 0.0
        self.limit = limit  # the whole submission's deadline (monotonic), if any
        self.own = tuple(s for s in own if s != pc.case.func)
        self.calls: list[tuple[str, Any]] = []
        self.helpers: list[str] = []  # own helpers that ran for want of a recorded answer
        self.off_path = ""  # a grader callable asked where its tape has no answer
        self.batch = Batch()  # the batch this call is part of (shared by its calls)

    def request(self) -> dict[str, Any]:
        c = self.pc.case
        args, kwargs = self.judge.sendable(self.pc)
        return {"func": c.func, "args": args, "kwargs": kwargs,
                "substitutes": [s for s in self.item.substitutes
                                if s != c.func and s not in self.own]}

    def collect(self) -> Outcome:
        """Wait for this call's result (its time limit starts now: the runner starts it
        when the previous one's result goes out)."""
        self.deadline = time.monotonic() + self.timeout
        if self.limit is not None:
            self.deadline = min(self.deadline, self.limit)
        try:
            msg = self._serve_until("result")
            if msg.get("index") != self.index:
                raise wire.WireError("a result arrived out of order")
        except ChannelTimeout:
            self.session.kill()
            return Outcome("timeout", calls=self.calls, sure=self.batch.sure(self.index))
        except (ChannelClosed, wire.WireError) as e:
            self.session.kill()
            return Outcome("died", error={"message": str(e)}, calls=self.calls,
                           sure=self.batch.sure(self.index))
        status = str(msg.get("status", "error"))
        out = Outcome(status, stdout=str(msg.get("stdout", ""))[:65536],
                      warnings=[str(w)[:300] for w in msg.get("warnings", [])][:20],
                      error=dict(msg.get("error") or {}), calls=self.calls)
        if status == "ok":
            c = self.pc.case
            if isinstance(msg.get("value"), bytes) and not (c.no_warnings and out.warnings):
                # the same returned value (and recorded calls) always gets the same verdict
                out.key = (self.pc.ref, msg.get("value"),
                           *(p for n, p in self.calls if n in c.record))
                out.cached = self.judge.memory.verdict(out.key)
                if out.cached is not None:
                    return out
            try:
                out.value = wire.Decoder().decode(wire.unpack_value(msg.get("value")))
            except Exception as e:  # noqa: BLE001 - the runner's data is untrusted
                out.status, out.error = "error", {"type": "WireError", "message":
                                                  f"the returned value cannot be read: {e}"}
        return out

    def _serve_until(self, op: str) -> dict[str, Any]:
        while True:
            msg = self.session.recv(self.deadline)
            got = msg.get("op")
            if got == op:
                return msg
            if got == "callback":  # from this call: what was held back came first
                self.batch.told = self.index
                self.session.send(self._answer(msg))
            elif got == "running":  # what was held back came: the rest comes call by call
                at = msg.get("index")
                if isinstance(at, int) and not isinstance(at, bool) and at <= self.index:
                    self.batch.free_from = at
            else:
                raise wire.WireError(f"unexpected message {got!r} from the runner")

    def _answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        name = str(msg.get("name"))
        payload = msg.get("args")
        if not isinstance(payload, bytes):
            return {"op": "reply", "error": "malformed callback"}
        ref = self.judge.assignment.reference
        if name in self.item.substitutes and name != self.pc.case.func:
            if ref is None:
                return self._recorded(name, payload)
            if not callable(getattr(ref, name, None)):
                return {"op": "reply", "fallback": True}
            return self.judge.reply(getattr(ref, name), name, payload,
                                    f"{name} (the grader's reference, standing in for yours)",
                                    self._invoker)
        if name in self.pc.callables:
            self.calls.append((name, payload))
            fn = self.pc.callables[name]
            if fn is None:
                return self._from_tape(name, payload)
            return self.judge.reply(fn, name, payload, f"{name} (the grader's callable)",
                                    self._invoker, case=self.pc.ref)
        return {"op": "reply", "error": f"unknown callable {name!r}"}

    def _recorded(self, name: str, payload: bytes) -> dict[str, Any]:
        """Without the reference: the answer recorded for this call, else the student's own."""
        try:
            reply = self.judge.answers.answer(self.pc, name, payload, self._invoker)
        except StudentCallableError as e:
            return {"op": "reply", "error": str(e)}
        if reply is not None:
            return reply
        if name not in self.helpers:
            self.helpers.append(name)
        return {"op": "reply", "fallback": True}

    def _from_tape(self, name: str, payload: bytes) -> dict[str, Any]:
        try:
            entry, _ = self.judge.tape.find(self.pc, name, payload)
        except wire.WireError as e:
            return {"op": "reply", "error": str(e)}
        if entry is not None:
            return self.judge.tape.reply(entry)
        self.off_path = name
        return {"op": "reply", "error": f"{name} was called with arguments the reference never "
                "passes: your path has left the expected one by this call"}

    def _invoker(self, handle: str) -> Callable[..., Any]:
        def invoke(*args: Any, **kwargs: Any) -> Any:
            self.session.send({"op": "invoke", "handle": handle,
                               "args": wire.encode([list(args), kwargs])})
            msg = self._serve_until("invoked")
            if "error" in msg:
                raise StudentCallableError(str(msg["error"])[:500])
            return wire.Decoder().decode(msg.get("value"))

        return invoke
