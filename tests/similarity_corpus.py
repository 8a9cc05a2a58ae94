"""A corpus for measuring the similarity check: independent solutions and disguised copies.

The independent solutions are the files in ``tests/similarity_authors/``: four complete,
correct hw1 solutions written independently in different styles (explicit loops,
vectorised numpy, shared private helpers, while loops and einsum) and two realistic
partial ones (parts 1-5 only; parts 1, 6 and 7 with a slip in ``graph_backward``).  Each
is merged into the hw1 stub, as a student edits it: the stub's comments, docstrings and
given code stay.  The copies apply the disguises students use, each a real program
transformation (:mod:`ast` and :mod:`tokenize`), so a copy still runs:

- ``rename``: every local variable of every function renamed consistently;
- ``reorder``: the functions shuffled (given code and constants stay where they are);
- ``comments``: the stub's comments and blank lines dropped, comments of one's own added;
- ``comprehend``: ``out = []`` + ``for ...: out.append(e)`` loops as list comprehensions;
- ``inline``: one-line private helpers inlined into their callers, then deleted;
- ``swap``: adjacent independent assignments swapped.

:func:`corpus` writes the class that the accuracy test checks, and returns which pairs are
copies; :func:`big_class` writes many submissions for the speed benchmark (independent
parts mixed function by function, with random disguises).
"""

from __future__ import annotations

import ast
import io
import keyword
import random
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUTHORS = Path(__file__).resolve().parent / "similarity_authors"
STUB = ROOT / "exercises" / "hw1.py"
FULL = ("loops", "vector", "helpers", "plain")
PARTIAL = ("partial_early", "partial_graph")
REFERENCE = "(reference)"


# ----------------------------------------------------------------------------- merging


def _segment(src: str, node: ast.AST) -> list[str]:
    lines = src.splitlines()
    return lines[node.lineno - 1:node.end_lineno]   # type: ignore[attr-defined]


def author_parts(name: str) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
    """An author's imports, its graded-function bodies, and the extra top-level code
    (helpers, constants) to put before each function."""
    src = (AUTHORS / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    stub_names = {n.name for n in ast.parse(STUB.read_text()).body
                  if isinstance(n, ast.FunctionDef)}
    imports: list[str] = []
    bodies: dict[str, list[str]] = {}
    before: dict[str, list[str]] = {}
    pending: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports += _segment(src, node)
        elif isinstance(node, ast.FunctionDef) and node.name in stub_names:
            lines = src.splitlines()
            bodies[node.name] = lines[node.body[0].lineno - 1:node.end_lineno]
            before[node.name] = pending
            pending = []
        else:
            pending += _segment(src, node) + ["", ""]
    return imports, bodies, before


def merge(bodies: dict[str, list[str]], before: dict[str, list[str]],
          imports: list[str]) -> str:
    """The stub with these function bodies in place of its ``raise NotImplementedError``."""
    src = STUB.read_text(encoding="utf-8")
    lines = src.splitlines()
    tree = ast.parse(src)
    edits: list[tuple[int, int, list[str]]] = []
    last_import = max(n.end_lineno for n in tree.body if isinstance(n, (ast.Import,
                                                                         ast.ImportFrom)))
    edits.append((last_import, last_import, imports))
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in bodies:
            continue
        first = node.body[0]
        keep = first.end_lineno if isinstance(first, ast.Expr) else node.lineno
        edits.append((keep, node.end_lineno, bodies[node.name]))
        if before.get(node.name):
            start = node.lineno - 1
            edits.append((start, start, before[node.name]))
    for lo, hi, new in sorted(edits, key=lambda e: -e[0]):
        lines[lo:hi] = new
    return "\n".join(lines) + "\n"


def solution(name: str, only: set[str] | None = None) -> str:
    """An author's solution merged into the stub (``only``: just these functions)."""
    imports, bodies, before = author_parts(name)
    if only is not None:
        bodies = {k: v for k, v in bodies.items() if k in only}
    return merge(bodies, before, imports)


# ----------------------------------------------------------------------------- disguises

_WORDS = ("val", "tmp", "res", "acc", "cur", "nxt", "buf", "item", "piece", "thing", "q",
          "r", "u", "v2", "z9", "elem", "part", "stuff", "holder", "data")


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def _locals(fn: ast.FunctionDef) -> set[str]:
    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    out = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg) and node.arg not in params:
            out.add(node.arg)
    return out - params


def rename(src: str, rng: random.Random) -> str:
    """Every local variable renamed (consistently within its function)."""
    tree = ast.parse(src)
    spans = []
    for fn in _functions(tree):
        names = sorted(_locals(fn))
        new = {n: f"{rng.choice(_WORDS)}_{i}{rng.randint(0, 99)}" for i, n in enumerate(names)}
        spans.append((fn.lineno, fn.end_lineno, new))
    out = []
    prev = ""
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        string = tok.string
        if tok.type == tokenize.NAME and prev != "." and not keyword.iskeyword(string):
            for lo, hi, new in spans:
                if lo <= tok.start[0] <= hi and string in new:
                    string = new[string]
        out.append(tok._replace(string=string))
        prev = tok.string
    return tokenize.untokenize(out)


def _chunks(src: str) -> tuple[list[str], list[tuple[int, int]]]:
    lines = src.splitlines()
    tree = ast.parse(src)
    return lines, [(fn.lineno - 1, fn.end_lineno) for fn in _functions(tree)]


def reorder(src: str, rng: random.Random) -> str:
    """The functions shuffled among their own places (other code stays put)."""
    lines, spans = _chunks(src)
    bodies = [lines[a:b] for a, b in spans]
    rng.shuffle(bodies)
    for (a, b), body in sorted(zip(spans, bodies), key=lambda t: -t[0][0]):
        lines[a:b] = body
    return "\n".join(lines) + "\n"


_REMARKS = ("# compute it", "# TODO check this", "# helper step", "# done", "# edge case",
            "# from the lecture", "# vectorised", "# loop over rows")


def comments(src: str, rng: random.Random) -> str:
    """Comments and blank lines dropped, a few comments of one's own added."""
    out = []
    for line in src.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(("return", "for ", "if ")) and rng.random() < 0.3:
            indent = line[:len(line) - len(line.lstrip())]
            out.append(indent + rng.choice(_REMARKS))
        out.append(line)
        if stripped.startswith("return") and rng.random() < 0.5:
            out.append("")
    return "\n".join(out) + "\n"


def _replace_functions(src: str, changed: dict[str, ast.FunctionDef],
                       dropped: set[str] = frozenset()) -> str:   # type: ignore[assignment]
    lines = src.splitlines()
    tree = ast.parse(src)
    for fn in sorted(_functions(tree), key=lambda f: -f.lineno):
        if fn.name in dropped:
            lines[fn.lineno - 1:fn.end_lineno] = []
        elif fn.name in changed:
            lines[fn.lineno - 1:fn.end_lineno] = ast.unparse(changed[fn.name]).splitlines()
    return "\n".join(lines) + "\n"


class _Comprehend(ast.NodeTransformer):
    """``x = []`` then ``for t in it: x.append(e)`` becomes ``x = [e for t in it]``."""

    def _fold(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            prev = out[-1] if out else None
            if isinstance(stmt, ast.For) and isinstance(prev, ast.Assign) and \
                    len(stmt.body) == 1 and not stmt.orelse and \
                    isinstance(prev.value, ast.List) and not prev.value.elts and \
                    len(prev.targets) == 1 and isinstance(prev.targets[0], ast.Name):
                call = stmt.body[0]
                name = prev.targets[0].id
                if isinstance(call, ast.Expr) and isinstance(call.value, ast.Call) and \
                        isinstance(call.value.func, ast.Attribute) and \
                        call.value.func.attr == "append" and \
                        isinstance(call.value.func.value, ast.Name) and \
                        call.value.func.value.id == name and len(call.value.args) == 1:
                    comp = ast.ListComp(call.value.args[0], [ast.comprehension(
                        stmt.target, stmt.iter, [], 0)])
                    out[-1] = ast.Assign([ast.Name(name, ast.Store())], comp, lineno=0)
                    continue
            out.append(stmt)
        return out

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for attr in ("body", "orelse"):
            if isinstance(getattr(node, attr, None), list) and not isinstance(node, ast.Module):
                setattr(node, attr, self._fold(getattr(node, attr)))
        return node


def comprehend(src: str, rng: random.Random) -> str:
    """Append loops rewritten as list comprehensions."""
    changed = {}
    for fn in _functions(ast.parse(src)):
        before = ast.dump(fn)
        new = ast.fix_missing_locations(_Comprehend().visit(fn))
        if ast.dump(new) != before:
            changed[fn.name] = new
    return _replace_functions(src, changed)


class _Inline(ast.NodeTransformer):
    def __init__(self, helpers: dict[str, ast.FunctionDef]) -> None:
        self.helpers = helpers

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        fn = self.helpers.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if fn is None or len(node.args) != len(fn.args.args) or node.keywords:
            return node
        body = fn.body[-1]
        assert isinstance(body, ast.Return) and body.value is not None
        args = {a.arg: v for a, v in zip(fn.args.args, node.args)}

        class Sub(ast.NodeTransformer):
            def visit_Name(self, n: ast.Name) -> ast.AST:
                return args.get(n.id, n)

        import copy

        return self.visit(Sub().visit(copy.deepcopy(body.value)))   # helpers in helpers


def inline(src: str, rng: random.Random) -> str:
    """Private helpers whose body is one ``return`` inlined into their callers."""
    tree = ast.parse(src)
    helpers = {fn.name: fn for fn in _functions(tree) if fn.name.startswith("_")
               and len(fn.body) == 1 and isinstance(fn.body[0], ast.Return)}
    if not helpers:
        return src
    changed = {}
    for fn in _functions(tree):
        if fn.name in helpers:
            continue
        before = ast.dump(fn)
        new = ast.fix_missing_locations(_Inline(helpers).visit(fn))
        if ast.dump(new) != before:
            changed[fn.name] = new
    return _replace_functions(src, changed, set(helpers))


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _swap_body(body: list[ast.stmt]) -> bool:
    done = False
    i = 0
    while i + 1 < len(body):
        a, b = body[i], body[i + 1]
        if isinstance(a, ast.Assign) and isinstance(b, ast.Assign) and \
                not (_names(a) & _names(b)) and "rng" not in _names(a) | _names(b):
            body[i], body[i + 1] = b, a
            done = True
            i += 2
        else:
            i += 1
    return done


def swap(src: str, rng: random.Random) -> str:
    """Adjacent assignments that share no name swapped (their order cannot matter)."""
    changed = {}
    for fn in _functions(ast.parse(src)):
        if any(_swap_body(n.body) for n in ast.walk(fn) if isinstance(getattr(n, "body", None), list)):
            changed[fn.name] = fn
    return _replace_functions(src, changed)


DISGUISES = {"rename": rename, "reorder": reorder, "comments": comments,
             "comprehend": comprehend, "inline": inline, "swap": swap}


def disguise(src: str, steps: tuple[str, ...], seed: int) -> str:
    rng = random.Random(seed)
    order = ["inline", "comprehend", "swap", "rename", "reorder", "comments"]
    for step in order:
        if step in steps:
            src = DISGUISES[step](src, rng)
    compile(src, "<copy>", "exec")      # every copy is still Python
    return src


# ----------------------------------------------------------------------------- the corpus


@dataclass
class Corpus:
    folder: Path
    keys: list[str]
    copied: set[frozenset[str]] = field(default_factory=set)
    recipes: dict[str, str] = field(default_factory=dict)

    def is_copy(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.copied


SECOND_HALF = {"graph_forward", "graph_backward", "heart_design", "train_neuron",
               "neuron_accuracy", "perceptron", "init_mlp", "mlp_forward", "mlp_backward",
               "train_mlp"}

# key: (author, the functions taken (None: all), disguises); one author, one lineage
RECIPES: dict[str, tuple[str, frozenset[str] | None, tuple[str, ...]]] = {
    "s01": ("loops", None, ()),
    "s02": ("vector", None, ()),
    "s03": ("helpers", None, ()),
    "s04": ("plain", None, ()),
    "s05": ("partial_early", None, ()),
    "s06": ("partial_graph", None, ()),
    "s07": ("loops", None, ("rename", "comments")),
    "s08": ("vector", None, ("reorder", "swap")),
    "s09": ("helpers", None, ("inline", "rename")),
    "s10": ("plain", None, ("comprehend", "rename", "reorder")),
    "s11": ("loops", None, ("rename", "reorder", "comments", "comprehend", "swap")),
    "s12": ("vector", frozenset(SECOND_HALF), ("rename", "comments")),
    "s13": ("reference", None, ("rename", "comments", "reorder")),
    "s14": ("helpers", None, ("comments", "swap", "comprehend")),
}


def _source(author: str, only: frozenset[str] | None) -> str:
    if author == "reference":
        return (ROOT / "solutions" / "hw1.py").read_text(encoding="utf-8")
    return solution(author, set(only) if only is not None else None)


def corpus(folder: Path) -> Corpus:
    """Write the accuracy corpus into ``folder`` (one ``KEY.py`` per student)."""
    folder.mkdir(parents=True, exist_ok=True)
    lineage: dict[str, str] = {}
    for n, (key, (author, only, steps)) in enumerate(sorted(RECIPES.items())):
        text = disguise(_source(author, only), steps, seed=n)
        (folder / f"{key}.py").write_text(text, encoding="utf-8")
        lineage[key] = author
    lineage[REFERENCE] = "reference"
    keys = sorted(lineage)
    copied = {frozenset((a, b)) for a in keys for b in keys
              if a < b and lineage[a] == lineage[b]}
    recipes = {k: f"{a}{' (second half)' if o else ''}"
                  f"{' + ' + ', '.join(s) if s else ''}" for k, (a, o, s) in RECIPES.items()}
    return Corpus(folder, keys, copied, recipes)


_NOISE = ("{v} = {a} * {b}", "{v} = [{a}, {b}, {c}]", "if {a} > {b}:\n    {v} = {c}",
          "for {v} in range({a}):\n    pass", "{v} = 'step %d' % {a}",
          "{v} = dict(first={a}, second={b})", "{v} = ({a}, {b})\nassert len({v}) == 2",
          "{v} = {a} if {b} else {c}", "{v} = not {a}", "{v} = str({a}).upper()")


def noise(src: str, rng: random.Random) -> str:
    """One to three harmless statements of one's own in each function (new names only):
    what makes two students' versions of the same idea differ."""
    lines = src.splitlines()
    for fn in sorted(_functions(ast.parse(src)), key=lambda f: -f.lineno):
        body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body
        if not body:
            continue
        for _ in range(rng.randint(1, 3)):
            at = rng.choice(body)
            text = rng.choice(_NOISE).format(v=f"extra_{rng.randint(0, 999)}",
                                             a=rng.randint(0, 9), b=rng.randint(0, 9),
                                             c=rng.randint(0, 9))
            pad = " " * at.col_offset
            lines[at.lineno - 1:at.lineno - 1] = [pad + t for t in text.splitlines()]
            body = [b for b in body if b.lineno < at.lineno] or body[:1]
    return "\n".join(lines) + "\n"


def big_class(folder: Path, n: int, seed: int = 0,
              copies: float = 0.05) -> set[frozenset[str]]:
    """``n`` hw1-sized submissions: each function from a random author with statements of
    the student's own added (:func:`noise`) and random disguises, and a share ``copies`` of
    them disguised copies of an earlier one (for speed: these are not independent
    solutions).  Returns the copied pairs (a copy of a copy is a copy of its source too)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    parts = {a: author_parts(a) for a in FULL}
    names = list(parts["loops"][1])
    made: list[str] = []
    lineage: list[int] = []
    for i in range(n):
        steps = tuple(s for s in DISGUISES if rng.random() < 0.5 and s != "inline")
        if made and rng.random() < copies:
            source = rng.randrange(len(made))
            lineage.append(lineage[source])
            text = disguise(made[source], steps, seed=seed * 100_003 + i)
        else:
            imports: list[str] = []
            bodies, before = {}, {}
            for f in names:
                a = rng.choice(FULL)
                bodies[f] = parts[a][1][f]
                before[f] = parts[a][2].get(f, [])
            for a in FULL:
                imports += [x for x in parts[a][0] if x not in imports]
            text = noise(merge(bodies, before, imports), rng)
            text = disguise(text, steps, seed=seed * 100_003 + i)
            lineage.append(i)
        made.append(text)
        (folder / f"student{i:04d}.py").write_text(text, encoding="utf-8")
    return {frozenset((f"student{a:04d}", f"student{b:04d}")) for a in range(n)
            for b in range(a + 1, n) if lineage[a] == lineage[b]}
