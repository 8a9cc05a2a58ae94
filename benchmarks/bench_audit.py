"""How fast `grade audit hw1` grades every mutant of the reference, and a cached re-run.

Prints the number of mutants (by operator), the time to generate them, the total time
of a full audit (no cache), mutants per second, and beside it the baseline measured in
the same run: one grading of the reference on one core, so that ``ideal`` = mutants x
baseline / workers is the audit's time if workers split the work perfectly and a mutant
cost what the reference costs.  Then the same audit again with its verdicts cached.

    python benchmarks/bench_audit.py [--assignment hw1] [--workers N]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.api import Grader, load_assignment
from grader.audit.run import audit, make_mutants
from grader.batch.pool import cores


def baseline(name: str, runs: int = 5) -> float:
    """Median seconds of one full grading of the reference, assignment already loaded."""
    with Grader(ROOT, name) as g:
        g.assignment.hidden()
        ref = ROOT / "solutions" / f"{name}.py"
        g.grade(ref)   # warm up
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            g.grade(ref)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="hw1")
    ap.add_argument("--workers", type=int, default=cores())
    args = ap.parse_args()
    a = load_assignment(args.assignment, ROOT)
    t = time.perf_counter()
    mutants, _ = make_mutants(ROOT, args.assignment, a)
    gen = time.perf_counter() - t
    ops = collections.Counter(m.operator for m in mutants)
    print(f"{len(mutants)} mutants of solutions/{args.assignment}.py, generated in {gen:.2f} s: "
          + ", ".join(f"{k} {v}" for k, v in ops.most_common()))
    base = baseline(args.assignment)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "verdicts.sqlite"
        rep = audit(args.assignment, ROOT, workers=args.workers, cache=cache)
        again = audit(args.assignment, ROOT, workers=args.workers, cache=cache)
    n = rep.graded
    ideal = n * base / args.workers
    print(f"full audit: {n} gradings (mutants + the reference) in {rep.seconds:.1f} s with "
          f"{args.workers} workers: {n / rep.seconds:.2f} mutants per second; "
          f"score {rep.score:.1f}%")
    print(f"baseline: one grading of the reference {base * 1000:.0f} ms on one core; ideal "
          f"{ideal:.1f} s; audit / ideal = {rep.seconds / ideal:.2f}")
    print(f"re-run with every verdict cached: {again.seconds:.1f} s ({again.cached} cached, "
          f"{again.graded} graded)")


if __name__ == "__main__":
    main()
