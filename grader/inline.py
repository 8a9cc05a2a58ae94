"""``check("item")`` inside a notebook: grade the cells run so far, one item, inline.

The judge does not run inside the student's kernel: the code of the cells executed so
far is written to a temporary notebook and graded by a separate ``grade`` process
(judge and runner as always), whose JSON result is shown here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["check"]


def _in_runner() -> bool:
    """True inside the grader's own runner (a notebook's check() cells must do nothing)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return "grader.runner" in sys.modules or getattr(spec, "name", "") == "grader.runner"


def _history() -> list[str] | None:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return None
    ip = get_ipython()
    if ip is None:
        return None
    raw = getattr(getattr(ip, "history_manager", None), "input_hist_raw", None)
    # the cells as typed (``In`` holds them transformed: %magic as get_ipython() calls)
    cells = list(raw if raw else ip.user_ns.get("In", []))[1:]
    return [c for c in cells if c.strip()]


def _notebook_json(cells: list[str]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {},
                                  "execution_count": None, "outputs": [], "source": c}
                                 for i, c in enumerate(cells)]})


def check(item: str | None = None, assignment: str | None = None, *,
          path: str | Path | None = None, course: str | Path | None = None,
          show: bool = True) -> dict[str, Any] | None:
    """Grade ``item`` (every item when None) of the code so far and print a summary;
    with ``show=False``, print nothing and return the result as a dict instead.

    In Jupyter the code is the cells run so far in this kernel (this call's own cell
    included, where ``check`` does nothing when the grader runs it).  Elsewhere pass
    ``path`` (a .py or .ipynb file).  ``assignment`` may be left out where the course has
    only one.  Only public cases run here.
    """
    if _in_runner():
        return None
    if assignment is None:
        assignment = _only_assignment(course)
        if assignment is None:
            return None
    with tempfile.TemporaryDirectory() as tmp:
        if path is None:
            cells = _history()
            if cells is None:
                raise RuntimeError("check() needs a notebook (Jupyter/IPython) or path=...")
            path = Path(tmp) / f"{assignment}.ipynb"
            Path(path).write_text(_notebook_json(cells), encoding="utf-8")
        cmd = [sys.executable, "-m", "grader.cli", "run", assignment, "--submission",
               str(path), "--json", "--public-only"]
        if item:
            cmd += ["--item", item]
        if course:
            cmd += ["--course", str(course)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 1):
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        print(message)
        return None
    data = json.loads(proc.stdout)
    if not show:
        return data
    _show(data)
    return None  # nothing for Jupyter to echo under the summary


def _only_assignment(course: str | Path | None) -> str | None:
    """The course's one assignment; None (after saying why) when it has several or none."""
    from grader.course.files import available, find_root
    from grader.errors import GraderError

    try:
        names = available(find_root() if course is None else Path(course))
    except GraderError as e:
        print(e)
        return None
    if len(names) != 1:
        print(f"this course has {len(names)} assignments ({', '.join(names)}): say which, "
              "as check(\"item\", assignment=\"NAME\")")
        return None
    return names[0]


def _show(data: dict[str, Any]) -> None:
    """A compact summary: per item its points (rounded as in ``grade``'s table), status
    and first failing case (with the call that shows it); why the file did not load;
    the notes about how it was read."""
    from grader.judge.loading import caret_lines
    from grader.reports.render import points

    if data.get("load_error"):
        print(f"error: {data['load_error']}")
        for line in caret_lines(data.get("load_source", ""), data.get("load_column")):
            print(line)
    for it in data["items"]:
        print(f"{it['id']}: {points(it['score'])}/{points(it['max_score'])} {it['status']}")
        failing = [c for c in it["cases"] if not c["passed"]]
        first = next((c for c in failing if c["visibility"] == "public"), None)
        if first is not None and not data.get("load_error"):
            print(f"  {first['message']}")
            call = first.get("details", "").split("\n", 1)[0]
            if call.startswith("called "):
                print(f"  {call}")
            if first.get("output"):
                print("  it printed: " + first["output"].strip().splitlines()[0][:200])
        if len(failing) > 1:
            print(f"  (+{len(failing) - 1} more failing case{'s' * (len(failing) > 2)})")
    for note in data.get("notes", []):
        if isinstance(note, dict) and note.get("kind") == "public-only":
            continue  # said once below, in the student's terms
        print(f"note: {note.get('text') if isinstance(note, dict) else note}")
    print(f"public cases: {points(data['score'])}/{points(data['max_score'])}")
