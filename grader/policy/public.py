"""The part of ``course.toml`` students may see, for a release: the time zone, the
assignment's dates, the late policy and the slip-day allowance; never the roster, anyone's
extension, excuse or own allowance, nor the imports."""

from __future__ import annotations

from pathlib import Path

from grader.policy.config import Course, find, load


def _time(course: Course, t: object) -> str:
    from datetime import datetime

    assert isinstance(t, datetime)
    return t.astimezone(course.zone).isoformat()


def public_text(course: Course, assignment: str) -> str:
    """A course.toml of the public rules for ``assignment`` (valid for :func:`load`)."""
    dl = course.deadlines[assignment]
    late, slip = course.late, course.slip
    out = ["# The course's public rules for this assignment (written by `grade release`).",
           "", "[course]", f'timezone = "{course.zone.key}"', f"max_group = {course.max_group}",
           "", f"[assignments.{assignment}]"]
    if dl.release is not None:
        out.append(f"release = {_time(course, dl.release)}")
    out.append(f"due = {_time(course, dl.due)}")
    if dl.late_until is not None:
        out.append(f"late_until = {_time(course, dl.late_until)}")
    out += ["", "[late]", f'grace = "{int(late.grace.total_seconds())}s"',
            f'per = "{late.per}"', f"deduction = {late.deduction:g}", f"floor = {late.floor:g}",
            f'after_late_until = "{late.after}"', "", "[slip_days]", f"total = {slip.total}",
            f"before_penalty = {'true' if slip.before_penalty else 'false'}", ""]
    return "\n".join(out)


def write_public(root: Path, assignment: str, staging: Path) -> list[str]:
    """``staging/course.toml`` where the course has rules for ``assignment``; the names
    written."""
    path = find(root)
    if path is None:
        return []
    course = load(path)
    if assignment not in course.deadlines:
        return []
    (staging / path.name).write_text(public_text(course, assignment), encoding="utf-8")
    return [path.name]
