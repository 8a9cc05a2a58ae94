"""``course.toml``: the course's time zone, deadlines, late policy, extensions, slip days,
group limit and the grade's components, read and checked into plain dataclasses.

Every mistake is a :class:`~grader.errors.UsageError` of one line that names the file, the
key and (where it can be told) the line: a malformed file, a naive or wrongly offset time,
weights that do not add up, an extension for an unknown assignment or student.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.errors import UsageError
from grader.policy import COURSE_FILE
from grader.policy.components import Component, Import, read_components, read_imports
from grader.policy.reader import Reader
from grader.policy.toml import read, where

UNITS = ("day", "hour")
AFTER = ("zero", "refuse")
TOP_KEYS = ("course", "assignments", "late", "slip_days", "extensions", "excused", "grade",
            "imports")


@dataclass(frozen=True)
class Deadline:
    """One assignment's dates, aware and in the course's zone."""

    name: str
    release: datetime | None
    due: datetime
    late_until: datetime | None = None


@dataclass(frozen=True)
class LatePolicy:
    """Grace, then ``deduction`` percent of the points possible per started ``per``, never
    below ``floor`` percent; after late-until a score of 0 (``zero``) or not accepted
    (``refuse``, also 0, said so)."""

    grace: timedelta = timedelta(0)
    per: str = "day"
    deduction: float = 0.0
    floor: float = 0.0
    after: str = "zero"


@dataclass(frozen=True)
class SlipDays:
    """Whole days each student may be late without penalty over the term.  With
    ``before_penalty`` they are spent first and the penalty covers what is left; without,
    they are spent only when they cover the whole lateness."""

    total: int = 0
    before_penalty: bool = True
    students: dict[str, int] = field(default_factory=dict)

    def allowance(self, student: str) -> int:
        return self.students.get(student, self.total)


@dataclass(frozen=True)
class Extension:
    student: str
    assignment: str
    due: datetime
    reason: str = ""


@dataclass
class Course:
    path: Path
    zone: ZoneInfo
    deadlines: dict[str, Deadline]
    late: LatePolicy
    slip: SlipDays
    extensions: list[Extension]
    max_group: int = 3
    roster: Path | None = None
    components: list[Component] = field(default_factory=list)
    letters: list[tuple[str, float]] = field(default_factory=list)   # highest cutoff first
    imports: dict[str, Import] = field(default_factory=dict)
    excused: dict[str, set[str]] = field(default_factory=dict)       # student -> entries
    text: str = ""

    @property
    def root(self) -> Path:
        return self.path.parent

    def where(self, key: str) -> str:
        return where(self.path, self.text, key)

    def extension(self, student: str, assignment: str) -> Extension | None:
        """The latest extension granted to ``student`` on ``assignment``."""
        mine = [e for e in self.extensions if e.student == student and
                e.assignment == assignment]
        return max(mine, key=lambda e: e.due) if mine else None


def find(root: Path) -> Path | None:
    """The course's ``course.toml``, or None where the course has none."""
    p = Path(root) / COURSE_FILE
    return p if p.is_file() else None


def load(path: Path) -> Course:
    """Read and check ``course.toml``."""

    data, text = read(path)
    r = Reader(path, text)
    r.table(data, "", TOP_KEYS)
    head = r.table(data.get("course", {}), "course", ("timezone", "max_group", "roster", "name"))
    name = r.text_(head, "course", "timezone")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("course.timezone", f"unknown time zone {name!r}: use an IANA name "
                                        "such as America/New_York") from None
    course = Course(path, zone, _deadlines(r, data, zone), _late(r, data), _slip(r, data),
                    [], text=text)
    course.max_group = int(r.number(head, "course", "max_group", 3, low=1))
    if "roster" in head:
        course.roster = path.parent / r.text_(head, "course", "roster")
    course.extensions = _extensions(r, data, course)
    course.imports = read_imports(r, data, path.parent)
    course.components, course.letters = read_components(r, data, course)
    course.excused = _excused(r, data)
    return course


def _deadlines(r: Reader, data: dict[str, Any], zone: ZoneInfo) -> dict[str, Deadline]:
    out = {}
    for name, d in r.table(data.get("assignments", {}), "assignments").items():
        key = f"assignments.{name}"
        d = r.table(d, key, ("release", "due", "late_until"))
        if "due" not in d:
            raise r.fail(f"{key}.due", "is missing: every assignment needs a due date")
        due = r.time(d["due"], f"{key}.due", zone)
        rel = r.time(d["release"], f"{key}.release", zone) if "release" in d else None
        until = r.time(d["late_until"], f"{key}.late_until", zone) if "late_until" in d \
            else None
        if rel is not None and rel >= due:
            raise r.fail(f"{key}.release", "must come before the due date")
        if until is not None and until < due:
            raise r.fail(f"{key}.late_until", "must not come before the due date")
        out[name] = Deadline(name, rel, due, until)
    return out


def _late(r: Reader, data: dict[str, Any]) -> LatePolicy:
    d = r.table(data.get("late", {}), "late",
                ("grace", "per", "deduction", "floor", "after_late_until"))
    per = r.text_(d, "late", "per", "day")
    if per not in UNITS:
        raise r.fail("late.per", f"{per!r}: use \"day\" or \"hour\"")
    after = r.text_(d, "late", "after_late_until", "zero")
    if after not in AFTER:
        raise r.fail("late.after_late_until", f"{after!r}: use \"zero\" or \"refuse\"")
    grace = r.duration(d.get("grace", 0), "late.grace")
    return LatePolicy(grace, per, r.number(d, "late", "deduction", 0, high=100),
                      r.number(d, "late", "floor", 0, high=100), after)


def _slip(r: Reader, data: dict[str, Any]) -> SlipDays:
    d = r.table(data.get("slip_days", {}), "slip_days", ("total", "before_penalty", "students"))
    before = d.get("before_penalty", True)
    if not isinstance(before, bool):
        raise r.fail("slip_days.before_penalty", "must be true or false")
    students = r.table(d.get("students", {}), "slip_days.students")
    own = {str(k): int(r.number(students, "slip_days.students", k)) for k in students}
    return SlipDays(int(r.number(d, "slip_days", "total", 0)), before, own)


def _extensions(r: Reader, data: dict[str, Any], course: Course) -> list[Extension]:
    raw = data.get("extensions", [])
    if not isinstance(raw, list):
        raise r.fail("extensions", "must be a list of tables: write [[extensions]]")
    known = known_students(course)
    out = []
    for i, d in enumerate(raw):
        key = f"extensions[{i}]"
        d = r.table(d, key, ("student", "assignment", "due", "days", "reason"))
        student = r.text_(d, key, "student")
        name = r.text_(d, key, "assignment")
        if name not in course.deadlines:
            raise r.fail(f"{key}.assignment", f"unknown assignment {name!r}; course.toml "
                         f"has: {', '.join(course.deadlines) or 'none'}")
        if known is not None and student not in known:
            raise r.fail(f"{key}.student", f"{student!r} is not on the roster "
                         f"({course.roster.name if course.roster else ''}): fix the id")
        base = course.deadlines[name].due
        if ("due" in d) == ("days" in d):
            raise r.fail(key, "give either due = DATE-TIME or days = N")
        due = r.time(d["due"], f"{key}.due", course.zone) if "due" in d else \
            _add_days(base, r.number(d, key, "days", low=0), course.zone)
        if due < base:
            raise r.fail(f"{key}.due", "is before the assignment's due date")
        out.append(Extension(student, name, due, str(d.get("reason", ""))))
    return out


def _add_days(t: datetime, days: float, zone: ZoneInfo) -> datetime:
    """``days`` calendar days later (same wall-clock time across a DST change)."""
    wall = t.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone)


def known_students(course: Course) -> set[str] | None:
    """The roster's ids (``course.roster``), or None where the course names none."""
    if course.roster is None:
        return None
    if not course.roster.is_file():
        raise UsageError(f"{course.where('course.roster')}: {course.roster} does not exist")
    from grader.batch.roster import read_roster

    return {e.id for e in read_roster(course.roster)}


def _excused(r: Reader, data: dict[str, Any]) -> dict[str, set[str]]:
    raw = data.get("excused", [])
    if not isinstance(raw, list):
        raise r.fail("excused", "must be a list of tables: write [[excused]]")
    out: dict[str, set[str]] = {}
    for i, d in enumerate(raw):
        key = f"excused[{i}]"
        d = r.table(d, key, ("student", "entry", "reason"))
        out.setdefault(r.text_(d, key, "student"), set()).add(r.text_(d, key, "entry"))
    return out
