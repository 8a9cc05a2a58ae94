"""What a :class:`~grader.policy.lateness.Final` says to people, made from its fields only:
"submitted 1 day 3 h late; 2 slip days used, 1 left; no penalty"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from grader.policy.lateness import CLOSED, GRACE, LATE, NEEDS_TIME, NO_TIME, ON_TIME, Final
from grader.result import points


def duration(seconds: float) -> str:
    """``1 day 3 h``, ``2 days``, ``5 h 20 min``, ``40 s``: calendar time, rounded down to
    the minute (to the second under a minute)."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    parts = [f"{d} day{'s' * (d != 1)}"] if d else []
    parts += [f"{h} h"] if h else []
    parts += [f"{m} min"] if m else []
    return " ".join(parts)


def when(iso: str, zone: str = "") -> str:
    """``2026-11-09 00:00 EST`` from an ISO time, shown in the time zone ``zone``."""
    if not iso:
        return "unknown"
    t = datetime.fromisoformat(iso)
    if zone:
        t = t.astimezone(ZoneInfo(zone))
    return f"{t:%Y-%m-%d %H:%M} {t.tzname() or ''}".strip()


def _days(n: int) -> str:
    return f"{n} slip day{'s' * (n != 1)}"


def _penalty(f: Final) -> str:
    if f.penalty <= 0:
        return "no penalty"
    unit = f.per if f.charged == 1 else f"{f.per}s"
    return (f"{points(f.penalty_pct)}% penalty for {f.charged} {unit} late "
            f"(-{points(f.penalty)} points)")


def explain(f: Final) -> str:
    """One sentence on how the final score came about."""
    ext = f"extension to {when(f.due, f.zone)} ({f.extension}); " if f.extension else ""
    if f.status == NO_TIME:
        return ext + "no submission time recorded: counted on time"
    if f.status == NEEDS_TIME:
        return ext + "marked late by the LMS but no submission time recorded: counted on " \
                     "time until one is given"
    if f.status == ON_TIME:
        return ext + (f"submitted on time ({when(f.submitted_at, f.zone)}; "
                      f"due {when(f.due, f.zone)})")
    if f.status == GRACE:
        return ext + (f"submitted {duration(f.late_seconds)} after the deadline, within the "
                      "grace period; no penalty")
    late = f"submitted {duration(f.late_seconds)} late"
    if f.status == CLOSED:
        verb = "not accepted" if f.after == "refuse" else "scored 0"
        return ext + f"{late}, after the last accepted time ({when(f.late_until, f.zone)}): {verb}"
    parts = [late]
    if f.slip_days:
        parts.append(f"{_days(f.slip_days)} used, {f.slip_left} left")
    elif f.status == LATE and f.slip_left == 0:
        parts.append("no slip days left")
    elif f.status == LATE:
        parts.append(f"{_days(f.slip_left)} left, too few to cover it: none used")
    if f.short:
        parts.append(f"others in your group used {_days(f.short)} more than you could, "
                     "so the penalty applies to you")
    parts.append(_penalty(f))
    return ext + "; ".join(parts)


def for_student(f: Final) -> str:
    """The sentence a student's feedback carries ('' where no time was recorded: that is
    the TA's bookkeeping, listed by ``grade late``)."""
    return "" if f.status in (NO_TIME, NEEDS_TIME) else explain(f)


def submission_score(raw: float, finals: list[Final]) -> tuple[float, list[str]]:
    """One submission's final score and the lines that say why, for an LMS that keeps one
    score per submission (Gradescope): where the members' finals differ, the raw score
    stays and the lines name each member's."""
    if not finals or not for_student(finals[0]):
        return (finals[0].final if finals else raw), []
    if len({f.final for f in finals}) == 1:
        f = finals[0]
        return f.final, [f"Final score {points(f.final)} (raw {points(raw)}): {explain(f)}."]
    return raw, ["Final scores differ by member: " + "; ".join(
        f"{f.student} {points(f.final)} ({explain(f)})" for f in finals)]
