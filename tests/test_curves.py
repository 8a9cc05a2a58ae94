"""Declared curves (``curve=`` in solutions/hw1_cases.py): the perceptron's training error
and the MLP's training loss per epoch, the submission's beside the reference's, on the
``grade --html`` page of a student's copy as of the full course."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.errors import AuthoringError
from pages import chromium_dom

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
CURVED = {"perceptron": "perceptron on 4 points", "train_mlp": "train_mlp, 2 epochs"}
ITEMS = ("--item", "perceptron", "--item", "train_mlp")

# the update's sign flipped: graded wrong, and its training error goes up, not down
FLIPPED = '''
def perceptron(X, y, n_epochs):
    X = np.asarray(X, dtype=np.float64)
    w = np.zeros(X.shape[1])
    for _ in range(n_epochs):
        for i in range(X.shape[0]):
            y_hat = 1.0 if X[i] @ w > 0 else 0.0
            w = w - (y[i] - y_hat) * X[i]
    return w
'''
# passes its graded case (2 epochs), fails beyond 5: no curve of its, and a note
FAILS_LATER = '''
_train_mlp = train_mlp
def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    if n_epochs > 5:
        raise ValueError("<b>too many</b> epochs")
    return _train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng)
'''


def _grade(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader.cli", "hw1", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def _submission(tmp_path: Path, extra: str = "") -> Path:
    p = tmp_path / "hw1.py"
    p.write_text(REFERENCE.read_text(encoding="utf-8") + "\n\n" + extra + "\n", encoding="utf-8")
    return p


def _curves(data: dict) -> dict[str, dict]:
    """The curve plots of a --json result, by item."""
    return {i["id"]: c["plot"] for i in data["items"] for c in i["cases"]
            if c["plot"].get("kind") == "curve"}


def _published(course: Path) -> dict[str, list[float]]:
    """The reference's curves as the public cases file holds them, by item."""
    cases = json.loads((course / "exercises" / "hw1.cases.json").read_text(encoding="utf-8"))
    return {c["item"]: c["curve"]["expected"] for c in cases["cases"] if "curve" in c}


def _figures(dom: str) -> dict[str, str]:
    """The curve figures of a page's DOM, by caption."""
    out = {}
    for fig in re.findall(r'<figure class="curve">(.*?)</figure>', dom, re.S):
        caption = re.search(r"<figcaption>(.*?)</figcaption>", fig, re.S)
        assert caption is not None and 'src="data:image/png;base64,' in fig
        out[caption.group(1)] = fig
    return out


def test_a_correct_submission_draws_the_reference_curves_on_a_students_copy(release, tmp_path):
    assert not (release / "solutions").exists()
    page = tmp_path / "out.html"
    p = _grade(release, "--submission", str(_submission(tmp_path)), *ITEMS, "--html", str(page),
               "--json")
    assert p.returncode == 0, p.stderr
    curves, published = _curves(json.loads(p.stdout)), _published(release)
    assert set(curves) == set(published) == set(CURVED)
    for item, plot in curves.items():
        assert plot["status"] == "ok" and plot["note"] == ""
        assert plot["expected"] == published[item]
        assert len(plot["got"]) == len(plot["x"]) == len(plot["expected"]) > 10
        assert plot["got"] == pytest.approx(plot["expected"], rel=1e-9, abs=1e-12)
    loss = curves["train_mlp"]["got"]
    assert loss[0] > 0.6 and loss[-1] < loss[0] / 5  # it trains: the loss falls
    dom = chromium_dom(page, tmp_path / "profile")
    assert "<h2>Curves</h2>" in dom
    assert set(_figures(dom)) == {
        "perceptron / perceptron on 4 points: training error (fraction misclassified)",
        "train_mlp / train_mlp, 2 epochs: training loss (mean cross-entropy)"}


def test_a_slip_shows_in_its_curve_and_a_failing_run_gives_a_note(release, tmp_path):
    sub = _submission(tmp_path, FLIPPED + FAILS_LATER)
    page = tmp_path / "out.html"
    p = _grade(release, "--submission", str(sub), *ITEMS, "--html", str(page), "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    curves = _curves(data)
    perceptron = curves["perceptron"]
    assert perceptron["status"] == "ok"
    assert perceptron["got"] != pytest.approx(perceptron["expected"], abs=1e-6)
    assert perceptron["got"][-1] > perceptron["expected"][-1]  # worse, not better
    mlp = curves["train_mlp"]
    assert mlp["got"] == [] and mlp["status"] == "error" and mlp["expected"]
    assert mlp["note"] == ("no curve of yours: train_mlp raised ValueError for epoch 6: "
                           "<b>too many</b> epochs")
    cases = {c["name"]: c for i in data["items"] for c in i["cases"]}
    assert not cases[CURVED["perceptron"]]["passed"] and cases[CURVED["train_mlp"]]["passed"]
    dom = chromium_dom(page, tmp_path / "profile")
    figures = _figures(dom)
    assert len(figures) == 2  # the reference's curve is drawn all the same
    mlp_fig = next(f for c, f in figures.items() if c.startswith("train_mlp"))
    assert "&lt;b&gt;too many&lt;/b&gt; epochs" in mlp_fig and "<b>too many" not in dom


def test_json_carries_curves_only_when_the_page_is_asked_and_grading_is_the_same(
        release, tmp_path):
    sub = _submission(tmp_path, FLIPPED)
    plain = _grade(release, "--submission", str(sub), *ITEMS, "--json")
    with_page = _grade(release, "--submission", str(sub), *ITEMS, "--json",
                       "--html", str(tmp_path / "out.html"))
    assert plain.returncode == with_page.returncode == 0, plain.stderr + with_page.stderr
    a, b = json.loads(plain.stdout), json.loads(with_page.stdout)
    assert _curves(a) == {} and set(_curves(b)) == set(CURVED)
    for item in b["items"]:
        for c in item["cases"]:
            c["plot"] = {} if c["plot"].get("kind") == "curve" else c["plot"]
    assert a == b  # the same scores, statuses, messages: the curves grade nothing


def test_curves_change_no_verdict_and_round_trip_through_json(student_course, server):
    """A cases file without its curves grades every public case the same, on every item;
    the curves themselves survive Result.to_json / from_json."""
    from grader.api import grade
    from grader.result import Result

    cases_file = student_course / "exercises" / "hw1.cases.json"
    sub = student_course / "slip.py"
    sub.write_text(REFERENCE.read_text(encoding="utf-8") + "\n" + FLIPPED, encoding="utf-8")
    curved = grade(sub, "hw1", course=student_course, server=server, curves=True)
    data = json.loads(cases_file.read_text(encoding="utf-8"))
    for c in data["cases"]:
        c.pop("curve", None)
    cases_file.write_text(json.dumps(data), encoding="utf-8")
    bare = grade(sub, "hw1", course=student_course, server=server, curves=True)
    strip = {c.name: c.plot.get("kind") for i in curved.items for c in i.cases}
    assert sorted(k for k, v in strip.items() if v == "curve") == sorted(CURVED.values())
    for r in (curved, bare):
        for i in r.items:
            for c in i.cases:
                c.plot = {} if c.plot.get("kind") == "curve" else c.plot
    assert curved.version != bare.version  # the cases file changed; the grading did not
    assert {**curved.to_json(), "version": ""} == {**bare.to_json(), "version": ""}
    again = grade(sub, "hw1", course=ROOT, server=server, curves=True,
                  items=["perceptron", "train_mlp"])  # the full course: the same curves
    assert Result.from_json(again.to_json()).to_json() == again.to_json()
    plots = {i.id: c.plot for i in again.items for c in i.cases if c.plot}
    assert plots["train_mlp"]["got"] == pytest.approx(plots["train_mlp"]["expected"], rel=1e-9)
    assert plots["perceptron"]["got"][1:] == [1.0] * 10  # the flipped update, all wrong


def test_a_run_out_of_time_stops_the_curve(student_course, server, tmp_path):
    from grader.api import grade

    sub = _submission(tmp_path, '''
_perceptron = perceptron
def perceptron(X, y, n_epochs):
    while n_epochs > 3:
        pass
    return _perceptron(X, y, n_epochs)
''')
    r = grade(sub, "hw1", course=student_course, server=server, curves=True,
              items=["perceptron"], time_scale=0.1)
    case = r.items[0].cases[0]
    assert case.passed and case.plot["got"] == [] and case.plot["status"] == "timeout"
    assert case.plot["note"] == "no curve of yours: the runs took over 1 s in all (at epoch 4)"
    stub = grade(None, "hw1", course=student_course, server=server, curves=True,
                 items=["perceptron"])
    assert stub.items[0].cases[0].plot["note"] == ("no curve of yours: perceptron is not "
                                                   "implemented yet")


@pytest.mark.parametrize("factor, drift", [(1 + 1e-14, False), (1 + 1e-9, True)])
def test_the_published_reference_curve_is_checked_for_drift(tmp_path, factor, drift):
    import shutil

    from grader.authoring.drift import cases_differences

    course = tmp_path / "course"
    for d in ("exercises", "solutions", "data"):
        shutil.copytree(ROOT / d, course / d, ignore=shutil.ignore_patterns("__pycache__"))
    path = course / "exercises" / "hw1.cases.json"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    i, case = next((i, c) for i, c in enumerate(data["cases"]) if c["item"] == "train_mlp")
    case["curve"]["expected"][7] *= factor
    moved = json.dumps(data, indent=1) + "\n"
    found = cases_differences(moved, text)
    if not drift:
        assert found == []
        return
    assert found == [f"case {i} 'train_mlp, 2 epochs'.curve.expected[7]: "
                     f"{case['curve']['expected'][7]!r} is now "
                     f"{json.loads(text)['cases'][i]['curve']['expected'][7]!r}"]
    path.write_text(moved, encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "grader.cli", "verify", "hw1", "--course",
                        str(course)], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = next(x for x in p.stdout.splitlines() if "no drift" in x)
    assert p.returncode == 1 and line.startswith("FAIL") and ".curve.expected[7]" in line


@pytest.mark.parametrize("kwargs, words", [
    ({"curve": {"vary": 2, "upto": 5, "metric": "bce", "labels": 1, "label": "l"},
      "visibility": "hidden"}, "only public cases may declare a curve"),
    ({"curve": {"vary": 2, "upto": 5, "metric": "accuracy", "labels": 1, "label": "l"}},
     "metric 'accuracy' is not one of"),
    ({"curve": {"vary": 2, "upto": 5, "metric": "linear_error", "labels": 1, "label": "l"}},
     "needs 'inputs'"),
    ({"curve": {"vary": 7, "upto": 5, "metric": "bce", "labels": 1, "label": "l"}},
     "beyond the case's 3"),
    ({"curve": {"vary": 2, "upto": 5, "metric": "bce", "labels": 1, "label": "l",
                "then": ["f", ["$", "x"]]}}, "then must be"),
    ({"curve": {"vary": 2, "upto": 5, "metric": "bce", "labels": 1, "label": "l"},
      "plot": "path"}, "both plot and curve"),
])
def test_a_malformed_curve_is_an_authoring_error(kwargs, words):
    import numpy as np

    from grader.course.spec import Case

    with pytest.raises(AuthoringError, match=re.escape(words)):
        Case("perceptron", "perceptron", (np.eye(2), np.ones(2), 3), name="c",
             **{"visibility": "public", **kwargs})
