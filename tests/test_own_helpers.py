"""The submission's own helpers (issue 16): where a graded function's own version passed
every case of its item, the functions that call it run with it as it is, not with the
reference standing in through the judge; a case that does not pass that way runs again
with every substitute, and that verdict stands, so a helper's slip is still charged only
where it is."""

from __future__ import annotations

import dataclasses
from typing import Any

from conftest import REFERENCE, ROOT


def _judge(server: object) -> Any:
    """A judge of its own (no memo: nothing learned by other tests' grading counts here)."""
    from grader.api import load_assignment
    from grader.judge.judge import Judge

    a = load_assignment("hw1", ROOT)
    a.memo = None
    return Judge(a, server)  # type: ignore[arg-type]


def _asked(judge: Any) -> list[tuple[str, str]]:
    """(item, name) of every callback the judge answers from now on."""
    asked: list[tuple[str, str]] = []
    item = [""]
    run_item, reply = judge._run_item, judge.reply

    def running(run: Any, it: Any, cases: Any) -> Any:
        item[0] = it.id
        return run_item(run, it, cases)

    def answering(fn: Any, name: str, *rest: Any, **kw: Any) -> Any:
        asked.append((item[0], name))
        return reply(fn, name, *rest, **kw)

    judge._run_item, judge.reply = running, answering
    return asked


def _two_faced(name: str, params: str, caller: str, wrong: str) -> str:
    """A submission whose ``name`` is the reference's, but gives ``wrong`` (an expression
    in ``_ref``, the reference's, and the parameters) where ``caller`` called it."""
    return (f"import sys as _sys\n_ref = {name}\n"
            f"def {name}({params}):\n"
            "    f = _sys._getframe(1)\n"
            f"    while f is not None and f.f_code.co_name not in {caller!r}.split():\n"
            "        f = f.f_back\n"
            f"    return _ref({params}) if f is None else {wrong}\n")


def test_a_correct_submission_runs_on_its_own_helpers_and_asks_for_no_substitute(server):
    """Even with nothing learned: the judge answers only the grader's callables (grad,
    grad_batch), never a graded function, and runs no case twice."""
    from grader.course.submission import load_source

    judge = _judge(server)
    subs = {s for item in judge.assignment.items for s in item.substitutes}
    asked = _asked(judge)
    result = judge.grade(load_source(REFERENCE))
    assert result.full_marks
    assert judge.own_calls > 0 and judge.own_reruns == {}
    items = {i.id: i for i in judge.assignment.items}
    # only where the submission's own version cannot stand yet: a function of the same
    # item (predict_proba calls sigmoid), or an item declared to use the reference's
    helped = {(i, n) for i, n in asked if n in subs
              if items[i].own_helpers and n not in items[i].functions}
    assert not helped, sorted(helped)
    assert ("sigmoid", "sigmoid") in asked and ("neuron", "fit_logistic") in asked
    assert {n for _, n in asked} - subs, asked  # the grader's callables are still asked


def test_a_helper_off_in_the_last_bit_costs_no_second_run(server, variant):
    """A loss_and_grad whose gradient differs in the last bit (as another BLAS kernel's
    would) passes its own item; fit_logistic's cases pass with it, within tolerance, and
    so run once."""
    from grader.course.submission import load_source

    judge = _judge(server)
    result = judge.grade(load_source(variant(
        "_orig_lag = loss_and_grad\n"
        "def loss_and_grad(X, y, W):\n"
        "    L, g = _orig_lag(X, y, W)\n"
        "    return L, np.nextafter(g, np.inf)\n")))
    assert result.full_marks
    assert judge.own_reruns == {}


def test_a_helper_wrong_only_where_another_function_calls_it_costs_nothing(server, variant):
    """dxi4_dxi3 passes its own item, then answers wrongly when forward_mode and
    backward_mode call it: forward_mode's cases fail with it and pass with the
    reference's, so they count; from then on dxi4_dxi3 is not used, and backward_mode
    asks the judge for it at once instead of failing first."""
    from grader.course.submission import load_source

    judge = _judge(server)
    asked = _asked(judge)
    result = judge.grade(load_source(variant(_two_faced(
        "dxi4_dxi3", "xi3", "forward_mode backward_mode", "-_ref(xi3)"))))
    assert result.full_marks
    assert judge.own_reruns.get("forward_mode", 0) >= 1
    assert "backward_mode" not in judge.own_reruns
    assert ("backward_mode", "dxi4_dxi3") in asked


def test_a_slip_of_the_function_itself_leaves_its_helpers_in_use(server, variant):
    """forward_mode with a slip of its own fails with the submission's helpers and again
    with the reference's: it is charged once, and the helpers, not to blame, go on
    standing for themselves in backward_mode."""
    from grader.course.submission import load_source

    judge = _judge(server)
    asked = _asked(judge)
    result = judge.grade(load_source(variant(
        "_ref_fm = forward_mode\n"
        "def forward_mode(X, y, W):\n"
        "    out = _ref_fm(X, y, W)\n"
        "    out['dW'] = -out['dW']\n"
        "    return out\n")))
    items = {i.id: i for i in result.items}
    assert items["forward_mode"].score == 0 < items["forward_mode"].max_score
    assert result.score == result.max_score - items["forward_mode"].max_score
    assert judge.own_reruns.get("forward_mode", 0) >= 1
    assert "backward_mode" not in judge.own_reruns
    assert not [n for i, n in asked if i == "backward_mode"], asked


def test_a_case_that_passes_with_the_submissions_own_helpers_stands(server, variant):
    """fit_logistic steps with twice the rate and its own gradient_descent halves the rate
    it is given when fit_logistic calls it: wrong one by one, right together.  The case
    passes as the submission runs it, so it stands; with the reference's gradient_descent
    it would not (the item's points are the student's code computing what is asked)."""
    from grader.course.submission import load_source

    judge = _judge(server)
    sub = variant(_two_faced("gradient_descent", "grad, w0, lr, n_steps", "fit_logistic",
                             "_ref(grad, w0, lr / 2, n_steps)")
                  + "_ref_fit = fit_logistic\n"
                  "def fit_logistic(X, y, lr, n_steps):\n"
                  "    return _ref_fit(X, y, 2 * lr, n_steps)\n")
    result = judge.grade(load_source(sub))
    assert result.full_marks and judge.own_reruns == {}
    # the same submission with the reference's gradient_descent standing in loses them
    alone = _judge(server)
    alone.assignment.items = [dataclasses.replace(i, own_helpers=False)
                              for i in alone.assignment.items]
    fit = next(i for i in alone.grade(load_source(sub)).items if i.id == "fit_logistic")
    assert fit.score < fit.max_score


def test_a_runner_lost_to_an_own_helper_costs_one_fresh_runner_not_one_per_case(server,
                                                                               variant):
    """loss_and_grad ends its process when fit_logistic calls it: the held batch loses
    its runner before the judge is told which call ran, so its calls run again one frame
    each, and with the reference's helpers (any of them may be to blame): one fresh
    runner for the item, and full marks."""
    from grader.course.submission import load_source

    judge = _judge(server)
    sub = variant("import os as _os\n" + _two_faced(
        "loss_and_grad", "X, y, W", "fit_logistic", "_os._exit(3)"))
    opened: list[int] = []
    open_runner = server.open

    def counted(*a: Any, **k: Any) -> Any:
        opened.append(1)
        return open_runner(*a, **k)

    server.open = counted
    try:
        result = judge.grade(load_source(sub))
    finally:
        del server.open
    assert result.full_marks
    assert len(opened) == 2, opened  # the first runner, and one after fit_logistic's loss
