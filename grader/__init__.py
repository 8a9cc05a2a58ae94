"""Course autograder: judge outside, run inside.

``from grader import check`` (inside a notebook) grades the cells run so far;
``grader.api.grade`` is the library API.  Both are imported lazily to keep start-up fast.
"""

from typing import Any

__all__ = ["check", "grade"]


def __getattr__(name: str) -> Any:
    if name == "check":
        from grader.inline import check

        return check
    if name == "grade":
        from grader.api import grade

        return grade
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
