"""Digests of values (grader.protocol.digest): a runner's own helpers log their calls as
two digests, which the judge looks up in the reference's answers it learned from calls
run with substitutes (issue 16).  A live value and the same value decoded from a message
must digest alike; values that travel as different bytes must not."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REFERENCE, ROOT

from grader.protocol import digest, wire


class Point:
    def __init__(self) -> None:
        self.x = 1


def _travelled(v: object) -> object:
    """``v`` as it arrives across the wire."""
    return wire.Decoder().decode(wire.unpack_value(wire.pack_value(wire.encode(v))))


VALUES = {
    "float": 1.5,
    "negative zero": -0.0,
    "nan": float("nan"),
    "int": 3,
    "big int": 2**80,
    "bool": True,
    "none": None,
    "str": "héllo",
    "f8 array": np.arange(6.0).reshape(2, 3),
    "f4 array": np.arange(6, dtype=np.float32),
    "transposed": np.arange(6.0).reshape(2, 3).T,
    "big-endian": np.arange(4, dtype=">f8"),
    "bool array": np.array([True, False]),
    "0-d array": np.array(2.5),
    "empty": np.zeros((0, 3)),
    "numpy scalar": np.float64(2.5),
    "numpy int": np.int64(7),
    "tuple": (1, 2.0, "x"),
    "list": [1, [2, [3]]],
    "dict": {"W1": np.ones((2, 2)), "b1": np.zeros(2)},
    "int keys": {1: "a", 2: "b"},
    "generator": np.random.default_rng(5),
    "opaque": Point(),
    "nested": [{"a": (np.eye(2), [1.0, None])}, ()],
}


@pytest.mark.parametrize("name", list(VALUES))
def test_a_live_value_and_the_value_decoded_from_a_message_digest_alike(name):
    v = VALUES[name]
    d = digest.Digest()
    copy = d.copy(v)
    assert wire.pack_value(wire.encode(copy)) == wire.pack_value(wire.encode(v))  # same form
    assert type(copy) is type(_travelled(v))
    assert d.digest() == digest.of_message(wire.unpack_value(wire.pack_value(wire.encode(v))))
    again = digest.Digest()
    again.feed(_travelled(v))
    assert again.digest() == d.digest()


@pytest.mark.parametrize("a, b", [
    (1.0, 1), (0.0, -0.0), ([1, 2], (1, 2)), ("1", 1), (True, 1), (None, 0),
    (np.zeros((2, 3)), np.zeros((3, 2))), (np.zeros(3), np.zeros(3, dtype=np.float32)),
    (np.zeros(2), np.zeros(2, dtype=np.int64)), ([[1], 2], [1, [2]]), ({"a": 1}, {"b": 1}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}), (["ab"], ["a", "b"]), (np.array(1.0), 1.0),
    (np.random.default_rng(1), np.random.default_rng(2)), (np.nextafter(1.0, 2.0), 1.0),
])
def test_values_that_travel_as_different_bytes_digest_differently(a, b):
    assert wire.pack_value(wire.encode(a)) != wire.pack_value(wire.encode(b))
    da, db = digest.Digest(), digest.Digest()
    da.copy(a)
    db.copy(b)
    assert da.digest() != db.digest()


def test_a_copy_is_fresh_and_its_generators_are_paired_with_the_originals():
    rng = np.random.default_rng(3)
    params = {"W": np.ones((2, 2)), "rng": rng}
    pairs: list[tuple[object, object]] = []
    copy = digest.Digest(pairs).copy([params])
    copy[0]["W"][0, 0] = 9.0
    assert params["W"][0, 0] == 1.0
    assert pairs == [(rng, copy[0]["rng"])] and copy[0]["rng"] is not rng
    assert copy[0]["rng"].random() == rng.random()  # the same state


def test_a_callable_among_arguments_is_watched_and_digests_as_the_judge_sees_it():
    """The runner calls it through a slot (what the helper passes it, what it returns);
    the judge, given the same call through a proxy, sees a callable by handle in the
    same place: both digest as the slot's number."""
    calls: list[tuple[int, tuple[object, ...]]] = []

    def watch(fn, slot):
        return lambda *a: calls.append((slot, a)) or fn(*a)

    d = digest.Digest(watch=watch)
    args, kwargs = d.copy([[1.0, {"f": len, "g": abs}], {}])
    assert isinstance(args[1]["f"], digest.Slot) and args[1]["g"](-2) == 2
    assert calls == [(1, (-2,))]
    sent = wire.Encoder(callable_name=lambda f: f"h{id(f)}").encode([[1.0, {"f": len,
                                                                            "g": abs}], {}])
    judge = digest.Digest()
    judge.feed(wire.Decoder().decode(sent))
    assert judge.digest() == d.digest() and len(judge.slots) == 2
    other = digest.Digest()
    other.copy([[1.0, {"f": len, "g": 2}], {}])
    assert other.digest() != d.digest()
    assert isinstance(digest.Digest().copy(len), wire.Opaque)  # unwatched: not data
    assert isinstance(digest.Digest(watch=watch).copy(Point), wire.Opaque)  # a class


def test_the_states_after_a_call_are_part_of_its_value():
    a = digest.Digest().states([wire.generator_state(np.random.default_rng(1))])
    b = digest.Digest().states([wire.generator_state(np.random.default_rng(2))])
    assert a.digest() != b.digest()


# ----------------------------------------------------------------------------- the judge

def _cold_judge(server: object) -> object:
    """A judge that has learned nothing (no memo): what it knows is this test's."""
    from grader.api import load_assignment
    from grader.judge.judge import Judge

    a = load_assignment("hw1", ROOT)
    a.memo = None
    return Judge(a, server)  # type: ignore[arg-type]


def test_a_correct_submission_teaches_the_judge_and_the_next_runs_its_own_helpers(server):
    """Nothing learned: the calls run with substitutes, and their answers are kept by
    digest.  The next correct submission runs its own helpers and every log checks out:
    nothing is run twice (as it was when the judge's OPENBLAS_CORETYPE did not reach the
    runner and the last bits differed), and the verdicts are the same."""
    from grader.course.submission import load_source

    judge = _cold_judge(server)
    first = judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    assert first.full_marks and judge.own_checked == 0  # type: ignore[attr-defined]
    assert judge.memory.paths and judge.memory.digests  # type: ignore[attr-defined]
    second = judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    assert second.full_marks
    assert judge.own_checked > 0 and judge.own_reruns == {}  # type: ignore[attr-defined]
    assert second.to_json()["items"] == first.to_json()["items"]


def test_an_own_helper_log_with_an_unknown_call_runs_again_with_substitutes(server, variant):
    """A helper whose last bits differ (as another BLAS kernel's would) passes its own
    item; the calls logged with it are not the reference's, so the call runs again with
    substitutes and is counted; the graded function keeps its points."""
    from grader.course.submission import load_source

    judge = _cold_judge(server)
    judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    sub = variant("_orig_lag = loss_and_grad\n"
                  "def loss_and_grad(X, y, W):\n"
                  "    L, g = _orig_lag(X, y, W)\n"
                  "    return L, np.nextafter(g, np.inf)\n")
    result = judge.grade(load_source(sub))  # type: ignore[attr-defined]
    assert judge.own_reruns.get("loss_and_grad", 0) >= 1  # type: ignore[attr-defined]
    fit = next(i for i in result.items if i.id == "fit_logistic")
    assert fit.score == fit.max_score


def _two_faced(name: str, params: str, caller: str, wrong: str) -> str:
    """A submission whose ``name`` is the reference's, but gives ``wrong`` (an expression
    in ``_ref``, the reference's, and the parameters) where ``caller`` called it."""
    return (f"import sys as _sys\n_ref = {name}\n"
            f"def {name}({params}):\n"
            "    f = _sys._getframe(1)\n"
            f"    while f is not None and f.f_code.co_name != {caller!r}:\n"
            "        f = f.f_back\n"
            f"    return _ref({params}) if f is None else {wrong}\n")


def test_a_helper_that_answers_otherwise_for_another_function_is_caught(server, variant):
    """It passes its own item, then answers wrongly when forward_mode calls it: the
    digest of that answer is not the reference's, so those calls run again with
    substitutes, and the slip costs nothing where it is not."""
    from grader.course.submission import load_source

    judge = _cold_judge(server)
    judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    sub = variant(_two_faced("dxi4_dxi3", "xi3", "forward_mode", "-_ref(xi3)"))
    result = judge.grade(load_source(sub))  # type: ignore[attr-defined]
    assert result.full_marks
    assert judge.own_reruns.get("dxi4_dxi3", 0) >= 1  # type: ignore[attr-defined]


def test_a_helper_given_the_callers_own_function_runs_here_and_is_checked(server, variant):
    """fit_logistic passes its own gradient to gradient_descent: the submission's own
    gradient_descent runs in the runner and calls it there (the judge answers no call
    of gradient_descent once it knows the case); one that steps otherwise only when
    fit_logistic calls it is caught by what it passed the gradient, and the slip costs
    nothing where it is not."""
    from grader.course.submission import load_source

    judge = _cold_judge(server)
    asked: list[str] = []
    reply = judge.reply  # type: ignore[attr-defined]

    def counted(fn, name, *rest, **kw):  # type: ignore[no-untyped-def]
        asked.append(name)
        return reply(fn, name, *rest, **kw)

    judge.reply = counted  # type: ignore[attr-defined]
    judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    assert "gradient_descent" in asked  # nothing known yet: through the judge
    asked.clear()
    judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    assert "gradient_descent" not in asked and judge.own_checked > 0  # type: ignore[attr-defined]
    assert judge.own_reruns == {}  # type: ignore[attr-defined]
    sub = variant(_two_faced("gradient_descent", "grad, w0, lr, n_steps", "fit_logistic",
                             "_ref(grad, w0, 1.01 * lr, n_steps)"))
    result = judge.grade(load_source(sub))  # type: ignore[attr-defined]
    assert result.full_marks
    assert judge.own_reruns.get("gradient_descent", 0) >= 1  # type: ignore[attr-defined]


def test_a_runner_lost_to_an_own_helper_costs_one_fresh_runner_not_one_per_case(server,
                                                                               variant):
    """loss_and_grad ends its process when fit_logistic's gradient calls it: the held
    batch loses its runner before the judge is told which call ran, so its calls run
    again one frame each, and with the reference's helpers (any of them may be to
    blame): one fresh runner for the item, and full marks."""
    from grader.course.submission import load_source

    judge = _cold_judge(server)
    judge.grade(load_source(REFERENCE))  # type: ignore[attr-defined]
    sub = variant("import os as _os\n" + _two_faced(
        "loss_and_grad", "X, y, W", "fit_logistic", "_os._exit(3)"))
    opened: list[int] = []
    open_runner = server.open

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        opened.append(1)
        return open_runner(*a, **k)

    server.open = counted
    try:
        result = judge.grade(load_source(sub))  # type: ignore[attr-defined]
    finally:
        del server.open
    assert result.full_marks
    assert len(opened) == 2, opened  # the first runner, and one after fit_logistic's loss
