"""Turn declared cases into prepared ones: inputs in wire form, expectations from the reference.

Runs on the trusted side only (``grade assign`` for public cases, the judge for hidden
ones).  The reference is called with the case's inputs; grader callables are wrapped so
every call they receive is recorded (for ``record``-ed comparisons and for the offline
tape of public cases), and so, for public cases, are the reference's calls to the
item's substitutes (:mod:`grader.course.answers`).
"""

from __future__ import annotations

import types
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from grader.course.answers import AnswerRecorder
from grader.course.curves import check_curve, reference_curve
from grader.course.spec import Callback, Case, Item, PreparedCase
from grader.errors import AuthoringError
from grader.protocol import wire


def _encoder() -> wire.Encoder:
    return wire.Encoder(callable_name=lambda v: v.name if isinstance(v, Callback) else None,
                        dataframes=True, binary=False)


def decode_inputs(pc_args: Any, pc_kwargs: Any,
                  wrap: Callable[[str], Any]) -> tuple[list[Any], dict[str, Any]]:
    dec = wire.Decoder(on_callable=wrap, allow_dataframe=True)
    return list(dec.decode(pc_args)), dict(dec.decode(pc_kwargs))


class Recorder:
    """Wraps grader callables: runs them and keeps (name, args, value) of every call."""

    def __init__(self, callables: dict[str, Callable[..., Any] | None]) -> None:
        self.callables = callables
        self.calls: list[dict[str, Any]] = []

    def wrap(self, name: str) -> Callable[..., Any]:
        fn = self.callables.get(name)
        if fn is None:
            raise AuthoringError(f"no function given for the callable {name!r}")

        def recorded(*args: Any, **kwargs: Any) -> Any:
            rec = wire.encode([list(args), kwargs], binary=False)
            value = fn(*args, **kwargs)
            self.calls.append({"name": name, "args": rec,
                               "value": wire.encode(value, binary=False)})
            return value

        return recorded

    def by_name(self, names: Iterable[str]) -> dict[str, list[Any]]:
        return {n: [c["args"] for c in self.calls if c["name"] == n] for n in names}


def prepare_case(case: Case, reference: types.ModuleType, items: dict[str, Item],
                 tape: bool = False) -> PreparedCase:
    if case.item not in items:
        raise AuthoringError(f"case {case.name!r} names an unknown item {case.item!r}")
    target = case.expected_fn or getattr(reference, case.func, None)
    if target is None or not callable(target):
        raise AuthoringError(f"case {case.name!r} calls {case.func!r}, which the reference "
                             "does not define")
    enc = _encoder()
    args_json = enc.encode(list(case.args))
    kwargs_json = enc.encode(dict(case.kwargs))
    callables = case.callbacks
    expected = None
    rec = Recorder(callables)
    subs = tuple(s for s in items[case.item].substitutes if s != case.func)
    answers = AnswerRecorder(reference, subs if tape else ())
    if case.check is None:
        args, kwargs = decode_inputs(args_json, kwargs_json, rec.wrap)
        try:
            with answers.installed():
                value = target(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            raise AuthoringError(f"case {case.name!r}: the reference raised "
                                 f"{type(e).__name__}: {e}") from None
        expected = wire.encode(value, binary=False)
    alternatives = []
    for message, slip in case.slips.items():
        args, kwargs = decode_inputs(args_json, kwargs_json, Recorder(callables).wrap)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a slip may well overflow: that is its point
            wrong = wire.encode(slip(*args, **kwargs), binary=False)
        if wrong != expected:  # a slip that gives the right answer here tells nothing
            alternatives.append((message, wrong))
    curve: list[float] = []
    if case.curve:
        where = f"case {case.name!r}"
        check_curve(case.curve, len(case.args), where)
        curve = reference_curve(case.curve, target, reference, args_json, kwargs_json, where)
    return PreparedCase(case=case, args=args_json, kwargs=kwargs_json, expected=expected,
                        expected_calls=rec.by_name(case.record),
                        alternatives=alternatives, tape=rec.calls if tape else [],
                        callables=callables, answers=answers.answers, curve_expected=curve)


def prepare_cases(cases: Iterable[Case], reference: types.ModuleType, items: list[Item],
                  tape: bool = False) -> list[PreparedCase]:
    by_id = {it.id: it for it in items}
    out = [prepare_case(c, reference, by_id, tape) for c in cases]
    names = [(p.case.item, p.case.name) for p in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise AuthoringError(f"case names repeat within an item: {sorted(dupes)}")
    return out
