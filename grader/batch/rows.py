"""A gradebook's rows as data: a submission, its items, a roster entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.result import Note


@dataclass
class ItemRow:
    """One item of one submission as stored: what exports and the report read."""

    item: str
    title: str
    score: float
    max_score: float
    status: str
    feedback: str
    cases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SubmissionRow:
    """One stored submission with its items."""

    assignment: str
    submission: str
    layout: str
    path: str
    file: str
    members: list[str]
    hash: str
    version: str
    status: str
    reason: str
    message: str
    notes: list[Note]
    score: float
    max_score: float
    seconds: float
    graded_at: str
    run_id: int
    result: dict[str, Any] | None       # the Result's fields but ``items`` (None: nothing ran)
    items: list[ItemRow] = field(default_factory=list)

    def result_dict(self) -> dict[str, Any] | None:
        """The whole result in :meth:`Result.to_json` form, as the judge made it."""
        if self.result is None:
            return None
        return {**self.result, "items": [
            {"id": i.item, "title": i.title, "score": i.score, "max_score": i.max_score,
             "status": i.status, "feedback": i.feedback, "cases": i.cases}
            for i in self.items]}


@dataclass
class RosterEntry:
    id: str
    name: str = ""
    email: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def counted(mine: list[SubmissionRow]) -> SubmissionRow | None:
    """Of a student's submissions, the one that counts: the best graded one, else the
    first (an error), else none."""
    graded = [s for s in mine if s.status == "graded"]
    return max(graded, key=lambda s: s.score) if graded else (mine[0] if mine else None)


__all__ = ["ItemRow", "RosterEntry", "SubmissionRow", "counted"]
