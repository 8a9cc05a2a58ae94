"""Python source as normalised tokens: what a copy keeps when its disguises are stripped.

Tokens come from Python's own :mod:`tokenize`, so current syntax is read as Python reads
it.  Comments, blank lines, line breaks inside brackets and docstrings are left out;
every identifier becomes ``N`` and every literal ``0`` or ``S``, so renaming variables and
changing constants hide nothing.  Keywords, operators, builtins (``range``, ``len``) and
attribute names after a dot (``np.exp``'s ``exp``) are kept: a renamer leaves them alone
and they are what tells a loop from a vectorised call.  Each token keeps its line and the
top-level function it belongs to, for the report.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["Tokens", "token_id", "tokenize_source"]

_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_KEEP_NAMES = frozenset(keyword.kwlist) | frozenset(n for n in dir(builtins)
                                                    if not n.startswith("_"))
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)   # Python 3.12+
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


@dataclass
class Tokens:
    """A source's normalised tokens: their stable ids, lines, and the functions they are in.

    ``ids[i]`` is the 64-bit id of token ``i``, ``lines[i]`` its (1-based) line,
    ``funcs`` the top-level functions as ``(name, first token, end token)``;
    ``stopped`` is the line where the source stopped being Python (0: it did not).
    """

    ids: np.ndarray
    lines: np.ndarray
    funcs: list[tuple[str, int, int]] = field(default_factory=list)
    stopped: int = 0

    def __len__(self) -> int:
        return len(self.ids)


@lru_cache(maxsize=4096)
def token_id(text: str) -> int:
    """A token's stable 64-bit id (blake2b, the same in every process and on every machine)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "little")


_FIXED = {tokenize.NUMBER: "0", tokenize.STRING: "S", tokenize.NEWLINE: ";",
          tokenize.INDENT: "{", tokenize.DEDENT: "}"}
_DEPTH = {tokenize.INDENT: 1, tokenize.DEDENT: -1}


def _blank_comment_lines(code: str) -> str:
    """``code`` with comment-only lines emptied: the same tokens once comments are dropped,
    read faster (a hw1 stub is a third comments).  Inside a string such a line stays part
    of the string, which counts as one literal whatever it holds."""
    lines = code.splitlines(keepends=True)
    return "".join("\n" if line.lstrip().startswith("#") else line for line in lines)


def _raw(code: str) -> tuple[list[tuple[str, int, int]], list[str], int]:
    """(normalised text, line, indent depth) of each token, the names of the top-level
    ``def``s in order, and the line where reading stopped (0: it did not)."""
    out: list[tuple[str, int, int]] = []
    names: list[str] = []
    prev, depth, in_fstring = "", 0, 0
    fixed, keep, name_type = _FIXED, _KEEP_NAMES, tokenize.NAME
    try:
        for kind, string, start, _end, _line in tokenize.generate_tokens(
                io.StringIO(_blank_comment_lines(code)).readline):
            if kind in _SKIP:
                continue
            if kind == _FSTRING_START or in_fstring:   # an f-string is one literal
                in_fstring += (kind == _FSTRING_START) - (kind == _FSTRING_END)
                if kind == _FSTRING_START and in_fstring == 1:
                    out.append(("S", start[0], depth))
                continue
            depth += _DEPTH.get(kind, 0)
            if kind == name_type:
                if prev == "def" and depth == 0:
                    names.append(string)
                text = string if prev == "." or string in keep else "N"
            else:
                text = fixed.get(kind, string)
            out.append((text, start[0], depth))
            prev = string
    except (tokenize.TokenError, IndentationError, SyntaxError) as e:
        line = e.args[1][0] if len(e.args) > 1 and isinstance(e.args[1], tuple) else 0
        return out, names, int(line or (out[-1][1] if out else 1))
    return out, names, 0


def _drop_docstrings(raw: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Without statements that are only string literals (docstrings, notes in strings)."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(raw)
    while i < n:
        starts = not out or out[-1][0] in (";", "{", "}", ":")
        if starts and raw[i][0] == "S":
            j = i
            while j < n and raw[j][0] == "S":
                j += 1
            if j == n or raw[j][0] == ";":
                i = j + 1
                continue
        out.append(raw[i])
        i += 1
    return out


def _functions(raw: list[tuple[str, int, int]], names: list[str]) -> list[tuple[str, int, int]]:
    """The top-level ``def``s as (name, first token, end token), in order."""
    funcs: list[tuple[str, int, int]] = []
    name, first, inside = "", -1, False
    k = 0
    for i, (text, _line, depth) in enumerate(raw):
        if first >= 0 and depth > 0:
            inside = True
        elif first >= 0 and inside and text != "}":
            funcs.append((name, first, i))
            first, inside = -1, False
        if text == "def" and depth == 0:
            if first < 0 and k < len(names):
                name, first = names[k], i
            k += 1
    if first >= 0:
        funcs.append((name, first, len(raw)))
    return funcs


def tokenize_source(code: str) -> Tokens:
    """The normalised tokens of ``code``; source that stops being Python is read up to there."""
    raw, names, stopped = _raw(code)
    raw = _drop_docstrings(raw)
    funcs = _functions(raw, names)
    ids = np.fromiter((token_id(t) for t, _, _ in raw), dtype=np.uint64, count=len(raw))
    lines = np.fromiter((ln for _, ln, _ in raw), dtype=np.int32, count=len(raw))
    return Tokens(ids, lines, funcs, stopped)
