"""Compare a returned value with the expected one, and name the slip when it is a common one.

Pure functions on plain data (already decoded from the wire): nothing here can run
student code.  Numbers compare as ``np.isclose(np.asarray(v, float64), ref, rtol, atol)``
elementwise with matching shapes; dicts by their expected keys (extra keys ignored);
lists and tuples element by element (a list is accepted for an array and either for a
sequence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.protocol.wire import Opaque, RemoteCallable


@dataclass
class Mismatch:
    path: str          # where in the returned value, e.g. "['dW'][5]" ('' for the whole)
    kind: str          # type | keys | length | shape | dtype | nonfinite | value
    detail: str        # safe to show for hidden cases: no values
    got: Any = None
    expected: Any = None
    diagnosis: str = ""

    def describe(self, what: str = "the result") -> str:
        where = f"{what}{self.path}" if self.path else what
        text = f"{where}: {self.detail}"
        if self.diagnosis:
            text += f" — {self.diagnosis}"
        return text


def _is_number(v: Any) -> bool:
    return isinstance(v, (bool, int, float, np.ndarray, np.generic)) and not (
        isinstance(v, np.ndarray) and v.dtype.kind not in "biufc")


def _is_numeric_tree(v: Any) -> bool:
    """A number, an array, or a (nested) list/tuple of numbers: compared as one array."""
    if _is_number(v):
        return True
    if isinstance(v, (list, tuple)) and v:
        return all(_is_numeric_tree(x) and not isinstance(x, np.ndarray) or
                   (isinstance(x, np.ndarray) and x.ndim == 0) for x in v)
    return False


def _as_array(v: Any) -> np.ndarray | None:
    if isinstance(v, (Opaque, RemoteCallable, str, dict)) or v is None:
        return None
    try:
        a = np.asarray(v)
        if a.dtype.kind not in "biufc":
            return None
        return a.astype(np.float64) if a.dtype.kind != "c" else None
    except (ValueError, TypeError):
        return None


def _describe_type(v: Any) -> str:
    if isinstance(v, Opaque):
        return f"a {v.type_name}"
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape}"
    return f"a {type(v).__name__}"


def compare(got: Any, exp: Any, rtol: float, atol: float, scalar_ok: bool = False,
            path: str = "") -> Mismatch | None:
    """The first mismatch between ``got`` and ``exp``, or None when they agree."""
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return Mismatch(path, "type", f"expected a dict, got {_describe_type(got)}", got, exp)
        for k, e in exp.items():
            if k not in got:
                return Mismatch(path, "keys", f"the key {k!r} is missing", got, exp)
            m = compare(got[k], e, rtol, atol, scalar_ok, f"{path}[{k!r}]")
            if m:
                return m
        return None
    if isinstance(exp, (list, tuple)) and not _is_numeric_tree(exp):
        if isinstance(got, np.ndarray) and got.ndim >= 1:
            got = list(got)
        if not isinstance(got, (list, tuple)):
            return Mismatch(path, "type", f"expected a sequence of {len(exp)}, got "
                            f"{_describe_type(got)}", got, exp)
        if len(got) != len(exp):
            return Mismatch(path, "length", f"{len(got)} elements where {len(exp)} are expected",
                            got, exp)
        for i, (g, e) in enumerate(zip(got, exp)):
            m = compare(g, e, rtol, atol, scalar_ok, f"{path}[{i}]")
            if m:
                return m
        return None
    return compare_numbers(got, exp, rtol, atol, scalar_ok, path)


def compare_numbers(got: Any, exp: Any, rtol: float, atol: float, scalar_ok: bool = False,
                    path: str = "") -> Mismatch | None:
    e = _as_array(exp)
    if e is None:  # a non-numeric expected value (a string, say): plain equality
        return None if got == exp else Mismatch(path, "value", "differs", got, exp)
    g = _as_array(got)
    if g is None:
        want = "a number" if e.ndim == 0 else f"an array of shape {e.shape}"
        return Mismatch(path, "type", f"expected {want}, got {_describe_type(got)}", got, exp)
    if isinstance(exp, np.ndarray) and exp.dtype.kind in "iu":
        gk = np.asarray(got).dtype.kind
        if gk not in "iu":
            return Mismatch(path, "dtype", f"index arrays must hold integers, got dtype "
                            f"{np.asarray(got).dtype}", got, exp)
    if g.shape != e.shape:
        if g.ndim == 0 and scalar_ok:
            g = np.broadcast_to(g, e.shape)
        elif g.ndim == 2 and g.T.shape == e.shape and np.allclose(g.T, e, rtol, atol):
            return Mismatch(path, "shape", f"shape {g.shape} where {e.shape} is expected",
                            got, exp, "the result is transposed")
        else:
            diag = ""
            if g.size == e.size:
                diag = "the same numbers in the wrong shape?" if np.allclose(
                    g.reshape(e.shape), e, rtol, atol) else "wrong shape"
            return Mismatch(path, "shape", f"shape {g.shape} where {e.shape} is expected",
                            got, exp, diag)
    if g.shape == e.shape and np.array_equal(g, e):  # the common case, and the cheapest
        return None
    bad_finite = np.isfinite(e) & ~np.isfinite(g)
    if bad_finite.any():
        return Mismatch(path, "nonfinite", f"{int(bad_finite.sum())} NaN or inf value(s) where "
                        "finite ones are expected", got, exp,
                        "overflow or a division by zero? use a numerically stable form")
    close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    err = np.where(close, 0.0, np.abs(g - e))
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    where = f" (worst at index {tuple(int(i) for i in worst)})" if worst else ""
    n_bad = int((~close).sum())
    detail = (f"{n_bad} of {close.size} values differ{where}" if close.size > 1
              else "the value differs")
    return Mismatch(path, "value", detail, got, exp, diagnose_numbers(g, e, rtol, atol))


def diagnose_numbers(g: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> str:
    """Name a common slip from the numbers alone: a flipped sign or a constant factor."""
    if np.allclose(-g, e, rtol=rtol, atol=atol) and np.abs(e).max(initial=0) > atol:
        return "the sign is flipped"
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol)
    if g.ndim and bad.any() and np.allclose(-g[bad], e[bad], rtol=rtol, atol=atol):
        where = ", ".join(str(tuple(int(i) for i in ix)) if len(ix) > 1 else str(int(ix[0]))
                          for ix in np.argwhere(bad)[:6])
        return f"the sign is flipped at index {where}"
    nz = np.abs(e) > max(atol, 1e-12)
    if nz.sum() >= 1 and np.all(np.isclose(g[~nz], 0, atol=atol * 10)):
        r = g[nz] / e[nz]
        c = float(np.median(r))
        if c != 0 and np.allclose(r, c, rtol=1e-6, atol=0):
            for k in range(2, 100001):
                if abs(c * k - 1) < 1e-6:
                    return (f"off by a factor of {k}: your value is 1/{k} of the expected one "
                            "(a mean where a sum is wanted?)")
                if abs(c - k) < 1e-6 * k:
                    return (f"off by a factor of {k}: your value is {k} times the expected one "
                            "(a sum where a mean is wanted, or a doubled term?)")
                if k > 2000:
                    break
    return ""


def same_entries_reordered(got: Any, exp: Any) -> bool:
    """True when ``got`` holds exactly the integer entries of ``exp`` (arrays or lists of
    them), flattened, in another order or split: a shuffled draw that is not the one
    expected, say.  What that means is the assignment's to say (``Case.reordered``)."""
    try:
        if not isinstance(exp, (list, tuple)) or not isinstance(got, (list, tuple, np.ndarray)):
            return False
        ge = np.concatenate([np.asarray(x).ravel() for x in exp])
        gg = np.concatenate([np.asarray(x).ravel() for x in got])
    except (ValueError, TypeError):
        return False
    if ge.dtype.kind not in "iu" or gg.shape != ge.shape:
        return False
    return bool(np.array_equal(np.sort(gg), np.sort(ge)) and not np.array_equal(gg, ge))
