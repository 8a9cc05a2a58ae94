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
_STARTS = frozenset((tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT))


def _blank_comment_lines(code: str) -> str:
    """``code`` with comment-only lines emptied: the same tokens once comments are dropped,
    read faster (a hw1 stub is a third comments).  Inside a string such a line stays part
    of the string, which counts as one literal whatever it holds."""
    lines = code.splitlines(keepends=True)
    return "".join("\n" if line.lstrip().startswith("#") else line for line in lines)


class _Reader:
    """One pass over ``tokenize``'s tokens: the normalised texts, their lines and indent
    depths, the top-level ``def`` names, and where reading stopped (0: it did not).

    Statements that are only string literals (docstrings) are left out as they come:
    a string run that starts a statement is taken back when a NEWLINE ends it."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.lines: list[int] = []
        self.depths: list[int] = []
        self.names: list[str] = []
        self.stopped = 0

    def read(self, code: str) -> _Reader:
        texts, lines, depths, names = self.texts, self.lines, self.depths, self.names
        prev, depth, in_fstring = "", 0, 0
        at_start, run = True, -1           # a statement starts here; its string run began
        fixed, keep, skip = _FIXED, _KEEP_NAMES, _SKIP
        name, string_, newline = tokenize.NAME, tokenize.STRING, tokenize.NEWLINE
        try:
            for kind, text, start, _end, _line in tokenize.generate_tokens(
                    io.StringIO(_blank_comment_lines(code)).readline):
                if kind in skip:
                    continue
                if kind == _FSTRING_START or in_fstring:   # an f-string is one literal
                    in_fstring += (kind == _FSTRING_START) - (kind == _FSTRING_END)
                    if kind != _FSTRING_START or in_fstring != 1:
                        continue
                    kind, text = string_, '""'
                if kind == name:
                    if prev == "def" and depth == 0:
                        names.append(text)
                    norm = text if prev == "." or text in keep else "N"
                else:
                    if run >= 0 and kind != string_:
                        if kind == newline:                  # a docstring: taken back
                            del texts[run:], lines[run:], depths[run:]
                            run, prev, at_start = -1, text, True
                            continue
                        run = -1
                    if kind == string_ and at_start:
                        run = len(texts)
                    elif kind == tokenize.INDENT:
                        depth += 1
                    elif kind == tokenize.DEDENT:
                        depth -= 1
                    norm = fixed.get(kind, text)
                at_start = kind in _STARTS
                texts.append(norm)
                lines.append(start[0])
                depths.append(depth)
                prev = text
        except (tokenize.TokenError, IndentationError, SyntaxError) as e:
            line = e.args[1][0] if len(e.args) > 1 and isinstance(e.args[1], tuple) else 0
            self.stopped = int(line or (lines[-1] if lines else 1))
        return self


def _functions(texts: list[str], depths: list[int],
               names: list[str]) -> list[tuple[str, int, int]]:
    """The top-level ``def``s as (name, first token, end token), in order."""
    funcs: list[tuple[str, int, int]] = []
    name, first, inside = "", -1, False
    k = 0
    for i, text in enumerate(texts):
        depth = depths[i]
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
        funcs.append((name, first, len(texts)))
    return funcs


def tokenize_source(code: str) -> Tokens:
    """The normalised tokens of ``code``; source that stops being Python is read up to there."""
    r = _Reader().read(code)
    ids = {t: token_id(t) for t in set(r.texts)}
    return Tokens(np.array([ids[t] for t in r.texts], dtype=np.uint64),
                  np.array(r.lines, dtype=np.int32), _functions(r.texts, r.depths, r.names),
                  r.stopped)
