"""The ``[grade]`` and ``[imports]`` parts of ``course.toml``: the grade's nested components
with their weights, drop-lowest and sources, the letter cutoffs, and the CSV imports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from grader.policy.reader import Reader


class Known(Protocol):
    """What the components are checked against: the course's imports and assignments."""

    imports: dict[str, Any]
    deadlines: dict[str, Any]

WEIGHT_TOLERANCE = 1e-6

COMPONENT_KEYS = ("weight", "assignments", "import", "drop_lowest", "components")


@dataclass(frozen=True)
class Import:
    """A CSV of marks the platform does not grade: its id column, the columns that count
    (CSV name -> entry name) and each one's maximum."""

    name: str
    file: Path
    id: str
    columns: dict[str, str]
    max: dict[str, float]
    pattern: str = ""


@dataclass
class Component:
    """A part of the course grade: leaf components draw on gradebook assignments or on an
    import; inner ones on their children, whose weights add up to theirs."""

    name: str
    weight: float
    assignments: list[str] = field(default_factory=list)
    source: str = ""                    # an import's name
    drop_lowest: int = 0
    children: list[Component] = field(default_factory=list)

    def leaves(self) -> list[Component]:
        if not self.children:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]


def read_imports(r: Reader, data: dict[str, Any], root: Path) -> dict[str, Import]:
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


def _maxima(r: Reader, d: dict[str, Any], key: str) -> dict[str, float]:
    """``max = 10`` (every column, key ``*``) or a table of maxima per column."""
    m = d.get("max", 1)
    if isinstance(m, dict):
        out = {str(k): r.number(m, f"{key}.max", k, low=1e-12) for k in m}
        return {"*": 1.0, **out}
    return {"*": r.number(d, key, "max", 1, low=1e-12)}


def read_components(r: Reader, data: dict[str, Any],
                    course: Known) -> tuple[list[Component], list[tuple[str, float]]]:
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


def _children(r: Reader, table: dict[str, Any], key: str,
              course: Known) -> list[Component]:
    out = []
    for name, d in table.items():
        d = r.table(d, f"{key}.{name}", COMPONENT_KEYS)
        out.append(_component(r, d, f"{key}.{name}", name, course))
    return out


def _component(r: Reader, d: dict[str, Any], key: str, name: str,
               course: Known) -> Component:
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
