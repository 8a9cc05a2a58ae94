"""Judge and runner use the same numeric kernels, so a correct submission's own helpers
never run twice (issue 16)."""

from __future__ import annotations

from conftest import REFERENCE, ROOT

from grader.sandbox.confine import KERNEL_VARS, kernel_env
from grader.sandbox.plan import Isolation, make_plan


def test_the_reference_runs_no_own_helper_call_twice(server):
    """Graded with its own helpers standing in for substitutes, the reference's log checks
    out call by call: nothing is re-run with substitutes (as it was when the judge's
    OPENBLAS_CORETYPE did not reach the runner and the last bits differed)."""
    from grader.api import load_assignment
    from grader.course.submission import load_source
    from grader.judge.judge import Judge

    judge = Judge(load_assignment("hw1", ROOT), server)
    result = judge.grade(load_source(REFERENCE))
    assert result.score == result.max_score
    assert judge.own_reruns == {}


def test_a_log_that_does_not_check_out_is_counted_as_a_rerun(server, variant):
    """The counter above can fail: an own helper whose values are off by a last bit (as
    another BLAS kernel's would be) is re-run with substitutes and counted."""
    from grader.api import load_assignment
    from grader.course.submission import load_source
    from grader.judge.judge import Judge

    sub = variant("_orig_lag = loss_and_grad\n"
                  "def loss_and_grad(X, y, W):\n"
                  "    L, g = _orig_lag(X, y, W)\n"
                  "    return L, np.nextafter(g, np.inf)\n")
    judge = Judge(load_assignment("hw1", ROOT), server)
    result = judge.grade(load_source(sub))
    assert judge.own_reruns.get("loss_and_grad", 0) >= 1
    fit = next(i for i in result.items if i.id == "fit_logistic")
    assert fit.score == fit.max_score


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
