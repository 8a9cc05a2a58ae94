"""``grade batch --cluster``: the same grading on Dask distributed workers.

The driver (the ``grade batch`` process) stays the gradebook's only writer.  It packs the
course's files into one archive that travels to the workers inside a worker plugin (no
shared file system); each worker process unpacks it into a private folder, loads the
assignment once and starts its own runner fork server, exactly as a local pool worker
does (:mod:`grader.batch.pool`).  Submissions travel as bytes, results come back as the
same plain data a local worker sends.  A worker that dies mid-run loses nothing: the
scheduler runs its tasks again elsewhere, and each result is recorded once, when it
arrives.  ``distributed`` is optional: ``pip install 'course-grader[cluster]'``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course.submission import DEFAULT_MAX_BYTES
from grader.errors import GraderError, SubmissionError, UsageError

if TYPE_CHECKING:
    from grader.batch.gradebook import Gradebook
    from grader.batch.host import BatchHost, BatchSummary
    from grader.batch.pool import _Task

COURSE_DIRS = ("exercises", "solutions", "data")  # plus the course folder's own *.toml
START_TIMEOUT = 60.0   # seconds to reach the scheduler and see a first worker
WINDOW_PER_THREAD = 4  # submissions in flight per worker thread: memory stays flat
SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://", "inproc://")


def parse_cluster(spec: str) -> str | int:
    """``local:N`` -> N (workers of a LocalCluster here); a scheduler address as it is."""
    spec = spec.strip()
    if spec.startswith("local:"):
        n = spec[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise UsageError(f"--cluster {spec!r}: write local:N with N a number of workers "
                             "(at least 1), e.g. local:4")
        return int(n)
    if spec.startswith(SCHEMES) and len(spec.split("://", 1)[1]) > 0:
        return spec
    raise UsageError(f"--cluster {spec!r}: give a Dask scheduler's address (tcp://HOST:8786) "
                     "or local:N for N workers on this machine")


def _course_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(name in the archive, file) for what loading an assignment reads, in a fixed order."""
    for p in sorted(root.glob("*.toml")):
        yield p.name, p
    for d in COURSE_DIRS:
        for p in sorted((root / d).rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                       for part in rel.parts):
                yield rel.as_posix(), p


def course_bundle(root: Path) -> bytes:
    """The course's files as one zip archive in memory (the same bytes for the same files)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path in _course_files(root):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return buf.getvalue()


def _unpack(bundle: bytes, into: Path) -> None:
    """Unpack a course archive; names that would land outside ``into`` are refused."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        for name in z.namelist():
            dest = (into / name).resolve()
            if not str(dest).startswith(str(into.resolve()) + os.sep):
                raise GraderError(f"the course archive holds a path outside it: {name!r}")
        z.extractall(into)


try:  # the plugin's base class; without distributed only --cluster is unavailable
    from distributed.diagnostics.plugin import WorkerPlugin as _PluginBase
except ImportError:  # pragma: no cover - exercised where the extra is not installed
    _PluginBase = object  # type: ignore[assignment,misc]


class CoursePlugin(_PluginBase):  # type: ignore[misc,valid-type]
    """Held by each worker process: the unpacked course, the loaded assignment, one runner
    fork server, and a judge per worker thread (a judge's caches are not shared)."""

    def __init__(self, bundle: bytes, assignment: str, version: str, public_only: bool,
                 time_scale: float, limits: dict[str, Any] | None) -> None:
        self.bundle, self.assignment, self.version = bundle, assignment, version
        self.options: dict[str, Any] = {"public_only": public_only, "limits": limits,
                                        "time_scale": time_scale}
        self.name = plugin_name(bundle, assignment, public_only, time_scale, limits)

    async def setup(self, worker: Any = None) -> None:
        """Load off the event loop (loading prepares every hidden case: seconds)."""
        where = getattr(worker, "local_directory", None)
        await asyncio.get_running_loop().run_in_executor(None, self._load, where)

    def _load(self, where: str | None = None) -> None:
        from grader.api import Grader

        # in the worker's own folder (mode 0700), which Dask clears even after a kill
        self.folder = Path(tempfile.mkdtemp(prefix="grader-course-", dir=where))
        self.local = threading.local()
        self.grader: Any = None
        try:
            _unpack(self.bundle, self.folder)
            self.grader = Grader(self.folder, self.assignment, **self.options)
            a = self.grader.assignment
            if a.version != self.version:
                raise GraderError(f"the worker's copy of {self.assignment} has version "
                                  f"{a.version}, the driver's {self.version}")
            a.hidden()                         # prepared once, for every submission
            self.grader.server.open().close()  # a runner that cannot start: the machine's
        except BaseException:
            self.teardown()
            raise

    def for_thread(self) -> Any:
        """This thread's grader: the worker's assignment and fork server, its own judge."""
        from grader.judge.judge import Judge

        g = getattr(self.local, "grader", None)
        if g is None:
            g = copy.copy(self.grader)
            g.judge = Judge(g.assignment, g.server, time_scale=self.options["time_scale"])
            g._own_server = False   # the worker's grader closes the server, once
            self.local.grader = g
        return g

    def teardown(self, worker: Any = None) -> None:
        if getattr(self, "grader", None) is not None:
            self.grader.close()
            self.grader = None
        if getattr(self, "folder", None) is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def plugin_name(bundle: bytes, assignment: str, public_only: bool, time_scale: float,
                limits: dict[str, Any] | None) -> str:
    """One name per course content and grading options: a run never uses another's."""
    h = hashlib.sha256(bundle)
    h.update(repr((assignment, public_only, time_scale, sorted((limits or {}).items())))
             .encode())
    return f"grader-{assignment}-{h.hexdigest()[:16]}"


def grade_bytes(name: str, filename: str, data: bytes,
                timeout: float | None = None) -> dict[str, Any]:
    """A Dask task: grade one submission's bytes on this worker; the payload a local pool
    worker would send (``kind`` result or input, ``seconds``), or the one its parent
    records when the submission runs over ``timeout`` (the judge stops itself here: no
    parent can stop a worker's thread)."""
    from distributed import get_worker

    from grader.batch.pool import deadline_payload
    from grader.judge.judge import GradingDeadline

    plugin: Any = get_worker().plugins[name]
    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="grader-sub-"))
    try:
        path = scratch / filename
        path.write_bytes(data)
        try:
            result = plugin.for_thread().grade(path, within=timeout)
            payload: dict[str, Any] = {"kind": "result", "result": result.to_json()}
        except SubmissionError as e:
            payload = {"kind": "input", "message": str(e)}
        except GradingDeadline as e:
            payload = deadline_payload(e.seconds, time.perf_counter() - t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    payload["seconds"] = time.perf_counter() - t0
    return payload


# =========================================================================== the driver


def _client(where: str | int) -> tuple[Any, Any]:
    """(client, the LocalCluster it owns or None)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--cluster needs Dask's distributed: pip install "
                         "'course-grader[cluster]'") from None
    dask.config.set({"distributed.worker.daemon": False})  # workers start fork servers
    if isinstance(where, int):
        cluster = LocalCluster(n_workers=where, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        return Client(cluster), cluster
    try:
        client = Client(where, timeout=START_TIMEOUT)
    except (OSError, TimeoutError) as e:
        raise UsageError(f"cannot reach the Dask scheduler at {where} ({e}): start one with "
                         "`dask scheduler` and workers with `dask worker ADDRESS`") from None
    return client, None


def _read(task: _Task) -> tuple[str, bytes] | None:
    """(file name, bytes) to send, or None when the file is over the submission limit
    (the driver then reads it itself: load_source gives the one-line error)."""
    try:
        if task.path.stat().st_size > DEFAULT_MAX_BYTES:
            return None
        return task.path.name, task.path.read_bytes()
    except OSError:
        return None


def _local_payload(task: _Task) -> dict[str, Any]:
    from grader.course.submission import load_source

    try:
        load_source(task.path)
        message = f"{task.path.name}: cannot be read"
    except SubmissionError as e:
        message = str(e)
    return {"kind": "input", "message": message, "seconds": 0.0}


def _crash(task: _Task, e: BaseException) -> dict[str, Any]:
    return {"kind": "crash", "reason": "worker", "seconds": 0.0,
            "message": f"the grader failed on this submission on the cluster "
                       f"({type(e).__name__}: {str(e)[:300]}); re-run to try again"}


def grade_on_cluster(run: BatchHost, book: Gradebook, tasks: list[_Task], run_id: int,
                     summary: BatchSummary, tick: Callable[[str, str], None]) -> None:
    """Grade ``tasks`` on the cluster ``run.cluster``; record each result as it arrives."""
    a = run.assignment
    client, cluster = _client(parse_cluster(str(run.cluster)))
    plugin = CoursePlugin(course_bundle(Path(a.root)), run.name, a.version, run.public_only,
                          run.time_scale, run.limits)
    try:
        try:
            client.wait_for_workers(1, timeout=START_TIMEOUT)
        except (TimeoutError, OSError):
            raise GraderError(f"the Dask scheduler at {run.cluster} has no workers: start "
                              "some with `dask worker ADDRESS`") from None
        try:
            client.register_plugin(plugin, name=plugin.name)
        except Exception as e:  # noqa: BLE001 - any failure to load is one line
            raise GraderError(f"the cluster's workers cannot load {run.name}: "
                              f"{type(e).__name__}: {e}") from None
        _drive(client, plugin.name, run, book, tasks, run_id, summary, tick)
    finally:
        try:
            client.unregister_worker_plugin(plugin.name)  # workers drop the course
        except Exception:  # noqa: BLE001, S110 - never registered, or the cluster is gone
            pass
        client.close()
        if cluster is not None:
            cluster.close()


def _drive(client: Any, name: str, run: BatchHost, book: Gradebook, tasks: list[_Task],
           run_id: int, summary: BatchSummary, tick: Callable[[str, str], None]) -> None:
    """Keep a bounded window of submissions in flight; the driver alone writes results."""
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    window = max(2, WINDOW_PER_THREAD * threads)
    queue = list(reversed(tasks))
    running = as_completed()
    owner: dict[str, _Task] = {}

    def submit() -> None:
        while queue and len(owner) < window:
            task = queue.pop()
            if not run._still_due(book, task, summary, tick):
                continue
            sent = _read(task)
            if sent is None:
                run._finish(book, task, _local_payload(task), run_id, summary, tick)
                continue
            fut = client.submit(grade_bytes, name, sent[0], sent[1], run.timeout,
                                pure=False, retries=1,
                                key=f"grade-{task.hash[:16]}-{task.id}-{os.urandom(4).hex()}")
            owner[fut.key] = task
            running.add(fut)

    submit()
    for fut in running:
        task = owner.pop(fut.key)
        try:
            payload = fut.result()
        except Exception as e:  # noqa: BLE001 - KilledWorker after repeated deaths, ...
            payload = _crash(task, e)
        run._finish(book, task, payload, run_id, summary, tick)
        fut.release()
        submit()
