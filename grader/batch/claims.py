"""Which run is grading which content, so that two ``grade batch`` runs on one gradebook
share the work instead of both grading everything.

A run claims a submission's content (its hash, for this assignment version) in the
gradebook just before a worker starts on it.  A claim by another run that is still going
(its row in ``runs`` says ``running`` and its process is alive) makes this run leave that
content alone and come back to it later: by then it is in the gradebook (and is taken
from there) or its claimer has died (and it is graded here).  Claims of a run are dropped
when it ends; those of a killed run are stale as soon as its process is gone.
"""

from __future__ import annotations

from grader.batch.gradebook import Gradebook, _alive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    assignment TEXT NOT NULL,
    hash       TEXT NOT NULL,
    version    TEXT NOT NULL,
    run_id     INTEGER NOT NULL,
    pid        INTEGER NOT NULL,
    PRIMARY KEY (assignment, hash, version)
)
"""


class Claims:
    """One run's claims on one gradebook."""

    def __init__(self, book: Gradebook, assignment: str, run_id: int) -> None:
        self.book, self.assignment, self.run_id = book, assignment, run_id
        book._retry(lambda: book.conn.execute(_SCHEMA))

    def other_runs(self) -> list[int]:
        """Process ids of the other runs of this assignment still going on this gradebook."""
        rows = self.book.conn.execute(
            "SELECT id, pid FROM runs WHERE assignment = ? AND status = 'running' AND id != ?",
            (self.assignment, self.run_id)).fetchall()
        return [int(r["pid"]) for r in rows if _alive(int(r["pid"]))]

    def take(self, hash_: str, version: str) -> bool:
        """Claim this content for this run; False while another live run holds it."""
        def go() -> bool:
            with self.book.transaction() as c:
                row = c.execute(
                    "SELECT claims.run_id, claims.pid, runs.status FROM claims LEFT JOIN runs "
                    "ON runs.id = claims.run_id WHERE claims.assignment = ? AND hash = ? "
                    "AND claims.version = ?", (self.assignment, hash_, version)).fetchone()
                if (row is not None and row["run_id"] != self.run_id
                        and row["status"] == "running" and _alive(int(row["pid"]))):
                    return False
                c.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                          (self.assignment, hash_, version, self.run_id,
                           _pid()))
                return True

        return bool(self.book._retry(go))

    def release(self) -> None:
        """Drop every claim of this run (it is ending)."""
        def go() -> None:
            with self.book.transaction() as c:
                c.execute("DELETE FROM claims WHERE run_id = ?", (self.run_id,))

        self.book._retry(go)


def _pid() -> int:
    import os

    return os.getpid()
