"""hw1's items and cases: what the grader checks, with which inputs, for how many points.

Secret side: this file never reaches students.  ``grade assign hw1`` computes the
public cases' expected values from the reference (solutions/hw1.py) and stores them in
exercises/hw1.cases.json; the hidden cases are drawn here from a seeded generator each
time a submission is graded, and judged against the reference.

Points follow ../shared/hw1.md ("Points (100)"); the split within an item is the
``parts`` of its :class:`Item` (equal shares where not given), and within a part the
cases share equally.  That is the one place where the split lives.
"""

from __future__ import annotations

import importlib.util as _ilu
import sys as _sys
from pathlib import Path

import numpy as np
import pandas as pd

from grader.course.spec import Callback, Case, GradCheck, Item

if "_grader_reference_hw1" in _sys.modules:
    reference = _sys.modules["_grader_reference_hw1"]
else:  # imported on its own (tests, tools): load the reference beside this file
    _spec = _ilu.spec_from_file_location("_grader_reference_hw1",
                                         Path(__file__).with_name("hw1.py"))
    assert _spec is not None and _spec.loader is not None
    reference = _ilu.module_from_spec(_spec)
    _sys.modules["_grader_reference_hw1"] = reference
    _spec.loader.exec_module(reference)
ref = reference

ASSIGNMENT = {
    "module": "hw1",
    "title": "Perceptron and Back Propagation",
    "seed": 20261128,
    "preload": ["numpy", "pandas"],
}

CHAIN = ["xi1", "xi2", "xi3", "xi4", "xi5", "loss_a", "xi5b", "xi6b", "loss_b"]
DERIVS = ["dxi1_dW", "dxi2_dxi1", "dxi3_dxi2", "dxi4_dxi3", "dxi5_dxi4", "dloss_a_dxi5",
          "dxi5b_dxi4", "dxi6b_dxi5b", "dloss_b_dxi6b"]
PART2 = [f for pair in zip(CHAIN, DERIVS) for f in pair]
ROWS = ["ξ1", "ξ2", "ξ3", "ξ4", "ξ5", "L_A"]
TRAINING_TIMEOUT = 60.0
# minibatches and sgd: the diagnosis when the indices are the right ones in another order
OTHER_DRAW = ("the indices form a valid permutation, but not the expected random draw "
              "(draw once per epoch, exactly as specified, and nothing else from rng)")

ITEMS = [
    Item("sigmoid", "The sigmoid and the neuron's output", 4, ("sigmoid", "predict_proba"),
         substitutes=("sigmoid",), parts={"sigmoid": 2, "stability": 1, "predict_proba": 1}),
    Item("loss", "Binary cross-entropy, from p and from logits", 6,
         ("bce_loss", "bce_loss_from_logits")),
    Item("elementary", "The chain's elementary functions and derivatives", 18, tuple(PART2)),
    Item("forward_mode", "Chain rule, forward mode", 8, ("forward_mode",),
         substitutes=tuple(PART2)),
    Item("backward_mode", "Chain rule, backward mode", 8, ("backward_mode",),
         substitutes=tuple(PART2)),
    Item("loss_and_grad", "Summed loss and gradient over a data set", 6, ("loss_and_grad",),
         substitutes=(*PART2, "sigmoid")),
    Item("gradient_descent", "Gradient descent", 4, ("gradient_descent",)),
    Item("fit_logistic", "Logistic regression by gradient descent", 4, ("fit_logistic",),
         substitutes=("gradient_descent", "loss_and_grad")),
    Item("minibatches", "Shuffled mini-batches", 4, ("minibatches",)),
    Item("sgd", "Stochastic (mini-batch) gradient descent", 6, ("sgd",),
         substitutes=("minibatches",)),
    Item("graph_forward", "Forward pass on a computational graph", 4, ("graph_forward",),
         given=("OPS",)),
    Item("graph_backward", "Back-propagation on a computational graph", 8, ("graph_backward",),
         given=("OPS",)),
    Item("neuron", "A single neuron on the Heart data", 4,
         ("heart_design", "train_neuron", "neuron_accuracy"),
         substitutes=("fit_logistic", "predict_proba"),
         own_helpers=False),  # fitting on the Heart data takes ms; the judge has it cached
    Item("perceptron", "Rosenblatt's perceptron", 2, ("perceptron",)),
    Item("mlp_forward", "MLP: initialisation and forward pass", 4, ("init_mlp", "mlp_forward"),
         substitutes=("sigmoid",)),
    Item("mlp_backward", "MLP: backward pass", 6, ("mlp_backward",)),
    Item("train_mlp", "MLP: training by mini-batch SGD", 4, ("train_mlp",),
         substitutes=("init_mlp", "minibatches", "mlp_forward", "mlp_backward"),
         parts={"params": 2, "outcome": 2}),
]

SLIDES_NOTE = ("The lecture's slides print dL_A/dW = +0.00037018372 at X=3, y=1, W=3: their ξ4 "
               "row drops the minus sign of dξ4/dξ3 = -1/ξ3². The correct value is "
               "-0.000370183727958695.")


# ----------------------------------------------------------------------------- data


def heart() -> pd.DataFrame:
    return pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "Heart.csv")


HEART_NUMERIC = ["Age", "Sex", "RestBP", "Chol", "Fbs", "RestECG", "MaxHR", "ExAng",
                 "Oldpeak", "Slope"]  # columns with no missing value


def logistic_data(rng: np.random.Generator, n: int, p: int, scale: float = 1.0):
    """A design matrix with an intercept column and labels from a noisy logistic model."""
    X = np.column_stack([np.ones(n), rng.normal(0, scale, size=(n, p - 1))])
    w = rng.normal(0, 1, size=p)
    y = (rng.random(n) < ref.sigmoid(X @ w)).astype(np.float64)
    return X, y


def grad_of_quadratic(A: np.ndarray, b: np.ndarray):
    """The gradient of f(w) = ½ wᵀAw − bᵀw, for gradient descent cases."""
    def grad(w):
        return A @ np.asarray(w, dtype=np.float64) - b
    return grad


def grad_batch_for(X: np.ndarray, y: np.ndarray):
    """grad_batch(w, b): the gradient of the summed loss over the examples in b."""
    def grad_batch(w, b):
        b = np.asarray(b)
        return X[b].T @ (ref.sigmoid(X[b] @ np.asarray(w, dtype=np.float64)) - y[b])
    return grad_batch


def rng_from(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- slips


def swapped(name: str):
    """The value a student gets by swapping a two-argument function's arguments."""
    f = getattr(ref, name)
    return lambda a, b: f(b, a)


def first_label_zero(X, y):
    """Put a 0-labelled row first: from w = 0 the ±1-label rule updates there, the
    {0, 1} rule does not, so the two rules end at different w."""
    i = int(np.argmin(y))
    order = np.r_[i, np.delete(np.arange(len(y)), i)]
    return X[order], y[order]


def perceptron_pm1(X, y, n_epochs):
    """The ±1-label form of the rule, which gives another w on {0, 1} labels."""
    X = np.asarray(X, dtype=np.float64)
    t = 2 * np.asarray(y, dtype=np.float64) - 1
    w = np.zeros(X.shape[1])
    for _ in range(n_epochs):
        for i in range(X.shape[0]):
            if t[i] * (X[i] @ w) <= 0:
                w = w + t[i] * X[i]
    return w


def mlp_backward_with(derivative):
    """mlp_backward with another activation derivative g'(Z, A), for diagnoses."""
    def backward(params, cache, y):
        A, Z = cache["A"], cache["Z"]
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        L = len(params)
        grads = [None] * L
        delta = A[-1] - y
        for l in range(L, 0, -1):
            grads[l - 1] = (A[l - 1].T @ delta, delta.sum(axis=0))
            if l > 1:
                delta = (delta @ params[l - 1][0].T) * derivative(Z[l - 2], A[l - 1])
        return grads
    return backward


def wrong_derivatives(activation: str) -> dict:
    out = {}
    if activation == "tanh":
        out["the tanh derivative is wrong: tanh'(z) = 1 - tanh(z)², not 1 - z²"] = \
            mlp_backward_with(lambda z, a: 1 - z ** 2)
        out["the wrong activation derivative: that is sigmoid's, the layers use tanh"] = \
            mlp_backward_with(lambda z, a: a * (1 - a))
    if activation == "sigmoid":
        out["the sigmoid derivative is wrong: σ'(z) = σ(z)(1 - σ(z)) = A(1 - A), not "
            "Z(1 - Z)"] = mlp_backward_with(lambda z, a: z * (1 - z))
        out["the wrong activation derivative: that is tanh's, the layers use sigmoid"] = \
            mlp_backward_with(lambda z, a: 1 - a ** 2)
    if activation == "relu":
        out["the relu derivative is wrong: relu'(z) is 1 where z > 0 and 0 elsewhere"] = \
            mlp_backward_with(lambda z, a: np.ones_like(z))
    return out


def graph_backward_overwriting(graph, values):
    """Back-propagation that overwrites adjoints instead of summing over paths."""
    adj = {n["name"]: 0.0 for n in graph}
    adj[graph[-1]["name"]] = 1.0
    for node in reversed(graph):
        if node["op"] in ("input", "const"):
            continue
        parts = ref.OPS[node["op"]][1](*[values[i] for i in node["inputs"]])
        for name, d in zip(node["inputs"], parts):
            adj[name] = adj[node["name"]] * float(d)
    return adj


SUM_NOT_MEAN = "a mean where the loss is a sum?"


# ----------------------------------------------------------------------------- graphs


def lecture_graph():
    """L_A of the lecture as a graph: -y log σ(W X), with the chain's steps as nodes."""
    return [
        {"name": "W", "op": "input", "inputs": []},
        {"name": "X", "op": "input", "inputs": []},
        {"name": "y", "op": "input", "inputs": []},
        {"name": "WX", "op": "mul", "inputs": ["W", "X"]},
        {"name": "xi1", "op": "neg", "inputs": ["WX"]},
        {"name": "xi2", "op": "exp", "inputs": ["xi1"]},
        {"name": "one", "op": "const", "value": 1.0, "inputs": []},
        {"name": "xi3", "op": "add", "inputs": ["one", "xi2"]},
        {"name": "xi4", "op": "reciprocal", "inputs": ["xi3"]},
        {"name": "xi5", "op": "log", "inputs": ["xi4"]},
        {"name": "yxi5", "op": "mul", "inputs": ["y", "xi5"]},
        {"name": "L_A", "op": "neg", "inputs": ["yxi5"]},
    ]


def shared_graph():
    """A node used twice (x*x through mul) and twice through two paths, plus a dead end."""
    return [
        {"name": "x", "op": "input", "inputs": []},
        {"name": "z", "op": "input", "inputs": []},
        {"name": "xx", "op": "mul", "inputs": ["x", "x"]},
        {"name": "s", "op": "sigmoid", "inputs": ["x"]},
        {"name": "dead", "op": "exp", "inputs": ["z"]},
        {"name": "t", "op": "add", "inputs": ["xx", "s"]},
        {"name": "u", "op": "square", "inputs": ["t"]},
        {"name": "L", "op": "add", "inputs": ["u", "s"]},
    ]


def has_merging_paths(graph) -> bool:
    """True when some node feeds the rest of the graph more than once."""
    uses: dict[str, int] = {}
    for node in graph:
        for name in node["inputs"]:
            uses[name] = uses.get(name, 0) + 1
    return any(n > 1 for n in uses.values())


UNARY = ["neg", "exp", "log", "reciprocal", "sigmoid", "square"]


def random_graph(rng: np.random.Generator, n_inner: int):
    """A random graph whose every op stays in its domain; the last node is L."""
    n_in = int(rng.integers(1, 4))
    graph = [{"name": f"in{i}", "op": "input", "inputs": []} for i in range(n_in)]
    inputs = {f"in{i}": float(rng.uniform(0.3, 1.5)) for i in range(n_in)}
    if rng.random() < 0.5:
        graph.append({"name": "c0", "op": "const", "value": float(rng.uniform(0.5, 2)),
                      "inputs": []})
    values = dict(inputs)
    for g in graph:
        if g["op"] == "const":
            values[g["name"]] = g["value"]
    k = 0
    while k < n_inner:
        names = [g["name"] for g in graph]
        op = str(rng.choice(["add", "mul"] + UNARY))
        arity = 2 if op in ("add", "mul") else 1
        ins = [str(rng.choice(names[-4:] if rng.random() < 0.7 else names))
               for _ in range(arity)]
        args = [values[i] for i in ins]
        with np.errstate(all="ignore"):
            v = ref.OPS[op][0](*args)
        if not np.isfinite(v) or abs(v) > 50 or abs(v) < 0.05 or (
                op == "log" and args[0] < 0.05) or (op == "exp" and args[0] > 3):
            continue
        name = f"n{k}"
        graph.append({"name": name, "op": op, "inputs": ins})
        values[name] = float(v)
        k += 1
    # L sums the last two inner nodes, so most of the graph reaches it
    graph.append({"name": "L", "op": "add", "inputs": [graph[-1]["name"], graph[-2]["name"]]})
    return graph, inputs


# ----------------------------------------------------------------------------- MLP data


def xor_blobs(rng: np.random.Generator, n: int, noise: float = 0.35):
    """Four blobs at (±1, ±1), labelled 1 where both coordinates share a sign.

    No single neuron can do better than chance here (a linear fit scores about 0.5);
    a small hidden layer gets nearly all of it.
    """
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    X = corners + rng.normal(0, noise, size=(n, 2))
    return X, (corners[:, 0] * corners[:, 1] > 0).astype(np.float64)


# train_mlp's outcome: the trained network classifies unseen data at least this well.
# The reference, trained as in the case on 30 other seeds (100..129), never scored below
# OUTCOME_WORST (tests/test_hw1_cases.py re-measures it); a linear model scores about 0.53.
OUTCOME_WORST = 0.9675
OUTCOME_THRESHOLD = 0.90
MLP_TASK = {"layer_sizes": [2, 16, 1], "activation": "tanh", "lr": 0.2, "n_epochs": 6,
            "batch_size": 40}  # 24 steps: each is two round trips to the grader


def biased_params(sizes, rng: np.random.Generator):
    """init_mlp's parameters with non-zero biases (init_mlp's own are all zero)."""
    return [(W, rng.normal(0, 0.5, size=b.shape)) for W, b in ref.init_mlp(sizes, rng)]


def relu_tie_params(rng: np.random.Generator):
    """A [3, 4, 1] network whose first hidden unit has Z exactly 0 on every row:
    there relu'(0) = 0 matters."""
    params = biased_params([3, 4, 1], rng)
    W1, b1 = params[0]
    W1[:, 0], b1[0] = 0.0, 0.0
    return params


def mlp_task(seed: int):
    """Training data (160 rows) and unseen data (400 rows) from one seed."""
    data_rng = np.random.default_rng(seed)
    X, y = xor_blobs(data_rng, 160)
    Xt, yt = xor_blobs(data_rng, 400)
    return X, y, Xt, yt


def outcome_check(Xt: np.ndarray, yt: np.ndarray):
    def check(params):
        try:
            ps = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64))
                  for W, b in params]
            p, _ = ref.mlp_forward(ps, Xt, MLP_TASK["activation"])
            acc = float(np.mean((p > 0.5) == (yt > 0.5)))
        except Exception:  # noqa: BLE001 - garbage parameters fail the check
            return False, "the returned parameters cannot be used as an MLP of these sizes"
        if not np.isfinite(acc) or acc < OUTCOME_THRESHOLD:
            return False, (f"the trained network classifies unseen data with accuracy "
                           f"{acc:.3f}, below {OUTCOME_THRESHOLD} (the update, the batches or "
                           f"the learning rate's sign?)")
        return True, "ok"
    return check


# ----------------------------------------------------------------------------- cases


def elementary_inputs(rng: np.random.Generator, f: str, shape) -> tuple:
    u = lambda lo, hi: rng.uniform(lo, hi, size=shape)  # noqa: E731
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    return {
        "xi1": (u(-5, 5), u(-5, 5)), "dxi1_dW": (u(-5, 5), u(-5, 5)),
        "xi2": (u(-30, 30),), "dxi2_dxi1": (u(-30, 30),),
        "xi3": (u(0, 1e3),), "dxi3_dxi2": (u(0, 1e3),),
        "xi4": (u(1, 1e3),), "dxi4_dxi3": (u(1, 1e3),),
        "xi5": (u(0.01, 0.99),), "dxi5_dxi4": (u(0.01, 0.99),),
        "loss_a": (y, np.log(u(0.01, 0.99))), "dloss_a_dxi5": (y, np.log(u(0.01, 0.99))),
        "xi5b": (u(0.01, 0.99),), "dxi5b_dxi4": (u(0.01, 0.99),),
        "xi6b": (u(0.01, 0.99),), "dxi6b_dxi5b": (u(0.01, 0.99),),
        "loss_b": (y, np.log(u(0.01, 0.99))), "dloss_b_dxi6b": (y, np.log(u(0.01, 0.99))),
    }[f]


CONSTANT_DERIVATIVES = {"dxi3_dxi2", "dxi5b_dxi4"}
TWO_ARGS = {"xi1", "dxi1_dW", "loss_a", "dloss_a_dxi5", "loss_b", "dloss_b_dxi6b"}


def _elementary(f: str, args: tuple, visibility: str, name: str) -> Case:
    slips = {"the arguments are swapped": swapped(f)} if f in TWO_ARGS else {}
    return Case("elementary", f, args, name=name, visibility=visibility, part=f,
                scalar_ok=f in CONSTANT_DERIVATIVES, slips=slips)


def public_cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    # Part 1
    add(Case("sigmoid", "sigmoid", (0.0,), name="sigmoid at 0", visibility="public"))
    add(Case("sigmoid", "sigmoid", (np.array([-2.0, 0.5, 3.0]),), name="sigmoid on an array",
             visibility="public"))
    add(Case("sigmoid", "sigmoid", (np.array([-800.0, 800.0]),), name="sigmoid at ±800",
             visibility="public", part="stability", no_warnings=True))
    X3 = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    add(Case("sigmoid", "predict_proba", (X3, np.array([0.2, -0.7])),
             name="predict_proba on 3 rows", visibility="public"))
    y4 = np.array([1.0, 0.0, 1.0, 0.0])
    p4 = np.array([0.9, 0.2, 0.6, 0.4])
    add(Case("loss", "bce_loss", (y4, p4), name="bce_loss on 4 examples", visibility="public"))
    add(Case("loss", "bce_loss_from_logits", (y4, np.array([2.0, -1.0, 0.5, -0.3])),
             name="bce_loss_from_logits on 4 examples", visibility="public"))
    # Part 2: each function at one point of the worked example (X=3, y=1, W=3)
    x1 = -9.0
    x2 = float(np.exp(x1))
    x3 = 1 + x2
    x4 = 1 / x3
    x5 = float(np.log(x4))
    at = {"xi1": (3.0, 3.0), "dxi1_dW": (3.0, 3.0), "xi2": (x1,), "dxi2_dxi1": (x1,),
          "xi3": (x2,), "dxi3_dxi2": (x2,), "xi4": (x3,), "dxi4_dxi3": (x3,),
          "xi5": (x4,), "dxi5_dxi4": (x4,), "loss_a": (1.0, x5), "dloss_a_dxi5": (1.0, x5),
          "xi5b": (0.25,), "dxi5b_dxi4": (0.25,), "xi6b": (0.75,), "dxi6b_dxi5b": (0.75,),
          "loss_b": (0.0, float(np.log(0.75))), "dloss_b_dxi6b": (0.0, float(np.log(0.75)))}
    for f in PART2:
        cases.append(_elementary(f, at[f], "public", f"{f} at the worked example"))
    # Part 3: the lecture's worked example
    for mode in ("forward_mode", "backward_mode"):
        add(Case(mode, mode, (3.0, 1.0, 3.0), name=f"{mode} at X=3, y=1, W=3",
                 visibility="public", labels={"rows": ROWS}, note=SLIDES_NOTE))
    Xs, ys = logistic_data(rng_from(1), 6, 3)
    add(Case("loss_and_grad", "loss_and_grad", (Xs, ys, np.array([0.1, -0.2, 0.3])),
             name="loss_and_grad on 6 examples", visibility="public"))
    # Part 4
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -1.0])
    add(Case("gradient_descent", "gradient_descent",
             (Callback("grad", grad_of_quadratic(A, b)), [0, 0], 0.1, 5),
             name="gradient_descent on a quadratic, w0 = [0, 0]", visibility="public",
             plot="path"))
    add(Case("fit_logistic", "fit_logistic", (Xs, ys, 0.1, 10),
             name="fit_logistic, 10 steps", visibility="public", timeout=TRAINING_TIMEOUT))
    # Part 5
    add(Case("minibatches", "minibatches", (10, 4, rng_from(7)),
             name="minibatches(10, 4, rng)", visibility="public", reordered=OTHER_DRAW))
    Xm, ym = logistic_data(rng_from(2), 10, 2)
    add(Case("sgd", "sgd", (Callback("grad_batch", grad_batch_for(Xm, ym)), np.zeros(2), 10,
                            0.1, 4, 2, rng_from(8)),
             name="sgd, 2 epochs of batches of 4", visibility="public", record=("grad_batch",),
             timeout=TRAINING_TIMEOUT, reordered=OTHER_DRAW, plot="path"))
    # Part 6
    g = lecture_graph()
    inputs = {"W": 3.0, "X": 3.0, "y": 1.0}
    add(Case("graph_forward", "graph_forward", (g, inputs), name="the lecture's graph",
             visibility="public"))
    add(Case("graph_backward", "graph_backward", (g, ref.graph_forward(g, inputs)),
             name="the lecture's graph", visibility="public"))
    sg = shared_graph()
    add(Case("graph_backward", "graph_backward",
             (sg, ref.graph_forward(sg, {"x": 0.5, "z": 1.0})),
             name="a node reached by several paths", visibility="public",
             slips={"adjoints are overwritten, not summed over paths":
                    graph_backward_overwriting}))
    # Part 7
    df = heart()
    add(Case("neuron", "heart_design", (df, ["MaxHR"]), name="heart_design(df, ['MaxHR'])",
             visibility="public", part="heart_design"))
    Xh, yh = ref.heart_design(df, ["MaxHR", "Age"])
    add(Case("neuron", "train_neuron", (Xh, yh, 1e-3, 50), name="train_neuron, 50 steps",
             visibility="public", part="train_neuron", timeout=TRAINING_TIMEOUT))
    add(Case("neuron", "neuron_accuracy", (Xh, yh, np.array([0.1, -1.0, 0.5])),
             name="neuron_accuracy", visibility="public", part="neuron_accuracy"))
    Xp = np.array([[1.0, -1.0, -2.0], [1.0, 2.0, 1.0], [1.0, 1.5, -0.5], [1.0, -2.0, 1.0]])
    yp = np.array([0.0, 1.0, 1.0, 0.0])  # first label 0: there the ±1 rule differs
    add(Case("perceptron", "perceptron", (Xp, yp, 3), name="perceptron on 4 points",
             visibility="public",
             slips={"that is the ±1-label rule; with labels in {0, 1} update by "
                    "(y[i] - ŷ) X[i]": perceptron_pm1},
             curve={"vary": 2, "from": 0, "upto": 10, "metric": "linear_error", "inputs": 0,
                    "labels": 1, "label": "training error (fraction misclassified)"}))
    # Part 8
    add(Case("mlp_forward", "init_mlp", ([3, 4, 1], rng_from(3)), name="init_mlp([3, 4, 1])",
             visibility="public", part="init_mlp"))
    params = ref.init_mlp([3, 4, 1], rng_from(4))
    Xf = rng_from(5).normal(size=(5, 3))
    add(Case("mlp_forward", "mlp_forward", (params, Xf, "tanh"),
             name="mlp_forward, one tanh layer", visibility="public", part="mlp_forward"))
    _, cache = ref.mlp_forward(params, Xf, "tanh")
    yf = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    add(Case("mlp_backward", "mlp_backward", (params, cache, yf),
             name="mlp_backward, one tanh layer", visibility="public",
             slips={k: v for k, v in wrong_derivatives("tanh").items()}))
    Xt, yt, _, _ = mlp_task(11)
    add(Case("train_mlp", "train_mlp", (Xt[:40], yt[:40], [2, 3, 1], "tanh", 0.1, 2, 8,
                                        rng_from(6)),
             name="train_mlp, 2 epochs", visibility="public", part="params",
             timeout=TRAINING_TIMEOUT,
             curve={"vary": 5, "from": 0, "upto": 20, "then": ["mlp_forward", ["$", 0, 3]],
                    "pick": 0, "metric": "bce", "labels": 1,
                    "label": "training loss (mean cross-entropy)"}))
    return cases


def hidden_cases(rng: np.random.Generator) -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    H = "hidden"
    # Part 1
    add(Case("sigmoid", "sigmoid", (float(rng.uniform(-5, 5)),), name="a Python float",
             visibility=H))
    add(Case("sigmoid", "sigmoid", (int(rng.integers(-3, 4)),), name="a Python int",
             visibility=H))
    add(Case("sigmoid", "sigmoid", (np.float64(rng.uniform(-5, 5)),), name="a numpy scalar",
             visibility=H))
    add(Case("sigmoid", "sigmoid", (rng.normal(0, 4, size=(3, 4)),), name="a 2-d array",
             visibility=H))
    add(Case("sigmoid", "sigmoid", (rng.normal(0, 4, size=7).astype(np.float32),),
             name="a float32 array", visibility=H, rtol=1e-5))
    big = np.concatenate([rng.uniform(700, 1e4, 4), -rng.uniform(700, 1e4, 4)])
    add(Case("sigmoid", "sigmoid", (big,), name="|h| from 700 to 1e4", visibility=H,
             part="stability", no_warnings=True))
    add(Case("sigmoid", "sigmoid", (-1e4,), name="h = -1e4", visibility=H, part="stability",
             no_warnings=True))
    for k in range(2):
        X, _ = logistic_data(rng, 8 + k, 3 + k)
        add(Case("sigmoid", "predict_proba", (X, rng.normal(size=3 + k)),
                 name=f"predict_proba {k + 1}", visibility=H))
    # loss
    for k, shape in enumerate([(12,), (3, 5)]):
        y = rng.integers(0, 2, size=shape).astype(np.float64)
        p = rng.uniform(1e-6, 1 - 1e-6, size=shape)
        add(Case("loss", "bce_loss", (y, p), name=f"bce_loss {k + 1}", visibility=H,
                 slips={"the arguments are swapped": swapped("bce_loss")}))
        h = rng.normal(0, 5, size=shape)
        add(Case("loss", "bce_loss_from_logits", (y, h), name=f"logits loss {k + 1}",
                 visibility=H))
    y = rng.integers(0, 2, size=8).astype(np.float64)
    add(Case("loss", "bce_loss_from_logits",
             (y, np.where(y > 0, -1, 1) * rng.uniform(700, 1e4, size=8)),
             name="logits loss at |h| up to 1e4", visibility=H))
    # Part 2: scalars and arrays of two shapes
    for f in PART2:
        cases.append(_elementary(f, elementary_inputs(rng, f, ()), H, f"{f} on scalars"))
        cases.append(_elementary(f, elementary_inputs(rng, f, (6,)), H, f"{f} on a vector"))
        cases.append(_elementary(f, elementary_inputs(rng, f, (2, 3)), H, f"{f} on a matrix"))
    # Part 3
    for mode in ("forward_mode", "backward_mode"):
        for k in range(4):
            args = (float(rng.uniform(-3, 3)), float(rng.integers(0, 2)),
                    float(rng.uniform(-3, 3)))
            add(Case(mode, mode, args, name=f"{mode} {k + 1}", visibility=H))
    for k, (n, p) in enumerate([(20, 3), (50, 4), (7, 1)]):
        X, y = logistic_data(rng, n, p)
        W = rng.normal(0, 0.5, size=p)
        # |X @ W| <= 15: where the chain multiplied out (1/(1-p)) is still accurate to the
        # tolerance, so a correct chain-rule student and a closed-form one both pass
        W *= min(1.0, 15.0 / max(1e-12, float(np.abs(X @ W).max())))
        add(Case("loss_and_grad", "loss_and_grad", (X, y, W), name=f"loss_and_grad {k + 1}",
                 visibility=H))
    # Part 4
    for k in range(3):
        M = rng.normal(size=(3, 3))
        A = M @ M.T + np.eye(3)
        b = rng.normal(size=3)
        w0 = rng.normal(size=3) if k else np.array([1, -2, 0])
        add(Case("gradient_descent", "gradient_descent",
                 (Callback("grad", grad_of_quadratic(A, b)), w0, 0.05, [10, 25, 0][k]),
                 name=f"gradient_descent {k + 1}", visibility=H))
    for k in range(2):
        X, y = logistic_data(rng, 30, 3)
        # few steps: each one is two round trips (the grader's gradient_descent calls the
        # student's gradient, which calls the grader's loss_and_grad); 8 already tell
        add(Case("fit_logistic", "fit_logistic", (X, y, 0.05, 8 + 4 * k),
                 name=f"fit_logistic {k + 1}", visibility=H, timeout=TRAINING_TIMEOUT))
    # Part 5
    for k, (n, bs) in enumerate([(12, 4), (11, 3), (5, 8)]):
        add(Case("minibatches", "minibatches", (n, bs, rng_from(int(rng.integers(1 << 30)))),
                 name=f"minibatches {k + 1}", visibility=H, reordered=OTHER_DRAW))
    # the audit's gaps are closed with generators of their own, so the draws above stay
    add(Case("minibatches", "minibatches", (7, 1, rng_from(41)),
             name="minibatches with batch_size 1", visibility=H, reordered=OTHER_DRAW))
    for k, (n, bs, ep) in enumerate([(13, 5, 2), (8, 1, 1), (9, 9, 3)]):
        X, y = logistic_data(rng, n, 3)
        add(Case("sgd", "sgd", (Callback("grad_batch", grad_batch_for(X, y)),
                                rng.normal(size=3), n, 0.05, bs, ep,
                                rng_from(int(rng.integers(1 << 30)))),
                 name=f"sgd {k + 1}", visibility=H, record=("grad_batch",),
                 timeout=TRAINING_TIMEOUT, reordered=OTHER_DRAW))
    # Part 6
    graphs = [shared_graph()]
    ins = [{"x": float(rng.uniform(0.2, 1.5)), "z": float(rng.uniform(0.2, 1.5))}]
    for n_inner in (6, 12, 30):
        g, i = random_graph(rng, n_inner)
        graphs.append(g)
        ins.append(i)
    const_named = [{"name": "a", "op": "input", "inputs": []},
                   {"name": "k", "op": "const", "value": 2, "inputs": []},
                   {"name": "L", "op": "mul", "inputs": ["a", "k"]}]
    graphs.append(const_named)
    ins.append({"a": 1.5, "k": 99.0})
    for k, (g, i) in enumerate(zip(graphs, ins)):
        add(Case("graph_forward", "graph_forward", (g, i), name=f"graph {k + 1}", visibility=H))
        add(Case("graph_backward", "graph_backward", (g, ref.graph_forward(g, i)),
                 name=f"graph {k + 1}", visibility=H,
                 slips={"adjoints are overwritten, not summed over paths":
                        graph_backward_overwriting} if has_merging_paths(g) else {}))
    # Part 7
    df = heart()
    for k in range(2):
        cols = [str(c) for c in rng.choice(HEART_NUMERIC, size=2 + k, replace=False)]
        add(Case("neuron", "heart_design", (df, cols), name=f"heart_design {k + 1}",
                 visibility=H, part="heart_design"))
    sub = df.sample(n=120, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    add(Case("neuron", "heart_design", (sub, ["MaxHR", "Chol"]),
             name="heart_design on a sample of rows", visibility=H, part="heart_design"))
    Xh, yh = ref.heart_design(df, ["MaxHR", "Age", "Oldpeak"])
    add(Case("neuron", "train_neuron", (Xh, yh, 2e-3, 100), name="train_neuron",
             visibility=H, part="train_neuron", timeout=TRAINING_TIMEOUT))
    for k in range(2):
        add(Case("neuron", "neuron_accuracy", (Xh, yh, rng.normal(size=4)),
                 name=f"neuron_accuracy {k + 1}", visibility=H, part="neuron_accuracy"))
    add(Case("neuron", "neuron_accuracy", (Xh, yh, np.zeros(4)),
             name="neuron_accuracy at W = 0 (every p is exactly 0.5)", visibility=H,
             part="neuron_accuracy"))
    pm1 = {"that is the ±1-label rule; with labels in {0, 1} update by (y[i] - ŷ) X[i]":
           perceptron_pm1}
    for k in range(2):
        X, y = first_label_zero(*logistic_data(rng, 25, 3, scale=2.0))
        add(Case("perceptron", "perceptron", (X, y, 3 + k), name=f"perceptron {k + 1}",
                 visibility=H, slips=pm1))
    Xh2, yh2 = ref.heart_design(df, ["MaxHR", "Oldpeak"])
    add(Case("perceptron", "perceptron", (Xh2, yh2, 2), name="perceptron on Heart",
             visibility=H, slips=pm1))
    # Part 8
    for k, sizes in enumerate([[4, 1], [3, 5, 1], [2, 4, 3, 1]]):
        add(Case("mlp_forward", "init_mlp", (sizes, rng_from(int(rng.integers(1 << 30)))),
                 name=f"init_mlp {k + 1}", visibility=H, part="init_mlp"))
    for k, (sizes, act) in enumerate([([3, 1], "relu"), ([3, 4, 1], "sigmoid"),
                                      ([2, 5, 3, 1], "relu"), ([4, 3, 2, 1], "tanh")]):
        params = ref.init_mlp(sizes, rng)
        X = rng.normal(size=(6, sizes[0]))
        add(Case("mlp_forward", "mlp_forward", (params, X, act), name=f"mlp_forward {k + 1}",
                 visibility=H, part="mlp_forward"))
        _, cache = ref.mlp_forward(params, X, act)
        y = rng.integers(0, 2, size=6).astype(np.float64)
        add(Case("mlp_backward", "mlp_backward", (params, cache, y),
                 name=f"mlp_backward {k + 1} ({act})", visibility=H,
                 slips=wrong_derivatives(act)))
    add(Case("mlp_forward", "mlp_forward", (biased_params([3, 4, 1], rng_from(42)),
                                            rng_from(43).normal(size=(5, 3)), "tanh"),
             name="mlp_forward with non-zero biases", visibility=H, part="mlp_forward"))
    params = relu_tie_params(rng_from(44))
    X = rng_from(45).normal(size=(6, 3))
    _, cache = ref.mlp_forward(params, X, "relu")
    add(Case("mlp_backward", "mlp_backward", (params, cache, np.array([1.0, 0, 0, 1, 1, 0])),
             name="mlp_backward (relu) where a pre-activation is exactly 0",
             visibility=H, slips=wrong_derivatives("relu")))
    X, y, Xt, yt = mlp_task(int(rng.integers(1 << 30)))
    task = MLP_TASK
    args = (X, y, task["layer_sizes"], task["activation"], task["lr"], task["n_epochs"],
            task["batch_size"])
    short = (X[:64], y[:64], [2, 4, 1], "relu", 0.05, 3, 16)
    add(Case("train_mlp", "train_mlp", (*short, rng_from(int(rng.integers(1 << 30)))),
             name="train_mlp parameters", visibility=H, part="params",
             timeout=TRAINING_TIMEOUT))
    add(Case("train_mlp", "train_mlp", (*args, rng_from(int(rng.integers(1 << 30)))),
             name="train_mlp on unseen data", visibility=H, part="outcome",
             check=outcome_check(Xt, yt), timeout=TRAINING_TIMEOUT))
    return cases


# ----------------------------------------------------------------------------- verify


def gradient_checks() -> list[GradCheck]:
    """Every derivative and gradient of the reference, for `grade verify` (finite differences)."""
    rng = np.random.default_rng(99)
    out: list[GradCheck] = []
    dom = {"xi2": (-30, 30), "xi3": (0, 1e3), "xi4": (1, 1e3), "xi5": (0.01, 0.99),
           "xi5b": (0.01, 0.99), "xi6b": (0.01, 0.99)}
    for value, deriv in zip(CHAIN, DERIVS):
        f, df = getattr(ref, value), getattr(ref, deriv)
        if value == "xi1":
            X = rng.uniform(-5, 5, 8)
            out.append(GradCheck("dxi1_dW", lambda W, X=X, f=f: f(W, X),
                                 lambda W, X=X, df=df: df(W, X),
                                 rng.uniform(-5, 5, 8), elementwise=True))
        elif value in ("loss_a", "loss_b"):
            for yv in (0.0, 1.0):
                y = np.full(8, yv)
                out.append(GradCheck(f"{deriv} (y={yv:g})", lambda v, y=y, f=f: f(y, v),
                                     lambda v, y=y, df=df: df(y, v),
                                     np.log(rng.uniform(0.01, 0.99, 8)), elementwise=True))
        else:
            lo, hi = dom[value]
            out.append(GradCheck(deriv, f, df, rng.uniform(lo, hi, 8), elementwise=True))

    def chain_la(W, X, y):
        return float(ref.loss_a(y, ref.xi5(ref.xi4(ref.xi3(ref.xi2(ref.xi1(W, X)))))))

    for X, y, W in [(3.0, 1.0, 3.0), (-1.5, 1.0, 0.7), (2.0, 0.0, -0.4)]:
        out.append(GradCheck(f"forward_mode dL_A/dW at X={X:g}, y={y:g}, W={W:g}",
                             lambda w, X=X, y=y: chain_la(float(w[0]), X, y),
                             lambda w, X=X, y=y: np.array([ref.forward_mode(X, y, float(w[0]))
                                                           ["dW"][-1]]), np.array([W])))
        out.append(GradCheck(f"backward_mode dL_A/dW at X={X:g}, y={y:g}, W={W:g}",
                             lambda w, X=X, y=y: chain_la(float(w[0]), X, y),
                             lambda w, X=X, y=y: np.array([ref.backward_mode(X, y, float(w[0]))
                                                           ["dW"]]), np.array([W])))
    for k in range(3):
        X, y = logistic_data(rng, 15, 3)
        out.append(GradCheck(f"loss_and_grad {k + 1}",
                             lambda W, X=X, y=y: ref.loss_and_grad(X, y, W)[0],
                             lambda W, X=X, y=y: ref.loss_and_grad(X, y, W)[1],
                             rng.normal(0, 0.5, 3)))
    graphs = [(lecture_graph(), {"W": 3.0, "X": 3.0, "y": 1.0}),
              (shared_graph(), {"x": 0.8, "z": 1.1})]
    graphs += [random_graph(rng, n) for n in (8, 16, 30)]
    for k, (g, inputs) in enumerate(graphs):
        names = [n["name"] for n in g if n["op"] == "input"]
        last = g[-1]["name"]

        def value(x, g=g, names=names, last=last):
            return ref.graph_forward(g, dict(zip(names, map(float, x))))[last]

        def grad(x, g=g, names=names):
            adj = ref.graph_backward(g, ref.graph_forward(g, dict(zip(names, map(float, x)))))
            return np.array([adj[n] for n in names])

        out.append(GradCheck(f"graph_backward {k + 1}", value, grad,
                             np.array([inputs[n] for n in names])))
    for sizes, act in [([3, 1], "sigmoid"), ([3, 4, 1], "sigmoid"), ([3, 4, 1], "tanh"),
                       ([2, 5, 3, 1], "relu"), ([3, 4, 2, 1], "tanh")]:
        for _ in range(50):  # draw until every relu pre-activation is 1e-3 away from 0
            params = ref.init_mlp(sizes, rng)
            params = [(W, rng.normal(0, 0.3, size=b.shape)) for W, b in params]
            X = rng.normal(size=(6, sizes[0]))
            _, cache = ref.mlp_forward(params, X, act)
            if all(np.abs(Z).min() > 1e-3 for Z in cache["Z"]):
                break
        y = rng.integers(0, 2, 6).astype(np.float64)
        shapes = [(W.shape, b.shape) for W, b in params]

        def unflat(v, shapes=shapes):
            ps, i = [], 0
            for sw, sb in shapes:
                nw, nb = int(np.prod(sw)), int(np.prod(sb))
                ps.append((v[i:i + nw].reshape(sw), v[i + nw:i + nw + nb].reshape(sb)))
                i += nw + nb
            return ps

        def loss(v, X=X, y=y, act=act, unflat=unflat):
            p, _ = ref.mlp_forward(unflat(v), X, act)
            return ref.bce_loss(y, p)

        def grad(v, X=X, y=y, act=act, unflat=unflat):
            ps = unflat(v)
            _, c = ref.mlp_forward(ps, X, act)
            return np.concatenate([np.concatenate([dW.ravel(), db.ravel()])
                                   for dW, db in ref.mlp_backward(ps, c, y)])

        flat = np.concatenate([np.concatenate([W.ravel(), b.ravel()]) for W, b in params])
        out.append(GradCheck(f"mlp_backward {sizes} {act}", loss, grad, flat))
    return out
