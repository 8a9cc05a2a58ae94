"""GitHub Classroom's loop: the workflow ``grade init-ci --student`` writes.

A student's repository (a ``grade release``) gets a workflow that grades the public cases
of its assignments on every push, writes the per-item table to the job summary
(``grade ... --summary $GITHUB_STEP_SUMMARY``) and fails the job short of full marks.
"""

from __future__ import annotations

import re
from importlib.resources import files

from grader.errors import UsageError

TEMPLATE = "templates/grade-student.yml"
DEFAULT_SUBMISSION = "exercises/{name}.py"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def student_workflow(assignments: list[str], submission: str = DEFAULT_SUBMISSION) -> str:
    """The workflow's text for ``assignments``, grading the file ``submission`` names
    (``{name}`` stands for the assignment)."""
    if not assignments:
        raise UsageError("no assignments to grade: pass --assignment NAME")
    bad = [a for a in assignments if not _NAME.fullmatch(a)]
    if bad:
        raise UsageError(f"{bad[0]!r} is not an assignment name (letters, digits, . _ -)")
    if '"' in submission or "\\" in submission or "$" in submission or "\n" in submission:
        raise UsageError(f"--submission {submission!r}: give a plain path such as "
                         f"{DEFAULT_SUBMISSION}")
    text = files("grader").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return text.replace("@ASSIGNMENTS@", " ".join(assignments)).replace("@SUBMISSION@",
                                                                      submission)


__all__ = ["DEFAULT_SUBMISSION", "student_workflow"]
