"""The mutation operators: each proposes one-change edits of an expression or statement.

An operator looks at one AST node (with its parent known) and yields :class:`Edit` s:
the node to replace, the node it becomes, and texts that may stand for the new node in
the source.  :mod:`grader.audit.mutants` keeps the first text that parses back to
exactly the intended tree, so a mutant's source differs from the reference in one place
and keeps the reference's formatting everywhere else.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterator

__all__ = ["Edit", "OPERATORS", "Span"]


@dataclass
class Span:
    """The source text of the module, with byte offsets for AST positions (UTF-8)."""

    data: bytes
    starts: list[int]

    @classmethod
    def of(cls, source: str) -> "Span":
        data = source.encode("utf-8")
        starts = [0]
        for i, b in enumerate(data):
            if b == 10:
                starts.append(i + 1)
        return cls(data, starts)

    def start(self, node: ast.AST) -> int:
        return self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore

    def text(self, a: int, b: int) -> str:
        return self.data[a:b].decode("utf-8")

    def seg(self, node: ast.AST) -> str:
        return self.text(self.start(node), self.end(node))


@dataclass
class Edit:
    """Replace ``node`` by ``new``; ``texts`` are candidate spellings of ``new``."""

    operator: str
    node: ast.AST
    new: ast.AST
    texts: list[str]


_ATOMS = (ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.Subscript)
_Op = type[ast.operator]
_BINOPS: dict[_Op, list[_Op]] = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div],
                                 ast.Div: [ast.Mult], ast.Pow: [ast.Mult]}
_BINSYM: dict[_Op, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
                           ast.Pow: "**"}
_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
        ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_CMPSYM = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!="}


def _spellings(new: ast.AST, *token_edits: str) -> list[str]:
    """Candidate texts: minimal token edits first, then the unparsed node (bare, bracketed)."""
    out = [t for t in token_edits if t]
    u = ast.unparse(new)
    out += [u, f"({u})"]
    return out


def _swap_token(sp: Span, node: ast.AST, a: ast.AST, b: ast.AST, old: str, new: str) -> str:
    """The node's text with the first ``old`` between ``a`` and ``b`` changed to ``new``."""
    s, e = sp.start(node), sp.end(node)
    ga, gb = sp.end(a), sp.start(b)
    gap = sp.text(ga, gb)
    if old not in gap:
        return ""
    return sp.text(s, ga) + gap.replace(old, new, 1) + sp.text(gb, e)


def binary(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """``+``↔``-``, ``*``↔``/``, ``**``→``*`` in expressions and augmented assignments."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        for op in _BINOPS[type(node.op)]:
            new = ast.BinOp(left=node.left, op=op(), right=node.right)
            tok = _swap_token(sp, node, node.left, node.right, _BINSYM[type(node.op)],
                              _BINSYM[op])
            yield Edit("arithmetic", node, new, _spellings(new, tok))
    if isinstance(node, ast.AugAssign) and type(node.op) in _BINOPS:
        for op in _BINOPS[type(node.op)]:
            aug = ast.AugAssign(target=node.target, op=op(), value=node.value)
            tok = _swap_token(sp, node, node.target, node.value,
                              _BINSYM[type(node.op)] + "=", _BINSYM[op] + "=")
            yield Edit("arithmetic", node, aug, [tok] if tok else [ast.unparse(aug)])


def augmented(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """``x += e`` → ``x = e``."""
    if isinstance(node, ast.AugAssign):
        new = ast.Assign(targets=[node.target], value=node.value)
        tok = _swap_token(sp, node, node.target, node.value,
                          _BINSYM.get(type(node.op), "?") + "=", "=")
        yield Edit("augmented assignment", node, new, [tok] if tok else [ast.unparse(new)])


def relational(node: ast.AST, parent: ast.AST | None, sp: Span,
               ctx: "Context") -> Iterator[Edit]:
    """``<``↔``<=``, ``>``↔``>=``, ``==``↔``!=``."""
    if not isinstance(node, ast.Compare):
        return
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        if type(op) not in _CMP:
            continue
        ops = list(node.ops)
        ops[i] = _CMP[type(op)]()
        new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
        tok = _swap_token(sp, node, operands[i], operands[i + 1], _CMPSYM[type(op)],
                          _CMPSYM[type(ops[i])])
        yield Edit("relational", node, new, _spellings(new, tok))


def unary(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """A unary minus removed; one added in front of a returned or assigned value."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield Edit("unary sign", node, node.operand, _spellings(node.operand,
                                                                 sp.seg(node.operand)))
    if isinstance(parent, (ast.Return, ast.Assign)) and node is parent.value and not (
            isinstance(node, (ast.Tuple, ast.List, ast.Dict, ast.ListComp, ast.DictComp,
                              ast.Constant))
            or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub))):
        new = ast.UnaryOp(op=ast.USub(), operand=node)
        s = sp.seg(node)
        yield Edit("unary sign", node, new, [f"-{s}" if isinstance(node, _ATOMS) else "",
                                             f"-({s})"])


def constant(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """A number c → c + 1, c − 1, −c (so 0 ↔ 1 among them)."""
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool) \
            or not isinstance(node.value, (int, float)):
        return
    c = node.value
    values = [c + 1, c - 1]
    negated = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)
    if c != 0 and not negated:
        values.append(-c)
    for v in values:
        text = repr(v)
        new = ast.parse(text, mode="eval").body
        yield Edit("constant", node, new, [text, f"({text})"])


def reduction(node: ast.AST, parent: ast.AST | None, sp: Span,
              ctx: "Context") -> Iterator[Edit]:
    """``sum``↔``mean``: ``np.sum``↔``np.mean`` and ``x.sum()``↔``x.mean()``."""
    if isinstance(node, ast.Attribute) and node.attr in ("sum", "mean") \
            and isinstance(parent, ast.Call) and node is parent.func:
        other = "mean" if node.attr == "sum" else "sum"
        new = ast.Attribute(value=node.value, attr=other, ctx=ast.Load())
        yield Edit("sum/mean", node, new, [sp.seg(node.value) + "." + other,
                                           f"({sp.seg(node.value)}).{other}"])


def transpose(node: ast.AST, parent: ast.AST | None, sp: Span,
              ctx: "Context") -> Iterator[Edit]:
    """A ``.T`` dropped; one added to an operand of ``@``."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield Edit("transpose", node, node.value, _spellings(node.value, sp.seg(node.value)))
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.MatMult) \
            and (node is parent.left or node is parent.right) \
            and not (isinstance(node, ast.Attribute) and node.attr == "T"):
        new = ast.Attribute(value=node, attr="T", ctx=ast.Load())
        s = sp.seg(node)
        yield Edit("transpose", node, new, [f"{s}.T" if isinstance(node, _ATOMS) else "",
                                            f"({s}).T"])


def axis(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """``axis=0``↔``axis=1``."""
    if isinstance(node, ast.keyword) and node.arg == "axis" \
            and isinstance(node.value, ast.Constant) and node.value.value in (0, 1) \
            and not isinstance(node.value.value, bool):
        v = 1 - int(node.value.value)  # type: ignore[arg-type]
        yield Edit("axis", node.value, ast.Constant(value=v), [str(v)])


def slices(node: ast.AST, parent: ast.AST | None, sp: Span, ctx: "Context") -> Iterator[Edit]:
    """A slice bound off by one: ``a:b`` → ``a + 1:b``, ``a - 1:b``, ``a:b + 1``, ``a:b - 1``."""
    if not isinstance(node, ast.Slice):
        return
    for bound in (node.lower, node.upper):
        if bound is None:
            continue
        s = sp.seg(bound)
        for op, sym in ((ast.Add, "+"), (ast.Sub, "-")):
            new = ast.BinOp(left=bound, op=op(), right=ast.Constant(value=1))
            yield Edit("slice bound", bound, new, [f"{s} {sym} 1", f"({s}) {sym} 1"])


def swap_args(node: ast.AST, parent: ast.AST | None, sp: Span,
              ctx: "Context") -> Iterator[Edit]:
    """Two neighbouring positional arguments of a call swapped."""
    if not isinstance(node, ast.Call):
        return
    args = node.args
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        if isinstance(a, ast.Starred) or isinstance(b, ast.Starred) \
                or ast.dump(a) == ast.dump(b):
            continue
        new = ast.Call(func=node.func, args=[*args[:i], b, a, *args[i + 2:]],
                       keywords=node.keywords)
        s, e = sp.start(node), sp.end(node)
        text = (sp.text(s, sp.start(a)) + sp.seg(b) + sp.text(sp.end(a), sp.start(b))
                + sp.seg(a) + sp.text(sp.end(b), e))
        yield Edit("swapped arguments", node, new, [text, ast.unparse(new)])


def returned(node: ast.AST, parent: ast.AST | None, sp: Span,
             ctx: "Context") -> Iterator[Edit]:
    """``return e`` → ``return v`` for each other local value ``v`` known by then."""
    if not isinstance(node, ast.Return) or node.value is None:
        return
    own = node.value.id if isinstance(node.value, ast.Name) else None
    for name in ctx.locals_before(node.lineno):
        if name == own:
            continue
        yield Edit("returned value", node.value, ast.Name(id=name, ctx=ast.Load()), [name])


class Context:
    """What operators may ask about the function being mutated: its local names."""

    def __init__(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        first: dict[str, int] = {}
        a = fn.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
            first.setdefault(arg.arg, fn.lineno)
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                first[n.id] = min(first.get(n.id, n.lineno), n.lineno)
        self._first = first

    def locals_before(self, line: int) -> list[str]:
        names = [(ln, n) for n, ln in self._first.items() if ln <= line and n != "_"]
        return [n for _, n in sorted(names)]


Operator = Callable[[ast.AST, "ast.AST | None", Span, Context], Iterator[Edit]]

# Order matters only for duplicates: an edit that gives a source already made by an
# earlier operator is dropped, so the more specific operators come first.
OPERATORS: list[Operator] = [axis, relational, binary, augmented, unary, reduction,
                             transpose, slices, swap_args, returned, constant]


def links(fn: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    """Where each node of ``fn`` hangs: ``id(node) -> (parent, field, index in a list)``."""
    out: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(fn):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, ast.AST):
                out[id(value)] = (parent, name, None)
            elif isinstance(value, list):
                for k, v in enumerate(value):
                    if isinstance(v, ast.AST):
                        out[id(v)] = (parent, name, k)
    return out


def dump_replaced(fn: ast.AST, where: dict[int, tuple[ast.AST, str, int | None]],
                  target: ast.AST, new: ast.AST) -> str:
    """``ast.dump`` of ``fn`` with ``target`` replaced by ``new`` (swapped in, then back)."""
    parent, name, k = where[id(target)]
    holder = getattr(parent, name)
    if k is None:
        setattr(parent, name, new)
    else:
        holder[k] = new
    try:
        return ast.dump(fn)
    finally:
        if k is None:
            setattr(parent, name, target)
        else:
            holder[k] = target
