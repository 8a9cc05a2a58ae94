"""A whole submission's time limit (``grade batch --timeout``): where a parent can stop the
grading process (the local pool) and where only the judge can stop itself (the library
API's ``within``, a cluster's workers), the submission is recorded as over the limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

from grader.api import Grader
from grader.batch.run import run_batch
from grader.judge.judge import GradingDeadline

REF = REFERENCE.read_text(encoding="utf-8")
HANGS = REF + ("\n\ndef perceptron(X, y, n_epochs):\n    while True:\n        pass\n"
               "def neuron_accuracy(X, y, W):\n    while True:\n        pass\n")


def _class(folder: Path) -> Path:
    folder.mkdir()
    (folder / "ok.py").write_text(f"# ok\n{REF}", encoding="utf-8")
    (folder / "hangs.py").write_text(HANGS, encoding="utf-8")
    return folder


def test_the_judge_stops_itself_when_the_submission_runs_over(server, tmp_path):
    sub = tmp_path / "hangs.py"
    sub.write_text(HANGS, encoding="utf-8")
    # every call may take 100 s, the whole submission 1.5 s
    with Grader(ROOT, "hw1", server=server, time_scale=10) as g:  # type: ignore[arg-type]
        t = time.monotonic()
        with pytest.raises(GradingDeadline, match="took over 1.5 s"):
            g.grade(sub, ["perceptron", "neuron"], within=1.5)
        assert time.monotonic() - t < 60  # not the per-call limits of 100 s each
        assert g.grade(REFERENCE, ["perceptron"], within=60).full_marks  # and it goes on


def test_the_local_pool_records_a_submission_over_the_limit(tmp_path):
    subs = _class(tmp_path / "subs")
    db = tmp_path / "book.sqlite"
    summary = run_batch("hw1", subs, course=ROOT, db=db, workers=2, time_scale=10,
                        timeout=3.0)
    assert len(summary.errors) == 1
    assert summary.errors[0].startswith("hangs") and "took over 3 s" in summary.errors[0]
