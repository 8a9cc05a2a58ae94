"""One similarity check of a class: read, fingerprint, index, compare, rank, keep.

Only what is new is worked on: a file whose content and settings are unchanged since the
last run keeps its stored fingerprints, and a pair whose two files and shared
fingerprints are unchanged keeps its stored figures.  The index itself is rebuilt each
run (it is cheap), so which fragments are common always reflects the whole class.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.batch.gradebook import now
from grader.errors import UsageError
from grader.similarity.fingerprints import (
    DEFAULT_K,
    DEFAULT_W,
    Fingerprints,
    fingerprint,
    starter_hashes,
)
from grader.similarity.index import build_index
from grader.similarity.pairs import Pair, clusters, compare, shared_digest, shared_set
from grader.similarity.sources import (
    Entry,
    Gathered,
    Skipped,
    gather,
    reference_entry,
    starter_sources,
)
from grader.similarity.store import SimilarityStore
from grader.similarity.tokens import tokenize_source

__all__ = ["DEFAULT_COMMON", "DEFAULT_THRESHOLD", "Settings", "SimilarityReport", "check"]

DEFAULT_THRESHOLD = 0.5
DEFAULT_COMMON = 0.2
DEFAULT_MIN_TOKENS = 40     # about three lines of code: less is no evidence, however alike
NORMALISER = "1"        # bump when tokens.py changes what it keeps: stored files are redone
_PARALLEL_FROM = 48     # files to fingerprint before worker processes pay for themselves


@dataclass(frozen=True)
class Settings:
    """What a check depends on besides the files: the knobs a TA may turn."""

    k: int = DEFAULT_K
    w: int = DEFAULT_W
    threshold: float = DEFAULT_THRESHOLD
    common: float = DEFAULT_COMMON
    floor: float | None = None      # share of the smaller file shared to compare in full
    min_tokens: int = DEFAULT_MIN_TOKENS
    workers: int | None = None

    @property
    def compare_from(self) -> float:
        """Pairs sharing at least this share of the smaller file's fingerprints are
        compared in full (default: half the threshold; below it no pair can reach it)."""
        return self.threshold / 2 if self.floor is None else self.floor

    def validate(self) -> None:
        """Raise a one-line UsageError for a setting out of its range."""
        if self.k < 3 or self.w < 1:
            raise UsageError("-k must be at least 3 and -w at least 1")
        if not 0 < self.threshold <= 1:
            raise UsageError("--threshold must be in (0, 1], e.g. 0.5")
        if not 0 < self.common <= 1:
            raise UsageError("--common must be in (0, 1], e.g. 0.2")
        if self.min_tokens < 0:
            raise UsageError("--min-tokens must be at least 0")
        if self.floor is not None and not 0 <= self.floor <= 1:
            raise UsageError("--compare-from must be in [0, 1], e.g. 0.25")


@dataclass
class SimilarityReport:
    """The check's outcome as data: what the table, the CSV and the HTML page read."""

    assignment: str
    layout: str
    settings: Settings
    entries: list[Entry]
    pairs: list[Pair]                    # compared pairs, most similar first
    clusters: list[list[str]]
    skipped: list[Skipped]
    own_tokens: dict[str, int] = field(default_factory=dict)
    graded: list[str] = field(default_factory=list)     # the assignment's graded functions
    same_group: int = 0                  # pairs sharing code left out: one group's work
    common_dropped: int = 0
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    reused_files: int = 0
    reused_pairs: int = 0
    seconds: float = 0.0
    run_id: int = 0

    @property
    def flagged(self) -> list[Pair]:
        """The pairs worth a TA's look, most similar first."""
        return [p for p in self.pairs if p.flagged]

    def rank_of(self, a: str, b: str) -> int | None:
        """1-based rank of the pair (either order) among the compared pairs, or None."""
        for i, p in enumerate(self.pairs, 1):
            if {p.a, p.b} == {a, b}:
                return i
        return None


def _init(starter: np.ndarray, k: int, w: int) -> None:
    global _WORKER
    _WORKER = (starter, k, w)


_WORKER: tuple[np.ndarray, int, int] = (np.zeros(0, dtype=np.uint64), DEFAULT_K, DEFAULT_W)


def _fp_worker(code: str) -> Fingerprints:
    starter, k, w = _WORKER
    return fingerprint(tokenize_source(code), k, w, starter)


def _fingerprint_all(codes: list[str], starter: np.ndarray, s: Settings) -> list[Fingerprints]:
    """Fingerprints of ``codes``, in worker processes where there are many."""
    from grader.batch.pool import cores

    workers = s.workers or cores()
    if len(codes) < _PARALLEL_FROM or workers < 2:
        return [fingerprint(tokenize_source(c), s.k, s.w, starter) for c in codes]
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init,
                             initargs=(starter, s.k, s.w)) as pool:
        return list(pool.map(_fp_worker, codes, chunksize=max(1, len(codes) // (4 * workers))))


def _params(s: Settings, starter: list[str]) -> str:
    h = hashlib.sha256("\0".join(starter).encode("utf-8")).hexdigest()[:16]
    return f"n{NORMALISER} k{s.k} w{s.w} starter:{h}"


def _graded(root: Path, assignment: str) -> list[str]:
    """The assignment's graded function names (empty where its cases cannot be read)."""
    from grader.course.folder import load

    try:
        a = load(assignment, root, public_only=True)
    except Exception:  # noqa: BLE001 - the per-function view is extra; the check goes on
        return []
    return sorted({f for it in a.items for f in it.functions})


def _select(entries: list[Entry], fps: list[Fingerprints], s: Settings,
            report: SimilarityReport) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Pairs worth comparing in full (sharing enough to come near the threshold)."""
    index = build_index([f.hashes for f in fps], s.common)
    report.common_dropped = len(index.common)
    i, j, shared = index.candidates(2)
    smaller = np.minimum(index.sizes[i], index.sizes[j]).clip(min=1)
    keep = shared / smaller >= s.compare_from
    out = []
    for a, b in zip(i[keep].tolist(), j[keep].tolist()):
        if entries[a].same_group(entries[b]):
            report.same_group += 1
        else:
            out.append((a, b))
    return out, index.common


def _compare_all(entries: list[Entry], fps: list[Fingerprints], chosen: list[tuple[int, int]],
                 common: np.ndarray, stored: dict, s: Settings,
                 report: SimilarityReport) -> list[Pair]:
    out = []
    for a, b in chosen:
        ea, eb = entries[a], entries[b]
        old = stored.get((ea.key, eb.key))
        if old is not None and old[0][:2] == (ea.hash, eb.hash) and \
                old[0][2] == shared_digest(shared_set(fps[a], fps[b], common)):
            out.append(old[1])
            report.reused_pairs += 1
            continue
        out.append(compare(ea.key, fps[a], eb.key, fps[b], common, s.k))
    for p in out:
        p.flagged = p.similarity >= s.threshold and p.shared_tokens >= s.min_tokens
    out.sort(key=lambda p: (-p.similarity, -p.longest, p.a, p.b))
    return out


def check(assignment: str, folder: Path, *, root: Path, db: Path | None = None,
          settings: Settings = Settings(), layout: str | None = None,
          roster: Path | None = None, max_group: int = 3, reference: bool = False,
          starter: tuple[Path, ...] = ()) -> SimilarityReport:
    """Compare every submission in ``folder`` with every other, through the index."""
    settings.validate()
    t0, started = time.perf_counter(), now()
    starter_code = starter_sources(root, assignment, starter)
    exclude = (Path(str(db)), Path(f"{db}-wal"), Path(f"{db}-shm")) if db else ()
    got = gather(Path(folder), assignment, layout=layout, roster=roster, max_group=max_group,
                 exclude=exclude)
    if reference:
        got.entries.append(reference_entry(root, assignment))
    params = _params(settings, starter_code)
    store = SimilarityStore(db) if db else None
    try:
        report, fps = _run(assignment, got, starter_code, params, settings, store)
        report.graded = _graded(root, assignment)
        report.seconds = time.perf_counter() - t0
        if store is not None:
            report.run_id = _save(store, report, fps, params, str(Path(folder).resolve()),
                                  started)
    finally:
        if store is not None:
            store.close()
    return report


def _run(assignment: str, got: Gathered, starter_code: list[str], params: str, s: Settings,
         store: SimilarityStore | None) -> tuple[SimilarityReport, list[Fingerprints]]:
    """The report of the entries in ``got``, and the fingerprints of those compared."""
    stored_files = store.files(assignment, params) if store else {}
    stored_pairs = store.pairs(assignment, params) if store else {}
    starter = starter_hashes([tokenize_source(c) for c in starter_code], s.k)
    todo = [e for e in got.entries if (e.key, e.hash) not in stored_files]
    made = dict(zip([e.key for e in todo],
                    _fingerprint_all([e.code for e in todo], starter, s)))
    report = SimilarityReport(assignment, got.layout, s, [], [], [], list(got.skipped),
                              unmatched=got.unmatched, ignored=got.ignored,
                              reused_files=len(got.entries) - len(todo))
    entries, fps = [], []
    for e in got.entries:
        fp = made.get(e.key) or stored_files[(e.key, e.hash)]
        if fp.own_tokens == 0 or len(fp.hashes) == 0:
            report.skipped.append(Skipped(e.key, f"{e.path.name} has no code of its own "
                                                 "beyond the starter code: nothing to compare",
                                          "starter"))
            continue
        entries.append(e)
        fps.append(fp)
    report.entries = entries
    report.own_tokens = {e.key: f.own_tokens for e, f in zip(entries, fps)}
    chosen, common = _select(entries, fps, s, report)
    report.pairs = _compare_all(entries, fps, chosen, common, stored_pairs, s, report)
    report.clusters = clusters(report.pairs)
    return report, fps


def _save(store: SimilarityStore, r: SimilarityReport, fps: list[Fingerprints], params: str,
          folder: str, started: str) -> int:
    hashes = {e.key: e.hash for e in r.entries}
    counts = {"submissions": len(r.entries), "skipped": len(r.skipped),
              "pairs": len(r.pairs), "flagged": len(r.flagged),
              "reused_files": r.reused_files, "reused_pairs": r.reused_pairs}
    return store.save(r.assignment, params, folder, list(zip(r.entries, fps)),
                      [(p, hashes[p.a], hashes[p.b]) for p in r.pairs], started, counts)
