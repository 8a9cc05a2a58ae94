"""The hw1 declarations themselves: thresholds, domains and that the slips they name differ."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def decl():
    spec = importlib.util.spec_from_file_location("_hw1_cases_under_test",
                                                  ROOT / "solutions" / "hw1_cases.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_train_mlp_threshold_sits_below_the_reference_worst_over_30_seeds(decl):
    ref, task = decl.ref, decl.MLP_TASK
    accs = []
    for seed in range(100, 130):
        X, y, Xt, yt = decl.mlp_task(seed)
        params = ref.train_mlp(X, y, task["layer_sizes"], task["activation"], task["lr"],
                               task["n_epochs"], task["batch_size"],
                               np.random.default_rng(seed + 1))
        p, _ = ref.mlp_forward(params, Xt, task["activation"])
        accs.append(float(np.mean((p > 0.5) == (yt > 0.5))))
    assert min(accs) == pytest.approx(decl.OUTCOME_WORST)
    assert min(accs) > decl.OUTCOME_THRESHOLD
    # and a single neuron cannot pass it: the check is about the hidden layer
    X, y, Xt, yt = decl.mlp_task(7)
    params = ref.train_mlp(X, y, [2, 1], "tanh", 0.2, 6, 40, np.random.default_rng(1))
    ok, _ = decl.outcome_check(Xt, yt)(params)
    assert not ok


def test_hidden_inputs_stay_in_their_domains(decl):
    cases = decl.hidden_cases(np.random.default_rng(decl.ASSIGNMENT["seed"]))
    for c in cases:
        if c.func == "loss_and_grad":
            X, _, W = c.args
            assert np.abs(X @ W).max() <= 15 + 1e-9
        if c.func == "bce_loss":
            assert ((c.args[1] >= 1e-6) & (c.args[1] <= 1 - 1e-6)).all()
        if c.func == "perceptron":
            assert c.args[1][0] == 0.0  # where the ±1-label rule differs
        if c.func in ("xi4", "dxi4_dxi3"):
            assert (np.asarray(c.args[0]) >= 1).all()
    names = [(c.item, c.name) for c in cases]
    assert len(names) == len(set(names))


def test_the_named_slips_are_recognizable_on_their_cases(decl):
    from grader.course.prepare import prepare_cases

    cases = decl.public_cases() + decl.hidden_cases(np.random.default_rng(1))
    prepared = prepare_cases([c for c in cases if c.slips], decl.ref, decl.ITEMS)
    kept = {(pc.case.func, pc.case.name): [m for m, _ in pc.alternatives] for pc in prepared}
    for (func, name), messages in kept.items():
        if func == "perceptron":
            assert any("±1" in m for m in messages), name
        if func == "mlp_backward" and "1 (relu)" not in name:  # that one has no hidden layer
            assert any("derivative" in m for m in messages), name
        for pc in prepared:
            assert all(alt != pc.expected for _, alt in pc.alternatives)
    assert any("overwritten" in m for (f, n), ms in kept.items() if n ==
               "a node reached by several paths" for m in ms)
