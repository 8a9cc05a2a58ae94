"""A student's copy (``grade release``, no solutions/) judges each public case as the full
grader does: substitutes answer from the reference's recorded calls, so a slip is charged
once, where it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"

# realistic single slips, each appended to the reference (a later def overrides)
SLIPS = {
    "sigmoid stub": "def sigmoid(h):\n    raise NotImplementedError\n",
    "sigmoid deleted": "del sigmoid\n",
    "sigmoid overflows": "def sigmoid(h):\n    return 1 / (1 + np.exp(-np.asarray(h)))\n",
    "dxi4_dxi3 sign": "def dxi4_dxi3(xi3):\n    return 1 / xi3 ** 2\n",
    "xi2 sign": "def xi2(xi1):\n    return np.exp(-xi1)\n",
    "loss_b sign": "def loss_b(y, xi6b):\n    return (1 - y) * xi6b\n",
    "loss_and_grad mean": (
        "_lag = loss_and_grad\n"
        "def loss_and_grad(X, y, W):\n    L, g = _lag(X, y, W)\n    return L / len(y), g / len(y)\n"),
    "gradient_descent drops w0": (
        "_gd = gradient_descent\n"
        "def gradient_descent(grad, w0, lr, n_steps):\n"
        "    return _gd(grad, w0, lr, n_steps)[1:]\n"),
    "gradient_descent ascends": (
        "def gradient_descent(grad, w0, lr, n_steps):\n"
        "    w = np.array(w0, dtype=float)\n    path = [w.copy()]\n"
        "    for _ in range(n_steps):\n        w = w + lr * np.asarray(grad(w.copy()))\n"
        "        path.append(w.copy())\n    return np.array(path)\n"),
    "fit_logistic mean gradient": (
        "def fit_logistic(X, y, lr, n_steps):\n"
        "    X = np.asarray(X, float); y = np.asarray(y, float)\n"
        "    path = gradient_descent(lambda W: loss_and_grad(X, y, W)[1] / len(y),\n"
        "                            np.zeros(X.shape[1]), lr, n_steps)\n"
        "    return path[-1]\n"),
    "minibatches unshuffled": (
        "def minibatches(n, batch_size, rng):\n"
        "    perm = np.arange(n)\n"
        "    return [perm[s:s + batch_size] for s in range(0, n, batch_size)]\n"),
    "minibatches stub": "def minibatches(n, batch_size, rng):\n    raise NotImplementedError\n",
    "predict_proba transposed": (
        "def predict_proba(X, W):\n    return sigmoid(np.asarray(X).T.T @ W + 0.0 * X[:, 0] + 1e-3)\n"),
    "init_mlp unit std": (
        "def init_mlp(layer_sizes, rng):\n"
        "    return [(rng.normal(0, 1, size=(a, b)), np.zeros(b))\n"
        "            for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]\n"),
    "mlp_forward cache without A0": (
        "_mf = mlp_forward\n"
        "def mlp_forward(params, X, activation):\n"
        "    p, cache = _mf(params, X, activation)\n"
        "    return p, {**cache, 'A': cache['A'][1:]}\n"),
    "mlp_backward transposed": (
        "_mb = mlp_backward\n"
        "def mlp_backward(params, cache, y):\n"
        "    return [(dW.T, db) for dW, db in _mb(params, cache, y)]\n"),
    "fit_logistic stub": "def fit_logistic(X, y, lr, n_steps):\n    raise NotImplementedError\n",
}


@pytest.fixture(scope="module")
def grade_release(release):
    """grade(path, items) on the release copy, sharing one fork server."""
    from grader.api import grade, start_server

    srv = start_server(release, "hw1")
    yield lambda path, items: grade(path, "hw1", course=release, items=items, server=srv)
    srv.close()


def _public_verdicts(result) -> dict[tuple[str, str], bool]:
    return {(i.id, c.name): c.passed for i in result.items for c in i.cases
            if c.visibility == "public"}


def _touched(func: str) -> list[str]:
    """The items a slip in ``func`` can change: those calling it or substituting it."""
    from grader.course.folder import load

    return [it.id for it in load("hw1", ROOT, public_only=True).items
            if func in it.functions or func in it.substitutes]


@pytest.mark.parametrize("slip", sorted(SLIPS))
def test_public_only_judges_each_public_case_as_the_full_grader(slip, tmp_path, grade_hw1,
                                                                grade_release):
    sub = tmp_path / "hw1.py"
    sub.write_text(REFERENCE.read_text(encoding="utf-8") + "\n\n" + SLIPS[slip],
                   encoding="utf-8")
    items = _touched(slip.split()[0])
    assert items
    full = grade_hw1(sub, items=items)
    public = grade_release(sub, items)
    assert public.mode == "public" and full.mode == "full"
    want, got = _public_verdicts(full), _public_verdicts(public)
    assert want.keys() == got.keys()
    differ = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert not differ, differ
    assert not all(want.values())  # the slip costs something
    for it in public.items:
        for c in it.cases:
            assert "WireError" not in c.message and "GraderCallback" not in c.message, c.message


def test_a_call_nothing_recorded_runs_the_students_helper_and_says_so(tmp_path, grade_release):
    """Other arguments than the reference's: the student's own helper answers, the
    verdict says it depends on it; a helper that is missing is plainly not defined."""
    shifted = ("_mf = mlp_forward\n"
               "def mlp_forward(params, X, activation):\n"
               "    return _mf(params, np.asarray(X) + 1e-3, activation)\n")
    sub = tmp_path / "hw1.py"
    sub.write_text(REFERENCE.read_text(encoding="utf-8") + "\n\n" + shifted, encoding="utf-8")
    r = grade_release(sub, ["mlp_forward"])
    case = next(c for c in r.items[0].cases if c.name.startswith("mlp_forward"))
    assert not case.passed and case.helpers == ["sigmoid"]
    assert "your own sigmoid ran here" in case.message
    assert "depends on it" in case.message
    sub.write_text(REFERENCE.read_text(encoding="utf-8") + "\n\n" + shifted + "del sigmoid\n",
                   encoding="utf-8")
    r = grade_release(sub, ["mlp_forward"])
    case = next(c for c in r.items[0].cases if c.name.startswith("mlp_forward"))
    assert "NameError" in case.message and "'sigmoid' is not defined" in case.message
    assert "WireError" not in case.message


def test_the_public_only_note_says_why_only_the_public_cases_ran(release, tmp_path):
    """On the full course --public-only is a choice; on a student's copy solutions/ is
    really absent (and the hidden cases run at grading time)."""
    import subprocess
    import sys

    def notes(cwd: Path, *args: str) -> list[str]:
        p = subprocess.run([sys.executable, "-m", "grader.cli", "hw1", "--item", "sigmoid",
                            "--json", *args], cwd=cwd, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert p.returncode == 0, p.stderr
        return [n["text"] for n in json.loads(p.stdout)["notes"] if n["kind"] == "public-only"]

    assert notes(ROOT, "--public-only") == ["--public-only: only the public cases ran"]
    assert notes(ROOT) == []
    [student] = notes(release)
    assert student.startswith("solutions/ is not here: only the public cases ran")
