"""GitHub Classroom's loop: `grade init-ci --student` and its grading step, run locally.

The workflow is written into a student's repository (a `grade release`), and its grading
step is run as GitHub Actions runs it (`bash -e`, the workflow's env, GITHUB_STEP_SUMMARY
set to a file), with `grade` on PATH running this checkout's grader.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "GITHUB_"))}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("classroom") / "release"
    r = subprocess.run([sys.executable, "-m", "grader.cli", "release", "hw1", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, env=_env())
    assert r.returncode == 0, r.stderr
    return out


def student_repo(release: Path, tmp_path: Path, *init_args: str) -> tuple[Path, dict[str, Any]]:
    """A copy of the release with the workflow `grade init-ci --student` wrote."""
    repo = tmp_path / "repo"
    shutil.copytree(release, repo)
    r = subprocess.run([sys.executable, "-m", "grader.cli", "init-ci", "--student", *init_args],
                       cwd=repo, capture_output=True, text=True, env=_env())
    assert r.returncode == 0, r.stderr
    workflow = yaml.safe_load((repo / ".github/workflows/grade.yml").read_text())
    return repo, workflow


def run_grading_step(repo: Path, workflow: dict[str, Any], tmp_path: Path
                     ) -> tuple[int, str]:
    """Run the workflow's grading step; (exit code, what it wrote to the job summary)."""
    step = next(s for s in workflow["jobs"]["grade"]["steps"]
                if s.get("name") == "Grade the public cases")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "grade"          # the console script, running this checkout's grader
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m grader.cli "$@"\n')
    shim.chmod(0o755)
    summary = tmp_path / "summary.md"
    summary.write_text("")
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    env = _env({**workflow["env"], "GITHUB_STEP_SUMMARY": str(summary),
                "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    r = subprocess.run(["bash", "-e", str(script)], cwd=repo, env=env, capture_output=True,
                       text=True, timeout=300)
    return r.returncode, summary.read_text(encoding="utf-8")


def _rows(md: str) -> list[list[str]]:
    """The rendered table's body rows, as GitHub would lay them out (raw HTML allowed)."""
    from html.parser import HTMLParser

    rows: list[list[str]] = []
    inside = [False]

    class Rows(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag == "tr":
                rows.append([])
            elif tag == "td":
                rows[-1].append("")
                inside[0] = True

        def handle_endtag(self, tag: str) -> None:
            inside[0] = inside[0] and tag != "td"

        def handle_data(self, data: str) -> None:
            if inside[0]:
                rows[-1][-1] += data

    Rows().feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))
    return [r for r in rows if r]


def test_workflow_runs_on_push_with_the_course_assignments(release: Path,
                                                           tmp_path: Path) -> None:
    _, workflow = student_repo(release, tmp_path)
    assert "push" in workflow[True]            # YAML 1.1 reads the key `on` as True
    assert workflow["env"] == {"GRADE_ASSIGNMENTS": "hw1",
                               "GRADE_SUBMISSION": "exercises/{name}.py"}
    names = [s.get("name") for s in workflow["jobs"]["grade"]["steps"]]
    assert "Install the sandbox (bubblewrap)" in names and "Install the grader" in names


def test_stub_fails_the_job_with_the_table_in_the_summary(release: Path,
                                                          tmp_path: Path) -> None:
    repo, workflow = student_repo(release, tmp_path)
    code, summary = run_grading_step(repo, workflow, tmp_path)
    assert code == 1
    assert summary.startswith("### hw1: 0/") and "(public cases only)" in summary
    rows = _rows(summary)
    assert len(rows) == 17 and all(len(r) == 4 for r in rows)
    assert rows[0][0] == "sigmoid" and rows[0][2] == "missing"


def test_full_marks_pass_the_job(release: Path, tmp_path: Path) -> None:
    repo, workflow = student_repo(release, tmp_path)
    shutil.copy(REFERENCE, repo / "exercises" / "hw1.py")
    code, summary = run_grading_step(repo, workflow, tmp_path)
    assert code == 0
    rows = _rows(summary)
    assert [r[2] for r in rows] == ["passed"] * 17
    first = summary.splitlines()[0]
    got, total = first.split(": ")[1].split(" ")[0].split("/")
    assert float(got) == pytest.approx(float(total)) and float(total) > 0


def test_submission_text_is_escaped_in_the_summary(release: Path, tmp_path: Path) -> None:
    repo, workflow = student_repo(release, tmp_path)
    hostile = ("\n\ndef sigmoid(h):\n    raise ValueError('<img src=x onerror=alert(1)> | "
               "**bold** [a](http://example.com)')\n")
    (repo / "exercises" / "hw1.py").write_text(REFERENCE.read_text() + hostile)
    code, summary = run_grading_step(repo, workflow, tmp_path)
    assert code == 1
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(summary)
    assert "<img" not in html and "<strong>bold" not in html and "<a href" not in html
    rows = _rows(summary)
    assert len(rows) == 17 and all(len(r) == 4 for r in rows)   # the | broke no cell
    assert "<img src=x onerror=alert(1)> | **bold**" in rows[0][3]


def test_notebook_submission_and_an_unreadable_one(release: Path, tmp_path: Path) -> None:
    repo, workflow = student_repo(release, tmp_path, "--submission", "exercises/{name}.ipynb")
    assert workflow["env"]["GRADE_SUBMISSION"] == "exercises/{name}.ipynb"
    code, summary = run_grading_step(repo, workflow, tmp_path)
    assert code == 1 and "Graded hw1.ipynb" in summary
    (repo / "exercises" / "hw1.ipynb").write_text("{not json")
    code, summary = run_grading_step(repo, workflow, tmp_path)
    assert code == 2 and summary.startswith("### hw1: not graded")


def test_init_ci_student_refuses_bad_input(release: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "grader.cli", "init-ci", "--student",
                        "--submission", 'x"; rm -rf /'], cwd=release, capture_output=True,
                       text=True, env=_env())
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = subprocess.run([sys.executable, "-m", "grader.cli", "init-ci", "--student"],
                       cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and "no course folder" in r.stderr
    r = subprocess.run([sys.executable, "-m", "grader.cli", "init-ci", "--assignment", "hw1",
                        "--dir", str(tmp_path / "wf")], cwd=release, capture_output=True,
                       text=True, env=_env())
    assert r.returncode == 2 and "go with --student" in r.stderr
    assert not (tmp_path / "wf").exists()
