"""Similarity results kept in the gradebook file, in tables of their own.

- ``similarity_files``: per submission its content hash, the settings its fingerprints
  were made with, and the fingerprints themselves (so an unchanged file is not read again);
- ``similarity_pairs``: per compared pair its figures and fragments, with the two content
  hashes and the digest of the fingerprints they shared (a stored pair is reused only while
  all three, and the settings, are the same: new submissions that make a shared fragment
  common change the digest, and the pair is compared again);
- ``similarity_runs``: one row per ``grade similarity``.

The tables are created here, beside the gradebook's own (:mod:`grader.gradebook`), in one
transaction per run, so an interrupted run leaves the last complete one.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from grader.batch.gradebook import Gradebook, now
from grader.similarity.fingerprints import Fingerprints
from grader.similarity.pairs import Fragment, Pair

__all__ = ["SimilarityStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS similarity_files (
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    hash       TEXT NOT NULL,           -- content hash of the compared file
    params     TEXT NOT NULL,           -- k, w, normaliser and starter code it was made with
    members    TEXT NOT NULL,           -- JSON list of student ids
    path       TEXT NOT NULL,
    meta       TEXT NOT NULL,           -- JSON: sizes of the arrays, functions, notes
    data       BLOB NOT NULL,           -- the fingerprint arrays, little-endian
    checked_at TEXT NOT NULL,
    PRIMARY KEY (assignment, submission)
);
CREATE TABLE IF NOT EXISTS similarity_pairs (
    assignment TEXT NOT NULL,
    a          TEXT NOT NULL,
    b          TEXT NOT NULL,
    a_hash     TEXT NOT NULL,
    b_hash     TEXT NOT NULL,
    params     TEXT NOT NULL,
    digest     TEXT NOT NULL,           -- of the shared fingerprints, common ones left out
    similarity REAL NOT NULL,
    flagged    INTEGER NOT NULL,
    data       TEXT NOT NULL,           -- JSON of the pair: coverage, fragments, functions
    computed_at TEXT NOT NULL,
    PRIMARY KEY (assignment, a, b)
);
CREATE TABLE IF NOT EXISTS similarity_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment  TEXT NOT NULL,
    folder      TEXT NOT NULL,
    params      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    counts      TEXT NOT NULL           -- JSON: submissions, skipped, pairs, reused, flagged
);
"""


def _pack(fp: Fingerprints) -> tuple[dict[str, Any], bytes]:
    meta = {"n": len(fp.hashes), "tokens": len(fp.own), "funcs": fp.funcs}
    data = b"".join([fp.hashes.astype("<u8").tobytes(), fp.pos.astype("<i4").tobytes(),
                     fp.first.astype("<i4").tobytes(), fp.last.astype("<i4").tobytes(),
                     np.packbits(fp.own).tobytes()])
    return meta, data


def _unpack(meta: dict[str, Any], data: bytes) -> Fingerprints:
    n, t = int(meta["n"]), int(meta["tokens"])
    hashes = np.frombuffer(data, dtype="<u8", count=n).astype(np.uint64)
    ints = np.frombuffer(data, dtype="<i4", count=3 * n, offset=8 * n).astype(np.int32)
    own = np.unpackbits(np.frombuffer(data, dtype=np.uint8, offset=20 * n),
                        count=t).astype(bool)
    return Fingerprints(hashes=hashes, pos=ints[:n], first=ints[n:2 * n], last=ints[2 * n:],
                        own=own, funcs=[(str(a), int(b), int(c)) for a, b, c in meta["funcs"]])


def _pair_json(p: Pair) -> str:
    d = asdict(p)
    for k in ("a", "b", "flagged", "reused", "digest"):
        d.pop(k)
    return json.dumps(d)


def _pair_from(row: Any) -> Pair:
    d = json.loads(row["data"])
    d["fragments"] = [Fragment(**f) for f in d["fragments"]]
    d["functions"] = {k: (float(v[0]), float(v[1])) for k, v in d["functions"].items()}
    return Pair(a=row["a"], b=row["b"], digest=row["digest"], flagged=bool(row["flagged"]),
                reused=True, **d)


class SimilarityStore:
    """The similarity tables of one gradebook file."""

    def __init__(self, db: Path) -> None:
        self.book = Gradebook(db)
        with self.book.transaction() as conn:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)

    def close(self) -> None:
        self.book.close()

    def __enter__(self) -> SimilarityStore:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def files(self, assignment: str, params: str) -> dict[tuple[str, str], Fingerprints]:
        """Stored fingerprints made with ``params``, by (submission, content hash)."""
        rows = self.book.conn.execute(
            "SELECT submission, hash, meta, data FROM similarity_files "
            "WHERE assignment = ? AND params = ?", (assignment, params))
        return {(r["submission"], r["hash"]): _unpack(json.loads(r["meta"]), r["data"])
                for r in rows}

    def pairs(self, assignment: str, params: str) -> dict[tuple[str, str], tuple[Any, Pair]]:
        """Stored pairs made with ``params``: (a, b) -> (their row's hashes, the pair)."""
        rows = self.book.conn.execute(
            "SELECT * FROM similarity_pairs WHERE assignment = ? AND params = ?",
            (assignment, params))
        return {(r["a"], r["b"]): ((r["a_hash"], r["b_hash"], r["digest"]), _pair_from(r))
                for r in rows}

    def save(self, assignment: str, params: str, folder: str,
             files: list[tuple[Any, Fingerprints]], pairs: list[tuple[Pair, str, str]],
             started: str, counts: dict[str, int]) -> int:
        """Replace the assignment's similarity results by this run's, in one transaction;
        ``files`` are (entry, fingerprints), ``pairs`` (pair, a's hash, b's hash)."""
        stamp = now()
        with self.book.transaction() as conn:
            conn.execute("DELETE FROM similarity_files WHERE assignment = ?", (assignment,))
            conn.execute("DELETE FROM similarity_pairs WHERE assignment = ?", (assignment,))
            for e, fp in files:
                meta, data = _pack(fp)
                meta["notes"] = [n.to_json() for n in e.notes]
                conn.execute("INSERT INTO similarity_files VALUES (?,?,?,?,?,?,?,?,?)",
                             (assignment, e.key, e.hash, params, json.dumps(e.members),
                              str(e.path), json.dumps(meta), data, stamp))
            conn.executemany(
                "INSERT INTO similarity_pairs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(assignment, p.a, p.b, ha, hb, params, p.digest, p.similarity,
                  int(p.flagged), _pair_json(p), stamp) for p, ha, hb in pairs])
            cur = conn.execute(
                "INSERT INTO similarity_runs (assignment, folder, params, started_at, "
                "finished_at, counts) VALUES (?,?,?,?,?,?)",
                (assignment, folder, params, started, stamp, json.dumps(counts)))
            return int(cur.lastrowid or 0)
