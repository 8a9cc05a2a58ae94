"""What a batch run's schedulers (the local pool, a Dask cluster) see of it: its summary,
its progress, and the few methods and settings they call, as a protocol, so that they
depend on this module and not on the run itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from grader.batch.gradebook import Gradebook
    from grader.batch.pool import _Task
    from grader.course.spec import Assignment


@dataclass
class Progress:
    """What a progress display is told after each submission."""

    done: int
    total: int
    key: str
    status: str


@dataclass
class BatchSummary:
    assignment: str
    layout: str
    db: Path
    run_id: int
    found: int = 0
    graded: int = 0          # graded in this run
    unchanged: int = 0       # already in the gradebook, same content and version
    copied: int = 0          # identical content graded under another key, not again
    shared_with: list[int] = field(default_factory=list)   # pids of other runs going on
    left_to_other: int = 0   # submissions another run graded while this one ran
    errors: list[str] = field(default_factory=list)        # "key: message"
    notes: list[str] = field(default_factory=list)         # "key: note"
    unmatched: list[str] = field(default_factory=list)
    no_submission: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {"found": self.found, "graded": self.graded, "unchanged": self.unchanged,
                "copied": self.copied, "errors": len(self.errors)}


class BatchHost(Protocol):
    """A batch run, as a scheduler uses it: settings to start workers with, and the
    bookkeeping it hands every submission back to (the run alone writes the gradebook)."""

    name: str
    assignment: Assignment
    public_only: bool
    time_scale: float
    limits: dict[str, Any] | None
    workers: int
    timeout: float
    cluster: str | None

    def _claim(self, book: Gradebook, task: _Task, run_id: int, summary: BatchSummary,
               tick: Callable[[str, str], None], waiting: list[_Task]) -> bool: ...

    def _still_due(self, book: Gradebook, task: _Task, summary: BatchSummary,
                   tick: Callable[[str, str], None]) -> bool: ...

    def _finish(self, book: Gradebook, task: _Task, payload: dict[str, Any], run_id: int,
                summary: BatchSummary, tick: Callable[[str, str], None]) -> None: ...
