"""Gradescope's autograder, run as Gradescope runs it.

``grade gradescope hw1`` builds the zip; the test unpacks it into a temporary folder laid
out as ``/autograder`` (``GRADER_AUTOGRADER_ROOT`` points the scripts at it), runs
``setup.sh`` without its root-only step (apt) in a venv that sees this machine's packages
(pip offline: they must satisfy the pinned requirements), then ``run_autograder`` per
submission.  Every ``results.json`` must match Gradescope's documented fields and
``grade hw1 --json``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
STUB = ROOT / "exercises" / "hw1.py"
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def _grade(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    r = _grade("gradescope", "hw1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def autograder(zip_path: Path) -> Iterator[Path]:
    """A folder laid out as /autograder, after setup.sh ran in it.

    Open to everyone as /autograder is (pytest's own temporary folders are not), so that
    only the permissions setup.sh sets keep the unprivileged runner out of solutions/.
    """
    root = Path(tempfile.mkdtemp(prefix="autograder-"))
    root.chmod(0o755)
    try:
        _setup(zip_path, root)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _venv_seeing_this_environment(venv: Path) -> None:
    import site
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, timeout=120)
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib).mkdir(parents=True, exist_ok=True)
    (Path(purelib) / "_this_test_environment.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8")


def _setup(zip_path: Path, root: Path) -> None:
    with zipfile.ZipFile(zip_path) as z:   # as `unzip` does: with the members' modes
        for info in z.infolist():
            z.extract(info, root / "source")
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope
    # requirements.txt is installed too, offline: the packages this test runs with must
    # satisfy it.  They may live in a virtual environment of their own, which a venv made
    # with --system-site-packages does not see: a .pth file in the autograder's venv (made
    # here first; setup.sh makes it again around the file) points there.
    _venv_seeing_this_environment(root / "venv")
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_SETUP_APT": "0",
           "PIP_NO_INDEX": "1", "GRADER_PYTHON": sys.executable,
           "GRADER_VENV_ARGS": "--system-site-packages --without-pip"}
    r = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reading solutions/: refused" in r.stdout     # grade doctor's probe, in the log


def run_autograder(root: Path, files: dict[str, bytes | Path],
                   env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Put ``files`` in submission/, run run_autograder, return its valid results.json."""
    for d in ("submission", "results"):
        shutil.rmtree(root / d, ignore_errors=True)
        (root / d).mkdir()
    for name, content in files.items():
        dst = root / "submission" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            dst.symlink_to(content)
        else:
            dst.write_bytes(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(env_extra or {}, GRADER_AUTOGRADER_ROOT=str(root))
    r = subprocess.run([str(root / "run_autograder")], cwd=root, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return data


def grade_json(path: Path) -> dict[str, Any]:
    """What `grade hw1 --submission PATH --json` prints."""
    r = _grade("hw1", "--submission", str(path), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def graded(grade_hw1: Callable[..., Any]) -> Callable[[Path], dict[str, Any]]:
    """The same data through the library API and the suite's warm fork server (faster)."""
    return lambda path: grade_hw1(path).to_json()


def reference_notebook() -> bytes:
    code = REFERENCE.read_text(encoding="utf-8")
    head, sep, tail = code.partition("\ndef ")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# hw1"), nbformat.v4.new_code_cell(head),
                nbformat.v4.new_code_cell("%matplotlib inline"),
                nbformat.v4.new_code_cell(sep.lstrip("\n") + tail)]
    return nbformat.writes(nb).encode("utf-8")


def _item_tests(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"].split(":")[0]: t for t in data["tests"] if "max_score" in t}


def _same_as_grade_json(data: dict[str, Any], expected: dict[str, Any]) -> None:
    assert data["score"] == pytest.approx(expected["score"], abs=1e-6)
    tests = _item_tests(data)
    assert list(tests) == [i["id"] for i in expected["items"]]
    for it in expected["items"]:
        assert tests[it["id"]]["score"] == pytest.approx(it["score"], abs=1e-6)
        assert tests[it["id"]]["max_score"] == pytest.approx(it["max_score"], abs=1e-6)
        assert tests[it["id"]]["status"] == ("passed" if it["status"] == "passed" else "failed")


def test_the_zip_is_laid_out_as_gradescope_wants(zip_path: Path) -> None:
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        config = json.loads(z.read("gradescope.json"))
        pins = z.read("requirements.txt").decode().split()
    assert {"setup.sh", "run_autograder", "requirements.txt", "gradescope.json",
            "exercises/hw1.cases.json", "solutions/hw1.py", "solutions/hw1_cases.py",
            "data/Heart.csv"} <= names
    assert any(n.startswith("wheels/course_grader-") and n.endswith(".whl") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert config["assignment"] == "hw1" and config["per_case"] is False
    assert config["hidden_visibility"] == "after_published"
    import numpy
    assert f"numpy=={numpy.__version__}" in pins     # pinned to what was checked here


def test_the_same_zip_twice(zip_path: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    assert _grade("gradescope", "hw1", "--out", str(again)).returncode == 0
    assert again.read_bytes() == zip_path.read_bytes()


def test_reference_scores_100_as_grade_json_does(autograder: Path) -> None:
    data = run_autograder(autograder, {"hw1.py": REFERENCE.read_bytes()})
    assert data["score"] == pytest.approx(100.0)
    assert data["extra_data"]["max_score"] == pytest.approx(100.0)
    assert "graded hw1.py" in data["output"]
    _same_as_grade_json(data, grade_json(REFERENCE))
    assert all(t["status"] == "passed" for t in data["tests"])
    assert all(t["visibility"] == "visible" for t in data["tests"])   # nothing hidden failed
    solutions = autograder / "source" / "solutions"
    for p in [solutions, *solutions.glob("*.py")]:
        assert p.stat().st_mode & 0o077 == 0     # setup.sh: only root reads the secret side


def test_stub_scores_0_and_hidden_details_wait_for_publishing(autograder: Path) -> None:
    data = run_autograder(autograder, {"hw1.py": STUB.read_bytes()})
    expected = grade_json(STUB)
    assert data["score"] == 0.0
    _same_as_grade_json(data, expected)
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    later = [t for t in data["tests"] if t["visibility"] != "visible"]
    assert len(visible) == 17 and len(later) == 17
    assert all(t["visibility"] == "after_published" and "score" not in t for t in later)
    assert all("hidden cases failed" in t["output"] for t in visible)
    assert "is not implemented yet" in visible[0]["output"]   # public feedback in full


def test_hidden_cases_are_described_only_after_publishing(
        autograder: Path, tmp_path: Path, graded: Callable[[Path], dict[str, Any]]) -> None:
    code = REFERENCE.read_text(encoding="utf-8") + "\n\ndef xi2(xi1):\n    return 1.0 + xi1\n"
    data = run_autograder(autograder, {"hw1.py": code.encode()})
    expected = grade_json_text(code, tmp_path, graded)
    _same_as_grade_json(data, expected)
    item = next(i for i in expected["items"] if i["id"] == "elementary")
    hidden = [c["name"] for c in item["cases"] if c["visibility"] == "hidden" and not c["passed"]]
    assert hidden
    shown = _item_tests(data)["elementary"]
    later = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert [t["name"] for t in later] == ["elementary: hidden cases that failed"]
    assert all(f"{name}:" in later[0]["output"] for name in hidden)
    assert not any(f"{name}:" in shown["output"] for name in hidden)
    assert f"{len(hidden)} of " in shown["output"]


def test_broken_file_scores_as_grade_json(autograder: Path, tmp_path: Path,
                                          graded: Callable[[Path], dict[str, Any]]) -> None:
    broken = tmp_path / "hw1.py"
    broken.write_text(REFERENCE.read_text(encoding="utf-8") + "\ndef oops(:\n")
    data = run_autograder(autograder, {"hw1.py": broken.read_bytes()})
    assert data["score"] == 0.0
    expected = graded(broken)
    _same_as_grade_json(data, expected)
    public = sum(c["visibility"] == "public" for c in expected["items"][0]["cases"])
    # the syntax error is said once, in the overall output; each item says it was not graded
    assert data["tests"][0]["output"].count("not graded: the file did not load") == 1
    assert f"({public} cases)" in data["tests"][0]["output"]
    assert "nothing of the submission could run: the submission has a syntax error" \
        in data["output"]


def test_notebook_scores_as_grade_json(autograder: Path, tmp_path: Path,
                                       graded: Callable[[Path], dict[str, Any]]) -> None:
    nb = tmp_path / "hw1.ipynb"
    nb.write_bytes(reference_notebook())
    data = run_autograder(autograder, {"hw1.ipynb": nb.read_bytes(), "notes.txt": b"hi"})
    assert data["score"] == pytest.approx(100.0)
    _same_as_grade_json(data, graded(nb))
    assert "graded hw1.ipynb" in data["output"]
    assert "note:" in data["output"]            # the skipped magic cell is reported


def test_empty_submission_gets_0_and_one_line(autograder: Path) -> None:
    data = run_autograder(autograder, {})
    assert data["score"] == 0.0
    assert "no .py or .ipynb file" in data["output"] and "\n" not in data["output"]
    assert [t["score"] for t in data["tests"]] == [0.0] * 17
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100.0)


def test_unreadable_file_gets_0_and_one_line(autograder: Path) -> None:
    data = run_autograder(autograder, {"hw1.py": b"\xff\xfe\x00 not text"})
    assert data["score"] == 0.0
    assert "hw1.py" in data["output"] and "\n" not in data["output"]
    assert all(t["output"].startswith("not graded: ") for t in data["tests"])


def test_several_files_follow_the_folder_rules(autograder: Path) -> None:
    data = run_autograder(autograder, {"scratch.py": STUB.read_bytes(),
                                       "repo/exercises/hw1.py": REFERENCE.read_bytes(),
                                       "repo/.ipynb_checkpoints/hw1.py": STUB.read_bytes()})
    assert data["score"] == pytest.approx(100.0)
    assert "graded repo/exercises/hw1.py" in data["output"]
    assert "2 candidate files" in data["output"]


def test_a_link_to_the_reference_is_not_read(autograder: Path) -> None:
    secret = autograder / "source" / "solutions" / "hw1.py"
    data = run_autograder(autograder, {"hw1.py": secret})
    assert data["score"] == 0.0
    assert "link to a file outside your submission" in data["output"]


STEAL = """
for _p in [{secret!r}]:
    try:
        exec(open(_p).read())             # the reference's functions, if it can be read
    except Exception:
        pass
try:
    open({forged!r}, "w").write('{{"score": 100.0}}')
except Exception:
    pass
"""


@pytest.mark.parametrize("bwrap", ["1", "0"], ids=["bubblewrap", "uid-only"])
def test_the_submission_cannot_read_the_reference_or_forge_results(autograder: Path,
                                                                    bwrap: str) -> None:
    secret = autograder / "source" / "solutions" / "hw1.py"
    attack = STEAL.format(secret=str(secret), forged=str(autograder / "results" / "results.json"))
    data = run_autograder(autograder, {"hw1.py": STUB.read_bytes() + attack.encode()},
                          {"GRADER_BWRAP": bwrap})
    assert data["score"] == 0.0
    assert all(t["status"] == "failed" for t in data["tests"])


def test_per_case_tests(autograder: Path, tmp_path: Path,
                        graded: Callable[[Path], dict[str, Any]]) -> None:
    out = tmp_path / "per-case.zip"
    r = _grade("gradescope", "hw1", "--out", str(out), "--per-case",
               "--hidden-visibility", "after_due_date")
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        config = z.read("gradescope.json")
    assert json.loads(config)["per_case"] is True
    original = (autograder / "source" / "gradescope.json").read_bytes()
    (autograder / "source" / "gradescope.json").write_bytes(config)
    try:
        flipped = STUB.read_text().replace("raise NotImplementedError", "return 0", 1)
        data = run_autograder(autograder, {"hw1.py": flipped.encode()})
    finally:
        (autograder / "source" / "gradescope.json").write_bytes(original)
    expected = grade_json_text(flipped, tmp_path, graded)
    cases = [c for i in expected["items"] for c in i["cases"]]
    assert len(data["tests"]) == len(cases)
    assert data["score"] == pytest.approx(expected["score"], abs=1e-6)
    for t, c in zip(data["tests"], cases):
        assert t["status"] == ("passed" if c["passed"] else "failed")
        assert t["visibility"] == ("visible" if c["visibility"] == "public"
                                   else "after_due_date")
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100.0)


def grade_json_text(code: str, tmp_path: Path,
                    graded: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    p = tmp_path / "hw1.py"
    p.write_text(code, encoding="utf-8")
    return graded(p)


def test_a_broken_autograder_still_writes_results(tmp_path: Path) -> None:
    from grader.gradescope.run import main

    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    assert main([str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0.0 and "tell your instructor" in data["output"]


def test_bad_usage_is_one_line(tmp_path: Path, student_course: Path) -> None:
    r = _grade("gradescope", "hw9", "--out", str(tmp_path / "a.zip"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "unknown assignment" in r.stderr
    r = _grade("gradescope", "hw1", "--out", str(tmp_path / "a.zip"), "--python", "three")
    assert r.returncode == 2 and "--python" in r.stderr
    r = _grade("gradescope", "hw1", "--out", str(tmp_path / "a.zip"), "--python", "3.8")
    assert r.returncode == 2 and "3.10 or newer" in r.stderr
    r = _grade("gradescope", "hw1", "--out", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in r.stderr   # click says so
    r = _grade("gradescope", "hw1", "--out", str(tmp_path / "a.zip"), "--course",
               str(student_course))
    assert r.returncode == 2 and "solutions" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "a.zip").exists()


def test_visibility_options_reach_results_json(grade_hw1: Callable[..., Any]) -> None:
    from grader.gradescope.results import Options, results_json

    result = grade_hw1(STUB)
    data = results_json(result, Options.from_dict({
        "visibility": "after_due_date", "stdout_visibility": "visible",
        "hidden_visibility": "hidden"}))
    jsonschema.validate(data, SCHEMA)
    assert data["visibility"] == "after_due_date" and data["stdout_visibility"] == "visible"
    assert {t["visibility"] for t in data["tests"]} == {"visible", "hidden"}
    with pytest.raises(ValueError, match="unknown visibility"):
        Options.from_dict({"hidden_visibility": "later"})


def test_a_second_assignment_needs_no_engine_change(autograder: Path, tmp_path: Path) -> None:
    """The poly course of test_second_assignment, graded by its own autograder zip (the
    venv set up above serves: GRADER_VENV points run_autograder at it)."""
    from test_second_assignment import DECLARATIONS, SLIP
    from test_second_assignment import REFERENCE as POLY

    course = tmp_path / "poly-course"
    for d in ("solutions", "exercises"):
        (course / d).mkdir(parents=True)
    (course / "solutions" / "poly.py").write_text(POLY, encoding="utf-8")
    (course / "solutions" / "poly_cases.py").write_text(DECLARATIONS, encoding="utf-8")
    assert _grade("assign", "poly", "--course", str(course)).returncode == 0
    zip_path = tmp_path / "poly.zip"
    r = _grade("gradescope", "poly", "--out", str(zip_path), "--course", str(course))
    assert r.returncode == 0, r.stderr
    root = Path(tempfile.mkdtemp(prefix="autograder-poly-"))
    try:
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(root / "source")
        shutil.copy(autograder / "run_autograder", root / "run_autograder")
        venv = {"GRADER_VENV": str(autograder / "venv")}
        full = run_autograder(root, {"poly.py": POLY.encode()}, venv)
        slip = run_autograder(root, {"poly.py": (POLY + SLIP).encode()}, venv)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert full["score"] == pytest.approx(6.0)
    assert [t["score"] for t in _item_tests(slip).values()] == pytest.approx([0.0, 3.0, 1.0])
