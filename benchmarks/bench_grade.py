"""How long `grade hw1` takes on one .py submission, interpreter start included.

Runs the real command several times in a fresh process and prints the median wall
time, with the fastest and slowest.  Target (issue 3): under one second on a 2-core
machine.

    python benchmarks/bench_grade.py [--runs 7] [--submission solutions/hw1.py]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--submission", default="solutions/hw1.py")
    ap.add_argument("--assignment", default="hw1")
    args = ap.parse_args()
    grade = shutil.which("grade")
    cmd = ([grade] if grade else [sys.executable, "-m", "grader.cli"]) + [
        args.assignment, "--submission", args.submission, "--json"]
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode not in (0, 1):
            sys.exit(f"grade failed ({proc.returncode}): {proc.stderr.strip()}")
    print(f"grade {args.assignment} --submission {args.submission}: "
          f"median {statistics.median(times):.3f} s over {args.runs} runs "
          f"(min {min(times):.3f}, max {max(times):.3f}), interpreter start included")


if __name__ == "__main__":
    main()
