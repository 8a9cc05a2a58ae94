"""Expected beside returned, as text that fits 80 columns, differing entries marked.

Public feedback only.  A dict of equal-length vectors (the worked example's rows) is
one table, a column per vector, where that fits; else one block per vector, rows
down the page.  Arrays of the same shape list their entries (or rows) the same way.
Every entry that differs (beyond the case's tolerance) ends with :data:`DIFF_MARK`;
a terminal colours those lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.judge.feedback import format_value

WIDTH = 80
DIFF_MARK = "<<"
LEGEND = f"({DIFF_MARK} marks the entries that differ)"
MAX_ROWS = 20  # entries or rows listed for an array; the differing ones first


def _num(v: Any) -> str:
    return f"{float(v):.12g}"


def _differs(g: Any, e: Any, rtol: float, atol: float) -> bool:
    try:
        return not bool(np.isclose(float(g), float(e), rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return True


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[j]) for r in rows if j < len(r)) for j in range(max(map(len, rows)))]
    return ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]


def table_for(got: Any, exp: Any, labels: dict[str, list[str]], rtol: float = 1e-6,
              atol: float = 1e-9, width: int = WIDTH) -> str:
    """Expected beside returned for a dict of equal-length vectors ('' when it is not one).

    ``labels`` may name the rows (key ``"rows"``).  Columns side by side where they fit
    in ``width``; else one block per vector.
    """
    if not isinstance(exp, dict):
        return ""
    cols = [k for k, v in exp.items() if isinstance(v, np.ndarray) and v.ndim == 1]
    if not cols or any(len(exp[k]) != len(exp[cols[0]]) for k in cols):
        return ""
    n = len(exp[cols[0]])
    names = list(labels.get("rows", []))
    rows = [names[i] if i < len(names) else str(i) for i in range(n)]
    got = got if isinstance(got, dict) else {}

    def cell(d: Any, k: str, i: int) -> str:
        try:
            return _num(np.asarray(d[k], dtype=np.float64).ravel()[i])
        except (KeyError, IndexError, TypeError, ValueError):
            return "—"

    def bad(k: str, i: int) -> bool:
        return _differs(cell(got, k, i), cell(exp, k, i), rtol, atol)

    extra = [k for k, v in exp.items() if k not in cols and not isinstance(v, dict)]
    wide = [["row"] + [f"{k} expected" for k in cols] + [f"{k} returned" for k in cols]]
    for i in range(n):
        mark = [DIFF_MARK] if any(bad(k, i) for k in cols) else []
        wide.append([rows[i]] + [cell(exp, k, i) for k in cols]
                    + [cell(got, k, i) for k in cols] + mark)
    lines = _grid(wide)
    if max(map(len, lines)) > width:
        tall: list[list[str]] = [["", "expected", "returned"]]
        for k in cols:
            tall.append([str(k)])
            tall += [[f"  {rows[i]}", cell(exp, k, i), cell(got, k, i)]
                     + ([DIFF_MARK] if bad(k, i) else []) for i in range(n)]
        lines = _grid(tall)
    for k in extra:
        e, g = format_value(exp[k], 24), format_value(got.get(k, "—"), 24)
        lines.append(f"{k}: expected {e}, returned {g}"
                     + (f"  {DIFF_MARK}" if _differs(got.get(k), exp[k], rtol, atol) else ""))
    return "\n".join([LEGEND] + lines)


def array_table(got: Any, exp: Any, rtol: float = 1e-6, atol: float = 1e-9,
                width: int = WIDTH) -> str:
    """Expected beside returned for two numeric arrays of the same shape (1-d: an entry
    per line; 2-d: a row per line where rows fit), differing ones first past
    :data:`MAX_ROWS`; '' for anything else."""
    try:
        e = np.asarray(exp, dtype=np.float64)
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if e.shape != g.shape or e.ndim not in (1, 2) or e.size < 2:
        return ""
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if e.ndim == 2:
        rows = [[f"row {i}", format_value(e[i], 200), format_value(g[i], 200)]
                + ([DIFF_MARK] if bad[i].any() else []) for i in range(len(e))]
        flags = [bool(b.any()) for b in bad]
        if max(len("  ".join(r)) for r in rows) + 8 > width:
            rows = [[str(tuple(ix)), _num(e[tuple(ix)]), _num(g[tuple(ix)])]
                    + ([DIFF_MARK] if bad[tuple(ix)] else []) for ix in np.ndindex(e.shape)]
            flags = [bool(b) for b in bad.ravel()]
    else:
        rows = [[f"[{i}]", _num(e[i]), _num(g[i])] + ([DIFF_MARK] if bad[i] else [])
                for i in range(len(e))]
        flags = [bool(b) for b in bad]
    shown = list(range(len(rows)))
    if len(rows) > MAX_ROWS:
        shown = sorted(sorted(shown, key=lambda i: not flags[i])[:MAX_ROWS])
    lines = _grid([["", "expected", "returned"]] + [rows[i] for i in shown])
    if len(rows) > len(shown):
        lines.append(f"... {len(rows) - len(shown)} more (of {len(rows)}; "
                     f"{sum(flags)} differ in all)")
    return "\n".join([LEGEND] + lines)
