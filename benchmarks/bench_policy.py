"""How fast the course's rules are applied: recomputing every final of a term.

Builds a gradebook of N students (groups of 1 to 3) on the example course's hw1 and hw2,
17 items per submission with a few cases each, submission times spread around each due
date, then measures, in the same run:

- the baseline: reading both assignments as the exports do (``exports.load``), which any
  recomputation has to do;
- ``store.recompute``: the first computation (every final new), then a second one that
  changes nothing (what ``grade late`` and ``grade export`` do after an edit);
- the peak Python memory (tracemalloc) of each.

It prints each figure beside the baseline as a ratio.

    python benchmarks/bench_policy.py [--n 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.gradebook import Gradebook, ItemRow, RosterEntry, SubmissionRow, now
from grader.policy import clock, store
from grader.policy.config import load as load_course
from grader.reports import exports

ITEMS = 17


def _submission(name: str, key: str, members: list[str], rng: random.Random) -> SubmissionRow:
    items = [ItemRow(f"item{i}", f"item {i}", rng.choice([0.0, 3.0, 6.0]), 6.0, "partial",
                     "", [{"name": f"case{c}", "visibility": "hidden", "passed": c % 2 == 0,
                           "message": "wrong value"} for c in range(4)])
             for i in range(ITEMS)]
    score = sum(i.score for i in items)
    return SubmissionRow(name, key, "folder", f"{key}.py", f"{key}.py", members, key * 2,
                         "v1", "graded", "", "", [], score, 6.0 * ITEMS, 0.5, now(), 1,
                         {"assignment": name}, items)


def build(db: Path, n: int, rng: random.Random) -> None:
    course = load_course(ROOT / "course.toml")
    students = [f"s{i:05d}" for i in range(n)]
    with Gradebook(db) as book:
        for name, dl in course.deadlines.items():
            book.set_roster(name, [RosterEntry(s) for s in students])
            groups, i = [], 0
            while i < n:
                size = rng.choice([1, 1, 2, 3])
                groups.append(students[i:i + size])
                i += size
            members, stamps = [], {}
            for g in groups:
                key = f"{name}-{g[0]}"
                book.record(_submission(name, key, g, rng))
                members += [(s, key, "", "") for s in g]
                late = timedelta(hours=rng.choice([-30, -1, 0.1, 5, 27, 50, 80, 200]))
                stamps[key] = clock.Stamp(dl.due + late, "bench")
            book.set_members(name, members)
            store.record_times(book, name, stamps)


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_mb(fn) -> float:
    """Peak Python memory of one call (tracemalloc: timed apart, as it slows things)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="students")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    course = load_course(ROOT / "course.toml")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        t0 = time.perf_counter()
        build(db, args.n, random.Random(args.seed))
        print(f"built a gradebook of {args.n} students x 2 assignments in "
              f"{time.perf_counter() - t0:.1f} s")
        with Gradebook(db, create=False) as book:
            def read() -> None:
                for a in ("hw1", "hw2"):
                    exports.load(book, a)

            base = seconds(read), peak_mb(read)
            changes: list[object] = []
            first = seconds(lambda: changes.extend(store.recompute(book, course)))
            again: list[object] = []
            second = seconds(lambda: again.extend(store.recompute(book, course)))
            mem = peak_mb(lambda: store.recompute(book, course))
    print(f"baseline (read both assignments as the exports do): {base[0]:.3f} s, "
          f"peak {base[1]:.1f} MB")
    for label, s, n in (("first recompute", first, len(changes)),
                        ("recompute, nothing changed", second, len(again))):
        print(f"{label}: {s:.3f} s ({s / base[0]:.2f}x the baseline); {n} finals new or "
              f"changed; {2 * args.n / s:.0f} finals/s")
    print(f"recompute's peak memory: {mem:.1f} MB ({mem / base[1]:.2f}x the baseline)")

if __name__ == "__main__":
    main()
