"""Mutants of a reference solution: one change each, inside the graded function bodies.

Only code between a ``# BEGIN SOLUTION`` and its ``# END SOLUTION`` line, inside a
function that some item grades, is mutated.  Every mutant is a whole module text that
differs from the reference in one place; its id is stable (function, operator and a hash
of the change, not line numbers), so declarations keep naming it while the rest of the
file changes.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Iterator

from grader.audit.operators import OPERATORS, Context, Edit, Span, dump_replaced, links
from grader.authoring.exercises import find_markers, pair_markers
from grader.errors import AuthoringError

__all__ = ["Mutant", "generate", "graded_functions", "one_line", "solution_regions"]


@dataclass(frozen=True)
class Mutant:
    """One changed version of the reference."""

    id: str
    function: str
    operator: str
    line: int            # 1-based line of the change in the reference
    before: str          # the changed line(s) of the reference, on one line
    after: str           # the same line(s) in the mutant
    source: str          # the whole mutated module
    origin: str = "operator"   # operator | declared
    name: str = ""       # a declared misconception's name

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def diff(self, filename: str = "") -> str:
        where = f"{filename}:{self.line}" if filename else f"line {self.line}"
        return f"{where}: {self.before} → {self.after}"


def one_line(text: str) -> str:
    """Whitespace collapsed, so a change spanning lines still shows as one line."""
    return " ".join(text.split())


def stable_id(function: str, operator: str, before: str, after: str, nth: int) -> str:
    """``function:operator:hash`` of the change; ``nth`` tells identical changes apart."""
    h = hashlib.sha256(f"{function}\0{operator}\0{before}\0{after}\0{nth}".encode())
    return f"{function}:{operator.replace(' ', '-')}:{h.hexdigest()[:8]}"


def graded_functions(tree: ast.Module, names: set[str]) -> dict[str, ast.FunctionDef]:
    """The module's top-level functions that some item grades."""
    return {n.name: n for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name in names}


def solution_regions(source: str, filename: str) -> list[tuple[int, int]]:
    return [(r.begin.line, r.end.line) for r in
            pair_markers(find_markers(source, filename), filename)]


def _nodes(fn: ast.FunctionDef, lo: int, hi: int) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """Each node of ``fn`` lying wholly between lines ``lo`` and ``hi``, with its parent."""
    stack: list[tuple[ast.AST, ast.AST | None]] = [(s, None) for s in reversed(fn.body)]
    while stack:
        node, parent = stack.pop()
        start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if start is not None and (start > hi or (end or start) < lo):
            continue
        if start is None or lo < start and (end or start) < hi:
            yield node, parent
        kids = list(ast.iter_child_nodes(node))
        stack.extend((k, node) for k in reversed(kids))


def _realise(sp: Span, fn: ast.FunctionDef, where: dict[int, tuple[ast.AST, str, int | None]],
             edit: Edit) -> tuple[str, str] | None:
    """The mutated module for ``edit`` and the text used, checked by parsing it back.

    Only the function's own text is parsed (fast); a text is kept when it parses to
    exactly the intended tree.
    """
    want = dump_replaced(fn, where, edit.node, edit.new)
    first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    fs, fe = sp.starts[first - 1], sp.end(fn)
    s, e = sp.start(edit.node), sp.end(edit.node)
    for text in edit.texts:
        if not text:
            continue
        snippet = sp.text(fs, s) + text + sp.text(e, fe)
        try:
            tree = ast.parse(snippet)
        except SyntaxError:
            continue
        if len(tree.body) == 1 and ast.dump(tree.body[0]) == want:
            return sp.text(0, s) + text + sp.text(e, len(sp.data)), text
    return None


def _lines(sp: Span, node: ast.AST, text: str) -> tuple[str, str]:
    """The whole lines around the change, before and after it, each on one line."""
    s, e = sp.start(node), sp.end(node)
    ls = sp.starts[node.lineno - 1]  # type: ignore[attr-defined]
    le = sp.data.find(b"\n", e)
    le = len(sp.data) if le < 0 else le
    return (one_line(sp.text(ls, le)),
            one_line(sp.text(ls, s) + text + sp.text(e, le)))


def generate(source: str, functions: set[str], filename: str = "reference") -> list[Mutant]:
    """Every one-change mutant of ``source`` inside the solution bodies of ``functions``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise AuthoringError(f"{filename}:{e.lineno}: cannot parse the reference: {e.msg}") \
            from None
    sp = Span.of(source)
    fns = graded_functions(tree, functions)
    seen = {hashlib.sha256(source.encode()).hexdigest()}
    out: list[Mutant] = []
    for lo, hi in solution_regions(source, filename):
        fn = next((f for f in fns.values() if f.lineno < lo and hi <= (f.end_lineno or 0) + 1),
                  None)
        if fn is None:
            continue
        ctx = Context(fn)
        where = links(fn)
        counts: dict[tuple[str, str, str], int] = {}
        for node, parent in _nodes(fn, lo, hi):
            for op in OPERATORS:
                for edit in op(node, parent, sp, ctx):
                    made = _realise(sp, fn, where, edit)
                    if made is None:
                        continue
                    src, text = made
                    digest = hashlib.sha256(src.encode()).hexdigest()
                    if digest in seen:
                        continue
                    seen.add(digest)
                    before, after = _lines(sp, edit.node, text)
                    key = (edit.operator, before, after)
                    nth = counts[key] = counts.get(key, -1) + 1
                    out.append(Mutant(stable_id(fn.name, edit.operator, before, after, nth),
                                      fn.name, edit.operator, edit.node.lineno,  # type: ignore
                                      before, after, src))
    return out
