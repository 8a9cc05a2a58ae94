"""Declared curves: how a public case's result changes along one of its arguments.

A case may declare ``curve`` (a small dict of plain data, stored in the public cases
file), for instance a training loss per epoch::

    {"vary": 5, "upto": 20, "from": 0, "then": ["mlp_forward", ["$", 0, 3]], "pick": 0,
     "metric": "bce", "labels": 1, "label": "training loss (mean cross-entropy)"}

The function is called once per value ``x`` of positional argument ``vary``, from
``from`` (default 1) to ``upto``, each time on fresh copies of the case's arguments (a
generator starts from the case's state every time).  ``then`` passes each result through
one more function (its name and its positional arguments: ``"$"`` is the result, an int
``i`` the case's argument ``i``); ``pick`` takes one element of what comes out; ``metric``
(one of :data:`METRICS`, generic measures, nothing of any assignment) scores it, with the
case's argument ``inputs`` as the data and ``labels`` as the targets.  ``label`` names
the measured quantity, ``xlabel`` the varied argument (default ``epoch``).

``grade assign`` computes the reference's curve here, in-process
(:func:`reference_curve`); the judge computes the submission's through the runner
(:mod:`grader.judge.curves`), with the same :func:`score`.
"""

from __future__ import annotations

import math
import types
from typing import Any, Callable

import numpy as np

from grader.errors import AuthoringError
from grader.protocol import wire

MAX_POINTS = 201       # values of the varied argument in one curve
MAX_ENTRIES = 1_000_000  # entries of a value a metric looks at
PROBABILITY_FLOOR = 1e-12  # bce clips probabilities to [floor, 1 - floor]

KEYS = {"vary", "upto", "from", "then", "pick", "metric", "inputs", "labels", "label",
        "xlabel"}


class Unscorable(ValueError):
    """A value a metric cannot score (wrong shape, not numbers, too large)."""


def _floats(v: Any, what: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise Unscorable(f"{what} is not an array of numbers ({type(e).__name__})") from None
    if a.size > MAX_ENTRIES:
        raise Unscorable(f"{what} has {a.size} entries")
    return a


def linear_error(w: Any, inputs: Any, labels: Any) -> float:
    """The fraction of rows a linear classifier gets wrong: mean of (X @ w > 0) != y."""
    X, y, w = _floats(inputs, "X"), _floats(labels, "y"), _floats(w, "the weights")
    if w.ndim != 1 or X.ndim != 2 or w.shape[0] != X.shape[1]:
        raise Unscorable(f"weights of shape {w.shape} for inputs of shape {X.shape}")
    return float(np.mean((X @ w > 0) != (y > 0.5)))


def mean_bce(p: Any, inputs: Any, labels: Any) -> float:
    """The mean binary cross-entropy of probabilities ``p`` against 0/1 ``labels``
    (``p`` clipped to [1e-12, 1 - 1e-12], so a confident mistake costs at most ~27.6)."""
    p, y = _floats(p, "the probabilities"), _floats(labels, "y")
    if p.shape != y.shape:
        raise Unscorable(f"probabilities of shape {p.shape} for labels of shape {y.shape}")
    p = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return float(np.mean(-(y * np.log(p) + (1.0 - y) * np.log1p(-p))))


# name -> (function, needs the inputs)
METRICS: dict[str, tuple[Callable[[Any, Any, Any], float], bool]] = {
    "linear_error": (linear_error, True),
    "bce": (mean_bce, False),
}


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_curve(curve: dict[str, Any], n_args: int | None, where: str) -> None:
    """An :class:`~grader.errors.AuthoringError` unless ``curve`` is well formed (with
    ``n_args``, also that the argument indices it names exist)."""
    def bad(why: str) -> AuthoringError:
        return AuthoringError(f"{where}: curve {why}")

    if not isinstance(curve, dict):
        raise bad("must be a dict")
    unknown = set(curve) - KEYS
    if unknown:
        raise bad(f"has unknown keys {sorted(unknown)}; known: {sorted(KEYS)}")
    for key in ("vary", "upto", "metric", "labels", "label"):
        if key not in curve:
            raise bad(f"needs {key!r}")
    if curve["metric"] not in METRICS:
        raise bad(f"metric {curve['metric']!r} is not one of {sorted(METRICS)}")
    if METRICS[curve["metric"]][1] and "inputs" not in curve:
        raise bad(f"metric {curve['metric']!r} needs 'inputs'")
    start = curve.get("from", 1)
    if not (_int(start) and _int(curve["upto"]) and 0 <= start <= curve["upto"]):
        raise bad("needs integers 0 <= from <= upto")
    if curve["upto"] - start + 1 > MAX_POINTS:
        raise bad(f"has more than {MAX_POINTS} points")
    for key in ("label", "xlabel"):
        if key in curve and not isinstance(curve[key], str):
            raise bad(f"{key} must be a string")
    indices = [curve[k] for k in ("vary", "inputs", "labels") if k in curve]
    if "then" in curve:
        then = curve["then"]
        if not (isinstance(then, list) and len(then) == 2 and isinstance(then[0], str)
                and isinstance(then[1], list)
                and all(a == "$" or _int(a) for a in then[1])):
            raise bad('then must be [function name, [arguments: "$" or an int]]')
        indices += [a for a in then[1] if a != "$"]
    if "pick" in curve and not _int(curve["pick"]):
        raise bad("pick must be an int")
    if not all(_int(i) and i >= 0 for i in indices):
        raise bad("names arguments by their position: integers >= 0")
    if n_args is not None and any(i >= n_args for i in indices):
        raise bad(f"names an argument beyond the case's {n_args}")


def xs(curve: dict[str, Any]) -> list[int]:
    """The values the varied argument takes."""
    return list(range(int(curve.get("from", 1)), int(curve["upto"]) + 1))


def then_args(curve: dict[str, Any], result: Any, args: list[Any]) -> list[Any]:
    """The arguments of the ``then`` call: the result where ``"$"``, else case arguments."""
    return [result if a == "$" else args[a] for a in curve["then"][1]]


def score(curve: dict[str, Any], value: Any, args: list[Any]) -> float:
    """The metric of one point of the curve: ``value`` (after ``then``), ``pick``-ed,
    scored against the case's arguments; :class:`Unscorable` when it cannot be."""
    if "pick" in curve:
        try:
            value = value[curve["pick"]]
        except (TypeError, IndexError, KeyError):
            raise Unscorable(f"it has no element {curve['pick']}") from None
    fn, _ = METRICS[curve["metric"]]
    inputs = args[curve["inputs"]] if "inputs" in curve else None
    return fn(value, inputs, args[curve["labels"]])


def reference_curve(curve: dict[str, Any], func: Callable[..., Any],
                    reference: types.ModuleType, args_json: Any, kwargs_json: Any,
                    where: str) -> list[float]:
    """The curve of ``func`` (the reference's), computed in-process: one float per x."""
    then = getattr(reference, curve["then"][0], None) if "then" in curve else None
    if "then" in curve and not callable(then):
        raise AuthoringError(f"{where}: curve's then calls {curve['then'][0]!r}, which the "
                             "reference does not define")
    out = []
    for x in xs(curve):
        dec = wire.Decoder(allow_dataframe=True)
        args, kwargs = list(dec.decode(args_json)), dict(dec.decode(kwargs_json))
        args[curve["vary"]] = x
        try:
            value = func(*args, **kwargs)
            if then is not None:
                value = then(*then_args(curve, value, args))
            y = score(curve, value, args)
        except Exception as e:  # noqa: BLE001 - the instructor's declaration is wrong
            raise AuthoringError(f"{where}: curve at x={x}: {type(e).__name__}: {e}") from None
        if not math.isfinite(y):
            raise AuthoringError(f"{where}: curve at x={x} is not finite ({y})")
        out.append(y)
    return out
