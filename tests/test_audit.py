"""`grade audit`: mutation analysis of an assignment's tests, and its CI gate.

A small synthetic assignment in a temporary course folder: its cases cannot tell `>`
from `>=` in `is_big`, so the audit must report that survivor; `absval`'s `>=` → `>`
is a true equivalent, declared, and must be reported apart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.audit.mutants import generate

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = '''\
import numpy as np


def is_big(x):
    """True when x is over 10; a label shows as "<b>big</b>"."""
    # BEGIN SOLUTION
    label = "<b>big</b>" if x > 10 else "small"
    return label
    # END SOLUTION


def absval(x):
    """|x| for a float x."""
    # BEGIN SOLUTION
    return x if x >= 0 else -x
    # END SOLUTION
'''

CASES = '''\
from grader.course.spec import Case, Item

ASSIGNMENT = {"module": "toy", "title": "Toy", "seed": 1, "preload": ["numpy"]}
ITEMS = [Item("big", "Is it big?", 2, ("is_big",)), Item("abs", "Absolute value", 2, ("absval",))]


def public_cases():
    return [Case("big", "is_big", (3.0,), visibility="public"),
            Case("abs", "absval", (2.5,), visibility="public")]


def hidden_cases(rng):
    return [Case("big", "is_big", (20.0,), name="20"),
            Case("abs", "absval", (-1.5,), name="-1.5"),
            Case("abs", "absval", (0.0,), name="0")]  # HIDDEN
'''


def grade_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def mutant_id(course: Path, function: str, operator: str, after: str) -> str:
    src = (course / "solutions" / "toy.py").read_text()
    [m] = [m for m in generate(src, {"is_big", "absval"}) if m.function == function
           and m.operator == operator and after in m.after]
    return m.id


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    (course / "solutions").mkdir()
    (course / "solutions" / "toy.py").write_text(REFERENCE)
    (course / "solutions" / "toy_cases.py").write_text(CASES)
    eq = mutant_id(course, "absval", "relational", "x > 0")
    (course / "solutions" / "toy_mutants.py").write_text(
        f"EQUIVALENT = {{{eq!r}: 'at x = 0 both branches give 0'}}\n")
    p = grade_cli("assign", "toy", "--course", str(course))
    assert p.returncode == 0, p.stderr
    return course


def audit_json(course: Path, *extra: str) -> dict:
    p = grade_cli("audit", "toy", "--course", str(course), "--json", "--workers", "1", *extra)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def by_id(rep: dict) -> dict[str, dict]:
    return {m["id"]: m for m in rep["mutants"]}


def test_audit_reports_the_boundary_survivor_and_the_equivalent_apart(toy):
    rep = audit_json(toy, "--no-cache")
    ms = by_id(rep)
    gap = ms[mutant_id(toy, "is_big", "relational", "x >= 10")]
    assert gap["status"] == "survived" and gap["items"] == ["big"]
    assert gap["diff"].startswith("solutions/toy.py:7: ")
    assert 'if x > 10 else' in gap["before"] and 'if x >= 10 else' in gap["after"]
    eq = ms[mutant_id(toy, "absval", "relational", "x > 0")]
    assert eq["status"] == "equivalent" and eq["equivalent_reason"] == \
        "at x = 0 both branches give 0"
    # the sign removed from -x is caught by the hidden case at -1.5, and costs nothing else
    flip = ms[mutant_id(toy, "absval", "unary sign", "else x")]
    assert flip["status"] == "killed" and flip["lost"] == {"abs": pytest.approx(2 / 3)}
    assert not any(m["collateral"] for m in rep["mutants"])
    items = {s["item"]: s for s in rep["items"]}
    assert items["abs"]["equivalent"] == 1
    assert items["big"]["survived"] >= 1 and items["big"]["score"] < 100
    # mutants change only the solution bodies, never the signatures or docstrings
    assert all(m["function"] in ("is_big", "absval") for m in rep["mutants"])
    assert not any("def " in m["after"] or '"""' in m["after"] for m in rep["mutants"])


def test_the_gate_fails_on_a_survivor_and_verify_audit_says_so(toy):
    p = grade_cli("audit", "toy", "--course", str(toy), "--fail-under", "100")
    assert p.returncode == 1
    assert "survivors (" in p.stdout and "x >= 10" in p.stdout
    assert "FAIL mutation score" in p.stderr and "is_big:relational:" in p.stderr
    assert (toy / ".grade-audit.sqlite").is_file()   # the default cache: the runs below use it
    assert grade_cli("audit", "toy", "--course", str(toy), "--fail-under", "0").returncode == 0
    v = grade_cli("verify", "toy", "--course", str(toy), "--audit")
    assert v.returncode == 1
    assert "FAIL toy: every non-equivalent mutant is killed" in v.stdout


def test_a_rerun_grades_only_what_could_change(toy):
    cache = toy / "verdicts.sqlite"
    first = audit_json(toy, "--cache", str(cache))
    n = first["total"]["mutants"]
    assert first["graded"] == n + 1 and first["verdicts"] == 2 * (n + 1)  # + the reference
    again = audit_json(toy, "--cache", str(cache))
    assert again["graded"] == 0 and again["cached"] == n + 1
    assert [m["status"] for m in again["mutants"]] == [m["status"] for m in first["mutants"]]
    # a hidden case at the boundary: only item big is graded again, and the gap is closed
    decl = toy / "solutions" / "toy_cases.py"
    decl.write_text(decl.read_text().replace(
        "]  # HIDDEN", ", Case('big', 'is_big', (10.0,), name='10')]"))
    assert grade_cli("assign", "toy", "--course", str(toy)).returncode == 0
    third = audit_json(toy, "--cache", str(cache))
    assert third["verdicts"] == n + 1   # one item (big) per mutant, not two
    ms = by_id(third)
    assert ms[mutant_id(toy, "is_big", "relational", "x >= 10")]["status"] == "killed"


def test_bad_declarations_are_one_line_errors(toy):
    (toy / "solutions" / "toy_mutants.py").write_text(
        "from grader.audit import Slip\n"
        "SLIPS = [Slip('absval', 'no sign', 'else -y', 'else y')]\n")
    p = grade_cli("audit", "toy", "--course", str(toy), "--no-cache")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 1 and "'else -y' occurs 0 times in absval" in p.stderr
    (toy / "solutions" / "toy_mutants.py").write_text("EQUIVALENT = {'x:y:z': ''}\n")
    p = grade_cli("audit", "toy", "--course", str(toy), "--no-cache")
    assert p.returncode == 2 and "needs a one-line reason" in p.stderr


def test_a_declared_slip_is_graded_as_a_mutant(toy):
    (toy / "solutions" / "toy_mutants.py").write_text(
        "from grader.audit import Slip\n"
        "SLIPS = [Slip('absval', 'the sign kept', 'else -x', 'else x')]\n")
    rep = audit_json(toy, "--no-cache")
    slip = by_id(rep)["absval:slip:the-sign-kept"]
    assert slip["origin"] == "declared" and slip["status"] == "killed"
    # an operator mutant with the same source is not graded twice
    assert sum(m["after"] == slip["after"] for m in rep["mutants"]) == 1


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="chromium cannot be installed here")
def test_the_html_report_escapes_the_source_and_lists_every_mutant(toy, tmp_path):
    page = tmp_path / "audit.html"
    p = grade_cli("audit", "toy", "--course", str(toy), "--html", str(page), "--json",
                  "--no-cache")
    assert p.returncode == 0, p.stderr
    n = json.loads(p.stdout)["total"]["mutants"]
    dom = subprocess.run(
        [str(chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert 'id="mutants"' in dom
    # the reference's "<b>big</b>" is text in the diffs, never an element
    assert "&lt;b&gt;big&lt;/b&gt;" in dom and "<b>big</b>" not in dom
    assert dom.count("<tr class=\"survived\"") + dom.count("<tr class=\"killed\"") \
        + dom.count("<tr class=\"equivalent\"") == n


def test_init_ci_audit_runs_verify_audit_with_its_cache(tmp_path):
    assert grade_cli("init-ci", "--dir", str(tmp_path), "--audit").returncode == 0
    steps = yaml.safe_load((tmp_path / "grade-verify.yml").read_text())["jobs"]["verify"][
        "steps"]
    assert steps[-1]["run"].strip() == "grade verify --audit"
    assert any(s.get("uses", "").startswith("actions/cache") and
               s["with"]["path"] == ".grade-audit.sqlite" for s in steps)


# ----------------------------------------------------------------------------- hw1


@pytest.fixture(scope="module")
def hw1_mutants():
    from grader.api import load_assignment
    from grader.audit.run import make_mutants

    a = load_assignment("hw1", ROOT, public_only=True)
    return a, *make_mutants(ROOT, "hw1", a)


def test_hw1_declarations_name_real_mutants_and_every_slip_applies(hw1_mutants):
    _, mutants, equivalent = hw1_mutants
    ids = {m.id for m in mutants}
    assert set(equivalent) <= ids, sorted(set(equivalent) - ids)
    assert sum(m.origin == "declared" for m in mutants) >= 15
    assert len(mutants) > 600


@pytest.mark.parametrize("function, after", [
    ("minibatches", "if batch_size <= 1:"),
    ("neuron_accuracy", "(p >= 0.5)"),
    ("mlp_forward", "- np.asarray(b"),
    ("mlp_backward", "(Z[l - 2] >= 0)"),
])
def test_hw1_gaps_the_audit_found_are_closed(grade_hw1, hw1_mutants, tmp_path, function,
                                              after):
    """The survivors of hw1's first audit now lose points on their own item only."""
    a, mutants, _ = hw1_mutants
    item = next(i.id for i in a.items if function in i.functions)
    [m] = [m for m in mutants
           if m.function == function and after in m.after and m.origin == "operator"]
    path = tmp_path / "hw1.py"
    path.write_text(m.source)
    res = grade_hw1(path)
    lost = {i.id for i in res.items if i.score < i.max_score - 1e-9}
    assert lost == {item}


def test_hw1_reference_scores_full_marks_and_stubs_zero(grade_hw1):
    assert grade_hw1(ROOT / "solutions" / "hw1.py").full_marks
    stub = grade_hw1(ROOT / "exercises" / "hw1.py")
    assert stub.score == 0 and all(i.score == 0 for i in stub.items)
