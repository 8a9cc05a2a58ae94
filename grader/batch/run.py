"""``grade batch``: grade a class's submissions in parallel into the gradebook.

A submission is graded once and its score goes to every member; the parent is the
gradebook's only writer, one transaction per submission, so a run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.batch.claims import Claims
from grader.batch.discover import (
    LAYOUTS,
    MAX_GROUP,
    Discovery,
    Found,
    check_groups,
    detect_layout,
    discover,
)
from grader.batch.gradebook import Gradebook, ItemRow, SubmissionRow, now
from grader.batch.host import BatchSummary, Progress
from grader.batch.pool import _Task, cores
from grader.batch.records import _error_hash, content_hash, fatal_message
from grader.batch.roster import match_roster, one_id_each, read_roster
from grader.errors import UsageError
from grader.result import Note

DEFAULT_TIMEOUT = 600.0


# =========================================================================== the run


class BatchRun:
    """One ``grade batch``: discovery, the gradebook's bookkeeping, the workers."""

    def __init__(self, assignment: str, folder: Path, *, course: Path | None = None,
                 db: Path = Path("gradebook.sqlite"), roster: Path | None = None,
                 layout: str | None = None, workers: int | None = None, force: bool = False,
                 time_scale: float = 1.0, timeout: float = DEFAULT_TIMEOUT,
                 max_group: int = MAX_GROUP, public_only: bool = False,
                 limits: dict[str, Any] | None = None,
                 progress: Callable[[Progress], None] | None = None,
                 cluster: str | None = None) -> None:
        from grader.api import load_assignment

        if cluster is not None:
            from grader.batch.cluster import parse_cluster

            parse_cluster(cluster)   # a bad address is the TA's slip: said before any work
        folder = Path(folder)
        if not folder.is_dir():   # the TA's slips first, before the assignment loads
            discover(folder, assignment, layout)
        if layout is not None and layout not in LAYOUTS:
            raise UsageError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        self.roster = read_roster(Path(roster)) if roster else None
        self.assignment = load_assignment(assignment, course, public_only=public_only)
        self.name = assignment
        self.folder = Path(folder)
        self.db = Path(db)
        self.roster_path = Path(roster) if roster else None
        self.layout = layout
        if workers is not None and workers < 1:
            raise UsageError("--workers must be at least 1")
        self.workers = workers or cores()
        self.force = force
        self.time_scale = time_scale
        self.timeout = timeout
        self.max_group = max_group
        self.public_only = public_only
        self.limits = limits
        self.progress = progress
        self.cluster = cluster   # a Dask scheduler's address or local:N (grader.batch.cluster)
        self._layout = layout or ""

    # ------------------------------------------------------------------ records
    def _record(self, book: Gradebook, f: Found, hash_: str, run_id: int, *,
                result: dict[str, Any] | None = None, status: str = "graded",
                reason: str = "", message: str = "", seconds: float = 0.0) -> str:
        a = self.assignment
        notes = list(f.notes)
        if result is not None:   # Result.to_json(), as the worker sent it
            fatal = fatal_message(result)
            if fatal:
                status, reason, message = "error", "import", fatal
            notes += [n for n in map(Note.from_json, result["notes"]) if n not in notes]
            items = [ItemRow(i["id"], i["title"], i["score"], i["max_score"], i["status"],
                             i["feedback"], i["cases"]) for i in result["items"]]
            score, max_score = result["score"], result["max_score"]
            version = result["version"]
        else:
            items = [ItemRow(it.id, it.title, 0.0, float(it.points), "error", message)
                     for it in a.items]
            score, max_score, version = 0.0, float(sum(it.points for it in a.items)), a.version
        header = {k: v for k, v in result.items() if k != "items"} if result else None
        if header is not None and f.path is not None:   # a copy names this student's file
            header["submission"] = f.path.name
        book.record(SubmissionRow(
            assignment=self.name, submission=f.key, layout=self._layout, path=str(f.path or ""),
            file=f.path.name if f.path else "", members=[m.id for m in f.members], hash=hash_,
            version=version, status=status, reason=reason, message=message, notes=notes,
            score=score, max_score=max_score, seconds=seconds, graded_at=now(), run_id=run_id,
            result=header, items=items))
        return status

    # ------------------------------------------------------------------ run
    def run(self) -> BatchSummary:
        t0 = time.perf_counter()
        roster = self.roster
        exclude = [self.db, Path(str(self.db) + "-wal"), Path(str(self.db) + "-shm")]
        if self.roster_path:
            exclude.append(self.roster_path)
        disc = discover(self.folder, self.name, self.layout, exclude=exclude,
                        max_group=self.max_group)
        self._check_layout(disc)
        self._layout = disc.layout
        unmatched = match_roster(disc.found, roster) if roster is not None else []
        one_id_each(disc.found)
        # ... and show a student in two submissions only now
        check_groups(disc.found, self.max_group)
        book = Gradebook(self.db)
        version = self.assignment.version
        run_id = book.start_run(self.name, str(self.folder.resolve()), disc.layout, version)
        summary = BatchSummary(self.name, disc.layout, self.db, run_id, found=len(disc.found),
                               unmatched=unmatched, ignored=disc.ignored)
        self.summary = summary   # what a caller reads when the run is interrupted
        self.claims = Claims(book, self.name, run_id)
        summary.shared_with = self.claims.other_runs()
        try:
            if roster is not None:
                book.set_roster(self.name, roster)
            book.set_members(self.name, [(m.id, f.key, m.name, m.email)
                                         for f in disc.found for m in f.members])
            if roster is not None:
                have = {m.id for f in disc.found for m in f.members}
                summary.no_submission = [e.id for e in roster if e.id not in have]
            self._grade_all(book, disc, run_id, summary)
        except KeyboardInterrupt:
            summary.interrupted = True
            self.claims.release()
            book.finish_run(run_id, "interrupted", summary.counts())
            book.close()
            raise
        summary.seconds = time.perf_counter() - t0
        self.claims.release()
        book.finish_run(run_id, "done", summary.counts())
        book.close()
        return summary

    def _check_layout(self, disc: Discovery) -> None:
        """A layout given with --layout that finds nothing where another layout would is the
        TA's slip: say which layout the folder has instead of grading nothing."""
        if self.layout is None or disc.found or not disc.ignored:
            return
        detected = detect_layout(self.folder)
        if detected != self.layout:
            raise UsageError(f"--layout {self.layout} finds no submissions in {self.folder}: "
                             f"it is laid out as {detected} ({len(disc.ignored)} entries "
                             f"such as {disc.ignored[0]}); pass --layout {detected} or leave "
                             "--layout out")

    def _grade_all(self, book: Gradebook, disc: Discovery, run_id: int,
                   summary: BatchSummary) -> None:
        total = len(disc.found)
        done = 0
        if self.progress:   # the bar shows from the start, not after the first submission
            self.progress(Progress(0, total, "", "starting"))

        def tick(key: str, status: str) -> None:
            nonlocal done
            done += 1
            if self.progress:
                self.progress(Progress(done, total, key, status))

        groups = self._changed(book, disc, run_id, summary, tick)
        tasks = self._tasks(book, groups, run_id, summary, tick)
        if tasks and self.cluster is not None:   # the one place a run picks its workers
            from grader.batch.cluster import grade_on_cluster

            grade_on_cluster(self, book, tasks, run_id, summary, tick)
        elif tasks:
            from grader.batch.schedule import LocalPool

            LocalPool(self, book, run_id, summary, tick).run(tasks)

    def _changed(self, book: Gradebook, disc: Discovery, run_id: int, summary: BatchSummary,
                 tick: Callable[[str, str], None]) -> dict[str, list[Found]]:
        """The submissions to grade, by content hash; what needs no grading is recorded
        (unreadable ones) or counted (unchanged ones) here."""
        version = self.assignment.version
        groups: dict[str, list[Found]] = {}
        for f in disc.found:
            for n in f.notes:
                summary.notes.append(f"{f.key}: {n}")
            if f.error:
                h = _error_hash(f.error, f.path)
                if self.force or not book.up_to_date(self.name, f.key, h, version):
                    self._record(book, f, h, run_id, status="error", reason=f.reason,
                                 message=f.error)
                summary.errors.append(f"{f.key}: {f.error}")
                tick(f.key, "error")
                continue
            assert f.path is not None
            h = content_hash(f.path)
            if not self.force and book.up_to_date(self.name, f.key, h, version):
                summary.unchanged += 1
                row = book.submission(self.name, f.key)
                if row is not None and row.status == "error":
                    summary.errors.append(f"{f.key}: {row.message}")
                tick(f.key, "unchanged")
                continue
            groups.setdefault(h, []).append(f)

        return groups

    def _tasks(self, book: Gradebook, groups: dict[str, list[Found]], run_id: int,
               summary: BatchSummary, tick: Callable[[str, str], None]) -> list[_Task]:
        """One task per content; content the gradebook already graded is copied instead."""
        version = self.assignment.version
        tasks: list[_Task] = []
        for h, fs in groups.items():
            if not self.force:
                same = book.same_content(self.name, h, version)
                if same is not None:
                    for f in fs:
                        status = self._record(book, f, h, run_id, result=same.result_dict(),
                                              seconds=same.seconds)
                        summary.copied += 1
                        self._count(book, f, summary, status)
                        tick(f.key, status)
                    continue
            assert fs[0].path is not None
            tasks.append(_Task(len(tasks), fs[0].path, h, fs))
        return tasks

    def _count(self, book: Gradebook, f: Found, summary: BatchSummary, status: str) -> None:
        if status == "error":
            row = book.submission(self.name, f.key)
            summary.errors.append(f"{f.key}: {row.message if row else 'error'}")

    def _finish(self, book: Gradebook, task: _Task, payload: dict[str, Any], run_id: int,
                summary: BatchSummary, tick: Callable[[str, str], None]) -> None:
        kind = payload["kind"]
        for f in task.found:
            if kind == "result":
                status = self._record(book, f, task.hash, run_id, result=payload["result"],
                                      seconds=payload["seconds"])
            elif kind == "input":
                status = self._record(book, f, task.hash, run_id, status="error",
                                      reason="input", message=payload["message"],
                                      seconds=payload["seconds"])
            else:
                status = self._record(book, f, task.hash, run_id, status="error",
                                      reason=payload.get("reason", "worker"),
                                      message=payload["message"], seconds=payload["seconds"])
            if f is task.found[0]:
                summary.graded += 1
            else:   # identical content in this run: graded once, counted as a copy
                summary.copied += 1
            self._count(book, f, summary, status)
            tick(f.key, status)

    def _still_due(self, book: Gradebook, task: _Task, summary: BatchSummary,
                   tick: Callable[[str, str], None]) -> bool:
        """Keep in ``task`` the members still to grade (another run may have graded some
        meanwhile: they count as unchanged); False when none is left."""
        fresh = [f for f in task.found if self.force
                 or not book.up_to_date(self.name, f.key, task.hash, self.assignment.version)]
        for f in task.found:
            if f not in fresh:
                summary.unchanged += 1
                summary.left_to_other += 1
                tick(f.key, "unchanged")
        task.found = fresh or task.found
        return bool(fresh)

    def _claim(self, book: Gradebook, task: _Task, run_id: int, summary: BatchSummary,
               tick: Callable[[str, str], None], waiting: list[_Task]) -> bool:
        """Whether to grade ``task`` now: not when another run graded it meanwhile (then it
        is taken from the gradebook), nor while another run is grading it (then it waits)."""
        if not self._still_due(book, task, summary, tick):
            return False
        version = self.assignment.version
        fresh = task.found
        if task.attempts == 0 and not self.claims.take(task.hash, version):
            waiting.append(task)
            return False
        same = None if self.force else book.same_content(self.name, task.hash, version)
        if same is not None:   # another run graded this content under other names
            for f in fresh:
                status = self._record(book, f, task.hash, run_id, result=same.result_dict(),
                                      seconds=same.seconds)
                summary.copied += 1
                summary.left_to_other += 1
                self._count(book, f, summary, status)
                tick(f.key, status)
            return False
        return True

def run_batch(assignment: str, folder: str | Path, **options: Any) -> BatchSummary:
    """Grade every submission in ``folder`` into the gradebook; see :class:`BatchRun`."""
    return BatchRun(assignment, Path(folder), **options).run()
