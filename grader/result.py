"""The result of grading one submission: per item and per case, and its JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "partial", "failed", "error", "timeout", "missing")


@dataclass
class CaseResult:
    name: str
    visibility: str           # public | hidden
    passed: bool
    message: str
    status: str = "passed"    # passed | failed | error | timeout | missing
    part: str = ""
    score: float = 0.0
    max_score: float = 0.0
    details: str = ""         # longer public feedback (tables, inputs); never for hidden cases

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "visibility": self.visibility, "passed": self.passed,
                "message": self.message}


@dataclass
class ItemResult:
    id: str
    title: str
    score: float
    max_score: float
    status: str
    feedback: str
    cases: list[CaseResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": self.score,
                "max_score": self.max_score, "status": self.status,
                "feedback": self.feedback, "cases": [c.to_json() for c in self.cases]}


@dataclass
class Result:
    assignment: str
    version: str
    submission: str
    score: float
    max_score: float
    items: list[ItemResult]
    mode: str = "full"        # full | public (no solutions/: hidden cases not run)
    seed: int | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def full_marks(self) -> bool:
        return abs(self.score - self.max_score) < 1e-9

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "version": self.version,
                "submission": self.submission, "score": self.score,
                "max_score": self.max_score, "mode": self.mode, "seed": self.seed,
                "notes": list(self.notes), "items": [i.to_json() for i in self.items]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)


def item_status(cases: list[CaseResult]) -> str:
    if not cases:
        return "missing"
    if all(c.passed for c in cases):
        return "passed"
    if any(c.passed for c in cases):
        return "partial"
    statuses = {c.status for c in cases}
    for s in ("timeout", "error"):
        if s in statuses:
            return s
    if statuses == {"missing"}:
        return "missing"
    return "failed"


__all__ = ["STATUSES", "CaseResult", "ItemResult", "Result", "item_status"]
