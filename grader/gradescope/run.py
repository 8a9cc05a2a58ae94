"""What ``run_autograder`` runs for each submission: find it, grade it, write results.json.

The layout is Gradescope's: ``ROOT/source`` (the autograder zip: the course and
``gradescope.json``), ``ROOT/submission`` (the student's files) and ``ROOT/results``.
``ROOT`` is ``/autograder`` unless ``GRADER_AUTOGRADER_ROOT`` says otherwise (tests).
Whatever happens, a ``results.json`` is written: a submission that cannot be graded
gets 0 with a one-line message, and even a fault of the grader's own is reported there.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.gradescope.results import Options, error_results, results_json

ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
CONFIG = "gradescope.json"


def autograder_root() -> Path:
    """Gradescope's ``/autograder``, or where ``GRADER_AUTOGRADER_ROOT`` points."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def read_config(source: Path) -> dict[str, Any]:
    """The settings ``grade gradescope`` wrote into the zip."""
    try:
        config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise GraderError(f"{source / CONFIG} is missing or unreadable ({e}): rebuild the "
                          "autograder with `grade gradescope ASSIGNMENT`") from None
    if not isinstance(config, dict) or not isinstance(config.get("assignment"), str):
        raise GraderError(f"{source / CONFIG} names no assignment: rebuild the autograder")
    return config


def _items(source: Path, assignment: str) -> list[tuple[str, str, float]]:
    """Every item with its points, for a result where nothing could be graded."""
    try:
        from grader.api import load_assignment

        a = load_assignment(assignment, source, public_only=True)
        return [(i.id, i.title, float(i.points)) for i in a.items]
    except Exception:  # noqa: BLE001 - the message already says what went wrong
        return []


def grade_submission(root: Path) -> dict[str, Any]:
    """``results.json``'s content for the submission under ``root``."""
    from grader.api import grade
    from grader.gradescope.find import find_submission

    t0 = time.perf_counter()
    source = root / "source"
    config = read_config(source)
    opts = Options.from_dict(config)
    name = config["assignment"]
    try:
        path, notes = find_submission(root / "submission", name)
        result = grade(path, name, course=source)
    except GraderError as e:
        return error_results(str(e), _items(source, name), opts,
                             seconds=time.perf_counter() - t0, assignment=name)
    shown = path.relative_to(root / "submission").as_posix()
    return results_json(result, opts, head=[f"graded {shown}", *(n.text for n in notes)])


def write_results(root: Path, data: dict[str, Any]) -> Path:
    """Write ``ROOT/results/results.json`` whole or not at all."""
    out = root / "results"
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "results.json")
    return out / "results.json"


def main(argv: list[str] | None = None) -> int:
    """Grade, write results.json, print a summary for the instructor's stdout view."""
    root = Path(argv[0]) if argv else autograder_root()
    try:
        data = grade_submission(root)
    except Exception as e:  # noqa: BLE001 - Gradescope must get a results.json regardless
        import traceback

        traceback.print_exc(file=sys.stdout)   # for the instructor's view of the log
        message = (f"the autograder could not grade this submission ({type(e).__name__}: "
                   f"{e}); tell your instructor")
        data = error_results(message, [], Options())
    path = write_results(root, data)
    print(data["output"])
    for t in data["tests"]:
        if "max_score" in t:
            print(f"  {t['name']:<40} {t['score']:g}/{t['max_score']:g}  {t['status']}")
    print(f"wrote {path}: score {data['score']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
