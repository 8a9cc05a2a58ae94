"""A submission that does not load, as one :class:`~grader.result.LoadError`.

A syntax error, an exception or ``sys.exit`` at import, an import that does not finish,
a crash: the file never ran, so no item was graded.  That is said once (with the
offending source line and a caret under the place), and every item says it was not
graded, instead of the same error on every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.result import NOT_LOADED, CaseResult
from grader.sandbox.session import clean_error

IMPORT_LIMIT = 10.0  # seconds an import may take before it is stopped


@dataclass
class LoadError:
    """Why the whole file did not load (the judge's view; a Result carries its fields)."""

    kind: str                 # syntax | exception | timeout | exited
    message: str              # one line
    line: int | None = None   # 1-based, in the submission's code
    source: str = ""          # that line of the submission
    column: int | None = None  # 1-based column of the caret under ``source``
    details: str = ""         # the submission's own frames, for an exception


def load_fields(error: LoadError | None) -> dict[str, Any]:
    """The :class:`~grader.result.Result` fields that say why the file did not load."""
    if error is None:
        return {}
    return {"load_error": error.message, "load_kind": error.kind, "load_line": error.line,
            "load_source": error.source, "load_column": error.column}


def load_error(kind: str, error: Any, code: str, limit: float = IMPORT_LIMIT) -> LoadError:
    """The LoadError of ``kind`` (syntax | exception | timeout | exited) from the runner's
    or the compiler's error report, with the submission's line under it."""
    err = clean_error(error)
    line = err.get("line") if isinstance(err.get("line"), int) else None
    if line:  # the compiler's message names the line too: once is enough
        err["message"] = err["message"].removesuffix(f" (line {line})")
    where = f" at line {line}" if line else ""
    if kind == "syntax":
        text = f"the submission has a syntax error{where}: {err.get('type')}: {err.get('message')}"
    elif kind == "timeout":
        text = (f"importing the submission took over {limit:g} s and was stopped{where} "
                "(an infinite loop or heavy work at module level?)")
    elif kind == "exited":
        text = ("the submission exited or crashed while being imported "
                "(os._exit, sys.exit, or the memory limit at module level?)")
    else:
        text = f"the submission fails to import{where}: {err.get('type')}: {err.get('message')}"
    source, column = "", None
    lines = code.splitlines()
    if line and 0 < line <= len(lines):
        raw = lines[line - 1]
        source = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        col = err.get("column")
        column = (max(1, min(int(col) - indent, len(source) + 1))
                  if isinstance(col, int) and col > 0 else 1)
    return LoadError(kind, text.splitlines()[0][:500], line, source[:300], column,
                     err.get("traceback", ""))


def not_loaded(name: str, visibility: str, error: LoadError) -> CaseResult:
    """What a case says when the file did not load."""
    return CaseResult(name, visibility, False, NOT_LOADED,
                      status="timeout" if error.kind == "timeout" else "error", check="load")


def caret_lines(source: str, column: int | None, indent: str = "    ") -> list[str]:
    """A source line and a caret under ``column`` (1-based), for text renderers."""
    if not source:
        return []
    return [indent + source, indent + " " * ((column or 1) - 1) + "^"]
