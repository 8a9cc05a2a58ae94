"""``grade assign``: regenerate an assignment's student side from the instructor's source.

From ``solutions/NAME.py`` (reference with solution markers) and
``solutions/NAME_cases.py`` (declarations) it writes ``exercises/NAME.py`` (stubs),
``exercises/NAME.ipynb`` (the notebook) and ``exercises/NAME.cases.json`` (items, public
cases with expected values computed from the reference, and the offline tapes of the
grader's callables).  Re-running it changes nothing, on any machine: a committed cases
file that differs only by floating-point noise (see :mod:`grader.drift`) is left as it is.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import numpy as np

from grader.authoring.drift import cases_differences
from grader.authoring.exercises import generate, make_stub
from grader.course.folder import load_declarations, paths
from grader.course.prepare import prepare_cases
from grader.course.spec import FORMAT, Case, Item
from grader.errors import AuthoringError


def given_source(stub: str, names: set[str], filename: str) -> str:
    """The stub's imports and the definitions of the provided names, as one source."""
    tree = ast.parse(stub)
    parts: list[str] = []
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            parts.append(ast.get_source_segment(stub, node) or "")
        targets: list[str] = []
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        if names & set(targets):
            seg = ast.get_source_segment(stub, node) or ""
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                first = node.decorator_list[0].lineno
                seg = "\n".join(stub.splitlines()[first - 1: node.end_lineno])
            parts.append(seg)
            found |= names & set(targets)
    missing = names - found
    if missing:
        raise AuthoringError(f"{filename}: the provided name(s) {sorted(missing)} are not "
                             "defined at the top level")
    return "\n".join(parts) + "\n"


def _stub_functions(stub: str) -> set[str]:
    return {n.name for n in ast.parse(stub).body if isinstance(n, ast.FunctionDef)}


def _declared_cases(got: Any, where: str) -> list[Case]:
    """The cases a declaration returned, each a :class:`Case`; anything else is one line."""
    try:
        cases = list(got)
    except TypeError:
        raise AuthoringError(f"{where} must return a list of Case objects, not "
                             f"{type(got).__name__}") from None
    for i, c in enumerate(cases):
        if not isinstance(c, Case):
            raise AuthoringError(f"{where} returned {type(c).__name__} at position {i}, not a "
                                 "Case: return Case(item, func, args, ...) objects")
    return cases


def build_cases_json(root: Path, name: str) -> str:
    p = paths(root, name)
    decl = load_declarations(root, name)
    settings: dict[str, Any] = dict(getattr(decl, "ASSIGNMENT", {}))
    items: list[Item] = list(decl.ITEMS)
    source = p["reference"].read_text(encoding="utf-8-sig")
    stub = make_stub(source, str(p["reference"]))
    defined = _stub_functions(stub)
    for it in items:
        for f in it.functions + it.substitutes:
            if f not in defined:
                raise AuthoringError(f"{p['declarations']}: item {it.id!r} names {f!r}, which "
                                     f"{p['reference'].name} does not define")
    seed = int(settings.get("seed", 0))
    public_decl = _declared_cases(decl.public_cases(), f"{p['declarations']}: public_cases()")
    hidden_decl = _declared_cases(decl.hidden_cases(np.random.default_rng(seed)),
                                  f"{p['declarations']}: hidden_cases(rng)")
    for c in public_decl + hidden_decl:
        if c.func not in defined:
            raise AuthoringError(f"{p['declarations']}:{c.where}: case {c.name!r} calls "
                                 f"{c.func!r}, which {p['reference'].name} does not define")
    if any(c.visibility != "public" for c in public_decl):
        raise AuthoringError(f"{p['declarations']}: public_cases() returned a hidden case")
    public = prepare_cases(public_decl, decl.reference, items, tape=True)
    # parts and their weights over all cases, so a student's copy can score its public share
    hidden_weights: dict[tuple[str, str], float] = {}
    for c in hidden_decl:
        hidden_weights[(c.item, c.part)] = hidden_weights.get((c.item, c.part), 0.0) + c.weight
    full_items = []
    for it in items:
        parts = dict(it.parts)
        for c in public_decl + hidden_decl:
            if c.item == it.id and c.part not in parts:
                parts[c.part] = 1.0
        if not parts:
            raise AuthoringError(f"{p['declarations']}: item {it.id!r} has no cases")
        full_items.append({**it.to_json(), "parts": parts})
    given = sorted({g for it in items for g in it.given})
    data = {
        "format": FORMAT,
        "assignment": {"name": name, "module": settings.get("module", name),
                       "preload": list(settings.get("preload", ["numpy"])),
                       "title": settings.get("title", name)},
        "items": full_items,
        "given_source": given_source(stub, set(given), str(p["stub"])) if given else "",
        "hidden_weights": [{"item": i, "part": q, "weight": w}
                           for (i, q), w in sorted(hidden_weights.items())],
        "cases": [pc.to_json() for pc in public],
    }
    return json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n"


def _checks(root: Path, name: str) -> list[tuple[str, tuple[str, ...]]]:
    """The items as (id, functions), for the notebook's check() cells."""
    return [(it.id, tuple(it.functions)) for it in load_declarations(root, name).ITEMS]


def assign(root: Path, name: str) -> list[Path]:
    """Regenerate the exercises of ``name``; returns the files that changed."""
    p = paths(root, name)
    for key in ("reference", "declarations"):
        if not p[key].exists():
            raise AuthoringError(f"{p[key]} not found: grade assign needs the instructor's "
                                 "solutions/ folder")
    written = generate(p["reference"], p["stub"], p["notebook"], _checks(root, name))
    text = build_cases_json(root, name)
    old = p["cases"].read_text(encoding="utf-8") if p["cases"].exists() else None
    if old is None or (old != text and cases_differences(old, text)):
        p["cases"].write_text(text, encoding="utf-8", newline="\n")
        written.append(p["cases"])
    return written


def expected_files(root: Path, name: str) -> dict[Path, str]:
    """What ``assign`` would write, without writing (for drift checks)."""
    from grader.authoring.exercises import exercise_texts

    p = paths(root, name)
    out = exercise_texts(p["reference"], p["stub"], p["notebook"], _checks(root, name))
    out[p["cases"]] = build_cases_json(root, name)
    return out
