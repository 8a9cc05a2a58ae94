"""The worker processes of a batch: each holds one loaded assignment (hidden cases
prepared once) and one runner fork server, and grades the submissions it is sent.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.discover import Found
from grader.errors import SubmissionError

# =========================================================================== workers


def _worker_main(conn: Any, root: str, assignment: str, public_only: bool,
                 time_scale: float, limits: dict[str, Any] | None,
                 cpu: int | None = None) -> None:
    """A worker: one loaded assignment, one fork server, grading what the parent sends;
    on a core of its own where the parent gave one (its fork server and runners too)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when to stop
    from grader.api import Grader
    from grader.sandbox.affinity import pin

    pin(cpu)

    try:
        grader = Grader(Path(root), assignment, public_only=public_only, limits=limits,
                        time_scale=time_scale)
        grader.assignment.hidden()      # prepared once, for every submission
        grader.server.open().close()    # a runner that cannot start is the machine's problem
    except Exception as e:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("fatal", f"{e}"))
        return
    conn.send(("ready", grader.assignment.version))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg is None:
            break
        task_id, path = msg
        t0 = time.perf_counter()
        try:
            payload: dict[str, Any] = {"kind": "result",
                                       "result": grader.grade(Path(path)).to_json()}
        except SubmissionError as e:
            payload = {"kind": "input", "message": str(e)}
        except Exception as e:  # noqa: BLE001 - the runner machinery failed
            conn.send(("crash", task_id, f"{type(e).__name__}: {e}"))
            break   # the parent retries the submission in a fresh worker
        payload["seconds"] = time.perf_counter() - t0
        try:
            conn.send(("done", task_id, payload))
        except (BrokenPipeError, OSError):
            break
    grader.close()


class _Worker:
    def __init__(self, ctx: Any, args: tuple[Any, ...], cpu: int | None = None) -> None:
        self.cpu = cpu
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, *args, cpu), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.task: _Task | None = None
        self.since = 0.0

    def kill(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


@dataclass
class _Task:
    id: int
    path: Path
    hash: str
    found: list[Found]
    attempts: int = 0
    last_error: str = ""


def deadline_payload(timeout: float, seconds: float) -> dict[str, Any]:
    """What a submission that ran over the batch's ``--timeout`` records."""
    from grader.judge.judge import GradingDeadline

    return {"kind": "crash", "reason": "deadline", "seconds": seconds,
            "message": str(GradingDeadline(timeout))}


def cores() -> int:
    """The cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context() -> Any:
    import multiprocessing as mp

    if sys.platform.startswith("linux") and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["grader.batch.pool", "grader.api", "grader.judge.judge",
                                    "grader.course.spec", "grader.course.prepare",
                                    "grader.course.submission"])
        return ctx
    return mp.get_context("spawn")
