"""How long `grade hw1` takes on one .py submission, interpreter start included.

Runs the real command several times in a fresh process and prints the median wall
time, with the fastest and slowest, beside the baseline measured in the same run,
interleaved with it: `python -c "import numpy, pandas"`, the least a grader that judges
numpy and pandas results can cost.  Target (issue 16): within 1.4x of the baseline.

    python benchmarks/bench_grade.py [--runs 7] [--submission solutions/hw1.py]
"""

from __future__ import annotations

import argparse
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
    # this checkout's grader, started as the baseline is (a `grade` on PATH may be another
    # installation, behind a shell shim)
    cmd = [sys.executable, "-m", "grader.cli", args.assignment, "--submission",
           args.submission, "--json"]
    baseline = [sys.executable, "-c", "import numpy, pandas"]
    times, base = [], []
    for _ in range(args.runs):
        for argv, into in ((cmd, times), (baseline, base)):
            t = time.perf_counter()
            proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
            into.append(time.perf_counter() - t)
            if proc.returncode not in (0, 1):
                sys.exit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    med, med_base = statistics.median(times), statistics.median(base)
    print(f"grade {args.assignment} --submission {args.submission}: "
          f"median {med:.3f} s over {args.runs} runs "
          f"(min {min(times):.3f}, max {max(times):.3f}), interpreter start included")
    print(f'python -c "import numpy, pandas", in the same run: median {med_base:.3f} s '
          f"(min {min(base):.3f}, max {max(base):.3f})")
    print(f"ratio {med / med_base:.2f} (target within 1.4)")


if __name__ == "__main__":
    main()
