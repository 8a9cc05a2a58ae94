"""`grade hw1` through the library API and the command: scores, statuses, diagnoses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REFERENCE, ROOT, STUB

from grader.authoring.notebook import make_notebook
from grader.errors import GraderError

ALL_ITEMS = {"sigmoid": 4, "loss": 6, "elementary": 18, "forward_mode": 8, "backward_mode": 8,
             "loss_and_grad": 6, "gradient_descent": 4, "fit_logistic": 4, "minibatches": 4,
             "sgd": 6, "graph_forward": 4, "graph_backward": 8, "neuron": 4, "perceptron": 2,
             "mlp_forward": 4, "mlp_backward": 6, "train_mlp": 4}


def items(result):
    return {i.id: i for i in result.items}


def lost(result):
    """item -> points lost, for the items that lost any."""
    return {i.id: round(i.max_score - i.score, 6) for i in result.items
            if i.score < i.max_score - 1e-9}


def test_reference_scores_full_marks(grade_hw1):
    r = grade_hw1(REFERENCE)
    assert r.max_score == 100 and r.score == 100, lost(r)
    assert {i.id: i.max_score for i in r.items} == ALL_ITEMS
    assert all(i.status == "passed" for i in r.items)
    assert r.mode == "full" and r.seed is not None and len(r.version) == 16


def test_stubs_score_zero_every_item_missing(grade_hw1):
    r = grade_hw1(STUB)
    assert r.score == 0
    assert {i.status for i in r.items} == {"missing"}
    fb = items(r)["sigmoid"].feedback
    assert "not implemented yet" in fb and "NotImplementedError" in fb and "line" in fb


def test_sign_slip_in_a_helper_costs_only_its_own_point(grade_hw1, variant):
    r = grade_hw1(variant("def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n"))
    assert lost(r) == {"elementary": 1.0}
    it = items(r)["elementary"]
    assert it.status == "partial"
    failing = [c for c in it.cases if not c.passed]
    assert {c.part for c in failing} == {"dxi4_dxi3"}
    assert all("sign is flipped" in c.message for c in failing)
    # forward and backward mode used the grader's dxi4_dxi3, not the student's
    assert items(r)["forward_mode"].status == "passed"
    assert items(r)["backward_mode"].status == "passed"


def test_a_mean_for_a_sum_is_diagnosed(grade_hw1, variant):
    r = grade_hw1(variant(
        "def bce_loss(y, p):\n"
        "    y = np.asarray(y, float); p = np.asarray(p, float)\n"
        "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))\n"))
    assert lost(r) == {"loss": 3.0}
    msgs = [c.message for c in items(r)["loss"].cases if not c.passed]
    assert msgs and all("a mean where a sum is wanted" in m for m in msgs)


def test_crash_at_import_costs_everything_with_a_clear_error(grade_hw1, variant):
    r = grade_hw1(variant("raise RuntimeError('boom at import')"))
    assert r.score == 0
    assert {i.status for i in r.items} == {"error"}
    assert r.load_kind == "exception" and "boom at import" in r.load_error
    assert r.load_source == "raise RuntimeError('boom at import')"
    assert {i.feedback for i in r.items} == {"not graded: the file did not load"}


def test_syntax_error_names_the_line(grade_hw1, variant):
    path = variant("def broken(:\n    pass")
    n = path.read_text().count("\n") - 1
    r = grade_hw1(path)
    assert r.score == 0 and {i.status for i in r.items} == {"error"}
    assert "syntax error" in r.load_error and f"line {n}" in r.load_error
    assert (r.load_line, r.load_source, r.load_column) == (n, "def broken(:", 12)
    assert {i.feedback for i in r.items} == {"not graded: the file did not load"}


def test_infinite_loop_costs_one_item_and_ends(grade_hw1, variant):
    path = variant("def perceptron(X, y, n_epochs):\n    while True:\n        pass\n")
    r = grade_hw1(path, time_scale=0.1)
    assert lost(r) == {"perceptron": 2.0}
    it = items(r)["perceptron"]
    assert it.status == "timeout" and "did not finish" in it.feedback
    assert items(r)["mlp_forward"].status == "passed"  # the grader went on, fresh runner


def test_missing_function(grade_hw1, variant):
    r = grade_hw1(variant("del perceptron"))
    assert lost(r) == {"perceptron": 2.0}
    it = items(r)["perceptron"]
    assert it.status == "missing" and "not defined" in it.feedback


def test_exit_inside_a_function_costs_that_item_only(grade_hw1, variant):
    r = grade_hw1(variant("import os\ndef minibatches(n, batch_size, rng):\n    os._exit(0)\n"))
    assert lost(r) == {"minibatches": 4.0}
    assert items(r)["minibatches"].status == "error"
    assert items(r)["sgd"].status == "passed"  # sgd's minibatches is the grader's


def test_a_function_that_keeps_ending_its_process_costs_two_restarts(grade_hw1, variant):
    r = grade_hw1(variant("import os\ndef dxi3_dxi2(xi2):\n    os._exit(0)\n"),
                  items=["elementary"])
    cases = [c for c in items(r)["elementary"].cases if c.name.startswith("dxi3_dxi2")]
    died = [c for c in cases if "died during the call" in c.message]
    skipped = [c for c in cases if "already ended its process on 2 earlier cases" in c.message]
    assert len(died) == 2 and len(skipped) == len(cases) - 2 > 0
    others = [c for c in items(r)["elementary"].cases if not c.name.startswith("dxi3_dxi2")]
    assert others and all(c.passed for c in others)  # the batch went on in fresh runners


# A helper that passes every case of its own item but answers differently when called by
# another graded function: the grader runs the submission's own helpers where they passed,
# checks each of their calls against the reference, and runs a call again with the
# reference's substitutes when one does not match, so the slip is still charged once.
TWO_FACED = """
import sys as _sys
_ref_dxi4_dxi3 = dxi4_dxi3


def dxi4_dxi3(xi3):
    f = _sys._getframe(1)
    while f is not None:
        if f.f_code.co_name in ("forward_mode", "backward_mode", "loss_and_grad"):
            return -_ref_dxi4_dxi3(xi3)
        f = f.f_back
    return _ref_dxi4_dxi3(xi3)
"""


def test_own_helpers_are_checked_against_the_reference(grade_hw1, variant):
    r = grade_hw1(variant(TWO_FACED))
    assert r.score == r.max_score == 100, lost(r)


def test_an_own_helper_that_ends_the_process_elsewhere_is_replaced(grade_hw1, variant):
    # it passes its own item, then kills the runner when another graded function calls it:
    # that call runs again in a fresh runner, with the reference's helpers
    r = grade_hw1(variant(TWO_FACED.replace("return -_ref_dxi4_dxi3(xi3)",
                                            "import os; os._exit(3)")))
    assert r.score == r.max_score == 100, lost(r)


def test_a_case_that_mutates_its_data_set_leaves_the_next_case_alone(grade_hw1, variant):
    # large arguments are decoded once per runner; each call still gets its own copy
    r = grade_hw1(variant(
        "_ref_design = heart_design\n"
        "def heart_design(df, columns):\n"
        "    out = _ref_design(df, columns)\n"
        "    df['MaxHR'] = 0.0\n"
        "    df.drop(columns=['AHD'], inplace=True)\n"
        "    return out\n"), items=["neuron"])
    assert r.score == r.max_score == 4, lost(r)


def test_a_public_data_set_reaches_the_runner_decoded_before_any_call(grade_hw1, variant):
    # the fork server decodes the public cases' data sets once (ForkServer.share): a runner
    # starts with the Heart table, and each call still gets its own copy (test above)
    r = grade_hw1(variant(
        "import sys as _sys\n"
        "_kept = _sys.modules['grader.runner.calls'].SHARED.values()\n"
        "print('rows', sorted(len(v) for v in _kept if type(v).__name__ == 'DataFrame'))\n"),
        items=["sigmoid"])
    assert r.output.strip() == "rows [303]", r.output


def test_a_source_too_large_to_compile_in_the_judge_is_compiled_by_the_runner(
        grade_hw1, variant):
    from grader.protocol.compiled import COMPILE_LIMIT

    r = grade_hw1(variant("# padding\n" * (COMPILE_LIMIT // 10 + 1)), items=["elementary"])
    assert r.score == r.max_score == 18, lost(r)


def test_code_objects_are_used_only_from_the_same_python():
    from grader.protocol.compiled import MAGIC, compile_source, load_units

    code = "x = 1\n# cell 2\ny = (\n# cell 3\nz = 3\n"
    units = compile_source(code, "nb.ipynb")
    assert [u[3] is None for u in units] == [True, False, True]  # cell 2 does not compile
    got = load_units({"compiled": units, "magic": MAGIC}, code, "nb.ipynb")
    assert [type(u).__name__ for _, u in got] == ["code", "dict", "code"]
    bogus = [[0, "the notebook", b"not marshal", None]]
    for msg in ({"compiled": units, "magic": b"other"}, {"compiled": bogus, "magic": MAGIC}):
        got = load_units(msg, code, "nb.ipynb")  # compiled here instead
        assert [label for label, _ in got] == ["the notebook", "cell 2", "cell 3"]
        assert [type(u).__name__ for _, u in got] == ["code", "dict", "code"]


def test_notebook_with_magic_cells_grades_like_the_py(grade_hw1, tmp_path):
    nb = make_notebook(REFERENCE.read_text(encoding="utf-8"), name="hw1")
    nb.cells.insert(2, nbformat.v4.new_code_cell("%matplotlib inline\nx = 1"))
    nb.cells.insert(3, nbformat.v4.new_code_cell("%%bash\nls -la"))
    nb.cells.append(nbformat.v4.new_code_cell("df = undefined_name + 1"))
    nb.cells.append(nbformat.v4.new_code_cell("def unfinished(:\n    pass"))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    path = tmp_path / "hw1.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    r = grade_hw1(path)
    assert r.score == 100, lost(r)
    notes = " | ".join(map(str, r.notes))
    assert "cell 3: IPython line removed (%matplotlib inline)" in notes
    assert "cell 4 skipped: %%bash" in notes
    assert "NameError" in notes  # the failing exploratory cell is reported, grading goes on
    last = len(nb.cells)  # cells are numbered as the notebook shows them, markdown too
    assert f"cell {last} was skipped: SyntaxError" in notes  # one cell that does not compile


def test_same_submission_twice_gives_identical_json(grade_hw1, variant):
    path = variant("def xi2(xi1):\n    return np.exp(-np.asarray(xi1))\n")
    a = grade_hw1(path).to_json()
    b = grade_hw1(path).to_json()
    assert a == b
    assert a["version"] and a["seed"] is not None


def test_worked_example_feedback_shows_the_lecture_table(grade_hw1, variant):
    # the slides' slip: a forward mode whose dξ4/dξ3 row drops its minus sign
    r = grade_hw1(variant(
        "_ref_forward = forward_mode\n"
        "def forward_mode(X, y, W):\n"
        "    d = _ref_forward(X, y, W)\n"
        "    d['partial'][3] = -d['partial'][3]\n"
        "    d['dW'][3:] = -d['dW'][3:]\n"
        "    return d\n"), items=["forward_mode"])
    case = next(c for c in items(r)["forward_mode"].cases if c.name.endswith("X=3, y=1, W=3"))
    assert not case.passed and case.visibility == "public"
    assert "sign is flipped" in case.message
    assert "ξ4" in case.details and "expected" in case.details
    assert "\ndW\n" in case.details  # at 80 columns: one block per column, rows down the page
    assert "-0.000370183727959" in case.details and "0.000370183727959" in case.details
    assert "slides" in case.details


def test_hidden_feedback_never_shows_hidden_inputs(grade_hw1, variant):
    leak = ("def sigmoid(h):\n"
            "    print('LEAK', repr(h))\n"
            "    raise ValueError('LEAK ' + repr(h))\n")
    r = grade_hw1(variant(leak), items=["sigmoid"])
    hidden = [c for c in items(r)["sigmoid"].cases if c.visibility == "hidden"
              and c.part != "predict_proba"]  # predict_proba ran with the grader's sigmoid
    assert hidden and all(not c.passed for c in hidden)
    for c in hidden:
        assert "LEAK" not in c.message and not c.details
    public = [c for c in items(r)["sigmoid"].cases if c.visibility == "public"
              and c.part != "predict_proba"]
    assert any("LEAK" in c.message for c in public)  # public cases do show their inputs


def test_student_copy_grades_public_cases_only(student_course):
    from grader.api import grade

    r = grade(None, "hw1", course=student_course)
    assert r.mode == "public" and r.score == 0 and 0 < r.max_score < 100
    assert any("hidden cases run when your submission is graded" in n.text
               and n.kind == "public-only" for n in r.notes)
    ref = grade(REFERENCE, "hw1", course=student_course)
    assert ref.score == ref.max_score == r.max_score
    assert all(c.visibility == "public" for i in ref.items for c in i.cases)


def test_item_selection_and_unknown_item(grade_hw1):
    r = grade_hw1(REFERENCE, items=["perceptron", "loss"])
    assert [i.id for i in r.items] == ["perceptron", "loss"] and r.score == 8
    with pytest.raises(GraderError, match="no item 'nope'"):
        grade_hw1(REFERENCE, items=["nope"])


# ----------------------------------------------------------------------------- the command


def grade_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_json_strict_and_table(tmp_path):
    p = grade_cli("hw1", "--submission", str(REFERENCE), "--json", "--strict")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["score"] == 100 and data["assignment"] == "hw1"
    assert set(data["items"][0]) >= {"id", "title", "score", "max_score", "status", "feedback",
                                     "cases"}
    assert set(data["items"][0]["cases"][0]) == {"name", "visibility", "passed", "message",
                                                 "status", "part", "score", "max_score",
                                                 "details", "diagnosis", "check",
                                                 "helpers", "output", "plot"}
    assert data["load_error"] == "" and "seconds" not in data
    p = grade_cli("hw1", "--strict", "--item", "sigmoid")  # the stubs
    assert p.returncode == 1
    assert "sigmoid" in p.stdout and "missing" in p.stdout and "Total: 0/4" in p.stdout


@pytest.mark.parametrize("args, message", [
    (["hw1", "--submission", "nope.py"], "no such file"),
    (["hw9"], "unknown assignment 'hw9'"),
    (["hw1", "--item", "nope"], "no item 'nope'"),
    (["hw1", "--submission", "pyproject.toml"], "not a .py file or a .ipynb notebook"),
])
def test_cli_bad_input_is_one_line_exit_2(args, message):
    p = grade_cli(*args)
    assert p.returncode == 2
    assert message in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_cli_list_and_help():
    p = grade_cli("list")
    assert p.returncode == 0 and "hw1 (100 points)" in p.stdout and "train_mlp" in p.stdout
    for cmd in (["--help"], ["run", "--help"], ["list", "--help"], ["assign", "--help"]):
        p = grade_cli(*cmd)
        assert p.returncode == 0 and "Example" in p.stdout, cmd


def test_pandas_results_are_compared_as_arrays(grade_hw1, variant):
    r = grade_hw1(variant(
        "_ref_design = heart_design\n"
        "def heart_design(df, columns):\n"
        "    X, y = _ref_design(df, columns)\n"
        "    cols = ['one'] + list(columns)\n"
        "    return pd.DataFrame(X, columns=cols), pd.Series(y, name='AHD')\n"),
        items=["neuron"])
    assert r.score == r.max_score == 4, lost(r)


ALTERNATIVE = '''
import math
from scipy.special import expit


def sigmoid(h):
    if isinstance(h, np.ndarray):
        return expit(h.astype(float))
    return float(expit(float(h)))


def predict_proba(X, W):
    return [sigmoid(float(np.dot(row, W))) for row in np.asarray(X)]  # a list


def bce_loss_from_logits(y, h):
    y, h = np.asarray(y, float), np.asarray(h, float)
    return float(np.sum(y * np.logaddexp(0, -h) + (1 - y) * np.logaddexp(0, h)))


def dxi3_dxi2(xi2):
    return 1  # the same everywhere: a scalar is accepted


def dxi5b_dxi4(xi4):
    return -1.0


def gradient_descent(grad, w0, lr, n_steps):
    w = [float(v) for v in np.atleast_1d(w0)]
    path = [list(w)]
    for _ in range(n_steps):
        g = grad(np.array(w))
        w = [wi - lr * gi for wi, gi in zip(w, g)]
        path.append(list(w))
    return path  # a list of lists


def minibatches(n, batch_size, rng):
    idx = np.arange(n)
    rng.shuffle(idx)  # the same draw as rng.permutation(n)
    return [list(map(int, idx[i:i + batch_size])) for i in range(0, n, batch_size)]


def perceptron(X, y, n_epochs):
    w = [0.0] * len(X[0])
    for _ in range(n_epochs):
        for xi, yi in zip(X, y):
            s = sum(a * b for a, b in zip(xi, w))
            y_hat = 1 if s > 0 else 0
            w = [wj + (yi - y_hat) * xj for wj, xj in zip(w, xi)]
    return w


def init_mlp(layer_sizes, rng):
    out = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        W = rng.normal(0, 1 / math.sqrt(n_in), size=(n_in, n_out))
        out.append([W, np.zeros(n_out)])  # lists, not tuples
    return out
'''


def test_a_correct_implementation_written_differently_gets_full_marks(grade_hw1, variant):
    r = grade_hw1(variant(ALTERNATIVE))
    assert r.score == 100, lost(r)


# ----------------------------------------------------------------------------- declared slips


OTHER_DRAWS = {
    "minibatches": ("def minibatches(n, batch_size, rng):\n"
                    "    rng.permutation(n)  # one draw too many\n"
                    "    perm = rng.permutation(n)\n"
                    "    return [perm[i:i + batch_size] for i in range(0, n, batch_size)]\n"),
    "sgd": ("def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):\n"
            "    w = np.array(w0, dtype=float)\n"
            "    path = [w.copy()]\n"
            "    for _ in range(n_epochs):\n"
            "        perm = rng.permutation(n)[::-1]  # its own draw, reversed\n"
            "        for i in range(0, n, batch_size):\n"
            "            w = w - lr * grad_batch(w, perm[i:i + batch_size])\n"
            "            path.append(w.copy())\n"
            "    return np.array(path)\n"),
}


@pytest.mark.parametrize("item", sorted(OTHER_DRAWS))
def test_another_random_draw_is_diagnosed_as_the_course_declares(grade_hw1, variant, item):
    """The slip and its words are the assignment's (Case.reordered); the engine only sees
    the same indices in another order, in the result or in a callback's recorded calls."""
    r = grade_hw1(variant(OTHER_DRAWS[item]), items=[item])
    [it] = r.items
    assert it.score == 0, it.feedback
    hidden = [c for c in it.cases if c.visibility == "hidden"]
    assert hidden and all("not the expected random draw" in c.diagnosis for c in hidden)
    assert all(c.check in ("value", "calls to grad_batch") for c in hidden)


def test_without_a_declared_diagnosis_a_reordering_is_just_wrong(tmp_path, student_course):
    """The engine names no slip of its own: drop the declaration and the words go too."""
    cases = student_course / "exercises" / "hw1.cases.json"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace('"reordered": "the indices', '"reordered": "", "x": "'),
                     encoding="utf-8")
    sub = tmp_path / "mb.py"
    sub.write_text((ROOT / "exercises" / "hw1.py").read_text(encoding="utf-8") + "\n\n"
                   + OTHER_DRAWS["minibatches"], encoding="utf-8")
    from grader.api import grade

    r = grade(sub, "hw1", course=student_course, items=["minibatches"])
    [case] = [c for c in r.items[0].cases if not c.passed]
    assert case.diagnosis == "" and "random draw" not in case.message
