"""`grade batch --cluster`: the same grading on Dask workers (issue 16).

One LocalCluster of two worker processes serves the module (started as a TA would start
`dask worker`s, reached by its tcp:// address); a class graded on it is compared, row by
row, with the same class graded by the local pool, and a run in which one worker is
killed mid-run still stores every submission once, with the local run's result.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE, ROOT, STUB

from grader.batch.gradebook import Gradebook
from grader.batch.run import run_batch

distributed = pytest.importorskip("distributed")

REF = REFERENCE.read_text(encoding="utf-8")


def make_class(folder: Path, n_correct: int) -> Path:
    """Correct submissions (each distinct), a slip, a stub, an empty file, a crash at import."""
    folder.mkdir(parents=True)
    for i in range(n_correct):
        (folder / f"ok{i}.py").write_text(f"# student {i}\n{REF}", encoding="utf-8")
    (folder / "slip.py").write_text(REF + "\n\ndef xi2(xi1):\n    return np.exp(-np.asarray("
                                    "xi1))\n", encoding="utf-8")
    (folder / "stub.py").write_text(STUB.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.py").write_text("", encoding="utf-8")
    (folder / "boom.py").write_text("raise RuntimeError('boom at import')\n", encoding="utf-8")
    return folder


def stored(db: Path) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every gradebook row but what differs between any two runs (times, run ids)."""
    out = []
    for s in Gradebook(db).submissions("hw1", current=False):
        row = {k: v for k, v in vars(s).items()
               if k not in ("items", "seconds", "graded_at", "run_id")}
        if row["result"]:
            row["result"] = {k: v for k, v in row["result"].items() if k != "seconds"}
        out.append((row, [vars(i) for i in s.items]))
    return out


@pytest.fixture(scope="module")
def cluster() -> Any:
    import dask

    dask.config.set({"distributed.worker.daemon": False})
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=":0", silence_logs=logging.CRITICAL)
    client = distributed.Client(c)
    yield c, client
    client.close()
    c.close()


@pytest.fixture(scope="module")
def local_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The class, graded by the local pool: what a cluster run must reproduce."""
    base = tmp_path_factory.mktemp("local")
    subs = make_class(base / "subs", 3)
    db = base / "local.sqlite"
    run_batch("hw1", subs, course=ROOT, db=db, workers=2)
    return subs, db


def test_a_cluster_run_gives_the_local_run_s_gradebook(local_book, tmp_path):
    """Through the command, on a LocalCluster of two workers the run starts and stops."""
    subs, local_db = local_book
    db = tmp_path / "cluster.sqlite"
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "batch", "hw1", str(subs),
                           "--db", str(db), "--cluster", "local:2", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "this run: graded 7," in proc.stdout and "2 could not be graded" in proc.stdout
    assert "Traceback" not in proc.stderr
    ours, theirs = stored(db), stored(local_db)
    assert [r["submission"] for r, _ in ours] == ["boom", "empty", "ok0", "ok1", "ok2",
                                                  "slip", "stub"]
    assert ours == theirs
    scores = {r["submission"]: r["score"] for r, _ in ours}
    assert scores["ok0"] == 100.0 and scores["stub"] == 0.0 and 0 < scores["slip"] < 100


def test_a_submission_over_the_timeout_is_recorded_as_on_the_local_pool(cluster, tmp_path):
    """No parent can stop a worker's thread: the judge stops itself (Judge.grade's
    ``within``) and the run records what the local pool records."""
    c, _client = cluster
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ok.py").write_text(f"# ok\n{REF}", encoding="utf-8")
    (subs / "hangs.py").write_text(REF + "\n\ndef perceptron(X, y, n_epochs):\n"
                                   "    while True:\n        pass\n"
                                   "def neuron_accuracy(X, y, W):\n    while True:\n"
                                   "        pass\n", encoding="utf-8")
    summary = run_batch("hw1", subs, course=ROOT, db=tmp_path / "t.sqlite", time_scale=10,
                        timeout=3.0, cluster=c.scheduler_address)
    assert len(summary.errors) == 1
    assert summary.errors[0].startswith("hangs") and "took over 3 s" in summary.errors[0]


def test_a_worker_killed_mid_run_loses_nothing(cluster, local_book, tmp_path):
    c, client = cluster
    subs, local_db = local_book
    db = tmp_path / "killed.sqlite"
    killed: list[int] = []

    def kill_one(progress: Any) -> None:
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    summary = run_batch("hw1", subs, course=ROOT, db=db, cluster=c.scheduler_address,
                        progress=kill_one)
    assert killed, "no worker was busy after the first result"
    assert summary.graded == 7 and len(summary.errors) == 2
    assert stored(db) == stored(local_db)
    with Gradebook(db) as book:
        n = book.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        items = book.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert n == 7 and items == 7 * 17
    # the workers dropped the course when the run ended (the plugin is unregistered)
    plugins = client.run(lambda dask_worker: [n for n in dask_worker.plugins
                                              if n.startswith("grader-")])
    assert plugins and all(not names for names in plugins.values())


@pytest.mark.parametrize("spec, words", [
    ("local:0", "local:N"), ("localhost:8786", "tcp://HOST:8786"), ("tcp://", "tcp://HOST"),
    ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
])
def test_a_bad_or_unreachable_cluster_is_one_line_exit_2(spec, words, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader.batch import cluster as mod
    from grader.cli.main import main

    monkeypatch.setattr(mod, "START_TIMEOUT", 2.0)
    (tmp_path / "a.py").write_text(REF, encoding="utf-8")
    res = CliRunner().invoke(main, ["batch", "hw1", str(tmp_path), "--course", str(ROOT),
                                    "--db", str(tmp_path / "g.sqlite"), "--cluster", spec])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], res.output
