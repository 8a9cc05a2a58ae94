"""Shared fixtures: the repository as a course folder, one warm fork server, submissions."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
STUB = ROOT / "exercises" / "hw1.py"


def copy_course(dst: Path, folders: tuple[str, ...] = ("exercises", "solutions", "data")
                ) -> Path:
    """The repository's course folders copied to ``dst`` (without caches) to break things in."""
    for d in folders:
        shutil.copytree(ROOT / d, dst / d, ignore=shutil.ignore_patterns("__pycache__", ".cache"))
    return dst


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def server() -> Iterator[object]:
    from grader.api import start_server

    srv = start_server(ROOT, "hw1")
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def grade_hw1(server: object) -> Callable[..., object]:
    """grade(path, **options) through the library API, sharing one fork server."""
    from grader.api import grade

    def run(path: Path | str, **kw: object) -> object:
        kw.setdefault("course", ROOT)
        return grade(path, "hw1", server=server, **kw)  # type: ignore[arg-type]

    return run


@pytest.fixture
def variant(tmp_path: Path) -> Callable[[str, str], Path]:
    """A submission made of the reference plus ``extra`` appended (later defs override)."""

    def make(extra: str, name: str = "hw1.py") -> Path:
        p = tmp_path / name
        p.write_text(REFERENCE.read_text(encoding="utf-8") + "\n\n" + extra + "\n",
                     encoding="utf-8")
        return p

    return make


@pytest.fixture
def student_course(tmp_path: Path) -> Path:
    """A student's copy of the course: everything but solutions/."""
    return copy_course(tmp_path / "course", ("exercises", "data"))


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's copy made by ``grade release`` (no solutions/)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("release") / "hw1"
    p = subprocess.run([sys.executable, "-m", "grader.cli", "release", "hw1", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert not (out / "solutions").exists()
    return out
