"""Text for people: values and calls in feedback (public cases only; tables: judge.tables)."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.course.spec import PreparedCase
from grader.protocol import wire


def format_value(v: Any, limit: int = 200) -> str:
    """A compact, truncated rendering of a plain value."""
    text = _fmt(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(v: Any) -> str:
    if isinstance(v, np.random.Generator):
        return "rng"
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return _fmt(v.item())
        body = np.array2string(v, precision=6, threshold=20, edgeitems=3,
                               separator=", ", max_line_width=10_000)
        return body.replace("\n", "")
    if isinstance(v, float):
        return f"{v:.10g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if type(v).__name__ == "DataFrame":
        return f"DataFrame({v.shape[0]} rows: {', '.join(map(str, v.columns))})"
    return repr(v)


def describe_call(pc: PreparedCase) -> str:
    """``func(arg, ...)`` as the case calls it (only ever shown for public cases)."""
    try:
        dec = wire.Decoder(allow_dataframe=True)
        args = dec.decode(pc.args)
        kwargs = dec.decode(pc.kwargs)
    except wire.WireError:
        return f"called {pc.case.func}(...)"
    parts = [format_value(a, 120) for a in args]
    parts += [f"{k}={format_value(x, 120)}" for k, x in kwargs.items()]
    return f"called {pc.case.func}({', '.join(parts)})"
