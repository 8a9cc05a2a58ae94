"""Course staff's tools: grade assign, verify, release, init-ci, and check() in a notebook."""

from __future__ import annotations

import os
import re
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml
from conftest import REFERENCE, ROOT, copy_course

from grader.authoring.drift import cases_differences
from grader.authoring.notebook import make_notebook
from grader.protocol import wire


def grade_cli(*args: str, cwd: Path = ROOT, env: dict | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A full course folder (solutions included) to break things in."""
    return copy_course(tmp_path / "course")


# ----------------------------------------------------------------------------- assign


def test_assign_is_idempotent_and_matches_the_committed_exercises(course_copy):
    before = {p.name: p.read_bytes() for p in (course_copy / "exercises").iterdir()}
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert p.returncode == 0 and "up to date" in p.stdout, p.stdout + p.stderr
    after = {p.name: p.read_bytes() for p in (course_copy / "exercises").iterdir()}
    assert before == after
    (course_copy / "exercises" / "hw1.py").unlink()
    (course_copy / "exercises" / "hw1.cases.json").unlink()
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert p.returncode == 0 and "wrote exercises/hw1.py" in p.stdout
    after = {p.name: p.read_bytes() for p in (course_copy / "exercises").iterdir()}
    cases = "hw1.cases.json"  # written afresh: this CPU's BLAS bits, equal within noise
    assert not cases_differences(before.pop(cases).decode(), after.pop(cases).decode())
    assert after == before


KERNELS = ("SkylakeX", "Haswell", "Sandybridge", "Prescott")


def _kernel_env(coretype: str) -> dict[str, str] | None:
    """The environment that makes OpenBLAS use ``coretype``, or None where it cannot run."""
    env = {**os.environ, "OPENBLAS_CORETYPE": coretype, "OPENBLAS_VERBOSE": "2"}
    probe = subprocess.run([sys.executable, "-c", "import numpy as np; "
                            "a = np.arange(64.0).reshape(8, 8); print((a @ a).sum())"],
                           env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        return None
    env.pop("OPENBLAS_VERBOSE")
    return env


@pytest.fixture(scope="module")
def kernels() -> dict[str, dict[str, str]]:
    """At least two OpenBLAS kernels this CPU runs, by name, each with its environment."""
    out = {k: e for k in KERNELS if (e := _kernel_env(k)) is not None}
    if len(out) < 2:
        pytest.skip(f"this CPU runs fewer than two of the OpenBLAS kernels {KERNELS}")
    return out


def test_verify_and_assign_hold_under_every_blas_kernel(course_copy, kernels):
    """The committed cases were computed on one CPU: any other kernel's noise is no drift."""
    before = {p.name: p.read_bytes() for p in (course_copy / "exercises").iterdir()}
    for name, env in kernels.items():
        p = grade_cli("assign", "hw1", "--course", str(course_copy), env=env)
        assert p.returncode == 0 and "up to date" in p.stdout, (name, p.stdout + p.stderr)
        assert {p.name: p.read_bytes() for p in (course_copy / "exercises").iterdir()} == before
        p = grade_cli("verify", "hw1", "--course", str(course_copy), env=env)
        assert p.returncode == 0 and "all checks passed for hw1" in p.stdout, (name, p.stdout)


def _cases_file(course: Path) -> tuple[Path, dict]:
    import json

    path = course / "exercises" / "hw1.cases.json"
    return path, json.loads(path.read_text(encoding="utf-8"))


def _write_cases(path: Path, data: dict) -> None:
    import json

    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _first_float_case(data: dict) -> tuple[int, dict]:
    return next((i, c) for i, c in enumerate(data["cases"]) if type(c["expected"]) is float)


@pytest.mark.parametrize("factor, drift", [(1 + 1e-14, False), (1 + 1e-9, True)])
def test_an_expected_value_moved_beyond_noise_is_drift(course_copy, factor, drift):
    path, data = _cases_file(course_copy)
    i, case = _first_float_case(data)
    case["expected"] *= factor
    _write_cases(path, data)
    p = grade_cli("verify", "hw1", "--course", str(course_copy))
    if not drift:
        assert p.returncode == 0, p.stdout
        p = grade_cli("assign", "hw1", "--course", str(course_copy))
        assert "up to date" in p.stdout and _cases_file(course_copy)[1] == data
        return
    assert p.returncode == 1
    line = next(x for x in p.stdout.splitlines() if "no drift" in x)
    assert line.startswith("FAIL") and f"case {i} {case['name']!r}.expected" in line, line
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert "wrote exercises/hw1.cases.json" in p.stdout
    assert _cases_file(course_copy)[1]["cases"][i]["expected"] != case["expected"]


@pytest.mark.parametrize("edit, field", [
    (lambda c: c["args"].append(1.0), ".args: 2 entries are now 1"),
    (lambda c: c.__setitem__("weight", 2.0), ".weight: 2.0 is now 1.0"),
    (lambda c: c.__setitem__("name", c["name"] + "!"), ".name: "),
])
def test_a_changed_case_is_drift_and_named(course_copy, edit, field):
    path, data = _cases_file(course_copy)
    i, case = _first_float_case(data)
    edit(case)
    _write_cases(path, data)
    p = grade_cli("verify", "hw1", "--course", str(course_copy))
    line = next(x for x in p.stdout.splitlines() if "no drift" in x)
    assert p.returncode == 1 and line.startswith("FAIL") and f"case {i} " in line, line
    assert field in line, line


def test_a_removed_case_is_drift(course_copy):
    path, data = _cases_file(course_copy)
    del data["cases"][-1]
    _write_cases(path, data)
    p = grade_cli("verify", "hw1", "--course", str(course_copy))
    assert p.returncode == 1 and re.search(r"cases: \d+ cases are now \d+", p.stdout), p.stdout


def _break(course: Path, rel: str, old: str, new: str) -> None:
    path = course / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("rel, old, new, message", [
    ("solutions/hw1.py", "    # END SOLUTION\n", "\n", r"hw1\.py:\d+: .*BEGIN"),
    ("solutions/hw1_cases.py", 'add(Case("perceptron", "perceptron", (Xp, yp, 3)',
     'add(Case("perceptron", "perceptrn", (Xp, yp, 3)',
     r"hw1_cases\.py:\d+: case .* calls 'perceptrn'"),
])
def test_assign_errors_are_one_line_with_file_and_line(course_copy, rel, old, new, message):
    _break(course_copy, rel, old, new)
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert re.search(message, p.stderr), p.stderr


def test_assign_rejects_a_solution_without_markers(course_copy):
    path = course_copy / "solutions" / "hw1.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^\s*# (BEGIN|END) SOLUTION\n", "", text, flags=re.M),
                    encoding="utf-8")
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert p.returncode == 2 and "hw1.py:1:" in p.stderr and "marker" in p.stderr


# ----------------------------------------------------------------------------- verify


def test_verify_passes_on_this_course():
    p = grade_cli("verify")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "all checks passed for hw1" in p.stdout
    assert "derivatives agree with central finite differences" in p.stdout


def test_verify_catches_a_wrong_derivative_and_drift(course_copy):
    _break(course_copy, "solutions/hw1.py", "return -1.0 / np.asarray(xi3", "return 1.0 / np.asarray(xi3")
    p = grade_cli("verify", "hw1", "--course", str(course_copy))
    assert p.returncode == 1
    assert re.search(r"FAIL hw1: derivatives agree .*dxi4_dxi3", p.stdout), p.stdout
    assert "FAIL hw1: exercises match the solutions" in p.stdout  # cases.json changed too


def test_verify_catches_a_stub_that_scores(course_copy):
    _break(course_copy, "exercises/hw1.py",
           'raise NotImplementedError("dxi3_dxi2: your code here")', "return 1.0")
    p = grade_cli("verify", "hw1", "--course", str(course_copy))
    assert p.returncode == 1
    assert "FAIL hw1: the stubs score zero on every item — items with points: elementary" \
        in p.stdout
    assert "FAIL hw1: exercises match the solutions (no drift)" in p.stdout


# ----------------------------------------------------------------------------- release


def _release_texts(path: Path) -> dict[str, str]:
    """Every file of a release as text, the wheel's members included."""
    out = {}
    for f in path.rglob("*"):
        if not f.is_file():
            continue
        if f.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(f) as z:
                for n in z.namelist():
                    out[f"{f.name}!{n}"] = z.read(n).decode("utf-8", "replace")
        else:
            out[str(f.relative_to(path))] = f.read_text(encoding="utf-8", errors="replace")
    return out


def _solution_lines() -> list[str]:
    """Lines of code found only inside solution markers (not also in docs or given code)."""
    lines, outside, inside = [], [], False
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s == "# BEGIN SOLUTION":
            inside = True
        elif s == "# END SOLUTION":
            inside = False
        elif inside and len(s) > 20 and not s.startswith("#"):
            lines.append(s)
        elif not inside:
            outside.append(line)
    given = "\n".join(outside)
    return [s for s in lines if s not in given]


def test_release_holds_no_solution_and_no_hidden_case(tmp_path):
    from grader.course.folder import load

    out, z = tmp_path / "rel", tmp_path / "hw1.zip"
    p = grade_cli("release", "hw1", "--out", str(out), "--zip", str(z))
    assert p.returncode == 0, p.stderr
    texts = _release_texts(out)
    with zipfile.ZipFile(z) as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist()) == sorted(
            str(f.relative_to(out)) for f in out.rglob("*") if f.is_file())
    assert not [n for n in texts if "solutions" in n or "_cases.py" in n]
    blob = "\n".join(texts.values())
    exercises = "\n".join(t for n, t in texts.items() if not n.endswith(".whl") and "!" not in n)
    assert "BEGIN SOLUTION" not in exercises  # (the engine's own docs explain the markers)
    assert "def hidden_cases" not in exercises and "gradient_checks" not in exercises
    leaked = [line for line in _solution_lines() if line in blob]
    assert not leaked, leaked[:5]
    # hidden inputs and expected values: their encoded arrays and float reprs
    a = load("hw1", ROOT)
    needles: set[str] = set()

    def collect(v):
        if isinstance(v, dict):
            if "__nd__" in v:
                arr = wire.decode(v)
                # high-entropy arrays only: 0/1 labels and zeros recur by chance
                if arr.size >= 3 and arr.dtype.kind == "f" and (arr != np.round(arr)).any():
                    needles.add(v["__nd__"][2])
            for x in v.values():
                collect(x)
        elif isinstance(v, list):
            for x in v:
                collect(x)
        elif isinstance(v, float) and len(repr(v)) > 12:
            needles.add(repr(v))

    for pc in a.public:  # values a hidden case shares with a public one are not secret
        collect(pc.args)
        collect(pc.expected)
        collect(pc.tape)
    public = set(needles)
    needles.clear()
    for pc in a.hidden():
        collect(pc.args)
        collect(pc.expected)
    needles -= public
    assert len(needles) > 100
    found = [n for n in needles if n in blob]
    assert not found, found[:3]


def test_release_installs_in_a_fresh_venv_and_grades_public_cases(tmp_path):
    out = tmp_path / "rel"
    assert grade_cli("release", "hw1", "--out", str(out)).returncode == 0
    readme = (out / "README.md").read_text()
    assert "python3 -m venv .venv" in readme   # PEP 668 Pythons refuse pip outside one
    install = re.search(r"python -m pip install (wheels/\S+\.whl)", readme)
    assert install and (out / install.group(1)).exists()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    # offline: the wheel itself from the release, its dependencies from this machine
    subprocess.run([str(vpy), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(out / install.group(1))], check=True, cwd=out)
    env = {**os.environ, "PYTHONPATH": site.getsitepackages()[0]}
    where = subprocess.run([str(vpy), "-c", "import grader; print(grader.__file__)"],
                           capture_output=True, text=True, env=env, cwd=out)
    assert str(venv) in where.stdout  # the release's engine, not this checkout's
    p = subprocess.run([str(venv / "bin" / "grade"), "hw1", "--json"], capture_output=True,
                       text=True, env=env, cwd=out, timeout=120)
    assert p.returncode == 0, p.stderr
    import json

    data = json.loads(p.stdout)
    assert data["mode"] == "public" and data["score"] == 0 and 0 < data["max_score"] < 100
    assert all(c["visibility"] == "public" for i in data["items"] for c in i["cases"])


# ----------------------------------------------------------------------------- init-ci, check


def test_init_ci_writes_a_workflow_that_runs_verify(tmp_path):
    p = grade_cli("init-ci", "--dir", str(tmp_path / "wf"))
    assert p.returncode == 0
    doc = yaml.safe_load((tmp_path / "wf" / "grade-verify.yml").read_text())
    steps = doc["jobs"]["verify"]["steps"]
    assert any(s.get("run", "").strip() == "grade verify" for s in steps)
    assert any("pip install" in s.get("run", "") for s in steps)
    assert grade_cli("init-ci", "--dir", str(tmp_path / "wf")).returncode == 2  # no overwrite


def test_check_grades_one_item_out_of_process():
    from grader import check

    data = check("perceptron", path=REFERENCE, course=ROOT, show=False)
    assert data is not None and [i["id"] for i in data["items"]] == ["perceptron"]
    assert data["score"] == data["max_score"] > 0 and data["mode"] == "public"


def test_check_cells_do_nothing_when_the_grader_runs_the_notebook(grade_hw1, tmp_path):
    nb = make_notebook(REFERENCE.read_text(encoding="utf-8"), name="hw1")
    nb.cells.append(nbformat.v4.new_code_cell('from grader import check\ncheck("sigmoid")'))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    path = tmp_path / "hw1.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    r = grade_hw1(path, items=["sigmoid"])
    assert r.score == r.max_score == 4 and not r.notes


def test_released_notebook_validates_and_teaches():
    nb = nbformat.read(ROOT / "exercises" / "hw1.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert sum("def " in c for c in code) >= 20
    assert all("BEGIN SOLUTION" not in c for c in code)
    assert "-0.000370183727958695" in text.replace("−", "-")
    assert "0.00037018372" in text and "slides" in text.lower()
    for topic in ("forward", "backward", "mini-batch", "graph", "cache", "perceptron"):
        assert topic in text.lower(), topic
    # every graded function of the stub .py is in the notebook, and raises
    stub = (ROOT / "exercises" / "hw1.py").read_text(encoding="utf-8")
    names = re.findall(r"^def (\w+)\(", stub, flags=re.M)
    for n in names:
        assert any(f"def {n}(" in c for c in code), n
    raises = re.findall(r"^\s+raise NotImplementedError\(", stub, flags=re.M)
    assert len(raises) == len(names) - 1 == 39  # load_heart is given code


def test_assign_says_in_one_line_when_hidden_cases_are_not_cases(course_copy):
    _break(course_copy, "solutions/hw1_cases.py", "def hidden_cases(rng: np.random.Generator) -> list[Case]:\n",
           "def hidden_cases(rng: np.random.Generator) -> list[Case]:\n    return [('sigmoid', 1.0)]\n")
    p = grade_cli("assign", "hw1", "--course", str(course_copy))
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "hidden_cases(rng) returned tuple at position 0, not a Case" in p.stderr
