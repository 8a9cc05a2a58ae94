"""Judge and runner share one core while a submission is graded, and the judge's own
cores are given back after (grader.sandbox.affinity)."""

from __future__ import annotations

import ast
import os

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity")
                                or len(os.sched_getaffinity(0)) < 2,
                                reason="needs a machine with two cores or more")

TELL = ("import os\n"
        "def sigmoid(h):\n"
        "    print(sorted(os.sched_getaffinity(0)))\n"
        "    raise ValueError('told')\n")


def _runner_cores(result) -> list[list[int]]:
    item = next(it for it in result.items if it.id == "sigmoid")
    seen = [c.output for c in item.cases if c.output]
    assert seen, "no captured output"
    return [ast.literal_eval(s.strip().splitlines()[0]) for s in seen]


def test_the_runner_runs_on_the_judges_core_and_the_judge_gets_its_cores_back(
        grade_hw1, variant):
    before = os.sched_getaffinity(0)
    result = grade_hw1(variant(TELL), items=["sigmoid"])
    assert os.sched_getaffinity(0) == before
    for cores in _runner_cores(result):
        assert len(cores) == 1 and cores[0] in before


def test_grader_pin_0_leaves_every_core_to_the_runner(grade_hw1, variant, monkeypatch):
    monkeypatch.setenv("GRADER_PIN", "0")
    result = grade_hw1(variant(TELL), items=["sigmoid"])
    for cores in _runner_cores(result):
        assert set(cores) == os.sched_getaffinity(0)
