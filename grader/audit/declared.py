"""What an assignment declares about its mutants, in ``solutions/NAME_mutants.py``.

- ``SLIPS``: the misconceptions its diagnoses name, as source-level edits of the
  reference (:class:`Slip`: in ``function``'s solution body, ``find`` becomes
  ``replace``); each becomes a mutant the audit grades like the operators' ones.
- ``EQUIVALENT``: mutants that behave as the reference on every valid input, by id,
  each with a one-line reason (a dict ``{id: reason}``); the audit reports them apart.

The file is optional: without it there are no slips and no equivalents.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from grader.audit.mutants import Mutant, graded_functions, one_line
from grader.errors import AuthoringError

__all__ = ["Declarations", "Slip", "declarations_path", "load_declarations", "slip_mutants"]


class Slip(NamedTuple):
    """A misconception as an edit: in ``function``'s body, ``find`` (once) → ``replace``."""

    function: str
    name: str
    find: str
    replace: str


@dataclass
class Declarations:
    slips: list[Slip] = field(default_factory=list)
    equivalent: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def declarations_path(root: Path, name: str) -> Path:
    return root / "solutions" / f"{name}_mutants.py"


def load_declarations(root: Path, name: str) -> Declarations:
    """Read ``solutions/NAME_mutants.py`` (absent: nothing declared); bad entries are errors."""
    from grader.course.folder import import_path

    path = declarations_path(root, name)
    if not path.exists():
        return Declarations()
    mod = import_path(path, f"_grader_mutants_{name}")
    slips = list(getattr(mod, "SLIPS", []))
    equivalent = getattr(mod, "EQUIVALENT", {})
    rel = f"solutions/{path.name}"
    if not isinstance(equivalent, dict):
        raise AuthoringError(f"{rel}: EQUIVALENT must be a dict {{mutant id: reason}}")
    for key, reason in equivalent.items():
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise AuthoringError(f"{rel}: equivalent mutant {key!r} needs a one-line reason")
    for s in slips:
        if not isinstance(s, Slip):
            raise AuthoringError(f"{rel}: SLIPS holds {type(s).__name__}, not Slip(...)")
    return Declarations(slips, {str(k): v.strip() for k, v in equivalent.items()}, path)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "slip"


def slip_mutants(source: str, slips: list[Slip], regions: list[tuple[int, int]],
                 filename: str) -> list[Mutant]:
    """One mutant per declared slip; ``find`` must occur once in the function's solution."""
    tree = ast.parse(source)
    fns = graded_functions(tree, {s.function for s in slips})
    lines = source.splitlines(keepends=True)
    out = []
    for s in slips:
        fn = fns.get(s.function)
        region = next(((lo, hi) for lo, hi in regions if fn is not None
                       and fn.lineno < lo and hi <= (fn.end_lineno or 0) + 1), None)
        if fn is None or region is None:
            raise AuthoringError(f"slip {s.name!r}: {s.function} is no graded function with "
                                 f"a solution body in {filename}")
        lo, hi = region
        start = sum(len(x) for x in lines[:lo])
        body = "".join(lines[lo:hi - 1])
        if body.count(s.find) != 1:
            n = body.count(s.find)
            raise AuthoringError(f"slip {s.name!r}: {s.find!r} occurs {n} times in "
                                 f"{s.function}'s solution; it must occur exactly once")
        at = start + body.index(s.find)
        mutated = source[:at] + s.replace + source[at + len(s.find):]
        try:
            ast.parse(mutated)
        except SyntaxError as e:
            raise AuthoringError(f"slip {s.name!r}: the edit does not parse ({e.msg})") \
                from None
        line = source.count("\n", 0, at) + 1
        ls = source.rfind("\n", 0, at) + 1
        le = source.find("\n", at + len(s.find))
        le = len(source) if le < 0 else le
        new_end = le - len(s.find) + len(s.replace)
        out.append(Mutant(f"{s.function}:slip:{_slug(s.name)}", s.function, "declared slip",
                          line, one_line(source[ls:le]), one_line(mutated[ls:new_end]),
                          mutated, origin="declared", name=s.name))
    return out
