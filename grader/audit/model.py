"""An audit's result as data: per mutant its verdict, per item the counts and score.

Renderers (the terminal table, ``--json``, ``--html``) and the CI gate read these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.audit.mutants import Mutant

__all__ = ["AuditReport", "ItemSummary", "MutantResult", "STATUSES"]

STATUSES = ("killed", "survived", "equivalent")
EPS = 1e-9


@dataclass
class MutantResult:
    """How one mutant fared: the points it lost on each item, against the reference."""

    mutant: Mutant
    items: tuple[str, ...]               # the items that grade its function
    lost: dict[str, float] = field(default_factory=dict)   # item -> points lost (> 0 only)
    statuses: dict[str, str] = field(default_factory=dict)  # item -> the item's status
    equivalent_reason: str = ""          # declared equivalent, with this reason

    @property
    def killed(self) -> bool:
        return any(self.lost.get(i, 0.0) > EPS for i in self.items)

    @property
    def collateral(self) -> list[str]:
        """Other items on which it cost points: a sign they are not graded on their own."""
        return sorted(i for i, v in self.lost.items() if v > EPS and i not in self.items)

    @property
    def status(self) -> str:
        if self.killed:
            return "killed"
        return "equivalent" if self.equivalent_reason else "survived"

    @property
    def wrongly_equivalent(self) -> bool:
        """Declared equivalent, yet the cases tell it apart: the declaration is wrong."""
        return bool(self.equivalent_reason) and self.killed

    def to_json(self, filename: str = "") -> dict[str, Any]:
        m = self.mutant
        return {"id": m.id, "function": m.function, "items": list(self.items),
                "operator": m.operator, "origin": m.origin, "name": m.name, "line": m.line,
                "before": m.before, "after": m.after, "diff": m.diff(filename),
                "status": self.status, "lost": dict(sorted(self.lost.items())),
                "collateral": self.collateral, "equivalent_reason": self.equivalent_reason,
                "wrongly_equivalent": self.wrongly_equivalent}


@dataclass
class ItemSummary:
    item: str
    mutants: int = 0
    killed: int = 0
    equivalent: int = 0
    survived: int = 0
    collateral: int = 0

    @property
    def score(self) -> float | None:
        """Killed over non-equivalent mutants, in percent (None when there are none)."""
        n = self.mutants - self.equivalent
        return 100.0 * self.killed / n if n else None

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "mutants": self.mutants, "killed": self.killed,
                "equivalent": self.equivalent, "survived": self.survived,
                "collateral": self.collateral, "score": self.score}


@dataclass
class AuditReport:
    assignment: str
    version: str
    reference: str                       # the reference's path, relative to the course
    results: list[MutantResult]
    stale: list[str] = field(default_factory=list)   # declared equivalents that match none
    graded: int = 0                      # mutants graded in this run (not from the cache)
    cached: int = 0
    verdicts: int = 0                    # item verdicts graded in this run
    seconds: float = 0.0
    workers: int = 1

    def by_item(self) -> list[ItemSummary]:
        out: dict[str, ItemSummary] = {}
        for r in self.results:
            s = out.setdefault(r.items[0], ItemSummary(r.items[0]))
            s.mutants += 1
            setattr(s, r.status, getattr(s, r.status) + 1)
            s.collateral += bool(r.collateral)
        return list(out.values())

    def total(self) -> ItemSummary:
        t = ItemSummary("total")
        for s in self.by_item():
            for k in ("mutants", "killed", "equivalent", "survived", "collateral"):
                setattr(t, k, getattr(t, k) + getattr(s, k))
        return t

    @property
    def score(self) -> float:
        s = self.total().score
        return 100.0 if s is None else s

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.status == "survived"]

    @property
    def with_collateral(self) -> list[MutantResult]:
        return [r for r in self.results if r.collateral]

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "version": self.version,
                "reference": self.reference, "score": self.score,
                "total": self.total().to_json(),
                "items": [s.to_json() for s in self.by_item()],
                "mutants": [r.to_json(self.reference) for r in self.results],
                "stale_equivalents": list(self.stale), "graded": self.graded,
                "cached": self.cached, "verdicts": self.verdicts, "seconds": self.seconds,
                "workers": self.workers}
