"""From a raw score and a submission time to a final score: grace, extensions, slip days,
the deduction per started day or hour, the floor and late-until.  Pure functions.

Lateness is measured on the course's calendar: from the due date's wall-clock time to the
submission's, both in the course's zone, so a daylight-saving change neither adds nor
removes an hour (due Oct 31 00:00, submitted Nov 2 12:00: 2 days 12 h late).
A group's lateness and any member's extension apply to every member; slip days are
charged to each member, and a member without enough gets the penalty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from grader.policy.config import Course, Deadline

DAY = 86400
HOUR = 3600

# statuses of a final (data: the wording is made from these and the numbers)
ON_TIME, GRACE, LATE, CLOSED, NO_TIME, NEEDS_TIME = (
    "on time", "grace", "late", "after late-until", "no time", "needs a time")


@dataclass(frozen=True)
class Final:
    """One student's standing on one assignment."""

    assignment: str
    student: str
    submission: str
    raw: float
    max_score: float
    submitted_at: str = ""          # ISO, the course's zone ('' unknown)
    due: str = ""                   # the due date that applied (an extension's)
    extension: str = ""             # whose extension, and why ('' none)
    late_seconds: float = 0.0       # calendar seconds after ``due`` (0 on time)
    charged: int = 0                # started days (or hours) counted late, after slip days
    slip_days: int = 0              # spent on this assignment
    slip_left: int = 0              # left after it
    short: int = 0                  # slip days this student lacked (others in the group had)
    penalty_pct: float = 0.0
    penalty: float = 0.0            # points taken off
    final: float = 0.0
    status: str = ON_TIME
    per: str = "day"
    after: str = "zero"
    late_until: str = ""
    zone: str = ""                  # the course's time zone (IANA name)


def calendar_seconds(t: datetime, due: datetime, course: Course) -> float:
    """Wall-clock seconds from ``due`` to ``t`` in the course's zone."""
    a = t.astimezone(course.zone).replace(tzinfo=None)
    b = due.astimezone(course.zone).replace(tzinfo=None)
    return (a - b).total_seconds()


def shift(t: datetime, by_wall: timedelta, course: Course) -> datetime:
    wall = t.astimezone(course.zone).replace(tzinfo=None) + by_wall
    return wall.replace(tzinfo=course.zone)


def effective_due(course: Course, dl: Deadline,
                  members: list[str]) -> tuple[datetime, datetime | None, str]:
    """The due date and late-until that apply to a submission of ``members`` (the latest
    extension of any member applies to all), and who granted it why."""
    exts = [e for m in members if (e := course.extension(m, dl.name)) is not None]
    if not exts:
        return dl.due, dl.late_until, ""
    best = max(exts, key=lambda e: e.due)
    moved = best.due.astimezone(course.zone).replace(tzinfo=None) - \
        dl.due.astimezone(course.zone).replace(tzinfo=None)
    until = shift(dl.late_until, moved, course) if dl.late_until is not None else None
    who = best.student + (f": {best.reason}" if best.reason else "")
    return best.due, until, who


def judge(course: Course, dl: Deadline, base: Final, members: list[str],
          at: datetime | None, used: dict[str, int], flagged: bool = False) -> list[Final]:
    """Every member's :class:`Final` for one submission; ``used`` (slip days spent so far per
    student) is updated for the members charged."""
    due, until, ext = effective_due(course, dl, members)
    base = replace(base, due=due.isoformat(), extension=ext, per=course.late.per,
                   zone=course.zone.key,
                   after=course.late.after, final=base.raw,
                   late_until=until.isoformat() if until is not None else "")
    if at is None:
        return [_member(base, m, course, used, status=NEEDS_TIME if flagged else NO_TIME)
                for m in members]
    late = max(0.0, calendar_seconds(at, due, course)) if at > due else 0.0
    base = replace(base, submitted_at=at.astimezone(course.zone).isoformat(),
                   late_seconds=late)
    if late == 0:
        return [_member(base, m, course, used, status=ON_TIME) for m in members]
    if at <= due + course.late.grace:
        return [_member(base, m, course, used, status=GRACE) for m in members]
    if until is not None and at > until:
        return [_member(replace(base, penalty_pct=100.0, penalty=base.raw, final=0.0), m,
                        course, used, status=CLOSED) for m in members]
    finals = [_charge(base, m, course, used) for m in members]
    most = max(f.slip_days for f in finals)
    return [replace(f, short=most - f.slip_days) for f in finals]


def _member(base: Final, student: str, course: Course, used: dict[str, int],
            status: str) -> Final:
    left = course.slip.allowance(student) - used.get(student, 0)
    return replace(base, student=student, status=status, slip_left=max(0, left))


def _charge(base: Final, student: str, course: Course, used: dict[str, int]) -> Final:
    """Slip days first (all or nothing unless ``before_penalty``), then the deduction."""
    days = math.ceil(base.late_seconds / DAY - 1e-9)
    left = max(0, course.slip.allowance(student) - used.get(student, 0))
    spend = min(days, left) if course.slip.before_penalty else (days if left >= days else 0)
    used[student] = used.get(student, 0) + spend
    if course.late.per == "day":
        charged = days - spend
    else:
        charged = max(0, math.ceil(base.late_seconds / HOUR - 1e-9) - 24 * spend)
    pct = min(100.0, course.late.deduction * charged)
    final = deduct(base.raw, base.max_score, pct, course.late.floor)
    return replace(base, student=student, status=LATE, slip_days=spend,
                   slip_left=left - spend, charged=charged, penalty_pct=pct,
                   penalty=round(base.raw - final, 6), final=final)


def deduct(raw: float, max_score: float, pct: float, floor: float) -> float:
    """``raw`` less ``pct`` percent of the points possible, never below ``floor`` percent
    of them (nor above ``raw``): Canvas's late policy."""
    if pct <= 0:
        return raw
    return round(max(raw - max_score * pct / 100, min(raw, max_score * floor / 100)), 6)
