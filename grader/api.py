"""The library API: grade a submission for an assignment and get a :class:`Result`.

Every front end (the ``grade`` command, JSON output, batch grading, exports) is a thin
layer over :func:`grade`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import UsageError
from grader.sandbox.forkserver import ForkServer

if TYPE_CHECKING:
    from grader.course.spec import Assignment
    from grader.result import Result

__all__ = ["Grader", "grade", "load_assignment", "prestart", "start_server"]


def _preload(root: Path, name: str) -> tuple[str, ...]:
    from grader.course.files import read_cases

    try:
        return tuple(read_cases(root, name).get("assignment", {}).get("preload", ("numpy",)))
    except (UsageError, AttributeError):
        return ("numpy",)


_PRESTARTED: dict[tuple[Path, str], ForkServer] = {}


def prestart(name: str, course: Path | None = None) -> None:
    """Start ``name``'s fork server ahead of the grading that will use it (the ``grade``
    command does this first thing): the next :func:`start_server` for the same course and
    assignment, without limits, takes it."""
    from grader.course.files import find_root

    root = find_root() if course is None else Path(course).resolve()
    _PRESTARTED[(root, name)] = ForkServer(_preload(root, name), None, course=root)


def start_server(root: Path, name: str, limits: dict[str, Any] | None = None) -> ForkServer:
    """Start the runner's fork server now, so it warms up while the judge loads."""
    ready = _PRESTARTED.pop((Path(root).resolve(), name), None) if not limits else None
    return ready or ForkServer(_preload(root, name), limits, course=root)


def load_assignment(name: str, course: Path | None = None, *,
                    public_only: bool = False) -> Assignment:
    from grader.course.folder import find_root, load

    root = find_root(course) if course is None else Path(course).resolve()
    if not (root / "exercises").is_dir():
        raise UsageError(f"{root} is not a course folder (it has no exercises/)")
    return load(name, root, public_only=public_only)


class Grader:
    """One loaded assignment and its runners' fork server, grading submission after
    submission: what ``grade`` uses once and each batch worker holds for a whole class."""

    def __init__(self, root: Path, assignment: str, *, public_only: bool = False,
                 limits: dict[str, Any] | None = None, server: ForkServer | None = None,
                 time_scale: float = 1.0) -> None:
        self.root = root
        self._own_server = server is None
        self.server = server or start_server(root, assignment, limits)  # first: it warms up
        from grader.course.folder import load
        from grader.judge.judge import Judge

        try:
            self.assignment = load(assignment, root, public_only=public_only)
        except BaseException:
            self.close()
            raise
        self.judge = Judge(self.assignment, self.server, time_scale=time_scale)

    def grade(self, submission: str | Path | None = None,
              items: list[str] | None = None, *, curves: bool = False,
              within: float | None = None) -> Result:
        """Grade one submission (default: the course's ``exercises/ASSIGNMENT.py``); a file
        that cannot be read as a submission is a :class:`~grader.errors.SubmissionError`.
        ``curves``: also run the curves public cases declare (a training loss per epoch,
        say), kept as their results' ``plot``; they cost extra runs and grade nothing.
        ``within``: seconds for the whole submission (see :meth:`Judge.grade
        <grader.judge.judge.Judge.grade>`: past them, ``GradingDeadline``)."""
        from grader.course.files import paths
        from grader.course.submission import load_source

        t0 = time.perf_counter()
        a = self.assignment
        for i in items or []:
            a.item(i)
        path = Path(submission) if submission else paths(self.root, a.name)["stub"]
        result = self.judge.grade(load_source(path), items, curves=curves, within=within)
        result.seconds = time.perf_counter() - t0
        return result

    def close(self) -> None:
        """Keep what grading learned (see :mod:`grader.course.memo`), then stop the runners'
        fork server if this grader started it."""
        judge = getattr(self, "judge", None)
        if judge is not None:
            judge.save_memo()
        if self._own_server:
            self.server.close()

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def grade(submission: str | Path | None, assignment: str, *,
          course: str | Path | None = None, items: list[str] | None = None,
          public_only: bool = False, limits: dict[str, Any] | None = None,
          server: ForkServer | None = None, time_scale: float = 1.0,
          curves: bool = False) -> Result:
    """Grade ``submission`` (a .py file or .ipynb notebook) for ``assignment``.

    ``course`` is the course folder (found from the working directory when omitted);
    ``submission`` defaults to the course's ``exercises/ASSIGNMENT.py``.  ``time_scale``
    multiplies every per-call time limit (slow machines, or quick tests of timeouts).  Where the
    course folder has no ``solutions/`` (a student's copy), or with ``public_only``,
    only the public cases run and the result says so.  ``curves``: also the declared
    curves of public cases (see :meth:`Grader.grade`), as ``grade --html`` draws them.
    """
    from grader.course.files import find_root

    t0 = time.perf_counter()
    root = find_root() if course is None else Path(course).resolve()
    with Grader(root, assignment, public_only=public_only, limits=limits, server=server,
                time_scale=time_scale) as g:
        result = g.grade(submission, items, curves=curves)
    result.seconds = time.perf_counter() - t0
    return result
