"""What two submissions share: fragments, the share of each file covered, per function.

Two files' common fingerprints (common ones left out) are chained into fragments: a
fragment grows while the next fingerprint of one file matches the next of the other.  A
file's coverage is the share of its own tokens (starter code left out) inside a shared
fingerprint; the pair's similarity is both files' covered tokens over both files' own
tokens (as in Dolos).  Clusters are the connected groups of three or more flagged
submissions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from grader.similarity.fingerprints import Fingerprints

__all__ = ["Fragment", "Pair", "clusters", "compare", "shared_digest"]

_MAX_REPEATS = 8        # a fingerprint repeated more often in one file is not chained
_MAX_FRAGMENTS = 60     # fragments kept per pair (the longest)


@dataclass
class Fragment:
    """One shared stretch: its lines in each file and its length in tokens."""

    a_first: int
    a_last: int
    b_first: int
    b_last: int
    tokens: int

    @property
    def lines(self) -> int:
        """Its length in lines: the shorter of its two sides."""
        return min(self.a_last - self.a_first, self.b_last - self.b_first) + 1


@dataclass
class Pair:
    """Two submissions compared: the figures a TA ranks by and the evidence behind them.

    ``functions`` maps a function name to the share of its own tokens covered in
    ``a`` and in ``b`` (where either is above zero), the most shared tokens first.
    """

    a: str
    b: str
    similarity: float
    cover_a: float
    cover_b: float
    longest: int                 # lines of the longest common fragment
    longest_tokens: int
    shared: int                  # distinct shared fingerprints
    shared_tokens: int           # own tokens shared, on the side with fewer
    digest: str                  # of the shared fingerprint set: what the figures depend on
    fragments: list[Fragment] = field(default_factory=list)
    functions: dict[str, tuple[float, float]] = field(default_factory=dict)
    flagged: bool = False
    reused: bool = False         # read back from the gradebook, not computed in this run


def shared_digest(shared: np.ndarray) -> str:
    """A digest of a sorted set of fingerprints (a stored pair is valid while it matches)."""
    return hashlib.blake2b(np.ascontiguousarray(shared, dtype=np.uint64).tobytes(),
                           digest_size=12).hexdigest()


def shared_set(a: Fingerprints, b: Fingerprints, common: np.ndarray) -> np.ndarray:
    """The fingerprints ``a`` and ``b`` share, common ones left out, sorted."""
    both = np.intersect1d(a.hashes, b.hashes)
    return both[~np.isin(both, common)] if len(common) else both


def _chain(a: Fingerprints, b: Fingerprints, shared: np.ndarray,
           k: int) -> list[tuple[int, int, int]]:
    """Fragments as (first fingerprint in a, first in b, number of fingerprints): a run
    grows while a's next fingerprint is b's next one too, and the two overlap or touch in
    both files (starter code between them ends the run)."""
    in_b: dict[int, list[int]] = {}
    for j in np.flatnonzero(np.isin(b.hashes, shared)).tolist():
        in_b.setdefault(int(b.hashes[j]), []).append(j)
    bh, ap, bp = b.hashes.tolist(), a.pos.tolist(), b.pos.tolist()
    runs: dict[int, tuple[int, int, int]] = {}       # last j -> run ending at the last i
    done: list[tuple[int, int, int]] = []
    last_i = -2
    for i in np.flatnonzero(np.isin(a.hashes, shared)).tolist():
        h = int(a.hashes[i])
        grown: dict[int, tuple[int, int, int]] = {}
        for j, run in runs.items():
            if i == last_i + 1 and j + 1 < len(bh) and bh[j + 1] == h \
                    and ap[i] - ap[i - 1] <= k and bp[j + 1] - bp[j] <= k:
                grown[j + 1] = (run[0], run[1], run[2] + 1)
            else:
                done.append(run)
        js = in_b.get(h, [])
        for j in js if len(js) <= _MAX_REPEATS else []:
            grown.setdefault(j, (i, j, 1))
        runs, last_i = grown, i
    return done + list(runs.values())


def _coverage(fp: Fingerprints, hit: np.ndarray, k: int) -> np.ndarray:
    """Which of the file's own tokens lie inside one of the fingerprints ``hit``."""
    n = len(fp.own)
    delta = np.zeros(n + 1, dtype=np.int32)
    starts = fp.pos[hit].astype(np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, np.minimum(starts + k, n), -1)
    return (np.cumsum(delta[:-1]) > 0) & fp.own


def _per_function(fp: Fingerprints, covered: np.ndarray) -> dict[str, tuple[float, int]]:
    """Function -> (share of its own tokens covered, covered tokens)."""
    out = {}
    for name, lo, hi in fp.funcs:
        own = int(fp.own[lo:hi].sum())
        if own:
            got = int(covered[lo:hi].sum())
            out[name] = (got / own, got)
    return out


def _fragments(a: Fingerprints, b: Fingerprints, runs: list[tuple[int, int, int]],
               k: int) -> list[Fragment]:
    """The runs as line ranges, longest first; a run inside a longer one on both sides is
    left out (a repeated fingerprint starts runs beside the true one)."""
    out: list[Fragment] = []
    for i, j, m in sorted(runs, key=lambda r: (-r[2], r[0], r[1])):
        tokens = int(a.pos[i + m - 1]) - int(a.pos[i]) + k
        f = Fragment(int(a.first[i]), int(a.last[i + m - 1]), int(b.first[j]),
                     int(b.last[j + m - 1]), tokens)
        if not any(g.a_first <= f.a_first and f.a_last <= g.a_last and
                   g.b_first <= f.b_first and f.b_last <= g.b_last for g in out):
            out.append(f)
        if len(out) >= _MAX_FRAGMENTS:
            break
    return out


def compare(name_a: str, a: Fingerprints, name_b: str, b: Fingerprints, common: np.ndarray,
            k: int) -> Pair:
    """The figures and fragments of one pair of submissions.

    Tokens inside a common fingerprint count neither as shared nor as the file's own:
    idiom is left out of both sides of the ratio, as the starter code is.
    """
    shared = shared_set(a, b, common)
    cov_a = _coverage(a, np.isin(a.hashes, shared), k)
    cov_b = _coverage(b, np.isin(b.hashes, shared), k)
    own_a = int((a.own & ~_coverage(a, np.isin(a.hashes, common), k) | cov_a).sum())
    own_b = int((b.own & ~_coverage(b, np.isin(b.hashes, common), k) | cov_b).sum())
    got_a, got_b = int(cov_a.sum()), int(cov_b.sum())
    frags = _fragments(a, b, _chain(a, b, shared, k), k) if len(shared) else []
    fa, fb = _per_function(a, cov_a), _per_function(b, cov_b)
    none = (0.0, 0)
    weight = {f: fa.get(f, none)[1] + fb.get(f, none)[1] for f in set(fa) | set(fb)}
    functions = {f: (fa.get(f, none)[0], fb.get(f, none)[0])   # most shared tokens first
                 for f in sorted(weight, key=lambda f: (-weight[f], f)) if weight[f] > 0}
    return Pair(a=name_a, b=name_b,
                similarity=(got_a + got_b) / max(own_a + own_b, 1),
                cover_a=got_a / max(own_a, 1), cover_b=got_b / max(own_b, 1),
                longest=max((f.lines for f in frags), default=0),
                longest_tokens=max((f.tokens for f in frags), default=0),
                shared=len(shared), shared_tokens=min(got_a, got_b),
                digest=shared_digest(shared),
                fragments=frags[:_MAX_FRAGMENTS], functions=functions)


def clusters(pairs: list[Pair]) -> list[list[str]]:
    """Groups of three or more submissions joined by flagged pairs, largest first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.flagged:
            parent[root(p.a)] = root(p.b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    out = [sorted(g) for g in groups.values() if len(g) >= 3]
    return sorted(out, key=lambda g: (-len(g), g))
