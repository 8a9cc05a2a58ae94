"""Answer substitute calls without the reference, from a public case's recorded answers.

A student's copy has no ``solutions/``: the judge cannot run the reference for the
graded functions an item substitutes.  ``grade assign`` recorded the reference's own
calls to them on each public case (:mod:`grader.course.answers`); a call with exactly
those arguments (or within 1e-12 of them: last bits of a different but equivalent
formula) gets the recorded value, so the item is graded on its own as in the full
grader.  Where an argument is a callable of the student's, the recorded calls the
reference made to it are made again and must give the recorded results.  Anything else
gets no answer here: the student's own helper runs, and the verdict says it depends on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from grader.course.answers import CALLABLE_TAG
from grader.course.spec import PreparedCase
from grader.judge.compare import compare
from grader.protocol import wire
from grader.result import CaseResult

NEAR_RTOL, NEAR_ATOL = 1e-12, 1e-15
INVOKE_RTOL, INVOKE_ATOL = 1e-9, 1e-12  # a student callable must give the recorded results
TAPE_RTOL, TAPE_ATOL = 1e-9, 1e-12      # the grader's callables, asked on a public path


def _normal(tree: Any) -> tuple[bytes, Any, list[str]]:
    """(packed key, decoded value, handles of its callables in order) of wire data."""
    handles: list[str] = []

    def mark(handle: str) -> wire.RemoteCallable:
        handles.append(handle)
        return wire.RemoteCallable(CALLABLE_TAG)

    value = wire.Decoder(on_callable=mark, allow_dataframe=True).decode(tree)
    return wire.pack_value(wire.Encoder().encode(value)), value, handles


class Recorded:
    """Calls recorded for each case, found by (name, packed arguments): exactly first (the
    arguments the reference passed), else by a scan within ``rtol``/``atol`` (last bits
    of an equivalent formula).  ``entries`` picks the records of a case."""

    def __init__(self, entries: Callable[[PreparedCase], list[dict[str, Any]]],
                 rtol: float, atol: float) -> None:
        self._records, self.rtol, self.atol = entries, rtol, atol
        self._index: dict[int, dict[tuple[str, bytes], dict[str, Any]]] = {}
        self._decoded: dict[int, list[tuple[str, Any, dict[str, Any]]]] = {}

    def _entries(self, pc: PreparedCase) -> dict[tuple[str, bytes], dict[str, Any]]:
        index = self._index.get(id(pc))
        if index is None:
            index, decoded = {}, []
            for entry in self._records(pc):
                key, value, _ = _normal(entry["args"])
                index.setdefault((str(entry["name"]), key), entry)
                decoded.append((str(entry["name"]), value, entry))
            self._index[id(pc)], self._decoded[id(pc)] = index, decoded
        return index

    def find(self, pc: PreparedCase, name: str, payload: bytes) -> tuple[dict[str, Any] | None,
                                                                          list[str]]:
        """The recorded call matching this one, and the handles of the callables it
        passes; a malformed payload is a :class:`~grader.protocol.wire.WireError`."""
        index = self._entries(pc)
        key, args, handles = _normal(wire.unpack_value(payload))
        entry = index.get((name, key))
        if entry is None:
            for other, value, candidate in self._decoded[id(pc)]:
                if other == name and _near(args, value, self.rtol, self.atol):
                    entry = candidate
                    break
        return entry, handles

    @staticmethod
    def reply(entry: dict[str, Any]) -> dict[str, Any]:
        """The recorded value as a ``reply`` message (arrays as bytes, as the runner packs)."""
        return {"op": "reply", "value": wire.pack_value(wire.encode(wire.decode(entry["value"]))),
                "rng_states": list(entry.get("rng_states", []))}


class Answers(Recorded):
    """The substitutes' recorded answers of each public case (student's copy)."""

    def __init__(self) -> None:
        super().__init__(lambda pc: pc.answers, NEAR_RTOL, NEAR_ATOL)

    def answer(self, pc: PreparedCase, name: str, payload: bytes,
               invoker: Callable[[str], Callable[..., Any]]) -> dict[str, Any] | None:
        """A ``reply`` message for a substitute call, or None where nothing recorded fits
        (then the student's own helper answers)."""
        try:
            entry, handles = self.find(pc, name, payload)
        except wire.WireError:
            return None
        if entry is None:
            return None
        for call in entry.get("invokes", []):
            slot = int(call["slot"])
            if slot >= len(handles):
                return None
            args, kwargs = wire.Decoder().decode(call["args"])
            got = invoker(handles[slot])(*args, **dict(kwargs))
            if compare(got, wire.decode(call["value"]), INVOKE_RTOL, INVOKE_ATOL) is not None:
                return None  # the student's callable differs: the reference's path is not theirs
        return self.reply(entry)


def _near(got: Any, exp: Any, rtol: float, atol: float) -> bool:
    try:
        return compare(got, exp, rtol, atol) is None
    except Exception:  # noqa: BLE001 - arguments of any shape: no match
        return False


def depends_on(cr: CaseResult, helpers: list[str]) -> CaseResult:
    """``cr``, saying which of the student's own helpers answered calls nothing recorded."""
    if not helpers:
        return cr
    cr = dataclasses.replace(cr, helpers=list(helpers))
    names = ", ".join(helpers)
    if not cr.passed:
        cr.message += (f" [your own {names} ran here: the public cases have no recorded answer "
                       "for the arguments your code passed, so this result depends on "
                       f"{'it' if len(helpers) == 1 else 'them'}]")
    return cr


def off_path(cr: CaseResult, pc: PreparedCase, callable_name: str) -> CaseResult:
    """A failed case whose grader callable was asked off the recorded path says so plainly
    (the callable's offline answers exist only where the reference's path goes)."""
    if cr.passed or not callable_name or cr.status != "error":
        return cr
    return dataclasses.replace(
        cr, status="failed", check=f"path of {callable_name}",
        message=f"{pc.case.name}: {pc.case.func} called {callable_name} at a point the "
                f"reference's path never reaches, so its path differs from the expected one "
                f"(here only the public cases' own points can be answered)")
