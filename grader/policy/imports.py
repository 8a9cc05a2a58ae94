"""CSV imports of what the platform does not grade (reading, Ed posts, attendance, the
final project): the id column, the columns that count (renamed by the mapping), each one's
maximum.  An empty cell is missing (0 unless excused); ``EX`` excuses it (Canvas's mark).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UsageError
from grader.policy.components import Import

EXCUSED = ("ex", "excused")
SKIP_IDS = ("points possible",)     # Canvas's second row


@dataclass
class Marks:
    """One import's entries and every student's mark on each (None: missing)."""

    name: str
    path: Path
    entries: list[str]
    maxima: dict[str, float]
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)
    excused: dict[str, set[str]] = field(default_factory=dict)


def _table(path: Path, name: str) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    except FileNotFoundError:
        raise UsageError(f"import {name}: {path} does not exist: export it from the LMS, or "
                         f"give it with --import {name}=FILE") from None
    except OSError as e:
        raise UsageError(f"import {name}: cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"import {name}: {path} is not UTF-8: save it as UTF-8 CSV") from None


def _columns(imp: Import, head: list[str], path: Path) -> dict[int, str]:
    """Column index -> entry name, from the mapping or the pattern."""
    where = {h.strip(): i for i, h in enumerate(head)}
    out = {}
    for csv_name, entry in imp.columns.items():
        if csv_name not in where:
            raise UsageError(f"import {imp.name}: {path} has no column {csv_name!r} (it has: "
                             f"{', '.join(head)}): fix imports.{imp.name}.columns")
        out[where[csv_name]] = entry
    if imp.pattern:
        rx = re.compile(imp.pattern)
        out.update({i: h.strip() for i, h in enumerate(head)
                    if rx.search(h.strip()) and i not in out})
        if not out:
            raise UsageError(f"import {imp.name}: no column of {path} matches "
                             f"{imp.pattern!r}: fix imports.{imp.name}.pattern")
    return out


def read_import(imp: Import, path: Path | None = None) -> Marks:
    """Read one import (``path`` overrides the file course.toml names)."""
    path = Path(path or imp.file)
    table = _table(path, imp.name)
    if not table:
        raise UsageError(f"import {imp.name}: {path} is empty")
    head = table[0]
    ids = [h.strip() for h in head]
    if imp.id not in ids:
        raise UsageError(f"import {imp.name}: {path} has no id column {imp.id!r} (it has: "
                         f"{', '.join(head)}): fix imports.{imp.name}.id")
    col = ids.index(imp.id)
    cols = _columns(imp, head, path)
    marks = Marks(imp.name, path, list(cols.values()),
                  {e: imp.max.get(e, imp.max.get(head[i].strip(), imp.max["*"]))
                   for i, e in cols.items()})
    for n, row in enumerate(table[1:], start=2):
        sid = row[col].strip() if col < len(row) else ""
        if not sid or sid.lower() in SKIP_IDS:
            continue
        mine = marks.scores.setdefault(sid, {})
        for i, entry in cols.items():
            cell = row[i].strip() if i < len(row) else ""
            if cell.lower() in EXCUSED:
                marks.excused.setdefault(sid, set()).add(entry)
                mine[entry] = None
            else:
                mine[entry] = _number(cell, f"import {imp.name}: {path}, line {n}, "
                                            f"column {head[i]!r}")
    return marks


def _number(cell: str, where: str) -> float | None:
    if not cell:
        return None
    try:
        return float(cell)
    except ValueError:
        raise UsageError(f"{where}: {cell!r} is not a number (leave it empty for missing, "
                         "EX for excused)") from None
