"""Where a course's files are, and its public cases file read once: no numpy here, so the
runner's fork server can start before the judge imports anything heavy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.course.spec import CASES_SUFFIX
from grader.errors import UsageError

_PARSED: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}  # path -> (stat, data)


def paths(root: Path, name: str) -> dict[str, Path]:
    return {"stub": root / "exercises" / f"{name}.py",
            "notebook": root / "exercises" / f"{name}.ipynb",
            "cases": root / "exercises" / f"{name}{CASES_SUFFIX}",
            "reference": root / "solutions" / f"{name}.py",
            "declarations": root / "solutions" / f"{name}_cases.py"}


def find_root(start: Path | None = None) -> Path:
    """The course folder: the nearest folder at or above ``start`` with ``exercises/``."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "exercises").is_dir():
            return d
    raise UsageError(f"no course folder found at or above {here}: run grade in the folder "
                     "that holds exercises/ (or pass --course DIR)")


def available(root: Path) -> list[str]:
    d = root / "exercises"
    return sorted(p.name[: -len(CASES_SUFFIX)] for p in d.glob(f"*{CASES_SUFFIX}"))


def read_cases(root: Path, name: str) -> dict[str, Any]:
    """The assignment's public file (``exercises/NAME.cases.json``), parsed; a damaged or
    unreadable one is a one-line error that says how to regenerate it.

    Parsed once per version of the file: the fork server's start reads its preload list
    and the judge's load then reuses the same parse (callers must not change it)."""
    path = paths(root, name)["cases"]
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _PARSED.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{path} cannot be read ({type(e).__name__}: {e}); regenerate it "
                         "with `grade assign`") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is damaged (not a JSON object); regenerate it with "
                         "`grade assign`")
    _PARSED.clear()  # one file kept: a batch worker holds one assignment
    _PARSED[path] = (stamp, data)
    return data
