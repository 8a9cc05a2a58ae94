"""The state of grading one submission, shared by the judge and its curve runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.course.submission import Source
from grader.judge.loading import LoadError
from grader.sandbox.session import Session


@dataclass
class GradingRun:
    """The state of grading one submission: its runner, and what earlier cases showed."""

    source: Source
    units: list[list[Any]] | None = None  # the compiled source (protocol.compiled); [] if not
    session: Session | None = None
    fatal: LoadError | None = None    # the submission cannot be loaded: no case ran
    gave: str = ""                    # the item whose given names the runner holds
    hung: set[str] = field(default_factory=set)         # functions that timed out
    deaths: dict[str, int] = field(default_factory=dict)  # function -> runners it ended
    passed: dict[str, bool] = field(default_factory=dict)  # function -> all its cases pass
    # cases that did not pass with the submission's own helpers -> those helpers
    own_failed: dict[int, tuple[str, ...]] = field(default_factory=dict)
    output: str = ""                  # what the submission printed while being imported
