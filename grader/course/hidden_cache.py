"""The hidden cases' expectations, kept on disk between runs.

Preparing the hidden cases runs the reference on every one of them (and every declared
slip), each time an assignment is loaded: the largest part of `grade hw1`'s start after
the imports.  The expectations depend only on the reference, the declarations, the
cases' inputs and the numeric stack, so they are kept in ``solutions/.cache/`` (the
secret side, never released, never visible to a runner) under a key made of all of
them: the assignment's version, the inputs as encoded, the grader's own modules (how
cases are prepared), numpy's and Python's versions, the CPU and the BLAS selection.
It serves where the judge's memo (:mod:`grader.course.memo`) does not: a memo too large
to keep, or one made stale by a file the hidden cases do not depend on.  Anything else
(a changed input, another machine, a damaged file) prepares the cases afresh and writes
the file again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import types
from pathlib import Path
from typing import Any

from grader.course.memo import grader_stamp, machine
from grader.course.prepare import encode_inputs, prepare_cases
from grader.course.spec import Case, Item, PreparedCase

FORMAT = 1


def cache_path(root: Path, name: str) -> Path:
    return root / "solutions" / ".cache" / f"{name}-hidden.json"


def _key(version: str, cases: list[Case], inputs: list[tuple[Any, Any]]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, version, machine(), grader_stamp()]).encode())
    for c, (args, kwargs) in zip(cases, inputs):
        h.update(json.dumps([c.item, c.name, c.func, sorted(c.slips), list(c.record),
                             c.check is None, args, kwargs], sort_keys=True).encode())
    return h.hexdigest()


def prepare_hidden(cases: list[Case], reference: types.ModuleType, items: list[Item],
                   root: Path, name: str, version: str) -> list[PreparedCase]:
    """``prepare_cases(cases, reference, items)``, from the cache when it holds them."""
    inputs = [encode_inputs(c) for c in cases]
    key = _key(version, cases, inputs)
    path = cache_path(root, name)
    kept = _read(path, key, len(cases))
    if kept is not None:
        return [PreparedCase(case=c, args=a, kwargs=k, expected=e["expected"],
                             expected_calls=e["expected_calls"],
                             alternatives=[(m, v) for m, v in e["alternatives"]], tape=[],
                             callables=c.callbacks)
                for c, (a, k), e in zip(cases, inputs, kept)]
    prepared = prepare_cases(cases, reference, items, inputs=inputs)
    _write(path, key, prepared)
    return prepared


def _read(path: Path, key: str, n: int) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key or len(data["cases"]) != n:
            return None
        return [{"expected": e["expected"], "expected_calls": e["expected_calls"],
                 "alternatives": [(str(m), v) for m, v in e["alternatives"]]}
                for e in data["cases"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write(path: Path, key: str, prepared: list[PreparedCase]) -> None:
    """Write the cache atomically, readable by its owner only; a folder that cannot be
    written (a read-only checkout) just goes without."""
    data = {"key": key, "cases": [{"expected": p.expected, "expected_calls": p.expected_calls,
                                   "alternatives": [list(a) for a in p.alternatives]}
                                  for p in prepared]}
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hidden-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
