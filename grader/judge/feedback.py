"""Text for people: values, calls and side-by-side tables in feedback (public cases only)."""

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


def table_for(got: Any, exp: Any, labels: dict[str, list[str]]) -> str:
    """A row-per-entry table, expected beside returned, for a dict of equal-length vectors.

    ``labels`` may name the rows (key ``"rows"``).  Returns '' when the shape does not fit.
    """
    if not isinstance(exp, dict):
        return ""
    cols = [k for k, v in exp.items() if isinstance(v, np.ndarray) and v.ndim == 1]
    if not cols:
        return ""
    n = len(exp[cols[0]])
    if any(len(exp[k]) != n for k in cols):
        return ""
    rows = list(labels.get("rows", [])) or [str(i) for i in range(n)]
    got = got if isinstance(got, dict) else {}

    def cell(d: Any, k: str, i: int) -> str:
        try:
            a = np.asarray(d[k], dtype=np.float64).ravel()
            return f"{a[i]:.12g}"
        except (KeyError, IndexError, TypeError, ValueError):
            return "—"

    header = ["row"] + [f"{k} expected" for k in cols] + [f"{k} returned" for k in cols]
    body = [[rows[i] if i < len(rows) else str(i)]
            + [cell(exp, k, i) for k in cols] + [cell(got, k, i) for k in cols]
            for i in range(n)]
    for k, v in exp.items():
        if k not in cols and not isinstance(v, dict):
            body.append([k] + [format_value(v, 24)] + [""] * (len(cols) - 1)
                        + [format_value(got.get(k, "—"), 24)] + [""] * (len(cols) - 1))
    widths = [max(len(r[j]) for r in [header] + body) for j in range(len(header))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in [header] + body]
    return "\n".join(lines)
