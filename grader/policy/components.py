"""The ``[grade]`` and ``[imports]`` parts of ``course.toml``: the grade's nested components
with their weights, drop-lowest and sources, the letter cutoffs, and the CSV imports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.policy.config import Component, Course, Import, _Reader

WEIGHT_TOLERANCE = 1e-6
COMPONENT_KEYS = ("weight", "assignments", "import", "drop_lowest", "components")


def read_imports(r: _Reader, data: dict[str, Any], root: Path) -> dict[str, Import]:
    from grader.policy.config import Import

    out = {}
    for name, d in r.table(data.get("imports", {}), "imports").items():
        key = f"imports.{name}"
        d = r.table(d, key, ("file", "id", "columns", "pattern", "max"))
        file = root / r.text_(d, key, "file")
        cols = d.get("columns", [])
        if isinstance(cols, list) and all(isinstance(c, str) for c in cols):
            columns = {c: c for c in cols}
        elif isinstance(cols, dict) and all(isinstance(v, str) for v in cols.values()):
            columns = dict(cols)
        else:
            raise r.fail(f"{key}.columns", "must be a list of column names or a table "
                                           "\"CSV column\" = \"entry\"")
        pattern = str(d.get("pattern", ""))
        if not columns and not pattern:
            raise r.fail(key, "give columns = [...] or pattern = \"REGEX\" (the columns "
                              "that count)")
        try:
            re.compile(pattern)
        except re.error as e:
            raise r.fail(f"{key}.pattern", f"is not a regular expression ({e})") from None
        out[name] = Import(name, file, r.text_(d, key, "id", "id"), columns,
                           _maxima(r, d, key), pattern)
    return out


def _maxima(r: _Reader, d: dict[str, Any], key: str) -> dict[str, float]:
    """``max = 10`` (every column, key ``*``) or a table of maxima per column."""
    m = d.get("max", 1)
    if isinstance(m, dict):
        out = {str(k): r.number(m, f"{key}.max", k, low=1e-12) for k in m}
        return {"*": 1.0, **out}
    return {"*": r.number(d, key, "max", 1, low=1e-12)}


def read_components(r: _Reader, data: dict[str, Any],
                    course: Course) -> tuple[list[Component], list[tuple[str, float]]]:
    g = r.table(data.get("grade", {}), "grade", ("components", "letters"))
    comps = _children(r, r.table(g.get("components", {}), "grade.components"),
                      "grade.components", course)
    if comps:
        total = sum(c.weight for c in comps)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            raise r.fail("grade.components", f"the weights add up to {total:g}, not 100: "
                         "fix them")
    letters = r.table(g.get("letters", {}), "grade.letters")
    cut = sorted(((str(k), r.number(letters, "grade.letters", k, high=100)) for k in letters),
                 key=lambda t: -t[1])
    return comps, cut


def _children(r: _Reader, table: dict[str, Any], key: str,
              course: Course) -> list[Component]:
    out = []
    for name, d in table.items():
        d = r.table(d, f"{key}.{name}", COMPONENT_KEYS)
        out.append(_component(r, d, f"{key}.{name}", name, course))
    return out


def _component(r: _Reader, d: dict[str, Any], key: str, name: str,
               course: Course) -> Component:
    from grader.policy.config import Component

    c = Component(name, r.number(d, key, "weight", low=0),
                  drop_lowest=int(r.number(d, key, "drop_lowest", 0)))
    c.children = _children(r, r.table(d.get("components", {}), f"{key}.components"),
                           f"{key}.components", course)
    sources = [s for s in ("assignments", "import") if s in d]
    if c.children:
        total = sum(x.weight for x in c.children)
        if abs(total - c.weight) > WEIGHT_TOLERANCE or sources:
            raise r.fail(f"{key}.components", f"its parts' weights add up to {total:g}, not "
                         f"its weight {c.weight:g}" if not sources else
                         "a component with parts draws on them only")
        return c
    if len(sources) != 1:
        raise r.fail(key, "give assignments = [...] (graded here) or import = \"NAME\" "
                          "(a CSV under [imports])")
    if "import" in d:
        c.source = r.text_(d, key, "import")
        if c.source not in course.imports:
            raise r.fail(f"{key}.import", f"no [imports.{c.source}] in the file")
    else:
        c.assignments = [str(a) for a in d["assignments"]] if isinstance(
            d["assignments"], list) else []
        unknown = [a for a in c.assignments if a not in course.deadlines]
        if not c.assignments or unknown:
            raise r.fail(f"{key}.assignments", f"unknown assignment {unknown[0]!r}" if unknown
                         else "must list assignments of [assignments]")
    return c
