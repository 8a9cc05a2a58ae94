"""Submission times and final scores in the gradebook, and their recomputation.

Finals are recomputed from what the gradebook holds (raw scores, members, times) and the
current ``course.toml``, never by grading again: assignments in due-date order, so slip
days spent on hw1 are gone for hw2.  Each recomputation says what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from grader.batch.gradebook import Gradebook, iter_students, now
from grader.batch.rows import counted
from grader.errors import UsageError
from grader.policy.clock import Stamp
from grader.policy.config import Course
from grader.policy.finals import finals
from grader.policy.lateness import Final, judge
from grader.policy.words import explain
from grader.result import points


@dataclass(frozen=True)
class Change:
    """A final score (or its reason) that a recomputation changed."""

    assignment: str
    student: str
    before: Final | None
    after: Final

    def line(self) -> str:
        old = points(self.before.final) if self.before is not None else "none"
        return (f"{self.assignment} {self.student}: final {old} -> {points(self.after.final)} "
                f"({explain(self.after)})")


def record_times(book: Gradebook, assignment: str, stamps: dict[str, Stamp]) -> None:
    """Store (or replace) these submissions' times."""
    rows = [(assignment, k, s.at.isoformat() if s.at is not None else None, s.source,
             int(s.flagged)) for k, s in stamps.items()]

    def go() -> None:
        with book.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO times VALUES (?, ?, ?, ?, ?)", rows)

    book._retry(go)


def times(book: Gradebook, assignment: str) -> dict[str, Stamp]:
    return {r["submission"]: Stamp(datetime.fromisoformat(r["submitted_at"])
                                   if r["submitted_at"] else None, r["source"],
                                   bool(r["flagged"]))
            for r in book.conn.execute("SELECT * FROM times WHERE assignment = ?",
                                       (assignment,))}


def _check_students(book: Gradebook, course: Course) -> None:
    """Without a roster in course.toml: an extension on an assignment this gradebook holds
    must name someone on its roster or in one of its submissions."""
    if course.roster is not None:
        return                  # checked against the roster when course.toml was read
    held = set(book.assignments())
    for i, e in enumerate(course.extensions):
        if e.assignment not in held:
            continue
        known = {r.id for r in book.roster(e.assignment)}
        known |= {s for s, _ in book.members(e.assignment)}
        if e.student not in known:
            raise UsageError(f"{course.where(f'extensions[{i}].student')}: {e.student!r} is "
                             f"neither on the roster nor in a submission of {e.assignment} in "
                             f"{book.path}: fix the id")


def compute(book: Gradebook, course: Course) -> dict[str, list[Final]]:
    """Every student's final on every assignment of ``course`` the gradebook holds."""
    _check_students(book, course)
    used: dict[str, int] = {}
    out: dict[str, list[Final]] = {}
    held = set(book.assignments())
    for dl in sorted(course.deadlines.values(), key=lambda d: d.due):
        if dl.name not in held:
            continue
        subs = {s.submission: s for s in book.submissions(dl.name)}
        stamps = times(book, dl.name)
        groups: dict[str, list[str]] = {}
        for entry, keys in iter_students(book, dl.name):
            sub = counted([subs[k] for k in keys if k in subs])
            if sub is not None:
                groups.setdefault(sub.submission, []).append(entry.id)
        out[dl.name] = []
        for key, members in groups.items():
            sub = subs[key]
            stamp = stamps.get(key, Stamp(None, ""))
            base = Final(dl.name, "", key, sub.score, sub.max_score)
            out[dl.name] += judge(course, dl, base, members, stamp.at, used, stamp.flagged)
    return out


def recompute(book: Gradebook, course: Course) -> list[Change]:
    """Compute every final again, store them, and say which changed.  Finals of an
    assignment course.toml no longer has are dropped: its raw scores are final again."""
    new = compute(book, course)
    changes = []
    for name, rows in new.items():
        old = finals(book, name)
        changes += [Change(name, f.student, old.get(f.student), f) for f in rows
                    if old.get(f.student) != f]
    stamp = now()

    def go() -> None:
        with book.transaction() as c:
            c.execute("DELETE FROM finals")
            for name, rows in new.items():
                c.executemany("INSERT INTO finals VALUES (?, ?, ?, ?, ?, ?, ?)", [
                    (name, f.student, f.submission, f.final, f.status,
                     json.dumps(vars(f)), stamp) for f in rows])

    book._retry(go)
    return changes
