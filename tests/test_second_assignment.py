"""A second assignment, made in a temporary course folder, runs through the whole engine
(assign, grade, verify, release) with no change to grader/: the engine knows no hw1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = '''\
# %% [markdown]
# # poly: squares and sums
#
# Three small functions; `sum_of_squares` calls `square`.

# %%
import numpy as np


def square(x):
    """x squared, elementwise, as a float array."""
    # BEGIN SOLUTION
    return np.asarray(x, dtype=np.float64) ** 2
    # END SOLUTION


def sum_of_squares(x):
    """The sum of the squares of x (calls `square`)."""
    # BEGIN SOLUTION
    return float(np.sum(square(x)))
    # END SOLUTION


def positive_part(x):
    """x where it is positive, 0 elsewhere."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, 0.0)
    # END SOLUTION
'''

DECLARATIONS = '''\
"""poly's items and cases."""

import numpy as np

from grader.course.spec import Case, GradCheck, Item

ASSIGNMENT = {"module": "poly", "title": "Squares and sums", "seed": 11, "preload": ["numpy"]}

ITEMS = [
    Item("square", "Squares", 2, ("square",)),
    Item("sums", "Sum of squares", 3, ("sum_of_squares",), substitutes=("square",)),
    Item("positive", "Positive part", 1, ("positive_part",)),
]


def public_cases():
    return [
        Case("square", "square", (np.array([1.0, -2.0]),), name="square([1, -2])",
             visibility="public"),
        Case("sums", "sum_of_squares", (np.array([1.0, 2.0, 3.0]),),
             name="sum_of_squares([1, 2, 3])", visibility="public"),
        Case("positive", "positive_part", (np.array([-1.0, 0.0, 2.5]),),
             name="positive_part([-1, 0, 2.5])", visibility="public"),
    ]


def hidden_cases(rng):
    out = []
    for k in range(3):
        out.append(Case("square", "square", (rng.normal(size=4),), name=f"square {k}"))
        out.append(Case("sums", "sum_of_squares", (rng.normal(size=5),), name=f"sums {k}"))
        out.append(Case("positive", "positive_part", (rng.normal(size=6),),
                        name=f"positive {k}"))
    return out


def gradient_checks():
    return [GradCheck("d square / dx", f=reference.square, df=lambda x: 2 * x,  # noqa: F821
                      x=np.array([0.5, -1.5, 2.0]), elementwise=True)]
'''

SLIP = '''

def square(x):
    return -np.asarray(x, dtype=np.float64) ** 2   # a flipped sign
'''


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("poly-course")
    (root / "solutions").mkdir()
    (root / "exercises").mkdir()
    (root / "solutions" / "poly.py").write_text(REFERENCE, encoding="utf-8")
    (root / "solutions" / "poly_cases.py").write_text(DECLARATIONS, encoding="utf-8")
    p = grade("assign", "poly", "--course", str(root), cwd=root)
    assert p.returncode == 0, p.stderr
    return root


def scores(p: subprocess.CompletedProcess[str]) -> dict[str, float]:
    assert p.returncode in (0, 1), p.stderr
    data = json.loads(p.stdout)
    return {i["id"]: i["score"] for i in data["items"]}


def test_assign_writes_the_student_side(course):
    stub = (course / "exercises" / "poly.py").read_text(encoding="utf-8")
    assert stub.count("    raise NotImplementedError(") == 3 and "** 2" not in stub
    cases = json.loads((course / "exercises" / "poly.cases.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in cases["items"]] == ["square", "sums", "positive"]
    assert len(cases["cases"]) == 3  # the public ones; hidden cases stay in solutions/
    p = grade("assign", "poly", "--course", str(course), cwd=course)
    assert "up to date" in p.stdout


def test_the_reference_scores_full_marks_and_the_stubs_none(course):
    ref = grade("poly", "--submission", "solutions/poly.py", "--json", cwd=course)
    assert scores(ref) == {"square": 2, "sums": 3, "positive": 1}
    stub = grade("poly", "--json", cwd=course)
    assert scores(stub) == {"square": 0, "sums": 0, "positive": 0}


def test_a_slip_is_charged_once_and_named(course, tmp_path):
    sub = tmp_path / "poly.py"
    sub.write_text(REFERENCE + SLIP, encoding="utf-8")
    p = grade("poly", "--submission", str(sub), "--json", cwd=course)
    assert scores(p) == {"square": 0, "sums": 3, "positive": 1}
    square = json.loads(p.stdout)["items"][0]
    assert all("sign" in c["diagnosis"] for c in square["cases"])


def test_verify_passes(course):
    p = grade("verify", "poly", "--course", str(course), cwd=course)
    assert p.returncode == 0, p.stdout
    assert "all checks passed for poly" in p.stdout
    assert "derivatives agree with central finite differences (1 checks)" in p.stdout


def test_release_grades_the_public_cases(course, tmp_path):
    out = tmp_path / "release"
    p = grade("release", "poly", "--out", str(out), "--course", str(course), cwd=course)
    assert p.returncode == 0, p.stderr
    assert not (out / "solutions").exists()
    (out / "exercises" / "poly.py").write_text(REFERENCE, encoding="utf-8")
    p = grade("poly", "--json", cwd=out)
    data = json.loads(p.stdout)
    assert data["mode"] == "public" and data["score"] == data["max_score"] > 0
    assert [n["kind"] for n in data["notes"]] == ["public-only"]
