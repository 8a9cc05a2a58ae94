"""A submission's source compiled in the judge, so the runner only unmarshals it.

Compiling is pure: it runs none of the code (CPython raises on what is too deep or too
large, and sources over :data:`COMPILE_LIMIT` are left to the runner).  Doing it in the
judge, a warm process, costs a third of what it costs in a freshly forked runner, where
every page the compiler writes is first copied; a ``.py`` file with a syntax error is
reported without starting a runner at all.  The runner accepts the code objects only
from the judge, and only when its Python's bytecode is the same (``MAGIC``); otherwise it
compiles the source itself, as it does a notebook cell that failed to compile here.

A unit is ``(line offset, label, code)``: a ``.py`` file is one unit, a notebook one per
cell (the reader marks cells with ``# cell N`` lines).
"""

from __future__ import annotations

import importlib.util
import marshal
import warnings
from types import CodeType
from typing import Any

COMPILE_LIMIT = 512 * 1024  # characters of source the judge compiles; larger: the runner
MAGIC = importlib.util.MAGIC_NUMBER


def cells(code: str, per_cell: bool) -> list[tuple[int, str, str]]:
    """Split a notebook's joined code at its ``# cell N`` lines: (line offset, label, code)."""
    if not per_cell:
        return [(0, "", code)]
    out: list[tuple[int, str, str]] = []
    lines = code.split("\n")
    start, label = 0, "the notebook"
    for i, line in enumerate(lines):
        if line.startswith("# cell ") and line[7:].strip().isdigit():
            if i > start:
                out.append((start, label, "\n".join(lines[start:i])))
            start, label = i, f"cell {line[7:].strip()}"
    out.append((start, label, "\n".join(lines[start:])))
    return out


def compile_unit(offset: int, code: str, filename: str) -> CodeType | dict[str, Any]:
    """A unit's code object, or the error that stops it compiling, as data."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are the student's, not ours
            return compile("\n" * offset + code, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        line = getattr(e, "lineno", None)
        return {"type": type(e).__name__, "line": line, "column": getattr(e, "offset", None),
                "message": f"{getattr(e, 'msg', e)} (line {line})"}


def compile_source(code: str, filename: str) -> list[list[Any]] | None:
    """Every unit of a submission as [offset, label, marshalled code or None, error or
    None], for the ``load`` message; None when the source is too large to compile here."""
    if len(code) > COMPILE_LIMIT:
        return None
    units: list[list[Any]] = []
    for offset, label, chunk in cells(code, filename.endswith(".ipynb")):
        got = compile_unit(offset, chunk, filename)
        if isinstance(got, dict):
            units.append([offset, label, None, got])
        else:
            units.append([offset, label, marshal.dumps(got), None])
    return units


def load_units(msg: dict[str, Any], code: str, filename: str) -> list[tuple[str, Any]]:
    """In the runner: (label, code object or error dict) for each unit of a ``load``
    message, from the judge's code objects where it sent them for this Python."""
    units = msg.get("compiled")
    if isinstance(units, list) and msg.get("magic") == MAGIC:
        try:
            return [(str(label), marshal.loads(data) if data is not None else dict(error))
                    for _offset, label, data, error in units]
        except (TypeError, ValueError, EOFError):
            pass  # not what the judge sends: compile here
    return [(label, compile_unit(offset, chunk, filename))
            for offset, label, chunk in cells(code, filename.endswith(".ipynb"))]
