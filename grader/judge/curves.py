"""The submission's curves (``grade --html``): extra runs of the public cases that declare
a ``curve`` (:mod:`grader.course.curves`), after grading, beside the reference's curve.

Each point is a call through the runner, like a case's: the submission's function on
the case's arguments with one of them varied (then, where declared, one more of its
functions on the result), its returned data scored here by a generic metric.  These runs
are the submission's own code end to end: no stand-ins for its helpers (the same curve
on a student's copy as on the full course).  They grade nothing; a run that fails gives
no curve of the submission's, and a note that says why.  The whole curve gets the
case's time limit.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from grader.course import curves as spec
from grader.course.spec import Assignment, Case, Item, PreparedCase
from grader.judge.calls import Call, Outcome
from grader.judge.memory import Memory
from grader.protocol import wire
from grader.protocol.channel import ChannelClosed, ChannelTimeout
from grader.result import ItemResult

if TYPE_CHECKING:
    from grader.judge.state import GradingRun
    from grader.judge.tape import Answers, Recorded
    from grader.sandbox.session import Session


class Judge(Protocol):
    """What the curves need of the judge (:class:`grader.judge.judge.Judge` is one)."""

    assignment: Assignment
    answers: Answers
    tape: Recorded
    time_scale: float

    def reply(self, fn: Callable[..., Any], name: str, payload: bytes, label: str,
              invoker: Callable[[str], Callable[..., Any]] | None = None,
              case: str | None = None) -> dict[str, Any]: ...

    def _session_for(self, run: GradingRun, item: Item) -> Session | None: ...


class _Replier:
    """What a curve's calls need of the judge (:class:`grader.judge.calls.Replier`), with
    their own packed arguments and no verdict cache: these calls are never judged."""

    def __init__(self, judge: "Judge") -> None:
        self.judge = judge
        self.assignment: Assignment = judge.assignment
        self.answers: Answers = judge.answers
        self.tape: Recorded = judge.tape
        self.memory = Memory()  # never judged: nothing kept from the judge's
        self.packed: dict[int, tuple[list[bytes], bytes]] = {}

    def sendable(self, pc: PreparedCase) -> tuple[list[bytes], bytes]:
        return self.packed[id(pc)]

    def reply(self, fn: Callable[..., Any], name: str, payload: bytes, label: str,
              invoker: Callable[[str], Callable[..., Any]] | None = None,
              case: str | None = None) -> dict[str, Any]:
        return self.judge.reply(fn, name, payload, label, invoker, case)


def _pack(value: Any) -> bytes:
    return wire.pack_value(wire.Encoder(dataframes=True).encode(value))


class _Failed(Exception):
    """A point of the curve could not be had; the message is the page's note."""

    def __init__(self, status: str, note: str) -> None:
        super().__init__(note)
        self.status = status


def add_curves(judge: "Judge", run: "GradingRun", items: list[Item],
               results: list[ItemResult]) -> None:
    """Attach the curves of the graded items' public cases that declare one, as
    ``plot = {"kind": "curve", ...}`` of their case results."""
    if run.fatal is not None:
        return
    for item, ir in zip(items, results):
        for pc in judge.assignment.public:
            if pc.case.item != item.id or not pc.case.curve:
                continue
            cr = next((c for c in ir.cases if c.name == pc.case.name
                       and c.visibility == "public"), None)
            if cr is not None:
                cr.plot = curve(judge, run, item, pc)


def curve(judge: "Judge", run: "GradingRun", item: Item, pc: PreparedCase) -> dict[str, Any]:
    """The submission's curve of ``pc`` beside the reference's, as plain data."""
    c = pc.case
    declared = c.curve
    plot: dict[str, Any] = {"kind": "curve", "label": declared["label"],
                            "xlabel": declared.get("xlabel", "epoch"), "x": spec.xs(declared),
                            "expected": list(pc.curve_expected), "got": [], "status": "ok",
                            "note": ""}
    try:
        plot["got"] = _points(judge, run, item, pc)
    except _Failed as e:
        plot["status"], plot["note"] = e.status, f"no curve of yours: {e}"
    return plot


def _points(judge: "Judge", run: "GradingRun", item: Item, pc: PreparedCase) -> list[float]:
    c = pc.case
    declared = c.curve
    for func in [c.func] + ([declared["then"][0]] if "then" in declared else []):
        if func in run.hung:
            raise _Failed("timeout", f"{func} ran out of time when graded")
        if run.deaths.get(func, 0):
            raise _Failed("died", f"{func} ended its process when graded")
    deadline = time.monotonic() + c.timeout * judge.time_scale
    xs = spec.xs(declared)
    args = list(wire.Decoder(allow_dataframe=True).decode(pc.args))
    packed_args = [_pack(a) for a in args]
    kwargs = _pack(wire.Decoder(allow_dataframe=True).decode(pc.kwargs))
    requests = []
    for x in xs:
        varied = list(packed_args)
        varied[declared["vary"]] = _pack(x)
        requests.append((c.func, varied, kwargs))
    values = _run(judge, run, item, pc, requests, xs, deadline)
    if "then" in declared:
        name = declared["then"][0]
        empty = _pack({})
        requests = []
        for x, v in zip(xs, values):
            try:
                requests.append((name, [_pack(a) for a in spec.then_args(declared, v, args)],
                                 empty))
            except Exception:  # noqa: BLE001 - not data (an opaque object, say)
                raise _Failed("unscorable", f"what {c.func} returned for {_at(pc, x)} cannot "
                                            f"be passed to {name}") from None
        values = _run(judge, run, item, pc, requests, xs, deadline)
    out = []
    for x, v in zip(xs, values):
        try:
            y = spec.score(declared, v, args)
        except spec.Unscorable as e:
            raise _Failed("unscorable", f"what it returned for {_at(pc, x)} cannot be "
                                        f"scored: {e}") from None
        if not math.isfinite(y):
            raise _Failed("nonfinite", f"the {declared['metric']} for {_at(pc, x)} is {y}")
        out.append(y)
    return out


def _at(pc: PreparedCase, x: int) -> str:
    return f"{pc.case.curve.get('xlabel', 'epoch')} {x}"


def _run(judge: "Judge", run: "GradingRun", item: Item, pc: PreparedCase,
         requests: list[tuple[str, list[bytes], bytes]], xs: list[int],
         deadline: float) -> list[Any]:
    """The returned values of ``requests``, sent to the runner as one batch; the first
    that did not return is a :class:`_Failed`."""
    session = judge._session_for(run, item)
    if session is None:
        raise _Failed("error", "the file did not load")
    bare = dataclasses.replace(item, substitutes=())  # the submission's own helpers
    replier = _Replier(judge)
    calls = []
    for k, (func, args, kwargs) in enumerate(requests):
        point = PreparedCase(case=Case(item.id, func, name=f"{pc.case.name} curve",
                                       visibility="public", timeout=pc.case.timeout,
                                       where="curve"),
                             args=None, kwargs=None, expected=None, expected_calls={},
                             alternatives=[], tape=[], callables={})
        replier.packed[id(point)] = (args, kwargs)
        calls.append(Call(replier, session, bare, point, k, judge.time_scale))
    outcomes: list[Outcome] = []
    try:
        session.send({"op": "calls", "calls": [call.request() for call in calls]})
    except (ChannelClosed, ChannelTimeout, wire.WireError):
        session.kill()
        run.session = None
        raise _Failed("died", f"the process running {pc.case.func} ended") from None
    try:
        for call in calls:
            call.timeout = max(0.0, deadline - time.monotonic())
            outcomes.append(call.collect())
            if not session.alive:
                break
    except Exception:  # noqa: BLE001 - never crash on what a runner sent
        session.kill()
        raise _Failed("error", f"{pc.case.func}'s runs sent something the grader cannot "
                               "read") from None
    finally:
        if not session.alive:
            run.session = None
    for x, call, out in zip(xs, calls, outcomes):
        if out.status != "ok":
            raise _Failed(out.status, _why(call.pc.case.func, out, _at(pc, x),
                                           pc.case.timeout * judge.time_scale))
    if len(outcomes) < len(calls):
        raise _Failed("died", f"the process running {pc.case.func} ended")
    return [out.value for out in outcomes]


def _why(func: str, out: Outcome, at: str, limit: float) -> str:
    if out.status == "timeout":
        return f"the runs took over {limit:g} s in all (at {at})"
    if out.status == "died":
        return f"the process running {func} died (at {at})"
    if out.status == "undefined":
        return f"{func} is not defined"
    if out.status == "missing":
        return f"{func} is not implemented yet"
    err = out.error
    text = str(err.get("message") or "")[:200]
    return f"{func} raised {err.get('type', 'an error')} for {at}" + (f": {text}" if text else "")
