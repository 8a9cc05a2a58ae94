"""Reading the finals the gradebook keeps (``grade batch`` and ``grade late`` write them):
what the exports need, without the machinery that computes them."""

from __future__ import annotations

import json

from grader.batch.gradebook import Gradebook, iter_students
from grader.batch.rows import SubmissionRow, counted
from grader.policy.lateness import Final


def finals(book: Gradebook, assignment: str) -> dict[str, Final]:
    """The stored finals of ``assignment`` by student (empty: never computed)."""
    return {r["student"]: Final(**json.loads(r["detail"])) for r in book.conn.execute(
        "SELECT detail, student FROM finals WHERE assignment = ? ORDER BY rowid",
        (assignment,))}


def final_of(stored: dict[str, Final], student: str,
             sub: SubmissionRow | None) -> Final | None:
    """The student's stored final, where it is for the submission that counts for them."""
    f = stored.get(student)
    return f if f is not None and sub is not None and f.submission == sub.submission else None


def scores(book: Gradebook, assignment: str) -> tuple[dict[str, float], float]:
    """Each student's score as the exports give it (the final where the course's rules
    made one, else the raw score of the submission that counts), and the maximum."""
    subs = {s.submission: s for s in book.submissions(assignment)}
    stored = finals(book, assignment)
    out: dict[str, float] = {}
    for entry, keys in iter_students(book, assignment):
        sub = counted([subs[k] for k in keys if k in subs])
        if sub is not None:
            f = final_of(stored, entry.id, sub)
            out[entry.id] = f.final if f is not None else sub.score
    return out, max((s.max_score for s in subs.values()), default=0.0)
