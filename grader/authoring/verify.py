"""``grade verify``: what a course's CI checks on every push, for every assignment.

- the reference scores full marks; the stubs score zero on every item;
- the committed exercises are what ``grade assign`` would write (no drift; expected
  values within rtol ``DRIFT_RTOL`` = 1e-12, atol 1e-14, so BLAS kernels' noise passes);
- a notebook grades the same as the ``.py`` (the stubs' notebook, and the reference
  written as a notebook);
- every expected value (public and hidden) is finite;
- every derivative and gradient the declarations name agrees with central finite
  differences (step 1e-6·max(1, |x|), rtol 1e-5, atol 1e-7).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader.authoring.drift import cases_differences
from grader.course.folder import load, load_declarations, paths
from grader.course.spec import GradCheck
from grader.protocol import wire

FD_RTOL = 1e-5
FD_ATOL = 1e-7


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    assignment: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def _lost(result: Any) -> str:
    bad = [f"{i.id} {i.score:g}/{i.max_score:g} ({i.status}: {i.feedback[:100]})"
           for i in result.items if i.score < i.max_score - 1e-9]
    return "; ".join(bad[:6])


def _finite(value: Any) -> bool:
    def walk(v: Any) -> bool:
        if isinstance(v, np.ndarray):
            return v.dtype.kind not in "fc" or bool(np.isfinite(v).all())
        if isinstance(v, float):
            return math.isfinite(v)
        if isinstance(v, dict):
            return all(walk(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return all(walk(x) for x in v)
        return True

    return walk(wire.decode(value))


def central_difference(f: Callable[[np.ndarray], Any], x: np.ndarray,
                       elementwise: bool) -> np.ndarray:
    """d f / d x by central differences, step 1e-6·max(1, |x_i|)."""
    x = np.asarray(x, dtype=np.float64)
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    if elementwise:
        return (np.asarray(f(x + h), dtype=np.float64)
                - np.asarray(f(x - h), dtype=np.float64)) / (2 * h)
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h[i]
        out[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h[i])
    return out


def check_gradient(gc: GradCheck) -> tuple[bool, str]:
    x = np.asarray(gc.x, dtype=np.float64)
    try:
        got = np.broadcast_to(np.asarray(gc.df(x.copy()), dtype=np.float64), x.shape)
        fd = central_difference(gc.f, x, gc.elementwise)
    except Exception as e:  # noqa: BLE001 - a failing reference is a failed check
        return False, f"raised {type(e).__name__}: {e}"
    close = np.isclose(got, fd, rtol=FD_RTOL, atol=FD_ATOL)
    if close.all():
        return True, ""
    i = np.unravel_index(int(np.argmax(~close)), close.shape)
    return False, (f"{int((~close).sum())} of {close.size} entries disagree; at {i}: "
                   f"analytic {got[i]:.10g}, finite differences {fd[i]:.10g}")


def drifted_files(root: Path, name: str, expected: dict[Path, str]) -> list[str]:
    """The committed files that differ from what ``grade assign`` would write.

    The cases file is compared structurally (floats within ``DRIFT_RTOL``), so a BLAS
    kernel's last-bit noise is no drift; the first few differences are named.
    """
    cases = paths(root, name)["cases"]
    out = []
    for path, text in expected.items():
        rel = str(path.relative_to(root))
        if not path.exists():
            out.append(f"{rel} (missing)")
            continue
        old = path.read_text(encoding="utf-8")
        if old == text:
            continue
        if path == cases:
            diffs = cases_differences(old, text)
            if diffs:
                more = f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""
                out.append(f"{rel} ({'; '.join(diffs[:3])}{more})")
        else:
            out.append(rel)
    return out


def verify(root: Path, name: str, server: Any | None = None) -> Report:
    """Every check of the module docstring, for one assignment; each reported, none fatal."""
    from grader.api import Grader

    rep = Report(name)
    _check_drift(rep, root, name)
    with Grader(root, name, server=server) as g:
        _check_grades(rep, g, paths(root, name))
    a = load(name, root)
    bad = [pc.case.name for pc in a.public + a.hidden()
           if pc.expected is not None and not _finite(pc.expected)]
    rep.add("every expected value is finite", not bad, f"not finite: {', '.join(bad[:8])}")
    _check_derivatives(rep, root, name)
    return rep


def _check_drift(rep: Report, root: Path, name: str) -> None:
    from grader.authoring.assign import expected_files

    try:
        drift = drifted_files(root, name, expected_files(root, name))
        rep.add("exercises match the solutions (no drift)", not drift,
                f"differs: {'; '.join(drift)}; run `grade assign {name}`" if drift else "")
    except Exception as e:  # noqa: BLE001 - reported, the other checks still run
        rep.add("exercises match the solutions (no drift)", False, f"{type(e).__name__}: {e}")


def _check_grades(rep: Report, g: Any, p: dict[str, Path]) -> None:
    """The reference full, the stubs zero, and notebooks graded as their .py."""
    from grader.authoring.notebook import make_notebook, notebook_text

    name = g.assignment.name
    ref = g.grade(p["reference"])
    rep.add("the reference scores full marks", ref.full_marks,
            f"{ref.score:g}/{ref.max_score:g}: {_lost(ref)}")
    stub = g.grade(p["stub"])
    nonzero = [i.id for i in stub.items if i.score > 0]
    rep.add("the stubs score zero on every item", not nonzero,
            f"items with points: {', '.join(nonzero)}" if nonzero else "")
    if p["notebook"].exists():
        nb_stub = g.grade(p["notebook"])
        same = [(i.id, i.score, i.status) for i in nb_stub.items] == \
            [(i.id, i.score, i.status) for i in stub.items]
        rep.add("the stub notebook grades the same as the stub .py", same)
    with tempfile.TemporaryDirectory() as tmp:
        nb_path = Path(tmp) / f"{name}.ipynb"
        source = p["reference"].read_text(encoding="utf-8-sig")
        nb_path.write_text(notebook_text(make_notebook(source, name=name)), encoding="utf-8")
        nb_ref = g.grade(nb_path)
        rep.add("the reference as a notebook grades the same as the .py",
                [(i.id, i.score) for i in nb_ref.items] == [(i.id, i.score) for i in ref.items],
                f"{nb_ref.score:g}/{nb_ref.max_score:g}: {_lost(nb_ref)}")


def _check_derivatives(rep: Report, root: Path, name: str) -> None:
    decl = load_declarations(root, name)
    checks = list(decl.gradient_checks()) if hasattr(decl, "gradient_checks") else []
    failed = []
    for gc in checks:
        ok, why = check_gradient(gc)
        if not ok:
            failed.append(f"{gc.name}: {why}")
    if checks:  # an assignment without derivatives declares none, and has none to check
        rep.add(f"derivatives agree with central finite differences ({len(checks)} checks)",
                not failed, "; ".join(failed[:5]))
