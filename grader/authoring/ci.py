"""``grade init-ci``: the course repository's CI workflow, and the grader it installs.

The workflow runs ``grade verify`` on every push.  It installs the grader from the
repository itself: the grader's own source where the repository is it (its
``pyproject.toml`` names ``course-grader``), else a wheel of this grader written beside
the workflow under ``.github/grader/`` (the grader is not published on the package
index, so nothing is fetched by name).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from grader.authoring.release import DIST, build_wheel
from grader.errors import UsageError

WHEELS = Path(".github/grader")


def course_root(course: Path | None) -> Path:
    """The course repository: exercises/ and solutions/, at or above ``course`` (or here)."""
    here = (course or Path.cwd()).resolve()
    root = next((d for d in (here, *here.parents) if (d / "exercises").is_dir()), None)
    if root is None:
        raise UsageError(f"{here} is not a course folder (no exercises/ here or above): run "
                         "grade init-ci in the course repository, or pass --course DIR")
    if not (root / "solutions").is_dir():
        raise UsageError(f"{root} has no solutions/ (a student's copy?): the workflow runs "
                         "grade verify on the reference solutions, so it belongs in the "
                         "course repository that has them")
    return root


def is_grader_source(root: Path) -> bool:
    p = root / "pyproject.toml"
    try:
        return f'name = "{DIST}"' in p.read_text(encoding="utf-8")
    except OSError:
        return False


def init_ci(course: Path | None = None, target: Path | None = None, *,
            force: bool = False, edit: Callable[[str], str] | None = None) -> list[Path]:
    """Write the workflow (and, outside the grader's own source, its wheel); returns what
    was written.  ``edit`` changes the workflow's text first (``grade init-ci --audit``
    adds the audit this way)."""
    root = course_root(course)
    target = target if target is not None else root / ".github" / "workflows"
    path = target / "grade-verify.yml"
    if path.exists() and not force:
        raise UsageError(f"{path} exists: pass --force to overwrite it")
    text = files("grader").joinpath("templates/grade-verify.yml").read_text(encoding="utf-8")
    if edit is not None:
        text = edit(text)
    target.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written = [path]
    if not is_grader_source(root):
        wheels = root / WHEELS
        for old in wheels.glob("course_grader-*.whl"):
            old.unlink()
        written.append(build_wheel(wheels))
    return written
