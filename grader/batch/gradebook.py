"""The gradebook: one SQLite file holding every graded submission of a class.

Tables (one gradebook may hold many assignments):

- ``submissions``: a row per submission: its file, content hash, the assignment version it
  was graded against, status (``graded`` or ``error``), score, the result's header as JSON
  (:meth:`SubmissionRow.result_dict` puts the whole result back together with the items);
- ``results``: a row per submission and item: score, status, feedback, the cases as JSON,
  with the submission's hash, the assignment version and the time graded;
- ``members``: which students a submission counts for (a group's members), rebuilt by each
  run from what it found;
- ``roster``: the class list (id, name, email and any Canvas columns) of an assignment;
- ``runs``: one row per ``grade batch``, with how it ended;
- ``times`` and ``finals`` (schema 2, added to older files when opened): when each
  submission was made, and each student's lateness, slip days, penalty and final score,
  kept apart from the raw score (:mod:`grader.policy.store` writes them).

Safety: WAL journal, a busy timeout, and one short transaction per submission (its
``submissions`` row and all its ``results`` rows together), so a run killed at any instant
(Ctrl-C, ``kill -9``, power loss) leaves only whole results, and two runs at once on one
file take turns instead of corrupting it.  With ``synchronous=NORMAL`` a power loss may
forget the last few commits; they are graded again on the next run, never half-kept.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.batch.rows import ItemRow, RosterEntry, SubmissionRow
from grader.batch.schema import SCHEMA as _SCHEMA
from grader.errors import UsageError
from grader.result import Note

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 60_000

# Outcomes worth another try on the next run (not a property of the submission).
RETRY_REASONS = ("worker",)



def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Gradebook:
    """A connection to a gradebook file; the parent of a batch run is its only writer."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise UsageError(f"no gradebook at {self.path}: run `grade batch` first "
                             "(or pass --db PATH)")
        if self.path.exists() and self.path.is_dir():
            raise UsageError(f"{self.path} is a folder: give --db the path of a .sqlite file")
        if create and not self.path.parent.exists():
            raise UsageError(f"cannot create the gradebook {self.path}: "
                             f"{self.path.parent} does not exist")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000,
                                        isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._retry(lambda: self.conn.execute("PRAGMA journal_mode = WAL"))
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if create:
                self._create()
            else:
                self._check()
        except sqlite3.DatabaseError as e:
            raise UsageError(f"{self.path} is not a usable gradebook ({e}): "
                             "give --db another file") from None

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _retry(fn: Any, tries: int = 50) -> Any:
        """Run ``fn`` again while another process briefly holds a lock it needs."""
        for i in range(tries):
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e) or i == tries - 1:
                    raise
                time.sleep(0.05 * (i + 1))
        return None

    def _create(self) -> None:
        self._schema("INSERT OR IGNORE INTO meta VALUES ('schema', ?)")
        self._check()

    def _schema(self, meta_sql: str) -> None:
        """Create what is missing (tables, indexes), then write the schema version."""
        def go() -> None:
            with self.transaction():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute(meta_sql, (str(SCHEMA_VERSION),))

        self._retry(go)

    def _check(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise UsageError(f"{self.path} is not a gradebook made by `grade batch`")
        if int(row["value"]) > SCHEMA_VERSION:
            raise UsageError(f"{self.path} was made by a newer grader (schema {row['value']}): "
                             "upgrade the grader")
        if int(row["value"]) < SCHEMA_VERSION:   # older: add the new tables, keep the rows
            self._schema("UPDATE meta SET value = ? WHERE key = 'schema'")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Gradebook:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type: object, *rest: object) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")

    def transaction(self) -> Gradebook._Tx:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: all of it is kept, or none."""
        return Gradebook._Tx(self.conn)

    # ------------------------------------------------------------------ runs
    def start_run(self, assignment: str, folder: str, layout: str, version: str) -> int:
        """Record a new run; runs left 'running' by a process that is gone become 'stopped'
        (killed, or the machine went down)."""
        def go() -> int:
            with self.transaction() as c:
                for r in c.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall():
                    if not _alive(int(r["pid"])):
                        c.execute("UPDATE runs SET status = 'stopped' WHERE id = ?", (r["id"],))
                cur = c.execute("INSERT INTO runs (assignment, folder, layout, version, pid, "
                                "started_at, status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
                                (assignment, folder, layout, version, os.getpid(), now()))
                return int(cur.lastrowid or 0)

        return int(self._retry(go))

    def finish_run(self, run_id: int, status: str, counts: dict[str, int]) -> None:
        def go() -> None:
            with self.transaction() as c:
                c.execute("UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
                          (now(), status, json.dumps(counts), run_id))

        self._retry(go)

    def runs(self, assignment: str) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT * FROM runs WHERE assignment = ? ORDER BY id",
                                      (assignment,)))

    # ------------------------------------------------------------------ roster & members
    def set_roster(self, assignment: str, entries: Iterable[RosterEntry]) -> None:
        def go() -> None:
            with self.transaction() as c:
                c.execute("DELETE FROM roster WHERE assignment = ?", (assignment,))
                c.executemany("INSERT INTO roster VALUES (?, ?, ?, ?, ?, ?)",
                              [(assignment, e.id, i, e.name, e.email, json.dumps(e.extra))
                               for i, e in enumerate(entries)])

        self._retry(go)

    def roster(self, assignment: str) -> list[RosterEntry]:
        return [RosterEntry(r["id"], r["name"], r["email"], json.loads(r["extra"]))
                for r in self.conn.execute("SELECT * FROM roster WHERE assignment = ? "
                                           "ORDER BY position", (assignment,))]

    def set_members(self, assignment: str,
                    members: Iterable[tuple[str, str, str, str]]) -> None:
        """Replace who counts for which submission: (student, submission, name, email)."""

        def go() -> None:
            with self.transaction() as c:
                c.execute("DELETE FROM members WHERE assignment = ?", (assignment,))
                c.executemany("INSERT OR IGNORE INTO members VALUES (?, ?, ?, ?, ?)",
                              [(assignment, s, k, n, e) for s, k, n, e in members])

        self._retry(go)

    def members(self, assignment: str) -> list[tuple[str, str]]:
        """(student, submission) pairs of the last run, in the order it found them."""
        return [(r["student"], r["submission"]) for r in self.conn.execute(
            "SELECT student, submission FROM members WHERE assignment = ? "
            "ORDER BY rowid", (assignment,))]

    def member_names(self, assignment: str) -> dict[str, tuple[str, str]]:
        return {r["student"]: (r["name"], r["email"]) for r in self.conn.execute(
            "SELECT student, name, email FROM members WHERE assignment = ?", (assignment,))}

    # ------------------------------------------------------------------ submissions
    def up_to_date(self, assignment: str, submission: str, hash_: str, version: str) -> bool:
        """Whether this submission is stored graded from this content and version."""
        row = self.conn.execute(
            "SELECT hash, version, reason FROM submissions WHERE assignment = ? "
            "AND submission = ?", (assignment, submission)).fetchone()
        return (row is not None and row["hash"] == hash_ and row["version"] == version
                and row["reason"] not in RETRY_REASONS)

    def same_content(self, assignment: str, hash_: str, version: str) -> SubmissionRow | None:
        """Another submission already graded from identical content (same file name too)."""
        row = self.conn.execute(
            "SELECT * FROM submissions WHERE assignment = ? AND hash = ? AND version = ? "
            f"AND reason NOT IN ({','.join('?' * len(RETRY_REASONS))}) "
            "AND result IS NOT NULL LIMIT 1",
            (assignment, hash_, version, *RETRY_REASONS)).fetchone()
        return self._row(row, with_items=True) if row is not None else None

    def record(self, sub: SubmissionRow) -> None:
        """Store one submission and all its items in one transaction."""
        items = [(sub.assignment, sub.submission, it.item, pos, it.title, it.score,
                  it.max_score, it.status, it.feedback, json.dumps(it.cases), sub.hash,
                  sub.version, sub.graded_at) for pos, it in enumerate(sub.items)]

        def go() -> None:
            with self.transaction() as c:
                c.execute("DELETE FROM results WHERE assignment = ? AND submission = ?",
                          (sub.assignment, sub.submission))
                c.execute("INSERT OR REPLACE INTO submissions VALUES "
                          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (sub.assignment, sub.submission, sub.layout, sub.path, sub.file,
                           json.dumps(sub.members), sub.hash, sub.version, sub.status,
                           sub.reason, sub.message,
                           json.dumps([n.to_json() for n in sub.notes]), sub.score,
                           sub.max_score, sub.seconds, sub.graded_at, sub.run_id,
                           json.dumps(sub.result) if sub.result is not None else None))
                c.executemany("INSERT INTO results VALUES "
                              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)

        self._retry(go)

    def _row(self, r: sqlite3.Row, with_items: bool) -> SubmissionRow:
        sub = SubmissionRow(
            assignment=r["assignment"], submission=r["submission"], layout=r["layout"],
            path=r["path"], file=r["file"], members=json.loads(r["members"]), hash=r["hash"],
            version=r["version"], status=r["status"], reason=r["reason"],
            message=r["message"], notes=[Note.from_json(n) for n in json.loads(r["notes"])],
            score=r["score"], max_score=r["max_score"], seconds=r["seconds"],
            graded_at=r["graded_at"], run_id=r["run_id"],
            result=json.loads(r["result"]) if r["result"] else None)
        if with_items:
            sub.items = [ItemRow(i["item"], i["title"], i["score"], i["max_score"], i["status"],
                                 i["feedback"], json.loads(i["cases"]))
                         for i in self.conn.execute(
                             "SELECT * FROM results WHERE assignment = ? AND submission = ? "
                             "ORDER BY position", (r["assignment"], r["submission"]))]
        return sub

    def submission(self, assignment: str, submission: str) -> SubmissionRow | None:
        r = self.conn.execute("SELECT * FROM submissions WHERE assignment = ? AND "
                              "submission = ?", (assignment, submission)).fetchone()
        return self._row(r, with_items=True) if r is not None else None

    def submissions(self, assignment: str, *, current: bool = True) -> list[SubmissionRow]:
        """Stored submissions with their items; ``current``: those the last run found."""
        with self.snapshot():
            keys = {k for _, k in self.members(assignment)} if current else None
            rows = self.conn.execute("SELECT * FROM submissions WHERE assignment = ? "
                                     "ORDER BY submission", (assignment,)).fetchall()
            items: dict[str, list[ItemRow]] = {}
            for i in self.conn.execute("SELECT * FROM results WHERE assignment = ? "
                                       "ORDER BY submission, position", (assignment,)):
                items.setdefault(i["submission"], []).append(
                    ItemRow(i["item"], i["title"], i["score"], i["max_score"], i["status"],
                            i["feedback"], json.loads(i["cases"])))
        out = []
        for r in rows:
            if keys is not None and r["submission"] not in keys:
                continue
            sub = self._row(r, with_items=False)
            sub.items = items.get(sub.submission, [])
            out.append(sub)
        return out

    def snapshot(self) -> _Snapshot:
        """A read transaction: everything read inside sees one consistent state."""
        return _Snapshot(self.conn)

    def assignments(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT assignment FROM submissions ORDER BY assignment")]


def _alive(pid: int) -> bool:
    """Whether a process of this machine is running (a gradebook is used on one machine)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class _Snapshot:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.mine = False

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.mine = True

    def __exit__(self, *exc: object) -> None:
        if self.mine:
            self.conn.execute("COMMIT")


def iter_students(book: Gradebook, assignment: str) -> Iterator[tuple[RosterEntry, list[str]]]:
    """Every student of the roster and every student found in a submission, with the keys
    of the submissions they count for (empty: no submission), roster order first."""
    roster = book.roster(assignment)
    by_student: dict[str, list[str]] = {}
    for student, key in book.members(assignment):
        by_student.setdefault(student, []).append(key)
    names = book.member_names(assignment)
    seen = set()
    for entry in roster:
        seen.add(entry.id)
        yield entry, by_student.get(entry.id, [])
    for student, keys in by_student.items():
        if student not in seen:
            name, email = names.get(student, ("", ""))
            yield RosterEntry(student, name, email), keys
