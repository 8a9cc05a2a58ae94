"""Judging one call, as pure functions: what came back from the runner, against the case.

Nothing here talks to a runner or keeps state: the same case and outcome always give the
same :class:`~grader.result.CaseResult` (which is why the judge may cache verdicts).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.course.spec import PreparedCase
from grader.judge.calls import Outcome
from grader.judge.compare import Mismatch, compare, same_entries_reordered
from grader.judge.feedback import describe_call, format_value
from grader.judge.tables import array_table, table_for
from grader.protocol import wire
from grader.result import CaseResult


def verdict(pc: PreparedCase, out: Outcome, time_scale: float = 1.0) -> CaseResult:
    """The verdict on one call of a case: its failure, or a pass."""
    if out.status != "ok":
        return _failed_call(pc, out, time_scale)
    c = pc.case
    if c.no_warnings:
        runtime = [w for w in out.warnings if w.startswith("RuntimeWarning")]
        if runtime:
            return _fail(pc, "failed", f"{c.name}: a RuntimeWarning escaped "
                         f"({runtime[0][:120]}); use a numerically stable form",
                         describe_call(pc), check="RuntimeWarning")
    # the calls first: a wrong call (another draw, say) is why the value is wrong
    for rec_name in c.record:
        failed = _calls_differ(pc, out, rec_name)
        if failed is not None:
            return failed
    got = out.value
    if c.check is not None:
        ok, msg = c.check(got)
        if not ok:
            return _fail(pc, "failed", f"{c.name}: {msg}", check="property")
    else:
        exp = wire.Decoder().decode(pc.expected)
        m = compare(got, exp, c.rtol, c.atol, c.scalar_ok)
        if m is not None:
            diagnose(m, got, exp, pc)
            return mismatch(pc, m, got, exp)
    return CaseResult(c.name, c.visibility, True, "ok", status="passed")


def _fail(pc: PreparedCase, status: str, message: str, details: str = "", check: str = "",
          diagnosis: str = "") -> CaseResult:
    c = pc.case
    return CaseResult(c.name, c.visibility, False, message, status=status,
                      details=details if c.visibility == "public" else "",
                      check=check or status, diagnosis=diagnosis)


def _failed_call(pc: PreparedCase, out: Outcome, time_scale: float) -> CaseResult:
    """A call that did not return: a timeout, a death, a missing function, an exception."""
    c = pc.case
    err = out.error
    line = f" (line {err['line']})" if err.get("line") else ""
    if out.status == "timeout":
        return _fail(pc, "timeout", f"{c.func} did not finish within "
                     f"{c.timeout * time_scale:g} s (an infinite loop?)")
    if out.status == "died":
        return _fail(pc, "error", f"the process running {c.func} died during the call "
                     "(os._exit, a crash, or the memory limit)", check="died")
    if out.status == "undefined":
        return _fail(pc, "missing", f"{c.func} is not defined in your submission",
                     check="undefined")
    if out.status == "missing":
        return _fail(pc, "missing", f"{c.func} is not implemented yet (it raises "
                     f"NotImplementedError{line})", check="not implemented")
    raised = f"raised {err.get('type')}"
    if c.visibility == "public":
        return _fail(pc, "error", f"{c.func} {raised}{line}{_error_text(err)}",
                     describe_call(pc) + "\n" + err.get("traceback", ""), check=raised)
    return _fail(pc, "error", f"{c.func} {raised}{line} on a hidden case", check=raised)


def _calls_differ(pc: PreparedCase, out: Outcome, rec_name: str) -> CaseResult | None:
    """The failure when the recorded calls to callback ``rec_name`` are not the expected."""
    c = pc.case
    got_calls = [wire.decode(wire.unpack_value(p)) for n, p in out.calls if n == rec_name]
    exp_calls = [wire.decode(p) for p in (pc.expected_calls or {}).get(rec_name, [])]
    m = compare(got_calls, exp_calls, c.rtol, c.atol)
    if m is None:
        return None
    diag = c.reordered if c.reordered and same_entries_reordered(
        _int_arrays(got_calls), _int_arrays(exp_calls)) else ""
    msg = f"{c.name}: the calls to {rec_name} differ from the expected ones"
    msg += f" — {diag}" if diag else f" ({m.describe('calls')})"
    return _fail(pc, "failed", msg, check=f"calls to {rec_name}", diagnosis=diag)


def diagnose(m: Mismatch, got: Any, exp: Any, pc: PreparedCase) -> None:
    """Name the slip: a declared wrong answer the value matches, or a declared reordering."""
    for message, alt in pc.alternatives:
        if compare(got, wire.decode(alt), pc.case.rtol, pc.case.atol,
                   pc.case.scalar_ok) is None:
            m.diagnosis = message
            return
    # the same indices in another order: more telling than a generic numeric diagnosis
    # (single-index batches in another order would otherwise read as "a factor of 5")
    if pc.case.reordered and same_entries_reordered(got, exp):
        m.diagnosis = pc.case.reordered


def mismatch(pc: PreparedCase, m: Mismatch, got: Any, exp: Any) -> CaseResult:
    """A returned value that is not the expected one: hidden cases say which check failed,
    public ones also show the call and expected beside returned."""
    c = pc.case
    if c.visibility == "hidden":
        text = f"hidden case {c.name}: " + m.describe(f"{c.func}(...)")
        return CaseResult(c.name, "hidden", False, text, status="failed",
                          diagnosis=m.diagnosis, check=m.kind)
    text = f"{c.name}: " + m.describe(c.func)
    if m.kind in ("value", "nonfinite", "shape") and m.path:
        text += f"; expected {format_value(m.expected, 60)}, got {format_value(m.got, 60)}"
    elif m.kind in ("value", "nonfinite"):
        text += f"; expected {format_value(exp, 60)}, got {format_value(got, 60)}"
    details = describe_call(pc)
    tab = table_for(got, exp, c.labels, c.rtol, c.atol) or array_table(got, exp, c.rtol, c.atol)
    details += "\n" + (tab or f"expected: {format_value(exp, 2000)}\n"
                              f"returned: {format_value(got, 2000)}")
    if c.note:
        details += "\n" + c.note
    return CaseResult(c.name, "public", False, text, status="failed", details=details,
                      diagnosis=m.diagnosis, check=m.kind)


def _int_arrays(calls: list[Any]) -> list[np.ndarray]:
    """The integer arrays among recorded calls' arguments: the index batches a callback
    was handed, to compare as a draw (``Case.reordered``)."""
    out: list[np.ndarray] = []
    for call in calls:
        args = call[0] if isinstance(call, (list, tuple)) and call else []
        for a in args:
            if isinstance(a, np.ndarray) and a.dtype.kind in "iu":
                out.append(a)
    return out


def _error_text(err: dict[str, Any]) -> str:
    """': message' of an exception, or what an empty one means (MemoryError has none)."""
    text = str(err.get("message") or "")[:300]
    if text:
        return f": {text}"
    if err.get("type") == "MemoryError":
        return " (out of memory: an array far larger than the inputs?)"
    return " (with no message)"
