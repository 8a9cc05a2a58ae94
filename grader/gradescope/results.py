"""A grading :class:`~grader.result.Result` as Gradescope's autograder ``results.json``.

One test per item (or per case), each with Gradescope's documented fields: ``name``,
``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``.  Hidden cases
never show their details before grades are published: in per-item mode their messages go
to a separate entry (no points of its own) whose visibility is ``hidden_visibility``
(``after_published`` by default); in per-case mode each hidden case carries it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.reports.render import points
from grader.result import CaseResult, ItemResult, Result

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
MAX_OUTPUT = 20_000          # characters of one test's output (Gradescope shows it whole)


@dataclass(frozen=True)
class Options:
    """How results are laid out and who sees what, as ``grade gradescope`` was told."""

    per_case: bool = False
    hidden_visibility: str = "after_published"
    visibility: str | None = None         # of the whole result; None: Gradescope's default
    stdout_visibility: str = "hidden"     # the autograder's stdout: for instructors

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Options:
        o = cls(per_case=bool(d.get("per_case", False)),
                hidden_visibility=str(d.get("hidden_visibility", "after_published")),
                visibility=d.get("visibility") or None,
                stdout_visibility=str(d.get("stdout_visibility", "hidden")))
        for v in (o.hidden_visibility, o.visibility or "visible", o.stdout_visibility):
            if v not in VISIBILITIES:
                raise ValueError(f"unknown visibility {v!r}: use one of {', '.join(VISIBILITIES)}")
        return o


DEFAULT = Options()



def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n... (cut)"


def _status(passed: bool) -> str:
    return "passed" if passed else "failed"


def _case_text(c: CaseResult, count: int = 1) -> str:
    """A failing case's message (``count`` cases said the same), with the public details
    (call, expected beside returned)."""
    if c.passed:
        return f"{c.name}: ok"
    text = c.message + (f" ({count} cases)" if count > 1 else "")
    if c.visibility == "public" and c.details:
        text += "\n" + "\n".join("    " + ln for ln in c.details.splitlines())
    return text


def _failures(cases: list[CaseResult]) -> list[str]:
    """Each distinct failing message once, in order, the first case's details with it."""
    by_message: dict[str, list[CaseResult]] = {}
    for c in cases:
        if not c.passed:
            by_message.setdefault(c.message, []).append(c)
    return [_case_text(group[0], len(group)) for group in by_message.values()]


def _hidden_line(hidden: list[CaseResult]) -> str:
    failed = sum(not c.passed for c in hidden)
    n = len(hidden)
    if not failed:
        return f"All {n} hidden case{'s' * (n != 1)} pass."
    return (f"{failed} of {n} hidden case{'s' * (n != 1)} failed; which, and why, is shown "
            "when grades are published.")


def item_output(it: ItemResult) -> str:
    """The item's visible feedback: public failures in full, hidden cases only counted."""
    public = [c for c in it.cases if c.visibility == "public"]
    hidden = [c for c in it.cases if c.visibility != "public"]
    lines = [f"{it.status}: {points(it.score)}/{points(it.max_score)} points"]
    failing = [c for c in public if not c.passed]
    if public:
        ok = len(public) - len(failing)
        lines.append(f"{ok} of {len(public)} public case{'s' * (len(public) != 1)} "
                     f"pass{'es' * (len(public) == 1)}.")
    lines += _failures(failing)
    if hidden:
        lines.append(_hidden_line(hidden))
    if not it.cases and it.feedback:
        lines.append(it.feedback)
    return _clip("\n".join(lines))


def _item_tests(it: ItemResult, n: int, opts: Options) -> list[dict[str, Any]]:
    tests = [{"name": f"{it.id}: {it.title}" if it.title else it.id, "number": str(n),
              "score": round(it.score, 6), "max_score": round(it.max_score, 6),
              "status": _status(it.status == "passed"), "output": item_output(it),
              "visibility": "visible"}]
    failed_hidden = [c for c in it.cases if c.visibility != "public" and not c.passed]
    if failed_hidden:
        tests.append({"name": f"{it.id}: hidden cases that failed", "number": f"{n}.1",
                      "status": "failed",
                      "output": _clip("\n".join(_failures(failed_hidden))),
                      "visibility": opts.hidden_visibility})
    return tests


def _case_tests(it: ItemResult, n: int, opts: Options) -> list[dict[str, Any]]:
    if not it.cases:
        return _item_tests(it, n, opts)
    return [{"name": f"{it.id} / {c.name}", "number": f"{n}.{k}",
             "score": round(c.score, 6), "max_score": round(c.max_score, 6),
             "status": _status(c.passed), "output": _clip(_case_text(c)),
             "visibility": "visible" if c.visibility == "public" else opts.hidden_visibility}
            for k, c in enumerate(it.cases, start=1)]


def _envelope(score: float, seconds: float, output: Iterable[str], tests: list[dict[str, Any]],
              opts: Options, extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"score": round(score, 6), "execution_time": math.ceil(seconds),
                           "output": "\n".join(output), "output_format": "text",
                           "stdout_visibility": opts.stdout_visibility}
    if opts.visibility:
        out["visibility"] = opts.visibility
    out["tests"] = tests
    out["extra_data"] = extra
    return out


def results_json(result: Result, opts: Options = DEFAULT, *,
                 head: Iterable[str] = ()) -> dict[str, Any]:
    """``results.json`` for a graded submission; ``head`` lines open the overall output."""
    tests: list[dict[str, Any]] = []
    layout = _case_tests if opts.per_case else _item_tests
    for n, it in enumerate(result.items, start=1):
        tests += layout(it, n, opts)
    scope = "" if result.mode == "full" else " (public cases only)"
    lines = [*head, f"{result.assignment} (version {result.version}): "
             f"{points(result.score)}/{points(result.max_score)}{scope}"]
    if result.load_error:
        lines.append(f"nothing of the submission could run: {result.load_error}")
    lines += [f"note: {n.text}" for n in result.notes]
    extra = {"assignment": result.assignment, "version": result.version,
             "submission": result.submission, "max_score": result.max_score,
             "mode": result.mode, "seed": result.seed, "load_error": result.load_error,
             "notes": [n.to_json() for n in result.notes]}
    return _envelope(result.score, result.seconds, lines, tests, opts, extra)


def error_results(message: str, items: Iterable[tuple[str, str, float]],
                  opts: Options = DEFAULT, *, seconds: float = 0.0,
                  assignment: str = "") -> dict[str, Any]:
    """``results.json`` when nothing could be graded: ``message`` once, every item at 0.

    ``items`` are (id, title, points); each still gets its test so the breakdown shows.
    """
    tests = [{"name": f"{iid}: {title}" if title else iid, "number": str(n),
              "score": 0.0, "max_score": round(float(points), 6), "status": "failed",
              "output": f"not graded: {message}", "visibility": "visible"}
             for n, (iid, title, points) in enumerate(items, start=1)]
    return _envelope(0.0, seconds, [message], tests, opts,
                     {"assignment": assignment, "error": message})


__all__ = ["VISIBILITIES", "Options", "error_results", "item_output", "results_json"]
