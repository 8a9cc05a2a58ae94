"""The class's counts, computed in one place from what the gradebook holds.

``grade batch``'s summary, ``grade report`` and ``grade export`` all show these numbers, so
they agree by construction: how many submissions the last run found, how many were graded
and how many could not be, which are byte-identical to another, who has no submission.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from grader.batch.roster import is_test_student
from grader.reports.exports import ExportData, StudentGrade


@dataclass
class ClassCounts:
    submissions: int
    graded: int                      # ran: a score from the grader
    errors: int                      # could not be graded: nothing of them ran, they score 0
    identical: int                   # submissions whose content another one has too
    identical_groups: list[list[str]] = field(default_factory=list)
    students: int = 0                # on the roster, or in a submission; Canvas's test student not
    no_submission: list[StudentGrade] = field(default_factory=list)
    not_on_roster: list[StudentGrade] = field(default_factory=list)
    full_marks: int = 0
    mean_all: float | None = None    # every submission, those not graded as 0
    mean_graded: float | None = None
    median_all: float | None = None


def counts(data: ExportData) -> ClassCounts:
    """The counts of ``data`` (the gradebook as :func:`grader.reports.exports.load` reads it)."""
    subs = data.submissions
    graded = [s for s in subs if s.status == "graded"]
    by_hash: dict[str, list[str]] = {}
    for s in subs:
        if not s.hash.startswith("error:"):   # content that was read, not a missing file
            by_hash.setdefault(s.hash, []).append(s.submission)
    groups = sorted(sorted(keys) for keys in by_hash.values() if len(keys) > 1)
    students = [st for st in data.students if not is_test_student(st.entry)]
    roster = any(st.on_roster for st in students)
    scores = [s.score for s in subs]
    return ClassCounts(
        submissions=len(subs), graded=len(graded), errors=len(subs) - len(graded),
        identical=sum(len(g) for g in groups), identical_groups=groups,
        students=len(students),
        no_submission=[st for st in students if st.status == "no submission"],
        not_on_roster=[st for st in students if roster and not st.on_roster],
        full_marks=sum(abs(s.score - s.max_score) < 1e-9 for s in graded),
        mean_all=statistics.fmean(scores) if scores else None,
        mean_graded=statistics.fmean([s.score for s in graded]) if graded else None,
        median_all=statistics.median(scores) if scores else None)


def who(st: StudentGrade) -> str:
    """A student as a TA reads them: the name with the id, or the id alone."""
    e = st.entry
    return f"{e.name} ({e.id})" if e.name and e.name != e.id else e.id
