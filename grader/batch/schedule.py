"""Scheduling a batch on this machine's worker processes: hand out submissions, collect
results, replace workers that die or overrun, and stop them all on an interrupt.

The parent stays the gradebook's only writer: results go back to the run (``finish``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from grader.batch.gradebook import Gradebook
from grader.batch.pool import _context, _Task, _Worker, deadline_payload
from grader.errors import GraderError
from grader.sandbox.affinity import allowed

if TYPE_CHECKING:
    from grader.batch.host import BatchHost, BatchSummary


class LocalPool:
    """The worker processes of one batch run, and the submissions they have to grade."""

    def __init__(self, run: BatchHost, book: Gradebook, run_id: int, summary: BatchSummary,
                 tick: Callable[[str, str], None]) -> None:
        self.run_, self.book, self.run_id = run, book, run_id
        self.summary, self.tick = summary, tick
        self.ctx = _context()
        self.args = (str(run.assignment.root), run.name, run.public_only, run.time_scale,
                     run.limits)
        self.queue: list[_Task] = []
        self.waiting: list[_Task] = []   # claimed by another run: looked at again later
        self.pool: list[_Worker] = []
        self.failures = 0

    def run(self, tasks: list[_Task]) -> None:
        self.queue = list(tasks)
        n = min(self.run_.workers, len(tasks))
        cpus = allowed()
        self.pool = [_Worker(self.ctx, self.args, cpus[i] if n <= len(cpus) else None)
                     for i in range(n)]
        try:
            while self.queue or self.waiting or any(w.task for w in self.pool):
                if not self.queue and self.waiting:
                    self.queue, self.waiting = self.waiting, []
                self._dispatch()
                self._collect()
                self._enforce_deadlines()
                if self.failures > 3 * self.run_.workers + 3:
                    raise GraderError("grading workers keep dying: check that the course's "
                                      "solutions import, and the machine's memory")
        except BaseException:
            for w in self.pool:   # interrupted: stop at once, the gradebook holds whole results
                w.kill()
            raise
        self._shutdown()

    def _finish(self, task: _Task, payload: dict[str, Any]) -> None:
        self.run_._finish(self.book, task, payload, self.run_id, self.summary, self.tick)

    def _dispatch(self) -> None:
        """Give each idle worker the next submission this run may grade now."""
        for w in self.pool:
            while w.ready and w.task is None and self.queue:
                task = self.queue.pop(0)
                if not self.run_._claim(self.book, task, self.run_id, self.summary, self.tick,
                                        self.waiting):
                    continue
                task.attempts += 1
                w.task, w.since = task, time.monotonic()
                try:
                    w.conn.send((task.id, str(task.path)))
                except (BrokenPipeError, OSError):
                    pass   # its death is noticed by _collect

    def _collect(self) -> None:
        """What the workers sent, or that one of them died, within half a second."""
        waits: dict[Any, _Worker] = {w.conn: w for w in self.pool}
        waits.update({w.proc.sentinel: w for w in self.pool})
        ready: list[Any] = wait(list(waits), timeout=0.5)
        for obj in ready:
            w = waits[obj]
            if w not in self.pool:
                continue
            msg: Any = None
            conn: Any = w.conn
            if obj is conn:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    msg = None
            if msg is None:
                if obj is conn or not w.proc.is_alive():
                    self._replace(w)
                continue
            if msg[0] == "ready":
                w.ready = True
            elif msg[0] == "fatal":
                raise GraderError(f"the grading workers cannot start: {msg[1]}")
            elif msg[0] == "done" and w.task is not None:
                task, w.task = w.task, None
                self._finish(task, msg[2])
            elif msg[0] == "crash" and w.task is not None:
                w.task.last_error = str(msg[2])
                self._replace(w)

    def _enforce_deadlines(self) -> None:
        """A submission over the whole-submission limit is recorded as such; its worker goes."""
        now = time.monotonic()
        for w in list(self.pool):
            if w.task is not None and now - w.since > self.run_.timeout:
                task, w.task = w.task, None
                self._finish(task, deadline_payload(self.run_.timeout, now - w.since))
                self._replace(w, failure=False)

    def _replace(self, w: _Worker, failure: bool = True) -> None:
        """A worker died (or was stopped): retry its submission once, start another."""
        task, w.task = w.task, None
        w.kill()
        self.pool.remove(w)
        if task is not None:
            if task.attempts < 2:
                self.queue.insert(0, task)
            else:
                why = f" ({task.last_error})" if task.last_error else ""
                self._finish(task, {
                    "kind": "crash", "reason": "worker", "seconds": 0.0,
                    "message": "the grader failed twice on this submission" + why[:300]
                               + "; re-run to try again"})
        if self.queue:  # a fresh worker on the dead one's core
            self.pool.append(_Worker(self.ctx, self.args, w.cpu))
        self.failures += failure

    def _shutdown(self) -> None:
        for w in self.pool:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 5
        for w in self.pool:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            w.kill()
