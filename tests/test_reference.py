"""Independent checks of the hw1 reference implementation (solutions/hw1.py).

Every derivative is checked two ways that share no code with the reference:
central finite differences (step 1e-6 * max(1, |x|), rtol 1e-5, atol 1e-7,
never within 1e-3 of a relu kink) and HIPS autograd on an autograd.numpy
re-expression of the same function. Values are checked against closed forms,
high-precision decimals, hand-worked examples and implementations written
differently (scipy's expit, np.logaddexp, loops, float32 inputs).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import math
import re
import shutil
import types
import warnings
from decimal import Decimal, localcontext
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from autograd import elementwise_grad, grad

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
HEART = ROOT / "data" / "Heart.csv"


def load_module(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hw1 = load_module(REFERENCE, "hw1_reference")

FD_RTOL, FD_ATOL = 1e-5, 1e-7
GRADER_RTOL, GRADER_ATOL = 1e-6, 1e-9

PART2 = [
    "xi1", "dxi1_dW", "xi2", "dxi2_dxi1", "xi3", "dxi3_dxi2", "xi4", "dxi4_dxi3",
    "xi5", "dxi5_dxi4", "loss_a", "dloss_a_dxi5", "xi5b", "dxi5b_dxi4",
    "xi6b", "dxi6b_dxi5b", "loss_b", "dloss_b_dxi6b",
]  # fmt: skip
GRADED = [
    "sigmoid", "predict_proba", "bce_loss", "bce_loss_from_logits", *PART2,
    "forward_mode", "backward_mode", "loss_and_grad", "gradient_descent", "fit_logistic",
    "minibatches", "sgd", "graph_forward", "graph_backward", "heart_design", "train_neuron",
    "neuron_accuracy", "perceptron", "init_mlp", "mlp_forward", "mlp_backward", "train_mlp",
]  # fmt: skip
GIVEN = ["load_heart"]


# ----------------------------------------------------------------------------- helpers


def fd_step(x: np.ndarray) -> np.ndarray:
    return 1e-6 * np.maximum(1.0, np.abs(x))


def central_diff(f, x, scale=None) -> np.ndarray:
    """Gradient of the scalar function f at x by central differences.

    The step of coordinate j is 1e-6 * max(1, |scale_j|) (scale defaults to x);
    the quotient divides by the step actually taken.
    """
    x = np.array(x, dtype=np.float64)
    scale = x if scale is None else np.asarray(scale, dtype=np.float64)
    steps = fd_step(scale)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += steps[idx]
        minus[idx] -= steps[idx]
        out[idx] = (float(f(plus)) - float(f(minus))) / (plus[idx] - minus[idx])
    return out


def central_diff_elementwise(f, x: np.ndarray) -> np.ndarray:
    """Elementwise derivative of an elementwise function f by central differences."""
    x = np.asarray(x, dtype=np.float64)
    plus, minus = x + fd_step(x), x - fd_step(x)
    return (f(plus) - f(minus)) / (plus - minus)


def assert_derivative(got, fd, ad) -> None:
    got = np.broadcast_to(np.asarray(got, dtype=np.float64), np.shape(fd))
    np.testing.assert_allclose(got, fd, rtol=FD_RTOL, atol=FD_ATOL, err_msg="vs finite differences")
    np.testing.assert_allclose(got, ad, rtol=FD_RTOL, atol=FD_ATOL, err_msg="vs autograd")


def assert_grader_close(got, ref) -> None:
    """The grader's comparison: float64, same shape, np.isclose(rtol=1e-6, atol=1e-9)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape
    assert np.all(np.isclose(got, ref, rtol=GRADER_RTOL, atol=GRADER_ATOL)), (got, ref)


def logistic(h):
    """An independent, overflow-free sigmoid: exp(-log(1 + exp(-h)))."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(h, dtype=np.float64)))


def scipy_expit(h):
    """scipy's sigmoid (scipy is not a declared dependency: skip where it is absent)."""
    special = pytest.importorskip("scipy.special")
    return special.expit(h)


def sigmoid_decimal(h: float) -> float:
    with localcontext() as ctx:
        ctx.prec = 50
        return float(1 / (1 + (-Decimal(h)).exp()))


def bce_logits_decimal(y: float, h: float) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        d = Decimal(h)
        return Decimal(y) * (1 + (-d).exp()).ln() + (1 - Decimal(y)) * (1 + d.exp()).ln()


class Spy:
    """Wraps a module function and counts its calls (what the grader substitutes)."""

    def __init__(self, function):
        self.function = function
        self.calls: list[tuple] = []

    def __call__(self, *args, **kwargs):
        result = self.function(*args, **kwargs)
        self.calls.append((args, result))
        return result


# ----------------------------------------------------------------------------- file format


def test_every_graded_function_is_marked_and_documented():
    source = REFERENCE.read_text(encoding="utf-8")
    lines = source.splitlines()
    assert lines[0] == "# %% [markdown]"
    assert "grade hw1" in source.split("# %%\n", 1)[0]
    tree = ast.parse(source)
    top_level = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert sorted(top_level) == sorted(GRADED + GIVEN), "no module-level helpers"
    for name in GRADED:
        node = top_level[name]
        assert ast.get_docstring(node), name
        doc_end = node.body[0].end_lineno
        assert doc_end is not None
        body_indent = " " * node.body[0].col_offset
        after = []
        for line in lines[doc_end:]:
            if line.strip() and not line.startswith(body_indent):
                break
            if line.strip():
                after.append(line)
        assert after[0] == body_indent + "# BEGIN SOLUTION", name
        assert after[-1] == body_indent + "# END SOLUTION", name
        assert sum("# BEGIN SOLUTION" in line for line in after) == 1, name
        defaults = [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
        assert not defaults, f"{name}: no default arguments"
    assert "SOLUTION" not in ast.get_source_segment(source, top_level["load_heart"])


def test_the_solution_lives_only_inside_the_markers(tmp_path):
    """With every marked region replaced by a raise, the given code still works."""
    source = REFERENCE.read_text(encoding="utf-8")
    pattern = re.compile(r"^( *)# BEGIN SOLUTION\n.*?^\1# END SOLUTION\n", re.DOTALL | re.MULTILINE)
    stripped = pattern.sub(lambda m: f"{m.group(1)}raise NotImplementedError\n", source)
    path = tmp_path / "solutions" / "hw1.py"
    path.parent.mkdir()
    path.write_text(stripped, encoding="utf-8")
    stub = load_module(path, "hw1_stripped")
    for name in GRADED:
        n_args = len(inspect.signature(getattr(stub, name)).parameters)
        with pytest.raises(NotImplementedError):
            getattr(stub, name)(*([None] * n_args))
    f, df = stub.OPS["sigmoid"]
    assert f(0.0) == pytest.approx(0.5) and df(0.0)[0] == pytest.approx(0.25)


# ----------------------------------------------------------------------------- Part 1


STABILITY_H = [-1e4, -1e3, -745.5, -710.0, -700.0, -50.0, -1e-9, 0.0, 1e-9, 30.0, 50.0,
               700.0, 710.0, 745.5, 1e3, 1e4]  # fmt: skip


def test_sigmoid_is_stable_and_correct_without_warnings():
    h = np.array(STABILITY_H)
    with warnings.catch_warnings(), np.errstate(
        over="warn", divide="warn", invalid="warn", under="ignore"
    ):  # numpy's default error state; any warning fails
        warnings.simplefilter("error")
        got = hw1.sigmoid(h)
        scalars = [hw1.sigmoid(float(v)) for v in STABILITY_H]
    ref = np.array([sigmoid_decimal(v) for v in STABILITY_H])
    assert isinstance(got, np.ndarray) and got.shape == h.shape and got.dtype == np.float64
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(scalars, ref, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize(
    "h", [3, -2, 0.5, np.float64(-800.0), np.float32(2.0), np.int64(7), np.float16(-1.0)]
)
def test_sigmoid_scalar_in_float_out(h):
    got = hw1.sigmoid(h)
    assert type(got) is float
    assert got == pytest.approx(sigmoid_decimal(float(h)), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3), (2, 1, 3)])
def test_sigmoid_array_keeps_its_shape(shape):
    h = np.random.default_rng(0).normal(scale=5, size=shape)
    got = hw1.sigmoid(np.asarray(h))
    assert isinstance(got, np.ndarray) and got.shape == shape
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-h)), rtol=1e-15)


def test_sigmoid_float32_and_written_differently():
    h = np.random.default_rng(1).uniform(-60, 60, size=50)
    ref = logistic(h)
    assert_grader_close(hw1.sigmoid(h), ref)
    np.testing.assert_allclose(hw1.sigmoid(h.astype(np.float32)), logistic(h.astype(np.float32)),
                               rtol=1e-5)  # fmt: skip
    tanh_form = 0.5 * (1 + np.tanh(h / 2))  # another correct formula
    assert_grader_close(hw1.sigmoid(h[np.abs(h) < 15]), tanh_form[np.abs(h) < 15])


def test_sigmoid_agrees_with_scipy_expit():
    h = np.concatenate([np.array(STABILITY_H), np.random.default_rng(2).uniform(-60, 60, 50)])
    expit = scipy_expit(h)
    np.testing.assert_allclose(hw1.sigmoid(h), expit, rtol=1e-14, atol=1e-300)
    assert_grader_close(hw1.sigmoid(h), expit)
    X, y, W = _logistic_case(3, max_logit=15.0)
    assert_grader_close(hw1.loss_and_grad(X, y, W)[1], X.T @ (scipy_expit(X @ W) - y))


def test_predict_proba():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(9), rng.normal(size=(9, 2))])
    W = np.array([0.3, -1.2, 2.0])
    got = hw1.predict_proba(X, W)
    assert got.shape == (9,)
    ref = np.array([1 / (1 + math.exp(-sum(a * b for a, b in zip(row, W)))) for row in X])
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    assert_grader_close(hw1.predict_proba(X.tolist(), W.tolist()), ref)
    np.testing.assert_allclose(
        hw1.predict_proba(X.astype(np.float32), W.astype(np.float32)), ref, rtol=1e-5
    )


def test_bce_loss_sums_over_every_entry():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=(4, 5)).astype(float)
    p = rng.uniform(1e-6, 1 - 1e-6, size=(4, 5))
    got = hw1.bce_loss(y, p)
    assert type(got) is float
    ref = -sum(
        yi * math.log(pi) + (1 - yi) * math.log(1 - pi) for yi, pi in zip(y.ravel(), p.ravel())
    )
    assert got == pytest.approx(ref, rel=1e-12)
    literal = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_grader_close(got, literal)
    assert_grader_close(hw1.bce_loss(y, np.clip(p, 1e-12, 1 - 1e-12)), got)
    assert_grader_close(hw1.bce_loss(y.tolist(), p.tolist()), got)


def test_bce_loss_at_the_ends_of_the_hidden_range():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([1e-6, 1 - 1e-6, 1 - 1e-6, 1e-6])
    ref = -2 * math.log(1e-6) - 2 * math.log1p(-1e-6)
    assert hw1.bce_loss(y, p) == pytest.approx(ref, rel=1e-10)


def test_bce_loss_from_logits_is_stable_and_correct():
    h = np.array(STABILITY_H * 2)
    y = np.array([1.0] * len(STABILITY_H) + [0.0] * len(STABILITY_H))
    with warnings.catch_warnings(), np.errstate(
        over="warn", divide="warn", invalid="warn", under="ignore"
    ):
        warnings.simplefilter("error")
        got = hw1.bce_loss_from_logits(y, h)
        one_by_one = [hw1.bce_loss_from_logits(yi, hi) for yi, hi in zip(y, h)]
    assert type(got) is float and math.isfinite(got)
    exact = [bce_logits_decimal(yi, hi) for yi, hi in zip(y, h)]
    assert got == pytest.approx(float(sum(exact)), rel=1e-14)
    np.testing.assert_allclose(one_by_one, [float(e) for e in exact], rtol=1e-14, atol=1e-300)
    logaddexp_form = np.sum(y * np.logaddexp(0, -h) + (1 - y) * np.logaddexp(0, h))
    assert_grader_close(got, logaddexp_form)


def test_bce_loss_from_logits_matches_bce_loss_and_float32():
    rng = np.random.default_rng(4)
    h = rng.uniform(-12, 12, size=(3, 7))
    y = rng.integers(0, 2, size=(3, 7)).astype(float)
    got = hw1.bce_loss_from_logits(y, h)
    assert got == pytest.approx(hw1.bce_loss(y, 1 / (1 + np.exp(-h))), rel=1e-9)
    assert_grader_close(got, np.sum(np.logaddexp(0, h) - y * h))
    got32 = hw1.bce_loss_from_logits(y.astype(np.float32), h.astype(np.float32))
    ref32 = np.sum(np.logaddexp(0, h.astype(np.float32).astype(float)) - y * h.astype(np.float32))
    assert got32 == pytest.approx(ref32, rel=1e-5)


# ----------------------------------------------------------------------------- Part 2

# (value, derivative, autograd.numpy expression of the value, domain of the
#  differentiated argument, domain of the other argument or None)
ELEMENTARY = {
    "xi1": ("xi1", "dxi1_dW", lambda W, X: -W * X, (-5, 5), (-5, 5)),
    "xi2": ("xi2", "dxi2_dxi1", lambda a: anp.exp(a), (-30, 30), None),
    "xi3": ("xi3", "dxi3_dxi2", lambda a: 1.0 + a, (0, 1e3), None),
    "xi4": ("xi4", "dxi4_dxi3", lambda a: 1.0 / a, (1, 1e3), None),
    "xi5": ("xi5", "dxi5_dxi4", lambda a: anp.log(a), (0.01, 0.99), None),
    "loss_a": ("loss_a", "dloss_a_dxi5", lambda z, y: -y * z, (-5, 0), (0, 1)),
    "xi5b": ("xi5b", "dxi5b_dxi4", lambda a: 1.0 - a, (0.01, 0.99), None),
    "xi6b": ("xi6b", "dxi6b_dxi5b", lambda a: anp.log(a), (0.01, 0.99), None),
    "loss_b": ("loss_b", "dloss_b_dxi6b", lambda z, y: -(1.0 - y) * z, (-5, 0), (0, 1)),
}


def _elementary_case(step: str, seed: int = 5):
    value_name, deriv_name, expression, domain, other_domain = ELEMENTARY[step]
    rng = np.random.default_rng(seed)
    x = rng.uniform(*domain, size=40)
    x[:2] = domain  # the ends of the domain
    other = None
    if other_domain is not None:
        other = rng.uniform(*other_domain, size=40)
        if step.startswith("loss"):  # labels: mostly 0/1, some fractional
            other[:30] = rng.integers(0, 2, size=30)
    return value_name, deriv_name, expression, x, other


def _call(step, name, x, other):
    function = getattr(hw1, name)
    if other is None:
        return function(x)
    return function(x, other) if step == "xi1" else function(other, x)


@pytest.mark.parametrize("step", list(ELEMENTARY))
def test_elementary_value(step):
    value_name, _, expression, x, other = _elementary_case(step)
    got = _call(step, value_name, x, other)
    ref = expression(x) if other is None else expression(x, other)
    assert np.asarray(got).shape == x.shape
    np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)


@pytest.mark.parametrize("step", list(ELEMENTARY))
def test_elementary_derivative_against_fd_and_autograd(step):
    value_name, deriv_name, expression, x, other = _elementary_case(step)
    got = _call(step, deriv_name, x, other)
    if other is None:
        ad = elementwise_grad(expression)(x)
    else:
        ad = elementwise_grad(lambda t: expression(t, other))(x)
    fd = central_diff_elementwise(lambda t: np.asarray(_call(step, value_name, t, other)), x)
    assert np.shape(got) in {(), x.shape}
    assert_derivative(got, fd, ad)


@pytest.mark.parametrize("step", list(ELEMENTARY))
def test_elementary_scalars_give_floats_and_float32_works(step):
    value_name, deriv_name, _, x, other = _elementary_case(step, seed=6)
    for name in (value_name, deriv_name):
        scalar = _call(step, name, float(x[3]), None if other is None else float(other[3]))
        assert isinstance(scalar, float) and np.ndim(scalar) == 0
        full = np.broadcast_to(_call(step, name, x, other), x.shape)
        assert scalar == pytest.approx(full[3], rel=1e-15)
        x32 = x.astype(np.float32)
        other32 = None if other is None else other.astype(np.float32)
        got32 = np.broadcast_to(_call(step, name, x32, other32), x.shape)
        ref32 = np.broadcast_to(
            _call(step, name, x32.astype(float), None if other32 is None else other32.astype(float)),
            x.shape,
        )
        np.testing.assert_allclose(got32, ref32, rtol=1e-5)


def test_sign_slips_are_not_in_the_reference():
    assert hw1.dxi4_dxi3(2.0) == -0.25
    assert hw1.loss_b(0.0, math.log(0.25)) == pytest.approx(-math.log(0.25))
    assert hw1.dloss_b_dxi6b(0.0, -1.0) == -1.0
    assert hw1.dxi5b_dxi4(0.3) == -1.0
    assert hw1.dxi3_dxi2(np.zeros((2, 3))).shape == (2, 3)


# ----------------------------------------------------------------------------- Part 3

E9 = math.exp(-9)
WORKED_DW = -0.000370183727958695


def test_worked_example_number_itself():
    with localcontext() as ctx:
        ctx.prec = 40
        e9 = Decimal(-9).exp()
        exact = -3 * e9 / (1 + e9)
    assert abs(float(exact) - WORKED_DW) < 1e-18
    assert abs(-3 * E9 / (1 + E9) - WORKED_DW) < 1e-18


def test_worked_example_forward_mode():
    out = hw1.forward_mode(3.0, 1.0, 3.0)
    p = 1 / (1 + E9)
    value = [-9.0, E9, 1 + E9, p, math.log(p), -math.log(p)]
    partial = [-3.0, E9, 1.0, -1 / (1 + E9) ** 2, 1 + E9, -1.0]
    for key in ("value", "partial", "dW"):
        assert isinstance(out[key], np.ndarray) and out[key].shape == (6,)
    np.testing.assert_allclose(out["value"], value, rtol=0, atol=1e-15)
    np.testing.assert_allclose(out["partial"], partial, rtol=0, atol=1e-15)
    np.testing.assert_allclose(out["dW"], np.cumprod(partial), rtol=0, atol=1e-15)
    assert abs(out["dW"][-1] - WORKED_DW) <= 1e-15
    # the slides' +0.00037018372 is the product with partial[3]'s minus sign dropped
    slipped = np.prod(out["partial"] * np.array([1, 1, 1, -1, 1, 1]))
    assert slipped == pytest.approx(0.00037018372, abs=1e-11)


def test_worked_example_backward_mode():
    out = hw1.backward_mode(3.0, 1.0, 3.0)
    p = 1 / (1 + E9)
    np.testing.assert_allclose(
        out["value"], [-9.0, E9, 1 + E9, p, math.log(p), -math.log(p)], rtol=0, atol=1e-15
    )
    assert out["adjoint"].shape == (6,) and out["adjoint"][5] == 1
    assert type(out["dW"]) is float
    assert abs(out["dW"] - WORKED_DW) <= 1e-15


# rows xi1 .. L_A as functions of W, and L_A as a function of each row
def _rows(W, X, y):
    x1 = -W * X
    x2 = anp.exp(x1)
    x3 = 1.0 + x2
    x4 = 1.0 / x3
    x5 = anp.log(x4)
    return [x1, x2, x3, x4, x5, -y * x5]


def _tails(y):
    return [
        lambda t: -y * anp.log(1.0 / (1.0 + anp.exp(t))),
        lambda t: -y * anp.log(1.0 / (1.0 + t)),
        lambda t: -y * anp.log(1.0 / t),
        lambda t: -y * anp.log(t),
        lambda t: -y * t,
        lambda t: t,
    ]


CHAIN_CASES = [(3.0, 1.0, 3.0), (-2.5, 1.0, 1.7), (4.0, 0.0, -1.2), (0.3, 1.0, -4.9),
               (-5.0, 0.0, 5.0), (1.0, 1.0, 0.0), (5.0, 1.0, -5.0), (-0.7, 0.0, 0.4)]  # fmt: skip


@pytest.mark.parametrize("X, y, W", CHAIN_CASES)
def test_forward_mode_rows_against_fd_and_autograd(X, y, W):
    out = hw1.forward_mode(X, y, W)
    np.testing.assert_allclose(out["value"], [float(v) for v in _rows(W, X, y)], rtol=1e-14)
    for k in range(6):

        def row(w, k=k):
            return _rows(w, X, y)[k]

        fd = central_diff(lambda v, row=row: row(v[0]), [W])[0]
        assert_derivative(out["dW"][k], fd, grad(row)(W))


@pytest.mark.parametrize("X, y, W", CHAIN_CASES)
def test_backward_mode_against_fd_and_autograd(X, y, W):
    out = hw1.backward_mode(X, y, W)
    forward = hw1.forward_mode(X, y, W)
    np.testing.assert_allclose(out["partial"], forward["partial"], rtol=1e-15)
    def loss(w):
        return _rows(w, X, y)[5]

    assert_derivative(out["dW"], central_diff(lambda v: loss(v[0]), [W])[0], grad(loss)(W))
    assert out["dW"] == pytest.approx(forward["dW"][-1], rel=1e-14, abs=1e-300)
    for k, tail in enumerate(_tails(y)):
        at = float(out["value"][k])
        ad = grad(tail)(at)
        if k == 3 and at <= 2e-6:
            # xi4 = p is so close to 0 that the finite-difference stencil would
            # leave log's domain: autograd and the closed form -y/p only
            np.testing.assert_allclose(out["adjoint"][k], ad, rtol=FD_RTOL, atol=FD_ATOL)
            np.testing.assert_allclose(out["adjoint"][k], -y / at, rtol=1e-13)
            continue
        fd = central_diff(lambda v, tail=tail: tail(v[0]), [at])[0]
        assert_derivative(out["adjoint"][k], fd, ad)
        # adjoint[k] * d(row k)/dW is dL_A/dW for every k
        assert out["adjoint"][k] * forward["dW"][k] == pytest.approx(out["dW"], rel=1e-13, abs=1e-300)


def _summed_loss(W, X, y):
    """The loss as the lecture writes it (for autograd)."""
    h = anp.dot(X, W)
    p = 1.0 / (1.0 + anp.exp(-h))
    return -anp.sum(y * anp.log(p) + (1.0 - y) * anp.log(1.0 - p))


def _summed_loss_accurate(W, X, y):
    """The same loss through logaddexp: accurate enough for finite differences
    (log(1 - p) loses digits at large h, which the 1e-6 step would magnify)."""
    h = X @ W
    return np.sum(np.logaddexp(0.0, h) - y * h)


def _logistic_case(seed, n=8, p=4, max_logit=5.0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = rng.integers(0, 2, size=n).astype(float)
    W = rng.normal(size=p)
    W *= max_logit / np.max(np.abs(X @ W))
    return X, y, W


@pytest.mark.parametrize("seed, max_logit", [(0, 0.5), (1, 3.0), (2, 8.0), (3, 15.0), (4, 20.0)])
def test_loss_and_grad_against_fd_and_autograd(seed, max_logit):
    X, y, W = _logistic_case(seed, max_logit=max_logit)
    L, g = hw1.loss_and_grad(X, y, W)
    assert type(L) is float and g.shape == W.shape
    h = X @ W
    exact = sum(bce_logits_decimal(yi, hi) for yi, hi in zip(y, h))
    assert pytest.approx(float(exact), rel=1e-8) == L
    fd = central_diff(lambda w: _summed_loss_accurate(w, X, y), W)
    assert_derivative(g, fd, grad(_summed_loss)(W, X, y))


def _lecture_chain_gradient(X, y, W):
    """A student's gradient that multiplies the chain out step by step."""
    v1 = -X @ W
    v2 = np.exp(v1)
    v3 = 1 + v2
    v4 = 1 / v3
    g4 = -y / v4 + (1 - y) / (1 - v4)
    return (g4 * (-1 / v3**2) * v2) @ (-X)


def test_loss_and_grad_matches_closed_forms_under_the_grader_tolerance():
    for seed in range(300):
        max_logit = float(np.linspace(0.1, 30, 300)[seed])
        X, y, W = _logistic_case(seed, n=12, max_logit=max_logit)
        L, g = hw1.loss_and_grad(X, y, W)
        h = X @ W
        if max_logit <= 20:  # hw1.md's range; beyond ~25 the chain's log(1 - p) loses digits
            assert_grader_close(L, np.sum(np.logaddexp(0, h) - y * h))
        assert_grader_close(g, X.T @ (logistic(h) - y))
        loop = np.zeros_like(W)  # a loop over the examples, with math
        for i in range(len(y)):
            p_i = 1 / (1 + math.exp(-float(X[i] @ W)))
            loop += (p_i - y[i]) * X[i]
        assert_grader_close(g, loop)
        np.testing.assert_allclose(g, X.T @ (logistic(h) - y), rtol=1e-12, atol=1e-13)
        if max_logit <= 15:  # beyond, the multiplied-out chain loses digits in 1 - p
            assert_grader_close(_lecture_chain_gradient(X, y, W), g)


def test_loss_and_grad_gradient_is_accurate_where_the_chain_is_not():
    X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
    y = np.array([0.0, 1.0, 1.0])
    W = np.array([0.0, 10.0])  # logits 20, -10, 5: the first example is confidently wrong
    _, g = hw1.loss_and_grad(X, y, W)
    with localcontext() as ctx:
        ctx.prec = 50
        p = [1 / (1 + (-Decimal(float(h))).exp()) for h in X @ W]
        exact = [sum((p[i] - Decimal(y[i])) * Decimal(X[i, j]) for i in range(3)) for j in range(2)]
    np.testing.assert_allclose(g, [float(e) for e in exact], rtol=1e-14)


def test_loss_and_grad_lists_and_float32():
    X, y, W = _logistic_case(7, max_logit=6.0)
    L, g = hw1.loss_and_grad(X, y, W)
    L_list, g_list = hw1.loss_and_grad(X.tolist(), y.tolist(), W.tolist())
    assert_grader_close(L_list, L)
    assert_grader_close(g_list, g)
    X32, W32 = X.astype(np.float32), W.astype(np.float32)
    L32, g32 = hw1.loss_and_grad(X32, y.astype(np.float32), W32)
    h = X32.astype(float) @ W32.astype(float)
    assert pytest.approx(np.sum(np.logaddexp(0, h) - y * h), rel=1e-5) == L32
    np.testing.assert_allclose(g32, X32.astype(float).T @ (logistic(h) - y), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- Part 4


def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
    b = np.array([1.0, -2.0, 0.5])
    w_star = np.linalg.solve(A, b)
    w0 = np.array([2.0, 1.0, -1.0])
    lr, n_steps = 0.2, 25
    path = hw1.gradient_descent(lambda w: A @ w - b, w0, lr, n_steps)
    assert path.shape == (n_steps + 1, 3) and path.dtype == np.float64
    M = np.eye(3) - lr * A
    ref = [w_star + np.linalg.matrix_power(M, t) @ (w0 - w_star) for t in range(n_steps + 1)]
    np.testing.assert_allclose(path, ref, rtol=1e-12, atol=1e-14)


def test_gradient_descent_shapes_inputs_and_copies():
    kept = []

    def grad_keeping(w):
        assert isinstance(w, np.ndarray) and w.dtype == np.float64 and w.shape == (2,)
        kept.append(w)
        return np.array([1.0, -2.0])

    w0 = np.array([1, 2])  # an int array
    path = hw1.gradient_descent(grad_keeping, w0, 0.5, 4)
    assert path.shape == (5, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[:, 0], [1.0, 0.5, 0.0, -0.5, -1.0])
    np.testing.assert_array_equal(np.array(kept), path[:-1])  # kept arrays were not changed
    np.testing.assert_array_equal(w0, [1, 2])
    path[1, 0] = 99.0
    assert path[2, 0] == 0.0
    zero = hw1.gradient_descent(grad_keeping, [3, 4.5], 0.1, 0)
    assert zero.shape == (1, 2)
    np.testing.assert_array_equal(zero, [[3.0, 4.5]])
    listed = hw1.gradient_descent(lambda w: 2 * w, [1.0, -1.0, 2.0], 0.25, 3)
    np.testing.assert_allclose(listed, [[1, -1, 2], [0.5, -0.5, 1], [0.25, -0.25, 0.5],
                                        [0.125, -0.125, 0.25]])  # fmt: skip


def test_fit_logistic_is_gradient_descent_from_zero(monkeypatch):
    X, y, _ = _logistic_case(11, n=20, p=3)
    lr, n_steps = 0.05, 60
    W = np.zeros(3)
    for _ in range(n_steps):
        W = W - lr * (X.T @ (logistic(X @ W) - y))
    got = hw1.fit_logistic(X, y, lr, n_steps)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, W, rtol=1e-10, atol=1e-12)
    gd, lg = Spy(hw1.gradient_descent), Spy(hw1.loss_and_grad)
    monkeypatch.setattr(hw1, "gradient_descent", gd)
    monkeypatch.setattr(hw1, "loss_and_grad", lg)
    hw1.fit_logistic(X, y, lr, 7)
    assert len(gd.calls) == 1 and len(lg.calls) == 7
    (_, w0, lr_used, steps), _ = gd.calls[0]
    np.testing.assert_array_equal(w0, np.zeros(3))
    assert (lr_used, steps) == (lr, 7)


# ----------------------------------------------------------------------------- Part 5


@pytest.mark.parametrize("n, bs", [(10, 3), (10, 5), (7, 7), (7, 10), (1, 1), (13, 4), (0, 3)])
def test_minibatches_is_one_permutation_cut_in_order(n, bs):
    rng = np.random.default_rng(123)
    batches = hw1.minibatches(n, bs, rng)
    twin = np.random.default_rng(123)
    perm = twin.permutation(n)
    assert rng.bit_generator.state == twin.bit_generator.state  # exactly one draw
    assert isinstance(batches, list) and len(batches) == math.ceil(n / bs)
    for k, batch in enumerate(batches):
        batch = np.asarray(batch)
        assert np.issubdtype(batch.dtype, np.integer)
        np.testing.assert_array_equal(batch, perm[k * bs : (k + 1) * bs])
    sizes = [len(b) for b in batches]
    assert all(s == bs for s in sizes[:-1]) and sum(sizes) == n
    shuffle_twin = np.random.default_rng(123)
    order = np.arange(n)
    shuffle_twin.shuffle(order)  # hw1.md: the same draw
    np.testing.assert_array_equal(np.concatenate(batches or [np.array([], int)]), order)


def _least_squares(seed, n=11, p=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, p))
    t = rng.normal(size=n)
    return A, t, lambda w, b: A[b].T @ (A[b] @ w - t[b])


@pytest.mark.parametrize("n, bs, n_epochs", [(11, 3, 4), (11, 11, 3), (11, 1, 2), (11, 20, 2),
                                             (11, 4, 0)])  # fmt: skip
def test_sgd_follows_an_independent_simulation(n, bs, n_epochs):
    A, t, grad_batch = _least_squares(5, n=n)
    seen = []

    def recording(w, b):
        seen.append((w, np.asarray(b).copy()))
        return grad_batch(w, b)

    lr = 0.03
    path = hw1.sgd(recording, [0.5, -1, 2], n, lr, bs, n_epochs, np.random.default_rng(9))
    assert path.shape == (n_epochs * math.ceil(n / bs) + 1, 3)
    rng = np.random.default_rng(9)
    w, ref, batches = np.array([0.5, -1.0, 2.0]), [np.array([0.5, -1.0, 2.0])], []
    for _ in range(n_epochs):
        perm = rng.permutation(n)
        for start in range(0, n, bs):
            b = perm[start : start + bs]
            batches.append(b)
            w = w - lr * (A[b].T @ (A[b] @ w - t[b]))
            ref.append(w)
    np.testing.assert_allclose(path, ref, rtol=1e-12, atol=1e-14)
    assert len(seen) == len(batches)
    for (w_seen, b_seen), b_ref, row in zip(seen, batches, path):
        np.testing.assert_array_equal(b_seen, b_ref)
        np.testing.assert_array_equal(w_seen, row)  # kept w were not changed afterwards


def test_sgd_calls_minibatches_once_per_epoch_and_uses_its_batches(monkeypatch):
    spy = Spy(hw1.minibatches)
    monkeypatch.setattr(hw1, "minibatches", spy)
    _, _, grad_batch = _least_squares(6, n=10)
    given = []
    path = hw1.sgd(lambda w, b: given.append(b) or grad_batch(w, b), np.zeros(3), 10, 0.01, 4, 5,
                   np.random.default_rng(0))  # fmt: skip
    assert len(spy.calls) == 5
    assert all(args[:2] == (10, 4) for args, _ in spy.calls)
    handed_out = [b for _, result in spy.calls for b in result]
    assert len(handed_out) == len(given)
    assert all(a is b for a, b in zip(handed_out, given))
    assert path.shape == (5 * 3 + 1, 3)


# ----------------------------------------------------------------------------- Part 6

T_OPS = {  # the test's own operations, autograd-friendly
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "neg": lambda a: -a,
    "exp": lambda a: anp.exp(a),
    "log": lambda a: anp.log(a),
    "reciprocal": lambda a: 1.0 / a,
    "sigmoid": lambda a: 1.0 / (1.0 + anp.exp(-a)),
    "square": lambda a: a**2,
}


def evaluate(graph, inputs, delta=None):
    """Every node's value; node k's value is shifted by delta[k] when delta is given."""
    values = {}
    for k, node in enumerate(graph):
        if node["op"] == "const":
            v = node["value"]
        elif node["op"] == "input":
            v = inputs[node["name"]]
        else:
            v = T_OPS[node["op"]](*[values[name] for name in node["inputs"]])
        values[node["name"]] = v if delta is None else v + delta[k]
    return values


def reference_adjoints(graph, inputs):
    """dL/d(node) for every node by autograd and by finite differences on shifts."""
    last = graph[-1]["name"]

    def loss(delta):
        return evaluate(graph, inputs, delta)[last]

    zero = np.zeros(len(graph))
    values = evaluate(graph, inputs)
    scale = np.array([float(values[node["name"]]) for node in graph])
    ad = grad(loss)(zero)
    fd = central_diff(loss, zero, scale=scale)
    return {n["name"]: a for n, a in zip(graph, ad)}, {n["name"]: f for n, f in zip(graph, fd)}


def node(name, op, *inputs, value=None):
    out = {"name": name, "op": op, "inputs": list(inputs)}
    if value is not None:
        out["value"] = value
    return out


LOGISTIC_GRAPH = [
    node("x", "input"), node("w", "input"), node("one", "const", value=1),
    node("y", "const", value=0.3), node("omy", "const", value=0.7),
    node("wx", "mul", "w", "x"), node("xi1", "neg", "wx"), node("xi2", "exp", "xi1"),
    node("xi3", "add", "one", "xi2"), node("xi4", "reciprocal", "xi3"), node("xi5", "log", "xi4"),
    node("yxi5", "mul", "y", "xi5"), node("la", "neg", "yxi5"), node("mxi4", "neg", "xi4"),
    node("xi5b", "add", "one", "mxi4"), node("xi6b", "log", "xi5b"),
    node("oxi6b", "mul", "omy", "xi6b"), node("lb", "neg", "oxi6b"), node("L", "add", "la", "lb"),
]  # fmt: skip
REPEATED_GRAPH = [
    node("x", "input"), node("sq", "mul", "x", "x"), node("dbl", "add", "sq", "sq"),
    node("L", "add", "dbl", "x"),
]  # fmt: skip
UNREACHABLE_GRAPH = [
    node("x", "input"), node("z", "input"), node("c", "const", value=2.5),
    node("a", "exp", "x"), node("dead", "log", "z"), node("dead2", "square", "dead"),
    node("s", "sigmoid", "a"), node("L", "mul", "s", "c"),
]  # fmt: skip
DIAMOND_GRAPH = [
    node("x", "input"), node("a", "sigmoid", "x"), node("b", "square", "x"),
    node("c", "mul", "a", "b"), node("d", "reciprocal", "c"), node("e", "log", "b"),
    node("f", "add", "d", "e"), node("g", "mul", "f", "a"), node("L", "add", "g", "f"),
]  # fmt: skip


def random_graph(seed, n_inner=40):
    rng = np.random.default_rng(seed)
    graph = [node(f"x{i}", "input") for i in range(3)] + [node("c0", "const", value=0.7)]
    inputs = {f"x{i}": float(rng.uniform(-1.5, 1.5)) for i in range(3)}
    values = {**inputs, "c0": 0.7}
    ops = list(T_OPS)
    for k in range(n_inner):
        names = list(values)
        while True:
            op = ops[rng.integers(len(ops))]
            arity = 2 if op in ("add", "mul") else 1
            recent = names[-6:]
            args = [
                recent[rng.integers(len(recent))] if rng.random() < 0.7
                else names[rng.integers(len(names))]
                for _ in range(arity)
            ]  # fmt: skip
            a = [values[name] for name in args]
            if op == "log" and not 0.1 < a[0] < 50:
                continue
            if op == "reciprocal" and not abs(a[0]) > 0.2:
                continue
            if op == "exp" and not abs(a[0]) < 3:
                continue
            v = float(T_OPS[op](*a))
            if abs(v) < 30:
                break
        graph.append(node(f"n{k}", op, *args))
        values[f"n{k}"] = v
    return graph, inputs


GRAPHS = {
    "logistic": (LOGISTIC_GRAPH, {"x": 1.3, "w": -0.8}),
    "repeated": (REPEATED_GRAPH, {"x": 1.5}),
    "unreachable": (UNREACHABLE_GRAPH, {"x": 0.4, "z": 3.0}),
    "diamond": (DIAMOND_GRAPH, {"x": -0.9}),
    **{f"random{seed}": random_graph(seed) for seed in range(6)},
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_graph_forward_against_an_independent_evaluator(name):
    graph, inputs = GRAPHS[name]
    got = hw1.graph_forward(graph, inputs)
    ref = evaluate(graph, inputs)
    assert set(got) == {n["name"] for n in graph}
    for key, value in ref.items():
        assert type(got[key]) is float
        assert got[key] == pytest.approx(float(value), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("name", list(GRAPHS))
def test_graph_backward_against_fd_and_autograd(name):
    graph, inputs = GRAPHS[name]
    values = hw1.graph_forward(graph, inputs)
    got = hw1.graph_backward(graph, values)
    assert set(got) == {n["name"] for n in graph}
    ad, fd = reference_adjoints(graph, inputs)
    for key in ad:
        assert type(got[key]) is float
        assert_derivative(got[key], fd[key], ad[key])
    assert got[graph[-1]["name"]] == 1.0


def test_graph_backward_repeated_inputs_and_unreachable_nodes_by_hand():
    values = hw1.graph_forward(REPEATED_GRAPH, {"x": 1.5})
    assert values["L"] == 2 * 1.5**2 + 1.5
    adjoint = hw1.graph_backward(REPEATED_GRAPH, values)
    assert adjoint == {"x": 4 * 1.5 + 1, "sq": 2.0, "dbl": 1.0, "L": 1.0}
    add_twice = [node("x", "input"), node("L", "add", "x", "x")]
    assert hw1.graph_backward(add_twice, {"x": 0.3, "L": 0.6})["x"] == 2.0
    values = hw1.graph_forward(UNREACHABLE_GRAPH, {"x": 0.4, "z": 3.0})
    adjoint = hw1.graph_backward(UNREACHABLE_GRAPH, values)
    for name in ("z", "dead", "dead2"):
        assert adjoint[name] == 0.0 and type(adjoint[name]) is float
    s = 1 / (1 + math.exp(-math.exp(0.4)))
    assert adjoint["c"] == pytest.approx(s, rel=1e-14)
    # a dead node outside its op's domain is never differentiated
    off_domain = [node("x", "input"), node("z", "input"), node("bad", "log", "z"),
                  node("L", "square", "x")]  # fmt: skip
    assert hw1.graph_backward(off_domain, {"x": 2.0, "z": -1.0, "bad": math.nan, "L": 4.0}) == {
        "x": 4.0, "z": 0.0, "bad": 0.0, "L": 1.0,
    }  # fmt: skip


def test_graph_forward_const_keeps_its_value_and_leaves_work():
    graph = [node("c", "const", value=2), node("x", "input"), node("L", "mul", "c", "x")]
    values = hw1.graph_forward(graph, {"c": 100.0, "x": 1.5, "unused": 7.0})
    assert values == {"c": 2.0, "x": 1.5, "L": 3.0}
    assert hw1.graph_backward(graph, values) == {"c": 1.5, "x": 2.0, "L": 1.0}
    single = [node("x", "input")]
    assert hw1.graph_backward(single, hw1.graph_forward(single, {"x": 4.0})) == {"x": 1.0}


def test_ops_are_given_correct_and_self_contained():
    assert set(hw1.OPS) == set(T_OPS)
    rng = np.random.default_rng(8)
    for op, (f, df) in hw1.OPS.items():
        arity = len(inspect.signature(f).parameters)
        args = list(rng.uniform(0.3, 2.0, size=arity))
        assert float(f(*args)) == pytest.approx(float(T_OPS[op](*args)), rel=1e-14)
        partials = df(*args)
        assert isinstance(partials, tuple) and len(partials) == arity
        for j in range(arity):

            def along(t, j=j, op=op, args=args):
                return T_OPS[op](*[t if i == j else a for i, a in enumerate(args)])

            ad = grad(along)(args[j])
            fd = central_diff(lambda v, along=along: along(v[0]), [args[j]])[0]
            assert_derivative(partials[j], fd, ad)
    f, df = hw1.OPS["sigmoid"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(-1e4) == 0.0 and f(1e4) == 1.0 and df(1e4)[0] == 0.0
    assert f(-30.0) == pytest.approx(sigmoid_decimal(-30.0), rel=1e-13)
    names = hw1.OPS["sigmoid"][0].__code__.co_names + hw1.OPS["sigmoid"][1].__code__.co_names
    assert not set(names) & set(GRADED)


def test_graph_functions_use_the_modules_ops(monkeypatch):
    ops = dict(hw1.OPS)
    ops["square"] = (lambda a: 10.0 * a, lambda a: (10.0,))
    monkeypatch.setattr(hw1, "OPS", ops)
    graph = [node("x", "input"), node("L", "square", "x")]
    values = hw1.graph_forward(graph, {"x": 2.0})
    assert values["L"] == 20.0
    assert hw1.graph_backward(graph, values)["x"] == 10.0


# ----------------------------------------------------------------------------- Part 7


def _small_heart():
    return pd.DataFrame(
        {
            "Age": [63, 67, 67, 37, 41, 56],
            "Chol": [233, 286, 229, 250, 204, 236],
            "Oldpeak": [2.3, 1.5, 2.6, 3.5, 1.4, 0.8],
            "Thal": ["fixed", "normal", "reversable", "normal", "normal", "normal"],
            "AHD": ["No", "Yes", "Yes", "No", "No", "Yes"],
        }
    )


def test_heart_design_standardizes_with_ddof_0():
    import statistics

    df = _small_heart()
    X, y = hw1.heart_design(df, ["Age", "Oldpeak"])
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    assert X.shape == (6, 3) and y.shape == (6,)
    np.testing.assert_array_equal(X[:, 0], np.ones(6))
    for j, column in enumerate(["Age", "Oldpeak"], start=1):
        data = [float(v) for v in df[column]]
        mean, sd = statistics.fmean(data), statistics.pstdev(data)
        np.testing.assert_allclose(X[:, j], [(v - mean) / sd for v in data], rtol=1e-13)
    np.testing.assert_array_equal(y, [0, 1, 1, 0, 0, 1])
    X1, _ = hw1.heart_design(df, ["Chol"])
    assert np.asarray(X1).shape == (6, 2)


@pytest.mark.skipif(not HEART.is_file(), reason="data/Heart.csv not there yet")
def test_heart_design_on_the_lecture_data(monkeypatch):
    monkeypatch.chdir(ROOT)
    df = hw1.load_heart()
    assert df.shape == (303, 14)
    columns = ["Age", "RestBP", "Chol", "MaxHR", "Oldpeak"]
    X, y = hw1.heart_design(df, columns)
    assert X.shape == (303, 6) and y.shape == (303,)
    np.testing.assert_allclose(X[:, 1:].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X[:, 1:].std(axis=0), 1, rtol=1e-12)
    assert y.sum() == (df["AHD"] == "Yes").sum()
    W = hw1.train_neuron(X, y, 0.002, 400)
    assert 0.6 < hw1.neuron_accuracy(X, y, W) < 0.9


def test_load_heart_finds_the_file_or_says_where_it_looked(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(REFERENCE, course / "solutions" / "hw1.py")
    copy = load_module(course / "solutions" / "hw1.py", "hw1_copy")
    notebook_dir = tmp_path / "work" / "exercises"
    notebook_dir.mkdir(parents=True)
    monkeypatch.chdir(notebook_dir)
    with pytest.raises(FileNotFoundError, match="Heart.csv"):
        copy.load_heart()
    for folder, rows in [(tmp_path / "work", 3), (course, 6), (notebook_dir, 2)]:
        (folder / "data").mkdir()
        _small_heart().head(rows).to_csv(folder / "data" / "Heart.csv", index=False)
        # the working directory first, then the course folder, then the parent of the cwd
        assert copy.load_heart().shape == (rows, 5)
    assert copy.load_heart(course / "data" / "Heart.csv").shape == (6, 5)


def _non_separable(seed=21, n=60):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.4 + 1.2 * Z[:, 0] - 0.9 * Z[:, 1])))).astype(float)
    Z = np.vstack([Z, Z[:1]])  # the same patient with the other label: never separable
    y = np.append(y, 1 - y[0])
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    return np.column_stack([np.ones(len(y)), Z]), y


def test_train_neuron_reaches_the_maximum_likelihood_fit():
    X, y = _non_separable()
    W = np.zeros(3)
    for _ in range(30):  # Newton's method, independent of the reference
        p = 1 / (1 + np.exp(-X @ W))
        W = W - np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (p - y))
    assert np.linalg.norm(X.T @ (1 / (1 + np.exp(-X @ W)) - y)) < 1e-10
    lr = 1.0 / (0.25 * np.linalg.eigvalsh(X.T @ X).max())
    got = hw1.train_neuron(X, y, lr, 1500)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, W, rtol=1e-7, atol=1e-9)
    accuracy = np.mean(((X @ W) > 0) == (y == 1))
    assert hw1.neuron_accuracy(X, y, got) == pytest.approx(accuracy)


def test_train_neuron_calls_fit_logistic(monkeypatch):
    spy = Spy(hw1.fit_logistic)
    monkeypatch.setattr(hw1, "fit_logistic", spy)
    X, y = _non_separable(n=10)
    got = hw1.train_neuron(X, y, 0.1, 5)
    assert len(spy.calls) == 1
    np.testing.assert_array_equal(got, spy.calls[0][1])


def test_neuron_accuracy(monkeypatch):
    X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5], [1.0, -3.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    W = np.array([0.0, 1.0])  # predictions 1, 0, 1, 0
    acc = hw1.neuron_accuracy(X, y, W)
    assert type(acc) is float and acc == 0.5
    assert hw1.neuron_accuracy(X, [0.0, 0.0, 0.0, 1.0], np.zeros(2)) == 0.75  # p = 0.5 predicts 0
    assert hw1.neuron_accuracy(X.tolist(), y.tolist(), [0.0, 1.0]) == 0.5
    spy = Spy(hw1.predict_proba)
    monkeypatch.setattr(hw1, "predict_proba", spy)
    hw1.neuron_accuracy(X, y, W)
    assert len(spy.calls) == 1


def test_perceptron_hand_worked():
    # w = 0. Epoch 1: row 1 (w.x = 0 -> 0, y 1) w = (1, 1); row 2 (3 -> 1, y 0)
    # w = (0, -1); row 3 (1 -> 1, y 1) keep. Epoch 2: (1, 0), (0, -2), keep.
    # Epoch 3: (1, -1), keep (-1 -> 0), keep (2 -> 1). Epoch 4: row 1 is a tie
    # (0 -> 0, y 1): (2, 0); row 2 (2 -> 1, y 0): (1, -2); keep.
    X = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, -1.0]])
    y = np.array([1.0, 0.0, 1.0])
    expected = [[0, 0], [0, -1], [0, -2], [1, -1], [1, -2]]
    for n_epochs, w in enumerate(expected):
        got = hw1.perceptron(X, y, n_epochs)
        assert got.dtype == np.float64 and got.shape == (2,)
        np.testing.assert_array_equal(got, w)
    np.testing.assert_array_equal(hw1.perceptron(X.tolist(), y.tolist(), 4), [1, -2])


def test_perceptron_uses_labels_0_1_not_plus_minus_one():
    # a y = 0 row at a tie is not corrected; the +-1 form would give (0, 1)
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0])
    np.testing.assert_array_equal(hw1.perceptron(X, y, 1), [1.0, 1.0])


# ----------------------------------------------------------------------------- Part 8

ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "tanh": lambda z: anp.tanh(z),
    "relu": lambda z: anp.maximum(z, 0.0),
}


def flat_loss(flat, X, y, activation):
    """Summed cross-entropy of an MLP given [W1, b1, W2, b2, ...] (autograd.numpy)."""
    A = X
    n_layers = len(flat) // 2
    for l in range(n_layers):
        Z = anp.dot(A, flat[2 * l]) + flat[2 * l + 1]
        if l == n_layers - 1:
            z = Z[:, 0]
            return anp.sum(anp.logaddexp(0.0, z) - y * z)
        A = ACTIVATIONS[activation](Z)
    raise AssertionError("no layers")


def independent_forward(params, X, activation):
    A, As, Zs = X, [X], []
    for l, (W, b) in enumerate(params):
        Z = A @ W + b
        A = ACTIVATIONS["sigmoid" if l == len(params) - 1 else activation](Z)
        As.append(A)
        Zs.append(Z)
    return As, Zs


LAYERS = {0: [3, 1], 1: [3, 4, 1], 2: [3, 5, 4, 1]}


def _mlp_case(k, activation):
    """Params with non-zero biases, away from relu's kink by more than 1e-3."""
    for seed in range(100):
        rng = np.random.default_rng(seed)
        params = [(W, rng.normal(scale=0.5, size=b.shape))
                  for W, b in hw1.init_mlp(LAYERS[k], rng)]  # fmt: skip
        X = rng.normal(size=(6, 3))
        y = rng.integers(0, 2, size=6).astype(float)
        _, Zs = independent_forward(params, X, activation)
        if activation != "relu" or all(np.min(np.abs(Z)) > 1e-3 for Z in Zs[:-1]):
            return params, X, y
    raise AssertionError("no case away from the kink")


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("k", [0, 1, 2])
def test_mlp_forward_and_its_cache(k, activation):
    params, X, _ = _mlp_case(k, activation)
    p, cache = hw1.mlp_forward(params, X, activation)
    As, Zs = independent_forward(params, X, activation)
    assert p.shape == (6,)
    assert cache["activation"] == activation
    assert len(cache["A"]) == k + 2 and len(cache["Z"]) == k + 1
    for got, ref in zip(cache["A"] + cache["Z"], As + Zs):
        np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)
    assert cache["A"][-1].shape == (6, 1)
    np.testing.assert_array_equal(p, cache["A"][-1][:, 0])
    p32, _ = hw1.mlp_forward([(W.astype(np.float32), b.astype(np.float32)) for W, b in params],
                             X.astype(np.float32), activation)  # fmt: skip
    np.testing.assert_allclose(p32, p, rtol=1e-5)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("k", [0, 1, 2])
def test_mlp_backward_against_fd_and_autograd(k, activation):
    params, X, y = _mlp_case(k, activation)
    _, cache = hw1.mlp_forward(params, X, activation)
    grads = hw1.mlp_backward(params, cache, y)
    flat = [a for W, b in params for a in (W, b)]
    ad = grad(flat_loss)(flat, X, y, activation)
    assert len(grads) == len(params)
    for i, (got, (W, b)) in enumerate(zip(grads, params)):
        for j, (g, theta) in enumerate(zip(got, (W, b))):
            assert np.shape(g) == theta.shape

            def loss_at(value, i=i, j=j):
                changed = list(flat)
                changed[2 * i + j] = value
                return flat_loss(changed, X, y, activation)

            assert_derivative(g, central_diff(loss_at, theta), ad[2 * i + j])
    grads_list = hw1.mlp_backward(params, cache, y.tolist())
    for (dW, db), (rW, rb) in zip(grads_list, grads):
        np.testing.assert_array_equal(dW, rW)
        np.testing.assert_array_equal(db, rb)


def test_relu_derivative_at_zero_is_zero():
    params = [(np.array([[1.0], [0.0]]), np.array([0.0])), (np.array([[2.0]]), np.array([0.1]))]
    X = np.array([[0.0, 5.0], [1.0, 0.0]])  # the first row's hidden Z is exactly 0
    _, cache = hw1.mlp_forward(params, X, "relu")
    assert cache["Z"][0][0, 0] == 0.0
    (_, db1), _ = hw1.mlp_backward(params, cache, np.array([1.0, 0.0]))
    delta2 = cache["A"][-1][:, 0] - np.array([1.0, 0.0])
    assert db1[0] == pytest.approx(delta2[1] * 2.0)  # only the second row passes


def test_mlp_forward_calls_sigmoid(monkeypatch):
    spy = Spy(hw1.sigmoid)
    monkeypatch.setattr(hw1, "sigmoid", spy)
    params, X, _ = _mlp_case(2, "sigmoid")
    hw1.mlp_forward(params, X, "sigmoid")
    assert len(spy.calls) == 3
    spy.calls.clear()
    hw1.mlp_forward(params, X, "tanh")
    assert len(spy.calls) == 1


@pytest.mark.parametrize("sizes", [[3, 1], [4, 6, 1], [2, 5, 3, 1]])
def test_init_mlp_draw_order(sizes):
    params = hw1.init_mlp(sizes, np.random.default_rng(42))
    twin = np.random.default_rng(42)
    assert isinstance(params, list) and len(params) == len(sizes) - 1
    for (W, b), n_in, n_out in zip(params, sizes[:-1], sizes[1:]):
        z = twin.standard_normal(size=(n_in, n_out))  # normal(0, s) is s * standard normal
        np.testing.assert_allclose(W, z / math.sqrt(n_in), rtol=1e-15)
        np.testing.assert_array_equal(b, np.zeros(n_out))
        assert W.dtype == np.float64 and b.dtype == np.float64
    rng = np.random.default_rng(42)
    hw1.init_mlp(sizes, rng)
    assert rng.bit_generator.state == twin.bit_generator.state


def _xor_like(seed=0, n=40):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = ((X[:, 0] * X[:, 1]) > 0).astype(float)
    return X, y


def test_train_mlp_reduces_the_loss():
    X, y = _xor_like()
    sizes = [2, 8, 1]
    before = hw1.init_mlp(sizes, np.random.default_rng(3))
    after = hw1.train_mlp(X, y, sizes, "tanh", 0.1, 300, 8, np.random.default_rng(3))
    assert [(W.shape, b.shape) for W, b in after] == [(W.shape, b.shape) for W, b in before]

    def loss(params):
        return flat_loss([a for W, b in params for a in (W, b)], X, y, "tanh")

    assert loss(after) < 0.5 * loss(before)
    p, _ = hw1.mlp_forward(after, X, "tanh")
    assert np.mean((p > 0.5) == (y == 1)) >= 0.9


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_train_mlp_follows_an_independent_simulation(activation):
    X, y = _xor_like(1, n=10)
    sizes, lr, n_epochs, bs = [2, 3, 1], 0.2, 4, 4
    got = hw1.train_mlp(X, y, sizes, activation, lr, n_epochs, bs, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    flat = []
    for n_in, n_out in ((sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)):
        flat += [rng.standard_normal(size=(n_in, n_out)) / math.sqrt(n_in), np.zeros(n_out)]
    gradient = grad(flat_loss)
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), bs):
            b = perm[start : start + bs]
            g = gradient(flat, X[b], y[b], activation)
            flat = [theta - lr * d for theta, d in zip(flat, g)]
    assert isinstance(got, list) and len(got) == 2
    for (W, b), rW, rb in zip(got, flat[::2], flat[1::2]):
        np.testing.assert_allclose(W, rW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, rb, rtol=1e-10, atol=1e-12)


def test_train_mlp_calls_the_substituted_functions(monkeypatch):
    spies = {name: Spy(getattr(hw1, name)) for name in
             ("init_mlp", "minibatches", "mlp_forward", "mlp_backward")}  # fmt: skip
    for name, spy in spies.items():
        monkeypatch.setattr(hw1, name, spy)
    X, y = _xor_like(2, n=10)
    hw1.train_mlp(X, y, [2, 3, 1], "relu", 0.1, 3, 4, np.random.default_rng(0))
    assert len(spies["init_mlp"].calls) == 1
    assert len(spies["minibatches"].calls) == 3
    assert all(args[:2] == (10, 4) for args, _ in spies["minibatches"].calls)
    assert len(spies["mlp_forward"].calls) == len(spies["mlp_backward"].calls) == 9


# ----------------------------------------------------------------------------- substitution


SUBSTITUTED = [
    ("predict_proba", "sigmoid", lambda: hw1.predict_proba(np.eye(2), np.ones(2))),
    *[(caller, callee, None) for caller in ("forward_mode", "backward_mode")
      for callee in PART2[:12]],  # the L_A chain
    *[("loss_and_grad", callee, None) for callee in
      ("xi1", "xi2", "xi3", "xi4", "xi5", "loss_a", "xi5b", "xi6b", "loss_b", "dxi1_dW",
       "sigmoid")],
]  # fmt: skip


@pytest.mark.parametrize("caller, callee, call", SUBSTITUTED)
def test_graded_functions_call_each_other_through_module_names(monkeypatch, caller, callee, call):
    spy = Spy(getattr(hw1, callee))
    monkeypatch.setattr(hw1, callee, spy)
    if call is not None:
        call()
    elif caller == "loss_and_grad":
        X, y, W = _logistic_case(0)
        hw1.loss_and_grad(X, y, W)
    else:
        getattr(hw1, caller)(3.0, 1.0, 3.0)
    assert spy.calls, f"{caller} should call {callee} through the module"
