"""``grade ASSIGNMENT --show-case NAME``: a public case as Python a student can paste.

The snippet rebuilds the case's inputs exactly (every float at full precision, a
Generator with its state, a DataFrame with its columns), calls the function and
prints what it returned beside the expected value.  A callable the grader passes
(``grad``, ...) becomes a function answering the calls the reference made on this
case, from the case's tape: the grader's own code is not in a student's copy.
Public cases only; nothing here runs the student's code.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import numpy as np

from grader.course.spec import Assignment, PreparedCase
from grader.errors import UsageError
from grader.protocol import wire


def find_case(assignment: Assignment, name: str) -> PreparedCase:
    """The public case called ``name`` or ``ITEM / NAME`` (as grade's details head it):
    exactly, ignoring case, else the one case whose name contains it; a one-line error
    naming some cases otherwise."""
    cases = assignment.public
    item, _, rest = name.partition("/")
    if rest and any(pc.case.item == item.strip() for pc in cases):
        cases, name = [pc for pc in cases if pc.case.item == item.strip()], rest
    wanted = name.strip().lower()
    exact = [pc for pc in cases if pc.case.name.lower() == wanted]
    near = exact or [pc for pc in cases if wanted and wanted in pc.case.name.lower()]
    if len(near) == 1:
        return near[0]
    if near:
        some = "; ".join(f"'{pc.case.item} / {pc.case.name}'" for pc in near[:3])
        raise UsageError(f"{name.strip()!r} matches {len(near)} public cases ({some}): say "
                         "which, as 'ITEM / NAME' in quotes")
    some = "; ".join(repr(pc.case.name) for pc in cases[:4])
    raise UsageError(f"{assignment.name} has no public case {name!r}: copy a case's name from "
                     f"grade's details (for example {some})")


def _float(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(x)


def _nested(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return _float(x) if isinstance(x, float) else repr(x)


class _Writer:
    """Python source for decoded values; setup statements (generators, callables) aside."""

    def __init__(self, pc: PreparedCase) -> None:
        self.pc = pc
        self.setup: list[str] = []
        self.pandas = False
        self.rngs = 0

    def expr(self, v: Any) -> str:
        if isinstance(v, float):
            return _float(v)
        if isinstance(v, np.ndarray):
            body = _nested(v.tolist()) if v.ndim else _nested(v.item())
            if v.dtype.kind in "OUS":  # text columns (a DataFrame's): numpy infers them
                return f"np.array({body}, dtype=object)"
            return f"np.array({body}, dtype=np.{v.dtype.name})"
        if isinstance(v, np.generic):
            return self.expr(v.item())
        if isinstance(v, tuple):
            return "(" + ", ".join(self.expr(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, list):
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{self.expr(k)}: {self.expr(x)}" for k, x in v.items()) + "}"
        if isinstance(v, np.random.Generator):
            return self._generator(v)
        if isinstance(v, wire.RemoteCallable):
            return self._callable(v.name)
        if type(v).__name__ == "DataFrame":
            self.pandas = True
            cols = ", ".join(f"{c!r}: {self.expr(np.asarray(v[c]))}" for c in v.columns)
            return f"pd.DataFrame({{{cols}}})"
        return repr(v)

    def _generator(self, g: np.random.Generator) -> str:
        self.rngs += 1
        name = "rng" if self.rngs == 1 else f"rng{self.rngs}"
        kind = type(g.bit_generator).__name__
        self.setup += [f"{name} = np.random.Generator(np.random.{kind}())",
                       f"{name}.bit_generator.state = {g.bit_generator.state!r}"]
        return name

    def _callable(self, name: str) -> str:
        calls = [wire.decode(t["args"]) + [wire.decode(t["value"])]
                 for t in self.pc.tape if t["name"] == name]
        known = ", ".join(f"({self.expr(tuple(a))}, {self.expr(v)})" for a, _k, v in calls)
        self.setup += [
            f"_{name}_calls = [{known}]  # the calls the reference made on this case",
            "",
            f"def {name}(*args):",
            f'    """The grader\'s {name}, answering the points the reference\'s path visits."""',
            f"    for known, value in _{name}_calls:",
            "        if len(known) == len(args) and all(np.allclose(a, k, rtol=1e-9, atol=1e-12)",
            "                                           for a, k in zip(args, known)):",
            "            return np.array(value, copy=True)",
            f"    raise ValueError('{name}: the reference never asks for this point, so your "
            "path has left the expected one')",
            ""]
        return name


def parameter_names(stub: Path, func: str) -> list[str]:
    """The parameters of ``func`` as the stub declares them ([] if it cannot tell)."""
    try:
        tree = ast.parse(stub.read_text(encoding="utf-8-sig"))
    except (OSError, SyntaxError, ValueError):
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == func:
            return [a.arg for a in node.args.args]
    return []


def case_snippet(assignment: Assignment, pc: PreparedCase, stub: Path) -> str:
    """The paste-able Python source of the public case ``pc``."""
    c = pc.case
    w = _Writer(pc)
    dec = wire.Decoder(allow_dataframe=True)
    args, kwargs = dec.decode(pc.args), dec.decode(pc.kwargs)
    names = parameter_names(stub, c.func)
    lines, call = [], []
    for i, a in enumerate(args):
        var = names[i] if i < len(names) else f"arg{i}"
        value = w.expr(a)
        if value != var:
            lines.append(f"{var} = {value}")
        call.append(var)
    call += [f"{k}={w.expr(v)}" for k, v in kwargs.items()]
    head = [f"# {assignment.name}, public case {c.name!r} (item {c.item}).",
            "# Paste it below your functions (a new notebook cell), or run it as a file",
            f"# next to {stub.name} (keep the import then).",
            "import numpy as np"] + (["import pandas as pd"] if w.pandas else [])
    head += [f"from {assignment.module} import {c.func}  # not needed in the notebook", ""]
    body = lines + [f"result = {c.func}({', '.join(call)})", 'print("returned:", result)']
    if pc.expected is not None:
        body += [f"expected = {w.expr(wire.decode(pc.expected))}",
                 'print("expected:", expected)']
    else:
        body.append("# this case checks a property of the result rather than one value")
    note = [f"# {line}" for line in c.note.splitlines()] if c.note else []
    return "\n".join(head + w.setup + body + note) + "\n"


def show_case(assignment: str, case: str, course: Path | None = None) -> str:
    """``grade ASSIGNMENT --show-case CASE``: the snippet of that public case."""
    from grader.api import load_assignment
    from grader.course.files import paths

    a = load_assignment(assignment, course, public_only=True)
    return case_snippet(a, find_case(a, case), paths(a.root, a.name)["stub"])
