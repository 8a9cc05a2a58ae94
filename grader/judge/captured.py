"""What the judge keeps of a call for showing: what it printed (capped, marked when cut)
and, for public cases declared plottable, the values to draw."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.course.spec import PreparedCase
from grader.protocol import wire
from grader.result import CaseResult

OUTPUT_SHOWN = 4000  # characters of the import's output kept in a result
CASE_OUTPUT_SHOWN = 2000  # characters of one failed case's output


def capped(text: object, cap: int = OUTPUT_SHOWN) -> str:
    """``text`` cut to ``cap`` characters, with a marker saying how much was left out
    (the runner's own cap adds its marker the same way)."""
    s = str(text or "")
    if len(s) <= cap:
        return s
    return s[:cap] + f"\n[... output cut: {len(s) - cap} more characters not shown]"


def with_output(cr: CaseResult, stdout: str) -> CaseResult:
    """A failed public case keeps what the function printed meanwhile (a hidden case's
    output could show its inputs: never kept)."""
    if cr.passed or cr.visibility != "public" or not stdout:
        return cr
    cr.output = capped(stdout, CASE_OUTPUT_SHOWN)
    return cr


def with_plot(cr: CaseResult, pc: PreparedCase, value: Any, packed: Any) -> CaseResult:
    """A public case declared ``plot="path"`` keeps the returned path beside the expected
    one, as lists of floats (``packed``: the returned value as the runner sent it, where
    a cached verdict left ``value`` undecoded)."""
    if not pc.case.plot or pc.case.visibility != "public" or pc.expected is None:
        return cr
    try:
        got = value if value is not None else wire.decode(wire.unpack_value(packed))
        g = np.asarray(got, dtype=np.float64)
        e = np.asarray(wire.decode(pc.expected), dtype=np.float64)
    except Exception:  # noqa: BLE001 - not a path: nothing to draw
        return cr
    if g.ndim != 2 or e.ndim != 2 or g.size > 100_000 or not np.isfinite(g).all():
        return cr
    cr.plot = {"kind": pc.case.plot, "got": g.tolist(), "expected": e.tolist()}
    return cr
