"""Record the reference's answers to substitute calls, for public-only grading.

When ``grade assign`` computes a public case's expected value, the graded functions the
item substitutes are wrapped inside the reference module, so every call the reference
makes to them is kept: its arguments, its value, the states of the Generators it was
passed (after the call) and, where an argument is a callable, the calls the substitute
made to it.  A student's copy (no ``solutions/``) then answers the same calls from these
records (see :mod:`grader.judge.tape`), so each item is graded on its own there too.
Runs on the trusted side only.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any, Callable, Iterator

from grader.protocol import wire

CALLABLE_TAG = "fn"  # every callable argument is recorded under this one name


def encode_args(args: Any, binary: bool = False) -> tuple[Any, list[Any], int]:
    """Arguments as wire data, callables named :data:`CALLABLE_TAG`; the Generators met,
    and how many callables."""
    met: list[Any] = []

    def name(v: Any) -> str | None:
        if not callable(v):
            return None
        met.append(v)
        return CALLABLE_TAG

    enc = wire.Encoder(callable_name=name, dataframes=True, binary=binary)
    return enc.encode(args), enc.rngs, len(met)


class AnswerRecorder:
    """Wraps a module's substitutes while one call runs; keeps the outermost calls."""

    def __init__(self, module: types.ModuleType, names: tuple[str, ...]) -> None:
        self.module = module
        self.names = tuple(n for n in names if callable(getattr(module, n, None)))
        self.answers: list[dict[str, Any]] = []
        self.depth = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        saved = {n: getattr(self.module, n) for n in self.names}
        for n, fn in saved.items():
            setattr(self.module, n, self._wrap(n, fn))
        try:
            yield
        finally:
            for n, fn in saved.items():
                setattr(self.module, n, fn)

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # a substitute's own inner calls happen in the judge, unseen
                return fn(*args, **kwargs)
            tree, rngs, n_callables = encode_args([list(args), kwargs])
            invokes: list[dict[str, Any]] = []
            args, kwargs, watched = _watch_callables(args, kwargs, invokes, self._outside)
            self.depth += 1
            try:
                value = fn(*args, **kwargs)
            finally:
                self.depth -= 1
            entry = {"name": name, "args": tree, "value": wire.encode(value, binary=False),
                     "rng_states": [wire.generator_state(g) for g in rngs]}
            if invokes:
                entry["invokes"] = invokes
            if watched == n_callables:  # a nested callable's calls could not be replayed
                self.answers.append(entry)
            return value

        return recorded


    def _outside(self, fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
        """Run a callable of the function under test: its own substitute calls count."""
        depth, self.depth = self.depth, 0
        try:
            return fn(*a, **k)
        finally:
            self.depth = depth


def _watch_callables(args: tuple[Any, ...], kwargs: dict[str, Any],
                     invokes: list[dict[str, Any]], run: Callable[..., Any]
                     ) -> tuple[tuple[Any, ...], dict[str, Any], int]:
    """Top-level callable arguments wrapped so their calls (in order) go into ``invokes``
    (each run through ``run``); ``slot`` is the position among the call's callables, as
    the runner numbers them; and how many were wrapped."""
    slots: list[int] = []

    def watch(v: Any) -> Any:
        if not callable(v) or isinstance(v, type):
            return v
        slot = len(slots)
        slots.append(slot)

        def watched(*a: Any, **k: Any) -> Any:
            tree, _, _ = encode_args([list(a), k])
            out = run(v, *a, **k)
            invokes.append({"slot": slot, "args": tree,
                            "value": wire.encode(out, binary=False)})
            return out

        return watched

    new_args = tuple(watch(a) for a in args)
    new_kwargs = {k: watch(x) for k, x in kwargs.items()}
    return new_args, new_kwargs, len(slots)
