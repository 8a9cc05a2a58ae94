"""How fast `grade batch` grades a class: submissions per second and peak memory.

Generates N distinct submissions of hw1 (a mix of correct ones, ones with a typical slip,
and ones that crash: at import, with a syntax error, exiting or killing their own process
inside a function), grades them into a fresh gradebook with isolation on (every submission
in its own forked, confined runner), and prints:

- submissions per second, over the whole run (workers' start included) and once the
  workers are up;
- CPU time per submission, of the workers and of the parent: the figure that sets the
  rate on a given number of cores, and steadier than the rate on a shared machine;
- peak memory of the whole process tree (parent, workers, fork servers, runners), sampled
  every second from /proc: as PSS (pages shared after a fork counted once) and as the sum
  of each process's RSS (shared pages counted in every process), and the parent's own;
- the mean grading time of each kind of submission;
- with ``--correct``, CPU per submission against the floor of this design
  (``benchmarks/floor.py``) measured just before and just after; with ``--rounds K`` the
  class is graded K times, each into a fresh gradebook, a floor between rounds, and the
  median of the rounds' ratios is printed too.

Every submission differs (a comment names the student), so nothing is reused by content.

    python benchmarks/bench_batch.py [--n 500] [--workers 2] [--hang 0] [--keep DIR]
                                     [--correct] [--rounds K]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORRECT = {"correct": ""}
BROKEN = {
    "sign slip": "def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n",
    "mean for sum": ("def bce_loss(y, p):\n    y = np.asarray(y, float); p = np.asarray(p, float)\n"
                     "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))\n"),
    "wrong xi2": "def xi2(xi1):\n    return np.exp(-np.asarray(xi1))\n",
    "missing perceptron": "del perceptron\n",
    "sigmoid raises": "def sigmoid(h):\n    raise ValueError('oops')\n",
    "wrong minibatches": ("def minibatches(n, batch_size, rng):\n"
                          "    idx = np.arange(n)\n"
                          "    return [idx[i:i + batch_size] for i in range(0, n, batch_size)]\n"),
    "not implemented": "def mlp_backward(params, cache, y):\n    raise NotImplementedError\n",
}
CRASHING = {
    "raise at import": "raise RuntimeError('boom at import')\n",
    "syntax error": "def broken(:\n    pass\n",
    "os._exit in a function": "import os\ndef minibatches(n, batch_size, rng):\n    os._exit(3)\n",
    "kills itself": ("import os, signal\ndef sigmoid(h):\n"
                     "    os.kill(os.getpid(), signal.SIGKILL)\n"),
    "garbage output": ("import sys\ndef xi1(W, X):\n    sys.stdout.write('\\x00\\xff' * 100000)\n"
                       "    return object()\n"),
}
HANG = {"hangs": "def perceptron(X, y, n_epochs):\n    while True:\n        pass\n"}


def make_class(folder: Path, n: int, seed: int = 0, hang: float = 0.0,
               correct: bool = False) -> dict[str, str]:
    """``n`` submissions ``s0000.py`` ...: 40% correct, 40% with a slip, 20% crashing
    (``correct``: all correct)."""
    rng = random.Random(seed)
    reference = (ROOT / "solutions" / "hw1.py").read_text(encoding="utf-8")
    kinds: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        r = rng.random()
        if correct:
            pool = CORRECT
        elif r < hang:
            pool = HANG
        elif r < 0.4:
            pool = CORRECT
        elif r < 0.8:
            pool = BROKEN
        else:
            pool = CRASHING
        kind = rng.choice(sorted(pool))
        key = f"s{i:04d}"
        (folder / f"{key}.py").write_text(
            f"# submission of student {key}\n{reference}\n\n{pool[kind]}", encoding="utf-8")
        kinds[key] = kind
    return kinds


def _pss(pid: int) -> int:
    """Proportional set size (bytes): shared pages (fork's copy-on-write) counted once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def _tree(root_pid: int, cpu: dict[int, float], with_pss: bool = True) -> tuple[int, int]:
    """(RSS, PSS) in bytes of ``root_pid`` and all its descendants, from /proc.

    Also updates ``cpu`` (pid -> seconds): each process's own CPU time, and for the fork
    servers the CPU time of the runners they have reaped (a runner lives a fraction of a
    second, too short to sample; the ones alive now are counted when reaped).
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    times: dict[int, tuple[float, float]] = {}
    fork_servers: set[int] = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="utf-8") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            ppid = int(fields[1])
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            times[int(d)] = ((int(fields[11]) + int(fields[12])) / TICK,
                             (int(fields[13]) + int(fields[14])) / TICK)
            children.setdefault(ppid, []).append(int(d))
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\x00")
            if (b"python" in argv[0] and b"grader.runner" in argv
                    and argv[argv.index(b"grader.runner") + 1:][:1] == [b"fork-server"]):
                fork_servers.add(int(d))  # (bubblewrap's own command line names it too)
        except (OSError, ValueError, IndexError):
            continue
    total, pss, todo = 0, 0, [root_pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        pss += _pss(p) if with_pss else 0
        todo += children.get(p, [])
        if p != root_pid and p in times:
            own, reaped = times[p]
            is_runner = any(p in children.get(z, []) for z in fork_servers)
            if not is_runner:
                cpu[p] = max(cpu.get(p, 0.0), own + (reaped if p in fork_servers else 0.0))
    return total, pss


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self.own_cpu = 0.0  # this thread's: not the parent's work
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            try:  # PSS (smaps_rollup) is costly to read: once a second
                rss, pss = _tree(os.getpid(), self.cpu, with_pss=n % 4 == 0)
                self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            except OSError:
                pass
            n += 1
            self.own_cpu = time.thread_time()
            self.stop.wait(0.25)


def _round(folder: Path, db: Path, kinds: dict[str, str], args: argparse.Namespace
           ) -> dict[str, object]:
    """One `grade batch` of ``folder`` into a fresh gradebook ``db``, sampled as it runs."""
    import resource

    from grader.batch.gradebook import Gradebook
    from grader.batch.run import run_batch

    first: list[float] = []
    at_first: list[float] = []  # the workers' CPU when the first result came (their start)

    def progress(p: object) -> None:
        if not first:
            first.append(time.perf_counter())
            at_first.append(sum(sampler.cpu.values()))

    sampler = Sampler()
    sampler.start()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    summary = run_batch("hw1", folder, course=ROOT, db=db, workers=args.workers,
                        progress=progress, cluster=args.cluster)
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    steady = time.perf_counter() - first[0] if first else wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    parent_cpu = (after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
                  - sampler.own_cpu)
    with Gradebook(db, create=False) as book:
        times = book.conn.execute("SELECT submission, seconds FROM submissions").fetchall()
    by_kind: dict[str, list[float]] = {}
    for key, seconds in times:
        by_kind.setdefault(kinds[key], []).append(seconds)
    workers_cpu = sum(sampler.cpu.values())
    running = (workers_cpu - (at_first[0] if at_first else 0.0)) / max(summary.found - 1, 1)
    return {"summary": summary, "wall": wall, "steady": steady, "sampler": sampler,
            "parent_cpu": parent_cpu, "parent_peak": after.ru_maxrss * 1024,
            "workers_cpu": workers_cpu, "by_kind": by_kind,
            "per": running + parent_cpu / max(summary.found, 1)}


def _report(got: dict[str, Any], before: dict[str, float], after: dict[str, float],
            workers: int | None, args: argparse.Namespace) -> None:
    from floor import describe

    summary, wall, sampler = got["summary"], got["wall"], got["sampler"]
    found = max(summary.found, 1)
    print(f"graded {summary.graded} submissions ({len(summary.errors)} errors) with "
          f"{workers} workers on {os.cpu_count()} cores in {wall:.1f} s")
    print(f"  {summary.graded / wall:.1f} submissions/s overall (workers' start included), "
          f"{max(summary.graded - 1, 0) / got['steady']:.1f}/s once running")
    print(f"  peak memory of the whole process tree: {sampler.peak_pss / 2**20:.0f} MB "
          f"(PSS: shared pages once), {sampler.peak / 2**20:.0f} MB summing each process's "
          f"RSS; the parent alone {got['parent_peak'] / 2**20:.0f} MB")
    print(f"  CPU per submission: {1000 * got['workers_cpu'] / found:.0f} ms in the "
          "workers (judges, fork servers, runners; sampled from /proc), "
          f"{1000 * got['parent_cpu'] / found:.1f} ms in the parent (discovery, "
          "hashing, the gradebook)")
    print(f"  the floor of this design, measured before the run: {describe(before)}")
    print(f"  and after it: {describe(after)}")
    print(f"  CPU per {'correct ' if args.correct else ''}submission once the workers are up "
          f"(workers and parent) {1000 * got['per']:.1f} ms = "
          f"{got['ratio']:.2f} x the lower floor (target within 1.3 x"
          + (")" if args.correct else "; only meaningful with --correct)"))
    try:
        print(f"  load average when done: {os.getloadavg()[0]:.2f} (other work on the machine "
              "slows this down)")
    except OSError:
        pass
    print("  mean seconds per submission, by kind (one worker's time):")
    for kind, secs in sorted(got["by_kind"].items(), key=lambda kv: -statistics.fmean(kv[1])):
        print(f"    {kind:<24} {statistics.fmean(secs):6.3f} s  x{len(secs)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--workers", type=int, default=None, help="default: the number of cores")
    ap.add_argument("--hang", type=float, default=0.0,
                    help="fraction of submissions with an infinite loop (each costs a timeout)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--correct", action="store_true",
                    help="every submission correct: CPU per correct submission against the "
                         "floor of this design (benchmarks/floor.py), measured in this run")
    ap.add_argument("--cluster", help="grade on Dask (local:N or tcp://HOST:PORT) instead")
    ap.add_argument("--rounds", type=int, default=1,
                    help="grade the class this many times, each into a fresh gradebook, "
                         "with the floor measured between rounds; prints each round and "
                         "the median ratio (a shared machine's speed drifts over minutes)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    folder = args.keep or tmp / "submissions"
    kinds = make_class(folder, args.n, args.seed, args.hang, args.correct)
    from floor import measure

    # in this process, before and after each run: the same machine at the same moments.
    # A shared machine's speed drifts over minutes, so a round's ratio is taken against
    # the faster (lower) of its two: never flattering the engine
    floors = [measure()]
    rounds = []
    for r in range(args.rounds):
        rounds.append(_round(folder, tmp / f"gradebook{r}.sqlite", kinds, args))
        floors.append(measure())
    workers = args.workers or os.cpu_count()
    for r, got in enumerate(rounds):
        floor = min(floors[r], floors[r + 1], key=lambda f: f["floor"])
        got["ratio"] = got["per"] / floor["floor"]
        if args.rounds > 1:
            print(f"round {r + 1} of {args.rounds}:")
        _report(got, floors[r], floors[r + 1], workers, args)
    if args.rounds > 1:
        ratios = sorted(got["ratio"] for got in rounds)
        print(f"median over {args.rounds} rounds: {statistics.median(ratios):.2f} x the floor "
              f"(each round against the lower of the floors measured just before and just "
              f"after it: {', '.join(f'{x:.2f}' for x in ratios)})")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
