"""The inverted index: which submissions share which fingerprints, without a loop over pairs.

Each distinct fingerprint is listed once with the submissions that have it.  A fingerprint
in more than ``common`` of the class (and in more than :data:`MIN_COMMON` submissions) is
idiom, not evidence, and is dropped.  What remains is counted per pair: fingerprints held
by few submissions add one to each of their pairs directly; the few held by many are
counted by one matrix product over their incidence, so the cost follows the number of
pairs that share something, not the number of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_COMMON", "Index", "build_index"]

MIN_COMMON = 3
"""A fragment in this many submissions or fewer is never dropped as common (a copied pair
or trio in a small class is not idiom)."""

_DIRECT = 24        # posting lists up to this size are expanded into their pairs
_CHUNK = 2048       # fingerprints per block of the matrix product


@dataclass
class Index:
    """Shared fingerprint counts of every pair, and the fingerprints dropped as common.

    ``counts[i, j]`` (``i < j``) is the number of distinct fingerprints submissions ``i``
    and ``j`` share once common ones are left out; ``sizes[i]`` the number of distinct
    fingerprints of ``i`` that are not common; ``common`` the dropped hashes, sorted.
    """

    counts: np.ndarray
    sizes: np.ndarray
    common: np.ndarray

    def candidates(self, least: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs ``(i, j, shared)`` sharing at least ``least`` fingerprints, ``i < j``."""
        upper = np.triu(self.counts, 1)
        i, j = np.nonzero(upper >= max(least, 1))
        return i, j, upper[i, j]


def _postings(hashes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (hash, submission) pairs sorted by hash, with each hash's group boundaries."""
    lengths = np.array([len(h) for h in hashes], dtype=np.int64)
    flat = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    owner = np.repeat(np.arange(len(hashes), dtype=np.int64), lengths)
    order = np.argsort(flat, kind="stable")
    flat, owner = flat[order], owner[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]]) if len(flat) else \
        np.zeros(0, dtype=np.int64)
    return flat, owner, starts


def _add_direct(counts: np.ndarray, owner: np.ndarray, starts: np.ndarray,
                sizes: np.ndarray) -> None:
    """Add the pairs of every small posting list, one block of equal-sized lists at a time."""
    n = counts.shape[0]
    codes = []
    for m in np.unique(sizes):
        if m < 2:
            continue
        groups = owner[starts[sizes == m][:, None] + np.arange(m)]
        a, b = np.triu_indices(int(m), 1)
        codes.append(groups[:, a].ravel() * n + groups[:, b].ravel())
    if codes:
        pair, times = np.unique(np.concatenate(codes), return_counts=True)
        counts.ravel()[pair] += times.astype(counts.dtype)


def _add_product(counts: np.ndarray, owner: np.ndarray, starts: np.ndarray,
                 sizes: np.ndarray) -> None:
    """Add the pairs of the large posting lists through the incidence matrix's product."""
    n = counts.shape[0]
    for lo in range(0, len(starts), _CHUNK):
        s, m = starts[lo:lo + _CHUNK], sizes[lo:lo + _CHUNK]
        rows = np.concatenate([owner[a:a + b] for a, b in zip(s, m)])
        cols = np.repeat(np.arange(len(s)), m)
        inc = np.zeros((n, len(s)), dtype=np.float32)
        inc[rows, cols] = 1.0
        counts += np.rint(inc @ inc.T).astype(counts.dtype)


def build_index(hashes: list[np.ndarray], common: float = 0.2) -> Index:
    """The index over the submissions' fingerprints (one array per submission)."""
    unique = [np.unique(h) for h in hashes]
    n = len(unique)
    flat, owner, starts = _postings(unique)
    sizes = np.diff(np.r_[starts, len(flat)]).astype(np.int64)
    limit = max(common * n, MIN_COMMON)
    dropped = sizes > limit
    counts = np.zeros((n, n), dtype=np.int32)
    small = ~dropped & (sizes <= _DIRECT)
    large = ~dropped & (sizes > _DIRECT)
    _add_direct(counts, owner, starts[small], sizes[small])
    _add_product(counts, owner, starts[large], sizes[large])
    kept = np.repeat(~dropped, sizes)          # per posting: its fingerprint is kept
    return Index(counts=counts, sizes=np.bincount(owner[kept], minlength=n).astype(np.int64),
                 common=flat[starts[dropped]])
