"""The student's notebook from the instructor's percent-cell source: cells split at
``# %%`` markers (markdown cells uncommented), one ``check()`` cell after each item's
cells, written as nbformat 4 with stable cell ids."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["CHECK_COMMENT", "Cell", "make_notebook", "notebook_text", "split_cells"]

_CELL_HEADER = re.compile(r"#\s?%%(?:\s(?P<rest>.*))?")
_MARKDOWN_TAG = re.compile(r"\[(?:markdown|md)\]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CELL_ID_INVALID = re.compile(r"[^a-zA-Z0-9_-]+")


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class Cell:
    """One notebook cell of a percent-format source.

    ``source`` has no ``# %%`` line; a markdown cell's source has its ``# ``
    comment prefixes removed.
    """

    kind: Literal["markdown", "code"]
    source: str


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.startswith("#"):
        return line[1:]
    return line


def _finish_cell(kind: Literal["markdown", "code"], lines: list[str]) -> Cell | None:
    if kind == "markdown":
        lines = [_uncomment(line) for line in lines]
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    return Cell(kind, "\n".join(lines))


def split_cells(source: str) -> list[Cell]:
    """Split a percent-format source into cells.

    ``# %% [markdown]`` (or ``[md]``) starts a markdown cell, any other ``# %%``
    line (optionally with a title) a code cell; text before the first ``# %%``
    line is a code cell. Leading and trailing blank lines of each cell are
    stripped and cells left empty are dropped. Line breaks become ``\\n``.
    """
    cells: list[Cell] = []
    kind: Literal["markdown", "code"] = "code"
    current: list[str] = []
    for line in _LINE_BREAK.split(source):
        header = _CELL_HEADER.fullmatch(line.rstrip())
        if header is None:
            current.append(line)
            continue
        cell = _finish_cell(kind, current)
        if cell is not None:
            cells.append(cell)
        rest = header.group("rest") or ""
        kind = "markdown" if _MARKDOWN_TAG.search(rest) else "code"
        current = []
    cell = _finish_cell(kind, current)
    if cell is not None:
        cells.append(cell)
    return cells


# --------------------------------------------------------------------------- notebooks


def _cell_id(name: str, index: int) -> str:
    suffix = f"-{index:02d}"
    stem = _CELL_ID_INVALID.sub("-", name).strip("-") or "cell"
    return stem[: 64 - len(suffix)] + suffix


def make_notebook(stub_source: str, *, name: str,
                  checks: Sequence[tuple[str, Sequence[str]]] = ()) -> NotebookNode:
    """Build the student's notebook (nbformat 4.5) from a stub's cells.

    ``checks`` are the items as (id, functions): after the last cell that defines one
    of an item's functions comes a cell running ``check(item)`` on the cells so far.
    Cell ids are ``f"{name}-{index:02d}"`` (``name`` cleaned to the characters
    nbformat allows), so the notebook is the same every time. Code cells have no
    outputs and no execution count; the kernel is ``python3``.
    """
    from nbformat import v4

    notebook = v4.new_notebook(
        nbformat_minor=5,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    cells = split_cells(stub_source)
    after = _check_positions(cells, checks)
    for index, cell in enumerate(cells):
        kind = v4.new_markdown_cell if cell.kind == "markdown" else v4.new_code_cell
        notebook.cells.append(kind(cell.source, id=_cell_id(name, len(notebook.cells))))
        for item in after.get(index, []):
            notebook.cells.append(v4.new_code_cell(
                f"{CHECK_COMMENT}\nfrom grader import check\n\n"
                f"check({json.dumps(item)}, {json.dumps(name)})",
                id=_cell_id(name, len(notebook.cells))))
    return notebook


CHECK_COMMENT = "# Check this item on its public cases (the cells run so far):"


def _check_positions(cells: Sequence[Cell],
                     checks: Sequence[tuple[str, Sequence[str]]]) -> dict[int, list[str]]:
    """Index of the cell after which each item's check() cell goes: the last code cell
    that defines one of its functions (items whose functions no cell defines: none)."""
    defined: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell.kind != "code":
            continue
        for match in re.finditer(r"^def (\w+)\(", cell.source, flags=re.M):
            defined[match.group(1)] = index
    out: dict[int, list[str]] = {}
    for item, functions in checks:
        where = [defined[f] for f in functions if f in defined]
        if where:
            out.setdefault(max(where), []).append(item)
    return out


def notebook_text(nb: NotebookNode) -> str:
    """Serialize ``nb`` deterministically: ``nbformat.writes`` plus a final newline."""
    import nbformat

    return nbformat.writes(nb) + "\n"


