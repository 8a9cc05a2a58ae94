"""``grade course``'s data: the class's course grades from the gradebooks (each
assignment's final scores) and the CSV imports, and who is missing where."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.gradebook import Gradebook, RosterEntry
from grader.errors import UsageError
from grader.policy.config import Course
from grader.policy.grades import CourseGrade, Sources, course_grade
from grader.policy.imports import read_import


@dataclass
class ClassGrades:
    grades: list[CourseGrade]
    roster: list[RosterEntry]
    not_on_roster: dict[str, list[str]] = field(default_factory=dict)   # source -> ids
    no_entry: dict[str, list[str]] = field(default_factory=dict)        # source -> ids
    changes: list[str] = field(default_factory=list)
    roster_source: str = ""

    def of(self, student: str) -> CourseGrade:
        for g in self.grades:
            if g.student == student:
                return g
        ids = ", ".join(e.id for e in self.roster[:8])
        raise UsageError(f"{student!r} is not on the roster ({self.roster_source}; e.g. {ids}): "
                         "give a student id")


def _homework(course: Course, books: list[Gradebook]) -> tuple[dict[str, dict[str, tuple[
        float, float]]], dict[str, float], list[RosterEntry], list[str]]:
    """Finals per assignment from the gradebooks (recomputed), their maxima, the rosters
    they hold, and the changes the recomputation made."""
    from grader.policy.finals import scores
    from grader.policy.store import recompute

    finals: dict[str, dict[str, tuple[float, float]]] = {}
    maxima: dict[str, float] = {}
    roster: dict[str, RosterEntry] = {}
    changes: list[str] = []
    wanted = {a for c in course.components for leaf in c.leaves() for a in leaf.assignments}
    for book in books:
        changes += [c.line() for c in recompute(book, course)]
        for a in sorted(set(book.assignments()) & wanted):
            got, maxima[a] = scores(book, a)
            finals[a] = {student: (score, maxima[a]) for student, score in got.items()}
            for e in book.roster(a):
                roster.setdefault(e.id, e)
    return finals, maxima, list(roster.values()), changes


def class_grades(course: Course, books: list[Gradebook], *, roster: Path | None = None,
                 overrides: dict[str, Path] | None = None) -> ClassGrades:
    """Every roster student's course grade, with the students each source lacks or adds."""
    from grader.batch.roster import read_roster

    if not course.components:
        raise UsageError(f"{course.path} has no [grade.components]: declare the grade's "
                         "parts and weights (see the README's \"The course\" section)")
    finals, maxima, held, changes = _homework(course, books)
    marks = {n: read_import(imp, (overrides or {}).get(n)) for n, imp in course.imports.items()
             if n in {leaf.source for c in course.components for leaf in c.leaves()}}
    path = roster or course.roster
    if path is not None:
        entries, source = read_roster(Path(path)), str(path)
    elif held:
        entries, source = held, "the gradebooks' rosters"
    else:
        seen = sorted({s for f in finals.values() for s in f} |
                      {s for m in marks.values() for s in m.scores})
        entries, source = [RosterEntry(s) for s in seen], "everyone in a gradebook or import"
    src = Sources(finals, maxima, marks)
    out = ClassGrades([course_grade(course, e.id, src) for e in entries], entries,
                      changes=changes, roster_source=source)
    ids = {e.id for e in entries}
    seen_in = {**{f"gradebook {a}": set(f) for a, f in finals.items()},
               **{f"import {n} ({m.path.name})": set(m.scores) for n, m in marks.items()}}
    for name, got in seen_in.items():
        if got - ids:
            out.not_on_roster[name] = sorted(got - ids)
        if ids - got:
            out.no_entry[name] = [e.id for e in entries if e.id not in got]
    return out
