"""The weighted course grade: each leaf component averages its entries (each a fraction of
its maximum) after dropping the lowest ``drop_lowest``; inner components and the course
weigh their parts.  Missing is 0 unless excused; a part with every entry excused drops out
and its siblings' weights are scaled up to fill its place.  Every number is kept, so each
student's grade can be traced (``grade course --student ID``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.policy.components import Component
from grader.policy.config import Course
from grader.policy.imports import Marks

COUNTED, DROPPED, MISSING, EXCUSED = "counted", "dropped", "missing", "excused"


@dataclass
class Entry:
    name: str
    score: float | None             # None: missing or excused
    max_score: float
    state: str = COUNTED            # counted | dropped | missing (counted as 0) | excused

    @property
    def fraction(self) -> float:
        return (self.score or 0.0) / self.max_score if self.max_score > 0 else 0.0


@dataclass
class Part:
    """One component's result for one student."""

    name: str
    weight: float
    percent: float | None           # None: nothing counts (all excused)
    entries: list[Entry] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)


@dataclass
class CourseGrade:
    student: str
    percent: float
    letter: str
    parts: list[Part]


@dataclass
class Sources:
    """What the grade draws on: finals per assignment (student -> (final, max)) and the
    imports' marks."""

    finals: dict[str, dict[str, tuple[float, float]]]
    maxima: dict[str, float]        # each assignment's points possible
    marks: dict[str, Marks]


def _entries(c: Component, student: str, src: Sources, excused: set[str]) -> list[Entry]:
    out = []
    if c.source:
        m = src.marks[c.source]
        mine = m.scores.get(student, {})
        gone = excused | m.excused.get(student, set())
        for e in m.entries:
            v = mine.get(e)
            out.append(Entry(e, v, m.maxima[e], EXCUSED if e in gone else
                             MISSING if v is None else COUNTED))
    for a in c.assignments:
        got = src.finals.get(a, {}).get(student)
        top = got[1] if got else src.maxima.get(a, 0.0)
        out.append(Entry(a, got[0] if got else None, top,
                         EXCUSED if a in excused else MISSING if got is None else COUNTED))
    return out


def _leaf(c: Component, student: str, src: Sources, excused: set[str]) -> Part:
    entries = _entries(c, student, src, excused)
    live = sorted((e for e in entries if e.state != EXCUSED), key=lambda e: e.fraction)
    for e in live[: min(c.drop_lowest, max(0, len(live) - 1))]:
        e.state = DROPPED
    counted = [e for e in entries if e.state in (COUNTED, MISSING)]
    pct = 100 * sum(min(1.0, e.fraction) for e in counted) / len(counted) if counted else None
    return Part(c.name, c.weight, pct, entries)


def weighted(parts: list[Part]) -> float | None:
    """The parts' weighted mean percent; parts with nothing counted give their place up."""
    live = [p for p in parts if p.percent is not None]
    total = sum(p.weight for p in live)
    if not live or total <= 0:
        return None
    return sum(p.weight * (p.percent or 0.0) for p in live) / total


def part(c: Component, student: str, src: Sources, excused: set[str]) -> Part:
    if not c.children:
        return _leaf(c, student, src, excused)
    kids = [part(k, student, src, excused) for k in c.children]
    return Part(c.name, c.weight, weighted(kids), children=kids)


def letter(course: Course, percent: float) -> str:
    """The letter of the highest cutoff reached (percent rounded to 2 decimals first)."""
    p = round(percent, 2)
    return next((name for name, cut in course.letters if p >= cut), "")


def course_grade(course: Course, student: str, src: Sources) -> CourseGrade:
    excused = course.excused.get(student, set())
    parts = [part(c, student, src, excused) for c in course.components]
    pct = weighted(parts) or 0.0
    return CourseGrade(student, pct, letter(course, pct), parts)


def contribution(p: Part, parts: list[Part]) -> float:
    """Points of the course's 100 that ``p`` (one of ``parts``) adds."""
    live = sum(x.weight for x in parts if x.percent is not None)
    return p.weight * (p.percent or 0.0) / live if p.percent is not None and live else 0.0
