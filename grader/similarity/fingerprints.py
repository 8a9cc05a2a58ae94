"""k-gram fingerprints with winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003).

Every run of ``k`` consecutive tokens gets a 64-bit hash: a polynomial over the tokens'
stable ids, computed with numpy's wrapping uint64 arithmetic, so it is the same in every
process and on every machine (Python's ``hash()`` is not).  Winnowing keeps, of each
window of ``w`` consecutive hashes, the smallest (the rightmost on a tie): any fragment of
``w + k - 1`` tokens two files share gives both at least one common fingerprint, and a
file keeps about ``2 / (w + 1)`` of its hashes.  The starter code's k-grams are
subtracted: its tokens are no one's own work and its fingerprints are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grader.similarity.tokens import Tokens

__all__ = ["DEFAULT_K", "DEFAULT_W", "Fingerprints", "fingerprint", "kgram_hashes", "winnow"]

DEFAULT_K = 15
DEFAULT_W = 8
_BASE = np.uint64(0x100000001B3)            # FNV's 64-bit prime
_MIX = np.uint64(0xBF58476D1CE4E5B9)        # splitmix64's finaliser


@dataclass
class Fingerprints:
    """What a file keeps for comparison: its winnowed, starter-free fingerprints.

    ``hashes``/``pos`` are the fingerprints and the token where each starts; ``first``/
    ``last`` the lines a fingerprint's k-gram spans; ``own`` marks the tokens that are not
    starter code (their count is the file's size in comparisons); ``funcs`` the top-level
    functions as (name, first token, end token).
    """

    hashes: np.ndarray
    pos: np.ndarray
    first: np.ndarray
    last: np.ndarray
    own: np.ndarray
    funcs: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def own_tokens(self) -> int:
        """The file's size in comparisons: its tokens that are not starter code."""
        return int(self.own.sum())


def _mix(h: np.ndarray) -> np.ndarray:
    """Spread the polynomial's bits so that the minimum of a window is a fair pick."""
    h = h ^ (h >> np.uint64(31))
    h = h * _MIX
    return h ^ (h >> np.uint64(29))


def kgram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """The hash of every run of ``k`` consecutive token ids (``len(ids) - k + 1`` of them)."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + ids[j:j + n]
        return _mix(h)


def winnow(hashes: np.ndarray, w: int) -> np.ndarray:
    """Positions of the fingerprints winnowing keeps: each window's rightmost minimum."""
    n = len(hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= w:
        return np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, w)
    right = w - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(right + np.arange(len(windows)))


def _covered(n_tokens: int, starts: np.ndarray, k: int) -> np.ndarray:
    """Which of ``n_tokens`` tokens lie in a k-gram starting at one of ``starts``."""
    delta = np.zeros(n_tokens + 1, dtype=np.int32)
    np.add.at(delta, starts, 1)
    np.add.at(delta, np.minimum(starts + k, n_tokens), -1)
    return np.cumsum(delta[:-1]) > 0


def fingerprint(tokens: Tokens, k: int = DEFAULT_K, w: int = DEFAULT_W,
                starter: np.ndarray | None = None) -> Fingerprints:
    """The file's fingerprints, without those of ``starter`` (a sorted array of k-gram
    hashes: every k-gram of the starter code, not only its winnowed ones)."""
    grams = kgram_hashes(tokens.ids, k)
    n = len(tokens)
    if starter is not None and len(starter) and len(grams):
        given = np.isin(grams, starter, assume_unique=False)
        own = ~_covered(n, np.flatnonzero(given), k)
    else:
        given = np.zeros(len(grams), dtype=bool)
        own = np.ones(n, dtype=bool)
    keep = winnow(grams, w)
    keep = keep[~given[keep]] if len(keep) else keep
    return Fingerprints(hashes=grams[keep], pos=keep.astype(np.int32),
                        first=tokens.lines[keep].astype(np.int32),
                        last=tokens.lines[keep + k - 1].astype(np.int32) if len(keep)
                        else np.zeros(0, dtype=np.int32),
                        own=own, funcs=list(tokens.funcs))


def starter_hashes(tokens: list[Tokens], k: int = DEFAULT_K) -> np.ndarray:
    """Every k-gram hash of the starter sources, sorted: what :func:`fingerprint` subtracts."""
    parts = [kgram_hashes(t.ids, k) for t in tokens]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)
