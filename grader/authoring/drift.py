"""Structural comparison of a committed ``cases.json`` with what ``grade assign`` would write.

Expected values are computed from the reference with numpy, and BLAS kernels (chosen per
CPU) differ in the last bits.  So floats count as equal within ``DRIFT_RTOL`` (with an
absolute floor ``DRIFT_ATOL``), a million times tighter than grading's rtol 1e-6 /
atol 1e-9; everything else (items, case names, inputs' shapes and dtypes, points, text,
integers) must be equal exactly.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from grader.protocol.wire import _load_array

DRIFT_RTOL = 1e-12
DRIFT_ATOL = 1e-14


def _float_close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.isclose(a, b, rtol=DRIFT_RTOL, atol=DRIFT_ATOL, equal_nan=True).all())


def _array(node: Any) -> np.ndarray | None:
    if isinstance(node, dict) and set(node) == {"__nd__"}:
        try:
            return _load_array(node["__nd__"])
        except Exception:  # noqa: BLE001 - malformed is compared as plain data
            return None
    return None


def _differ(old: Any, new: Any, where: str, out: list[str]) -> None:
    a, b = _array(old), _array(new)
    if a is not None and b is not None:
        if a.dtype != b.dtype or a.shape != b.shape:
            out.append(f"{where}: array {a.dtype}{list(a.shape)} is now {b.dtype}{list(b.shape)}")
        elif a.dtype.kind in "fc" and not _float_close(a, b):
            at = np.unravel_index(int(np.argmax(~np.isclose(
                a, b, rtol=DRIFT_RTOL, atol=DRIFT_ATOL, equal_nan=True))), a.shape)
            out.append(f"{where}[{', '.join(map(str, at))}]: {a[at]!r} is now {b[at]!r}")
        elif a.dtype.kind not in "fc" and not np.array_equal(a, b):
            out.append(f"{where}: integer or boolean entries changed")
        return
    if type(old) is float or type(new) is float:
        ok = (type(old) in (int, float) and type(new) in (int, float)
              and _float_close(np.float64(old), np.float64(new)))
        if not ok:
            out.append(f"{where}: {old!r} is now {new!r}")
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            if k not in old:
                out.append(f"{where}.{k}: added")
            elif k not in new:
                out.append(f"{where}.{k}: removed")
            else:
                _differ(old[k], new[k], f"{where}.{k}", out)
        return
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{where}: {len(old)} entries are now {len(new)}")
        for i, (x, y) in enumerate(zip(old, new)):
            _differ(x, y, f"{where}[{i}]", out)
        return
    if old != new or type(old) is not type(new):
        shown = (repr(old)[:60], repr(new)[:60])
        out.append(f"{where}: {shown[0]} is now {shown[1]}")


def _case_label(case: Any, index: int) -> str:
    name = case.get("name") if isinstance(case, dict) else None
    return f"case {index} {name!r}" if name else f"case {index}"


def cases_differences(old_text: str, new_text: str) -> list[str]:
    """What differs between two ``cases.json`` texts beyond floating-point noise.

    Each entry names the case (by index and name) and the field; an empty list means the
    two are the same assignment.
    """
    try:
        old = json.loads(old_text)
    except ValueError as e:
        return [f"the committed file is not JSON ({e})"]
    new = json.loads(new_text)
    out: list[str] = []
    if not (isinstance(old, dict) and isinstance(new, dict)):
        _differ(old, new, "file", out)
        return out
    for key in sorted(set(old) | set(new)):
        if key == "cases" and isinstance(old.get(key), list) and isinstance(new.get(key), list):
            oc, nc = old[key], new[key]
            if len(oc) != len(nc):
                out.append(f"cases: {len(oc)} cases are now {len(nc)}")
            for i, (x, y) in enumerate(zip(oc, nc)):
                _differ(x, y, _case_label(y, i), out)
        elif key not in old or key not in new:
            out.append(f"{key}: {'added' if key not in old else 'removed'}")
        else:
            _differ(old[key], new[key], key, out)
    return out
