"""The result of grading one submission, as data: per item and per case, and its one
serialisation (:meth:`Result.to_json` / :meth:`Result.from_json`), which ``--json``, the
gradebook, the batch workers and the exports all use.  Renderers read these fields; none
parses another's wording."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "partial", "failed", "error", "timeout", "missing")
# What a note is about, so that reports pick notes by kind, never by wording.
NOTE_KINDS = ("notebook", "load", "public-only", "choice", "group", "late", "metadata",
              "other")


@dataclass(frozen=True)
class Note:
    """Something the reader should know about how a submission was read or graded."""

    kind: str    # one of NOTE_KINDS
    text: str

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}

    @staticmethod
    def from_json(v: Any) -> "Note":
        """A note as stored; a plain string (an older gradebook's) is of kind ``other``."""
        if isinstance(v, dict):
            return Note(str(v.get("kind", "other")), str(v.get("text", "")))
        return v if isinstance(v, Note) else Note("other", str(v))


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
    diagnosis: str = ""       # the slip recognised (a flipped sign, ...), '' when none
    check: str = ""           # what failed: value, shape, type, calls, raised TypeError, ...
    helpers: list[str] = field(default_factory=list)  # the student's own helpers it relied
    #                           on (public-only grading, where no recorded answer fitted)
    output: str = ""          # what the function printed in this (failed, public) case, capped
    plot: dict[str, Any] = field(default_factory=dict)  # public cases declared plottable:
    #                           {"kind": "path", "got": [[...]], "expected": [[...]]}

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "helpers": list(self.helpers)}

    def shallow(self) -> "CaseResult":
        """A copy whose fields are these (as ``copy.copy``, in a fifth of the time: the
        judge takes one per call from its verdict cache)."""
        new = object.__new__(CaseResult)
        new.__dict__.update(self.__dict__)
        return new

    @staticmethod
    def from_json(d: dict[str, Any]) -> "CaseResult":
        return CaseResult(**{k: d[k] for k in _CASE_FIELDS if k in d})


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
        return {**vars(self), "cases": [c.to_json() for c in self.cases]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "ItemResult":
        return ItemResult(d["id"], d.get("title", ""), d["score"], d["max_score"], d["status"],
                          d.get("feedback", ""),
                          [CaseResult.from_json(c) for c in d.get("cases", [])])


NOT_LOADED = "not graded: the file did not load"


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
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0
    load_error: str = ""      # the submission did not load (syntax, import error, hang): why
    load_kind: str = ""       # syntax | exception | timeout | exited ('' when it loaded)
    load_line: int | None = None    # the line it stopped at, 1-based
    load_source: str = ""     # that line of the submission
    load_column: int | None = None  # 1-based column of the caret under load_source
    output: str = ""          # what the submission printed while being imported (capped)

    @property
    def full_marks(self) -> bool:
        return abs(self.score - self.max_score) < 1e-9

    def to_json(self) -> dict[str, Any]:
        """The result as plain data: every field but the time it took (so the same
        submission and assignment version always give the same JSON)."""
        return {**{k: getattr(self, k) for k in _RESULT_FIELDS},
                "notes": [n.to_json() for n in self.notes],
                "items": [i.to_json() for i in self.items]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Result":
        """The inverse of :meth:`to_json` (also reads results stored before ``load_error``)."""
        return Result(**{**{k: d[k] for k in _RESULT_FIELDS if k in d},
                         "notes": [Note.from_json(n) for n in d.get("notes", [])],
                         "items": [ItemResult.from_json(i) for i in d.get("items", [])]})

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)


def points(x: float) -> str:
    """A score for people and spreadsheets: at most 2 decimals, no trailing zeros."""
    x = round(float(x), 2)
    return f"{x:.2f}".rstrip("0").rstrip(".") if not x.is_integer() else str(int(x))


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


_CASE_FIELDS = tuple(CaseResult.__dataclass_fields__)
_RESULT_FIELDS = tuple(f for f in Result.__dataclass_fields__
                       if f not in ("notes", "items", "seconds"))

__all__ = ["NOTE_KINDS", "NOT_LOADED", "STATUSES", "CaseResult", "ItemResult", "Note", "Result",
           "item_status"]
