"""Read a student's submission (a ``.py`` file or a ``.ipynb`` notebook) into source code.

This module only reads and checks: it never runs the code. A notebook is read
with plain :mod:`json` and a few structural checks (importing ``nbformat``
would cost more than the whole read), its code cells joined in order, each
preceded by a ``# cell N`` line so a traceback can be traced to its cell.
IPython lines (magics, shell escapes, ``get_ipython()``) are removed from their
cells and the rest kept, with a note for the student; a cell in another
language (``%%bash``, ...) is left out.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.errors import SubmissionError
from grader.result import Note

__all__ = ["DEFAULT_MAX_BYTES", "Source", "load_source"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""The largest submission read (5 MB): far more than any homework's code."""

_BOM = "\ufeff"
_ESCAPE_LINE = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)
_GET_IPYTHON = re.compile(r"\bget_ipython\s*\(")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")   # PEP 263


@dataclass(frozen=True, kw_only=True)
class Source:
    """A submission read into Python source code for the runner.

    ``code`` is the source to execute, ``filename`` the name to show the student,
    ``notes`` what the student should be told about how it was read (such as
    skipped notebook cells), ``kind`` the submission's format.
    """

    code: str
    filename: str
    notes: list[Note] = field(default_factory=list)
    kind: Literal["py", "ipynb"]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _read_text(path: Path, max_bytes: int) -> str:
    """The file's text: checked to exist, to fit the cap, and to be UTF-8 text; BOM removed."""
    name = path.name
    if not path.exists():
        raise SubmissionError(
            f"{path}: no such file: check the file name and run grade from the folder that "
            "holds your homework"
        )
    if not path.is_file():
        raise SubmissionError(f"{path}: not a file: give the path of your .py or .ipynb file")
    suffix = path.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        raise SubmissionError(
            f"{name} is not a .py file or a .ipynb notebook: submit your homework's "
            ".py file or its notebook"
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SubmissionError(_too_large(name, size, max_bytes, suffix))
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise SubmissionError(
            f"{name}: cannot read it ({exc.strerror}): check its permissions"
        ) from None
    if len(data) > max_bytes:
        raise SubmissionError(_too_large(name, len(data), max_bytes, suffix))
    if b"\x00" in data:
        raise SubmissionError(
            f"{name} is a binary file, not text: submit the {suffix} file you wrote your code in"
        )
    encoding = _declared_encoding(data, name) if suffix == ".py" else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        said = "UTF-8 text" if encoding == "utf-8" else f"{encoding}, as its coding line says"
        raise SubmissionError(
            f"{name} is not {said} (byte 0x{data[exc.start]:02x} on line {line}): "
            "save it with UTF-8 encoding in your editor"
        ) from None
    text = text.removeprefix(_BOM)
    if not text.strip():
        raise SubmissionError(f"{name} is an empty file: nothing to grade; save your work first")
    return text


def _declared_encoding(data: bytes, name: str) -> str:
    """The encoding a ``.py`` file declares in a PEP 263 coding line (``# -*- coding:
    latin-1 -*-`` in its first two lines), as Python itself reads it; UTF-8 without one."""
    import codecs

    for line in data.splitlines()[:2]:
        found = _CODING.match(line)
        if found is None:
            if line.strip() and not line.lstrip().startswith(b"#"):
                break   # PEP 263: the second line counts only after a comment or blank
            continue
        declared = found.group(1).decode("ascii")
        try:
            encoding = codecs.lookup(declared).name
        except LookupError:
            raise SubmissionError(
                f"{name} declares an unknown encoding ({declared}) in its coding line: fix "
                "or remove that line and save the file with UTF-8 encoding"
            ) from None
        return "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
    return "utf-8"


def _too_large(name: str, size: int, max_bytes: int, suffix: str) -> str:
    what = (
        "clear the notebook's outputs and save it"
        if suffix == ".ipynb"
        else "submit only your code, without data"
    )
    return (
        f"{name} is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit "
        f"for a submission: {what}"
    )


_PYTHON_BODY = {"time", "timeit", "capture", "prun", "debug"}  # cell magics over Python


def _shown(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 40 else line[:37] + "..."


def _without_ipython(code: str) -> tuple[str, list[str]] | None:
    """``code`` with its IPython lines (magics, shell escapes, ``get_ipython()``) made
    ``pass`` at the same indentation (so line numbers hold), and those lines; None when
    the cell is not Python at all (a cell magic such as ``%%bash``).

    A line starting with ``%`` or ``!`` counts only when the cell does not parse as
    Python, as in IPython itself: ``% b`` continuing a bracketed expression, or a
    line inside a string, is plain Python.
    """
    escapes = _ESCAPE_LINE.search(code) is not None
    if escapes:
        try:
            ast.parse(code)
            escapes = False
        except (SyntaxError, ValueError):
            pass
    if not escapes and not _GET_IPYTHON.search(code):
        return code, []
    lines = code.split("\n")
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if escapes and first.startswith("%%") and first[2:].split(" ")[0] not in _PYTHON_BODY:
        return None
    removed: list[str] = []
    for i, line in enumerate(lines):
        bare = line.lstrip()
        if (escapes and bare[:1] in ("%", "!")) or _GET_IPYTHON.search(line):
            removed.append(_shown(line))
            lines[i] = line[:len(line) - len(bare)] + "pass"
    return "\n".join(lines), removed


def _corrupt(name: str, problem: str) -> SubmissionError:
    return SubmissionError(
        f"{name} is not a valid notebook ({problem}): open it in Jupyter and save it again, "
        "or submit your code as a .py file"
    )


def _cell_source(cell: dict[str, Any], number: int, name: str) -> str:
    source = cell["source"]
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise _corrupt(name, f"cell {number}'s source is not text")


def _notebook_code(text: str, name: str) -> tuple[str, list[Note]]:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _corrupt(
            name, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise _corrupt(name, "JSON nested too deeply") from None
    if not isinstance(notebook, dict):
        raise _corrupt(name, "no 'cells' list")
    version = notebook.get("nbformat")
    if isinstance(version, int) and version < 4:
        raise SubmissionError(
            f"{name} is in the old notebook format {version}: open it in Jupyter and save it "
            "(that converts it to format 4), or submit your code as a .py file"
        )
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise _corrupt(name, "no 'cells' list")

    parts: list[str] = []
    notes: list[Note] = []
    code_cells = 0
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise _corrupt(name, f"cell {number} is not an object")
        kind = cell.get("cell_type")
        if not isinstance(kind, str):
            raise _corrupt(name, f"cell {number} has no cell_type")
        if "source" not in cell:
            raise _corrupt(name, f"cell {number} has no source")
        code = _cell_source(cell, number, name)
        if kind != "code":
            continue
        code_cells += 1
        if not code.strip():
            continue
        cleaned = _without_ipython(code)
        if cleaned is None:
            notes.append(Note(
                "notebook", f"cell {number} skipped: {_shown(code.strip().splitlines()[0])} "
                "makes it a cell of another language; move code that must be graded into a "
                "plain cell"))
            continue
        code, removed = cleaned
        if removed:
            notes.append(Note(
                "notebook", f"cell {number}: IPython line{'s' * (len(removed) > 1)} removed "
                f"({', '.join(removed[:3])}{', ...' if len(removed) > 3 else ''}); the rest "
                "of the cell was graded"))
        parts.append(f"# cell {number}\n{code}" + ("" if code.endswith("\n") else "\n"))
    if code_cells == 0:
        raise SubmissionError(f"{name} has no code cells: nothing to grade; save your work first")
    return "\n".join(parts), notes


def load_source(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Read the submission at ``path`` into a :class:`Source`.

    A ``.py`` file is taken as it is (a UTF-8 BOM removed). A ``.ipynb`` notebook's
    code cells are joined in order, each after a ``# cell N`` line (``N`` counting
    all cells from 1); IPython magics, shell escapes and ``get_ipython()`` lines are
    removed from their cells (the rest kept) with a note. Markdown and raw cells and all
    outputs are ignored.

    Raises :class:`~grader.errors.SubmissionError` with a one-line message when the
    file is missing, neither ``.py`` nor ``.ipynb``, over ``max_bytes``, binary,
    not UTF-8, empty, or a corrupt notebook.
    """
    text = _read_text(path, max_bytes)
    if path.suffix.lower() == ".py":
        return Source(code=text, filename=path.name, kind="py")
    code, notes = _notebook_code(text, path.name)
    return Source(code=code, filename=path.name, kind="ipynb", notes=notes)
