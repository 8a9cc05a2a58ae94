"""The steps the commands take with the course's rules: record times after a batch,
recompute finals, list late work, and the deadline line a student sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.batch.gradebook import Gradebook
from grader.errors import UsageError
from grader.policy import clock, store
from grader.policy.config import Course, find, load
from grader.policy.lateness import CLOSED, GRACE, LATE, NEEDS_TIME, NO_TIME, Final
from grader.policy.words import duration, when


def course_at(root: Path | None) -> Course | None:
    """The course's rules where the course folder has a ``course.toml``."""
    from grader.course.files import find_root

    path = find(find_root(root))
    return load(path) if path is not None else None


def record(book: Gradebook, assignment: str, folder: Path | None, times_csv: Path | None,
           *, mtime: bool = False) -> int:
    """Store the times the submissions folder and the ``--times`` CSV give (the CSV wins);
    how many submissions have a time."""
    subs = book.submissions(assignment)
    stamps: dict[str, clock.Stamp] = {}
    kept = store.times(book, assignment)
    if folder is not None:   # a folder without a time never erases one given before
        stamps.update({k: s for k, s in clock.from_folder(Path(folder), subs,
                                                          mtime=mtime).items()
                       if s.at is not None or kept.get(k, s).at is None})
    if times_csv is not None:
        stamps.update(clock.from_csv(clock.read_times(times_csv), subs, Path(times_csv).name))
    store.record_times(book, assignment, stamps)
    return sum(s.at is not None for s in store.times(book, assignment).values())


@dataclass
class Standing:
    """One assignment's late work, for ``grade late`` and ``grade batch``."""

    assignment: str
    finals: list[Final]
    changes: list[store.Change] = field(default_factory=list)

    def late(self) -> list[Final]:
        """Everyone who submitted after the deadline (within the grace period too)."""
        return [f for f in self.finals if f.status in (LATE, CLOSED, GRACE)]

    def untimed(self) -> list[Final]:
        return [f for f in self.finals if f.status in (NO_TIME, NEEDS_TIME)]

    def counts(self) -> str:
        flagged = sum(f.status == NEEDS_TIME for f in self.finals)
        grace = sum(f.status == GRACE for f in self.finals)
        n = len(self.untimed())
        return (f"{len(self.late()) - grace} late, {grace} within the grace period, "
                f"{n} without a time"
                + (f" ({flagged} marked late by the LMS: give their times with --times)"
                   if flagged else ""))


def standing(book: Gradebook, course: Course, assignment: str) -> Standing:
    """Recompute every final and return ``assignment``'s, with what changed."""
    if assignment not in course.deadlines:
        raise UsageError(f"{course.path} has no [assignments.{assignment}]: add its due date")
    changes = store.recompute(book, course)
    return Standing(assignment, list(store.finals(book, assignment).values()),
                    [c for c in changes if c.assignment == assignment])


def late_row(f: Final) -> list[str]:
    """The ``grade late`` table's cells for one student."""
    return [f.student, f.status, duration(f.late_seconds) if f.late_seconds else "",
            f.extension, str(f.slip_days), str(f.slip_left),
            f"{f.penalty_pct:g}%" if f.penalty else "", f"{f.raw:g}", f"{f.final:g}"]


def deadline_line(course: Course, assignment: str, at: datetime | None = None) -> str:
    """``hw1 is due 2026-11-09 00:00 EST: 3 days 4 h left`` (or how long ago it was)."""
    dl = course.deadlines.get(assignment)
    if dl is None:
        return ""
    at = at or datetime.now(timezone.utc)
    due = when(dl.due.isoformat(), course.zone.key)
    left = (dl.due - at).total_seconds()
    if left > 0:
        return f"{assignment} is due {due}: {duration(left)} left"
    tail = ""
    if dl.late_until is not None and at < dl.late_until:
        tail = f"; late work accepted until {when(dl.late_until.isoformat(), course.zone.key)}"
    return f"{assignment} was due {due} ({duration(-left)} ago){tail}"


def deadline_note(root: Path | None, assignment: str) -> str:
    """The deadline line for ``grade ASSIGNMENT``: '' without a course.toml; a broken one is
    said in one line and never stops the grading a student asked for."""
    try:
        course = course_at(root)
    except UsageError as e:
        return f"note: {e}"
    return deadline_line(course, assignment) if course is not None else ""


def after_batch(assignment: str, db: Path, folder: Path, times_csv: Path | None,
                root: Path | None, *, mtime: bool = False) -> list[str]:
    """What ``grade batch`` adds where the course has a course.toml: record the times,
    compute the finals, and say in a line how many were late."""
    course = course_at(root)
    if course is None:
        return []
    if assignment not in course.deadlines:
        return [f"{course.path.name} has no [assignments.{assignment}]: raw scores are final"]
    with Gradebook(db, create=False) as book:
        n = record(book, assignment, folder, times_csv, mtime=mtime)
        st = standing(book, course, assignment)
    changed = sum(c.before is not None for c in st.changes)
    subs = len({f.submission for f in st.finals})
    return [f"{course.path.name}: {n} of {subs} submissions have a time; {len(st.finals)} "
            f"students: {st.counts()}; {changed} finals changed (see `grade late {assignment}`)"]


def before_batch(root: Path | None, given: int | None, times_csv: Path | None) -> int:
    """Read (and so check) course.toml and the ``--times`` CSV before any grading, so a
    mistake in them costs no grading time; the group limit: ``--max-group`` where given,
    else course.toml's ``max_group``, else 3."""
    course = course_at(root)
    if times_csv is not None:
        clock.read_times(times_csv)
    if given is not None:
        return given
    return course.max_group if course is not None else 3


def refresh(book: Gradebook, assignment: str, root: Path | None = None) -> list[str]:
    """Before an export: finals recomputed from the current course.toml (of the course
    folder around, if any), so an edited policy is never exported stale."""
    from grader.course.files import find_root

    try:
        path = find(find_root(root))
    except UsageError:          # not inside a course folder: raw scores, as before
        return []
    if path is None:
        return []
    course = load(path)
    changes = [c for c in store.recompute(book, course) if c.assignment == assignment]
    if assignment not in course.deadlines:
        return []
    return [f"{assignment}: finals recomputed from {path.name}: {len(changes)} changed"
            + (f" (see `grade late {assignment}`)" if changes else "")]
