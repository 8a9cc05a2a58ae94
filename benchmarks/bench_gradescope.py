"""What Gradescope's autograder costs per submission, beside `grade hw1` in the same run.

Builds the zip with `grade gradescope`, unpacks it into a temporary folder laid out as
/autograder, runs its setup.sh without the root-only steps (as the tests do), then times
`run_autograder` on the reference and the same submission through `grade hw1 --json`
(the baseline), alternating, and prints both medians and their ratio, with the zip's
build time and size.

    python benchmarks/bench_gradescope.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader.cli"]


def _run(cmd: list[str], **kw: object) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return time.perf_counter() - t


def _setup(zip_path: Path, root: Path) -> float:
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            z.extract(info, root / "source")
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_SETUP_APT": "0",
           "GRADER_SETUP_DEPS": "0", "GRADER_PYTHON": sys.executable,
           "GRADER_VENV_ARGS": "--system-site-packages --without-pip"}
    return _run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "autograder"
        zip_path = Path(tmp) / "autograder.zip"
        build = _run([*GRADE, "gradescope", "hw1", "--out", str(zip_path)], cwd=ROOT)
        setup = _setup(zip_path, root)
        (root / "submission").mkdir()
        shutil.copy(ROOT / "solutions" / "hw1.py", root / "submission" / "hw1.py")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env["GRADER_AUTOGRADER_ROOT"] = str(root)
        gs, base = [], []
        for _ in range(args.runs):
            gs.append(_run([str(root / "run_autograder")], cwd=root, env=env))
            base.append(_run([*GRADE, "hw1", "--submission", "solutions/hw1.py", "--json"],
                             cwd=ROOT))
        size = zip_path.stat().st_size
    g, b = statistics.median(gs), statistics.median(base)
    print(f"grade gradescope hw1: {build:.2f} s to build, {size / 1e6:.2f} MB; setup.sh "
          f"without apt and downloads: {setup:.2f} s")
    print(f"run_autograder on the reference: median {g:.3f} s over {args.runs} runs "
          f"(min {min(gs):.3f}, max {max(gs):.3f})")
    print(f"baseline, grade hw1 --json on it: median {b:.3f} s (min {min(base):.3f}, "
          f"max {max(base):.3f})")
    print(f"ratio run_autograder / grade: {g / b:.2f}")


if __name__ == "__main__":
    main()
