"""The library API: grade a submission for an assignment and get a :class:`Result`.

Every front end (the ``grade`` command, JSON output, batch grading, exports) is a thin
layer over :func:`grade`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import UsageError
from grader.sandbox.forkserver import ForkServer

if TYPE_CHECKING:
    from grader.course.spec import Assignment
    from grader.result import Result

__all__ = ["grade", "load_assignment", "start_server"]


def _preload(root: Path, name: str) -> tuple[str, ...]:
    from grader.course.folder import paths

    try:
        data = json.loads(paths(root, name)["cases"].read_text(encoding="utf-8"))
        return tuple(data.get("assignment", {}).get("preload", ("numpy",)))
    except (OSError, ValueError, AttributeError):
        return ("numpy",)


def start_server(root: Path, name: str, limits: dict[str, Any] | None = None) -> ForkServer:
    """Start the runner's fork server now, so it warms up while the judge loads."""
    return ForkServer(_preload(root, name), limits, course=root)


def load_assignment(name: str, course: Path | None = None, *,
                    public_only: bool = False) -> Assignment:
    from grader.course.folder import find_root, load

    root = find_root(course) if course is None else Path(course).resolve()
    if not (root / "exercises").is_dir():
        raise UsageError(f"{root} is not a course folder (it has no exercises/)")
    return load(name, root, public_only=public_only)


def grade(submission: str | Path | None, assignment: str, *,
          course: str | Path | None = None, items: list[str] | None = None,
          public_only: bool = False, limits: dict[str, Any] | None = None,
          server: ForkServer | None = None, time_scale: float = 1.0) -> Result:
    """Grade ``submission`` (a .py file or .ipynb notebook) for ``assignment``.

    ``course`` is the course folder (found from the working directory when omitted);
    ``submission`` defaults to the course's ``exercises/ASSIGNMENT.py``.  ``time_scale``
    multiplies every per-call time limit (slow machines, or quick tests of timeouts).  Where the
    course folder has no ``solutions/`` (a student's copy), or with ``public_only``,
    only the public cases run and the result says so.
    """
    from grader.course.folder import find_root

    t0 = time.perf_counter()
    root = find_root() if course is None else Path(course).resolve()
    own = server is None
    srv = server or start_server(root, assignment, limits)  # first: it warms up meanwhile
    from grader.course.folder import load, paths
    from grader.course.submission import load_source
    from grader.judge.judge import Judge

    try:
        a = load(assignment, root, public_only=public_only)
        path = Path(submission) if submission else paths(root, assignment)["stub"]
        source = load_source(path)
        if items:
            for i in items:
                a.item(i)
        result = Judge(a, srv, time_scale=time_scale).grade(source, items)
    finally:
        if own:
            srv.close()
    result.seconds = time.perf_counter() - t0
    return result
