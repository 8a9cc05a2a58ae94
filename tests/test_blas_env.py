"""Judge and runner use the same numeric kernels (issue 16): a submission's results have
the reference's last bits where its code is the reference's."""

from __future__ import annotations

from conftest import ROOT

from grader.sandbox.confine import KERNEL_VARS, kernel_env
from grader.sandbox.plan import Isolation, make_plan


def test_the_runner_environment_carries_the_kernel_choice(monkeypatch):
    """Only the plan is built (no process starts, no library reads the variable)."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    env = make_plan(Isolation(bwrap=False, uid=None), ROOT, ["numpy"], False)
    try:
        assert env.env["OPENBLAS_CORETYPE"] == "Prescott"
        assert env.env["OPENBLAS_NUM_THREADS"] == "1"
        assert set(kernel_env({"OPENBLAS_CORETYPE": "x", "HOME": "/h"})) == {"OPENBLAS_CORETYPE"}
        assert "HOME" not in KERNEL_VARS
    finally:
        import shutil

        if env.scratch:
            shutil.rmtree(env.scratch, ignore_errors=True)


def test_runners_see_the_allocator_settings(grade_hw1, variant):
    """The fork server starts with glibc's allocator told to keep large blocks on the
    heap (grader.sandbox.plan.MALLOC_ENV); a submission sees them in its environment."""
    from grader.sandbox.plan import MALLOC_ENV

    r = grade_hw1(variant("import os\ndef sigmoid(h):\n"
                          "    print(sorted((k, v) for k, v in os.environ.items() "
                          "if k.startswith('MALLOC_')))\n    raise ValueError('told')\n"),
                  items=["sigmoid"])
    item = next(i for i in r.items if i.id == "sigmoid")
    shown = next(c.output for c in item.cases if c.output)
    assert shown.strip().splitlines()[0] == str(sorted(MALLOC_ENV.items()))
