"""Verdicts of mutants, kept in one SQLite file so a re-run grades only what could change.

A verdict is one item's score for one mutant, keyed by the mutant's source hash and the
item's *fingerprint*: a hash of everything that item's score can depend on besides the
mutant (its definition, its cases' inputs, expected values and weights, the checks'
code, the cases of the items whose functions it may run as the submission's own helpers,
the given code, the engine).  Adding one hidden case changes one item's fingerprint, so
only that item is graded again, for every mutant.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Verdict", "VerdictCache", "engine_hash", "item_fingerprints"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    mutant TEXT NOT NULL, item TEXT NOT NULL, fingerprint TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (mutant, item, fingerprint))
"""


@dataclass(frozen=True)
class Verdict:
    item: str
    score: float
    max_score: float
    status: str


ENGINE = ("course", "judge", "runner", "sandbox", "protocol", "api.py", "result.py")


def engine_hash() -> str:
    """A hash of the judging engine's source: a judge that changes may judge differently.

    Only the parts a verdict depends on (``ENGINE``), so editing the CLI, the reports or
    the audit itself keeps the cache.
    """
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    files = [p for e in ENGINE for p in ((here / e).rglob("*.py") if (here / e).is_dir()
                                         else [here / e])]
    for p in sorted(files):
        h.update(str(p.relative_to(here)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _code(fn: Any) -> str:
    """A hash of a function's code (nested code objects by their own hash, not address)."""
    code = getattr(fn, "__code__", fn)
    if not hasattr(code, "co_code"):
        return ""
    consts = [_code(c) if hasattr(c, "co_code") else repr(sorted(map(repr, c)))
              if isinstance(c, frozenset) else repr(c) for c in code.co_consts]
    return hashlib.sha256(code.co_code + repr(consts).encode()).hexdigest()


def _own(a: Any, time_scale: float, engine: str) -> dict[str, str]:
    """Each item's fingerprint from its own definition and cases only."""
    cases: dict[str, list[Any]] = {it.id: [] for it in a.items}
    for pc in [*a.public, *a.hidden()]:
        cb = sorted((k, _code(v)) for k, v in pc.callables.items())
        cases.setdefault(pc.case.item, []).append(
            [pc.to_json(), pc.case.visibility, _code(pc.case.check), cb])
    weights = sorted((k[0], k[1], v) for k, v in a.hidden_weights.items())
    out = {}
    for it in a.items:
        blob = json.dumps([it.to_json(), cases[it.id], [w for w in weights if w[0] == it.id],
                           a.given_source, time_scale, engine], sort_keys=True, default=str)
        out[it.id] = hashlib.sha256(blob.encode()).hexdigest()[:20]
    return out


def item_fingerprints(a: Any, time_scale: float = 1.0) -> dict[str, str]:
    """Per item, a hash of what its score depends on (see the module's docstring)."""
    own = _own(a, time_scale, engine_hash())
    owner = {f: it.id for it in a.items for f in it.functions}
    out = {}
    for it in a.items:
        deps = sorted({owner[s] for s in it.substitutes if s in owner} - {it.id})
        blob = own[it.id] + "".join(own[d] for d in deps)
        out[it.id] = hashlib.sha256(blob.encode()).hexdigest()[:20]
    return out


class VerdictCache:
    """The SQLite file of verdicts; ``None`` as the path keeps them in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path) if path else ":memory:", timeout=30)
        self.conn.execute(SCHEMA)
        self.conn.commit()

    def get(self, mutant: str, fingerprints: dict[str, str]) -> dict[str, Verdict]:
        rows = self.conn.execute("SELECT item, fingerprint, score, max_score, status FROM "
                                 "verdicts WHERE mutant = ?", (mutant,)).fetchall()
        return {r[0]: Verdict(r[0], r[2], r[3], r[4]) for r in rows
                if fingerprints.get(r[0]) == r[1]}

    def put(self, mutant: str, fingerprints: dict[str, str],
            verdicts: Iterable[Verdict]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
                [(mutant, v.item, fingerprints[v.item], v.score, v.max_score, v.status)
                 for v in verdicts])

    def close(self) -> None:
        self.conn.close()
